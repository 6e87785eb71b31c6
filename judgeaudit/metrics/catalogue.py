"""The catalogue of metric facts: one entry per metric, read by every other part.

Each :class:`MetricFacts` says, once, what the metric functions, the audit, the report
and the tests used to write down separately: the display name, the formula from the
confusion counts ``(tp, fp, fn, tn)`` where the metric has one, whether it is a plain
proportion and its ``(successes, trials)``, when it is undefined and why (the reason
strings), whether higher is better, and whether its values lie in [0, 1].

The reasons come in two voices.  ``"arrays"`` is the wording of the functions of
:mod:`judgeaudit.metrics` (the sides are called ``y_true`` and ``y_pred``); ``"audit"``
is the wording of ``audit.json`` (schema ``judgeaudit.audit/1``; the sides are the
``reference`` and the ``judge``), kept as it was so that audit files stay comparable
across versions.

Examples
--------
>>> facts = METRICS["precision"]
>>> facts.label, facts.is_proportion, facts.higher_is_better
('precision', True, True)
>>> facts.proportion(2, 1, 1, 1)  # (successes, trials) = (tp, tp + fp)
(2, 3)
>>> float(facts.from_counts(2, 1, 1, 1))
0.6666666666666666
>>> undefined_reason("precision", 0, 0, 1, 1)
'y_pred has no positive items: precision is 0/0'
>>> undefined_reason("precision", 0, 0, 1, 1, voice="audit")
'judge labelled no item positive'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import ValidationError
from .formulas import _ratio, _scalar, alpha_from_coincidence, kappa_from_confusion

__all__ = ["MetricFacts", "UndefinedWhen", "METRICS", "BINARY_METRICS", "PROPORTION_METRICS",
           "metric_facts", "binary_from_counts", "undefined_reason", "confusion_arrays", "ac1_from_counts"]

#: The names of the two sides in each voice of the reasons.
VOICES = {"arrays": {"truth": "y_true", "pred": "y_pred"},
          "audit": {"truth": "reference", "pred": "judge"}}
NO_ITEMS = "no items"
_CHANCE_IS_ONE = "only one category present: chance agreement is 1"
_AUDIT_ONE_CATEGORY = "only one category present: chance agreement is 1 (or a class is empty)"


@dataclass(frozen=True)
class UndefinedWhen:
    """One reason a metric is undefined: a test on the counts and its wording.

    ``text`` and ``audit`` may name the sides as ``{truth}`` and ``{pred}``; ``audit``
    defaults to ``text``.
    """

    test: Callable
    text: str
    audit: str | None = None

    def reason(self, voice: str) -> str:
        template = self.audit if voice == "audit" and self.audit is not None else self.text
        return template.format(**VOICES[voice])


@dataclass(frozen=True)
class MetricFacts:
    """The facts about one metric.

    Attributes
    ----------
    name : str
        The key used everywhere (function name, ``audit.json`` key).
    label : str
        Display name in reports.
    formula : str
        The definition in words or symbols, for docs and tooltips.
    from_counts : callable or None
        ``f(tp, fp, fn, tn)``, vectorised over any broadcastable shapes, NaN where
        undefined; None for metrics that are not functions of the four counts.
    proportion : callable or None
        ``(tp, fp, fn, tn) -> (successes, trials)`` for a plain proportion (which gets
        a Wilson interval, or a Korn-Graubard floor under a cluster bootstrap); None
        otherwise.
    undefined_when : tuple of UndefinedWhen
        Checked in order after "no items"; the first that holds gives the reason.
    audit_fallback : str
        The audit's reason when the value is NaN and no test above holds.
    higher_is_better : bool or None
        None where neither direction is better (a rate of a class).
    unit_range : bool
        Values lie in [0, 1] (plots use that axis).
    scale_dependent : bool
        The value depends on the total count, not only on the shares (Krippendorff's
        alpha uses ``n - 1``): weighted sums must be rescaled to the items observed.
    """

    name: str
    label: str
    formula: str
    from_counts: Callable | None = None
    proportion: Callable | None = None
    undefined_when: tuple = field(default_factory=tuple)
    audit_fallback: str = "undefined on these data"
    higher_is_better: bool | None = True
    unit_range: bool = True
    scale_dependent: bool = False

    @property
    def is_proportion(self) -> bool:
        return self.proportion is not None


def confusion_arrays(tp, fp, fn, tn):
    """2x2 confusion arrays ``(..., 2, 2)`` (rows: truth 0/1, columns: prediction 0/1)."""
    return np.stack([np.stack([tn, fp], -1), np.stack([fn, tp], -1)], -2)


def ac1_from_counts(tp, fp, fn, tn):
    """Gwet's AC1 for two raters and two categories (Gwet 2008, eq. 6), elementwise."""
    with np.errstate(invalid="ignore", divide="ignore"):
        n = tp + fp + fn + tn
        pa = (tp + tn) / n
        pi = ((tp + fp) + (tp + fn)) / (2 * n)
        pe = 2 * pi * (1 - pi)
        return (pa - pe) / (1 - pe)


def _alpha(tp, fp, fn, tn):
    cm = confusion_arrays(tp, fp, fn, tn)
    return alpha_from_coincidence(cm + np.swapaxes(cm, -1, -2))


def _mcc(tp, fp, fn, tn):
    return _ratio(tp * tn - fp * fn, np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))


def _truth_no_pos(tp, fp, fn, tn):
    return tp + fn == 0


def _truth_no_neg(tp, fp, fn, tn):
    return fp + tn == 0


def _pred_one_class(tp, fp, fn, tn):
    return tp + fp == 0 or fn + tn == 0


def _one_shared_category(tp, fp, fn, tn):
    return tp + fp + fn == 0 or fp + fn + tn == 0


_NO_POS = UndefinedWhen(_truth_no_pos, "{truth} has no positive items")
_NO_NEG = UndefinedWhen(_truth_no_neg, "{truth} has no negative items")
_ONE_CATEGORY = (UndefinedWhen(_one_shared_category, _CHANCE_IS_ONE, _AUDIT_ONE_CATEGORY),)

_ENTRIES = (
    MetricFacts("accuracy", "accuracy", "(tp + tn) / n",
                lambda tp, fp, fn, tn: _ratio(tp + tn, tp + fp + fn + tn),
                proportion=lambda tp, fp, fn, tn: (tp + tn, tp + fp + fn + tn)),
    MetricFacts("cohen_kappa", "Cohen's \u03ba", "(p_o - p_e) / (1 - p_e)  (Cohen 1960)",
                lambda tp, fp, fn, tn: kappa_from_confusion(confusion_arrays(tp, fp, fn, tn)),
                undefined_when=_ONE_CATEGORY, audit_fallback=_AUDIT_ONE_CATEGORY, unit_range=False),
    MetricFacts("krippendorff_alpha", "Krippendorff's \u03b1", "1 - D_o / D_e  (Krippendorff 2011)",
                _alpha, undefined_when=_ONE_CATEGORY, audit_fallback=_AUDIT_ONE_CATEGORY,
                unit_range=False, scale_dependent=True),
    MetricFacts("gwet_ac1", "Gwet's AC1", "(p_a - p_e) / (1 - p_e), p_e = 2 pi (1 - pi)  (Gwet 2008)",
                ac1_from_counts, audit_fallback=_AUDIT_ONE_CATEGORY, unit_range=False),
    MetricFacts("fpr", "FPR", "fp / (fp + tn)",
                lambda tp, fp, fn, tn: _ratio(fp, fp + tn),
                proportion=lambda tp, fp, fn, tn: (fp, fp + tn), undefined_when=(_NO_NEG,),
                higher_is_better=False),
    MetricFacts("fnr", "FNR", "fn / (tp + fn)",
                lambda tp, fp, fn, tn: _ratio(fn, tp + fn),
                proportion=lambda tp, fp, fn, tn: (fn, tp + fn), undefined_when=(_NO_POS,),
                higher_is_better=False),
    MetricFacts("precision", "precision", "tp / (tp + fp)",
                lambda tp, fp, fn, tn: _ratio(tp, tp + fp),
                proportion=lambda tp, fp, fn, tn: (tp, tp + fp),
                undefined_when=(UndefinedWhen(lambda tp, fp, fn, tn: tp + fp == 0,
                                              "{pred} has no positive items: precision is 0/0",
                                              "{pred} labelled no item positive"),)),
    MetricFacts("recall", "recall", "tp / (tp + fn)",
                lambda tp, fp, fn, tn: _ratio(tp, tp + fn),
                proportion=lambda tp, fp, fn, tn: (tp, tp + fn), undefined_when=(_NO_POS,)),
    MetricFacts("f1", "F1", "2 tp / (2 tp + fp + fn)",
                lambda tp, fp, fn, tn: _ratio(2 * tp, 2 * tp + fp + fn),
                undefined_when=(UndefinedWhen(lambda tp, fp, fn, tn: tp + fp + fn == 0,
                                              "neither {truth} nor {pred} has positive items: F1 is 0/0",
                                              "no positive items in {truth} or {pred}"),)),
    MetricFacts("mcc", "MCC", "(tp tn - fp fn) / sqrt((tp + fp)(tp + fn)(tn + fp)(tn + fn))  (Matthews 1975)",
                _mcc,
                undefined_when=(UndefinedWhen(lambda tp, fp, fn, tn: tp + fn == 0 or fp + tn == 0,
                                              "{truth} has only one class: MCC is 0/0", _AUDIT_ONE_CATEGORY),
                                UndefinedWhen(_pred_one_class, "{pred} has only one class: MCC is 0/0",
                                              _AUDIT_ONE_CATEGORY)),
                audit_fallback=_AUDIT_ONE_CATEGORY, unit_range=False),
    MetricFacts("balanced_accuracy", "balanced accuracy", "(recall + specificity) / 2  (Brodersen et al. 2010)",
                lambda tp, fp, fn, tn: (_ratio(tp, tp + fn) + _ratio(tn, tn + fp)) / 2,
                undefined_when=(UndefinedWhen(_truth_no_pos, "{truth} has no positive items: balanced "
                                              "accuracy needs both classes", _AUDIT_ONE_CATEGORY),
                                UndefinedWhen(_truth_no_neg, "{truth} has no negative items: balanced "
                                              "accuracy needs both classes", _AUDIT_ONE_CATEGORY)),
                audit_fallback=_AUDIT_ONE_CATEGORY),
    MetricFacts("specificity", "specificity", "tn / (fp + tn)",
                lambda tp, fp, fn, tn: _ratio(tn, fp + tn),
                proportion=lambda tp, fp, fn, tn: (tn, fp + tn), undefined_when=(_NO_NEG,)),
    MetricFacts("positive_rate", "positive rate", "positives / items (of one rater)",
                higher_is_better=None),
    MetricFacts("auroc", "AUROC", "P(score of a positive > score of a negative), ties count 1/2",
                undefined_when=(_NO_POS, _NO_NEG)),
    MetricFacts("spearman", "Spearman's \u03c1", "Pearson correlation of the ranks", unit_range=False),
    MetricFacts("kendall_tau", "Kendall's \u03c4-b", "(concordant - discordant) / sqrt(untied pairs)",
                unit_range=False),
)

#: Every metric's facts, by name, in the order reports show them.
METRICS: dict[str, MetricFacts] = {m.name: m for m in _ENTRIES}
#: Metrics that are functions of the confusion counts of a judge against a reference.
BINARY_METRICS = tuple(m.name for m in _ENTRIES if m.from_counts is not None)
#: Plain proportions (a Wilson interval without clusters, a Korn-Graubard floor with them).
PROPORTION_METRICS = tuple(m.name for m in _ENTRIES if m.is_proportion)


def metric_facts(name: str) -> MetricFacts:
    """The facts of metric ``name``; an unknown name lists the known ones."""
    try:
        return METRICS[name]
    except KeyError:
        raise ValidationError(f"unknown metric {name!r}; valid: {', '.join(METRICS)}") from None


def binary_from_counts(tp, fp, fn, tn, metric: str):
    """A metric from confusion counts, elementwise (any name in :data:`BINARY_METRICS`).

    Parameters
    ----------
    tp, fp, fn, tn : array_like
        Counts (or bootstrap sums of counts); any broadcastable shapes.
    metric : str
        ``accuracy``, ``precision``, ``recall``, ``f1``, ``fpr``, ``fnr``, ``specificity``,
        ``mcc``, ``balanced_accuracy``, ``cohen_kappa``, ``krippendorff_alpha`` or ``gwet_ac1``.

    Returns
    -------
    numpy.ndarray or numpy.float64
        The metric, NaN where it is undefined (see :func:`undefined_reason`): precision
        without predicted positives, recall / fnr without true positives, fpr /
        specificity without true negatives, f1 when nothing is positive on either side,
        mcc when any margin is empty (scikit-learn returns 0 there), balanced accuracy
        when a class is absent.

    Examples
    --------
    >>> float(binary_from_counts(20, 10, 5, 15, "accuracy"))
    0.7
    >>> binary_from_counts([3, 0], [1, 0], [1, 0], [5, 4], "recall")
    array([0.75,  nan])

    References
    ----------
    Matthews, B. W. (1975) for MCC; Brodersen et al. (2010) for balanced accuracy.
    """
    facts = METRICS.get(metric)
    if facts is None or facts.from_counts is None:
        raise ValidationError(f"unknown binary metric {metric!r}; valid: {', '.join(BINARY_METRICS)}")
    tp, fp, fn, tn = (np.asarray(a, dtype=float) for a in (tp, fp, fn, tn))
    return _scalar(np.asarray(facts.from_counts(tp, fp, fn, tn)))


def undefined_reason(metric: str, tp, fp, fn, tn, *, voice: str = "arrays", fallback: bool = False) -> str | None:
    """Why ``metric`` is undefined on these counts, or None when a test finds no reason.

    Parameters
    ----------
    metric : str
        A name of :data:`METRICS`.
    tp, fp, fn, tn : float
        The (possibly weighted) confusion counts.
    voice : {"arrays", "audit"}
        The wording (see the module docstring).
    fallback : bool
        Return the metric's ``audit_fallback`` instead of None (for a value known to be NaN).
    """
    facts = metric_facts(metric)
    if voice not in VOICES:
        raise ValidationError(f"voice must be one of {', '.join(VOICES)}, got {voice!r}")
    if tp + fp + fn + tn == 0:
        return NO_ITEMS
    for rule in facts.undefined_when:
        if rule.test(tp, fp, fn, tn):
            return rule.reason(voice)
    return facts.audit_fallback if fallback else None

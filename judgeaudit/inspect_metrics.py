"""judgeaudit's agreement-with-humans figures as Inspect AI metrics (extra ``inspect``).

An eval author whose samples carry a human label can see, in ``inspect view`` and in the
log's results, how far the eval's scorer agrees with the humans: Cohen's kappa,
accuracy, false positive and false negative rates, each with its interval, computed by
:mod:`judgeaudit.metrics` (Wilson intervals for rates, a seeded bootstrap over samples
for kappa; epochs of one sample are resampled together).

Where the human label is read, in order: the score's ``metadata[human_key]`` (a scorer
can copy it there), else the sample's ``metadata[human_key]``.  Labels are read with
:func:`judgeaudit.tables.parse_label` (``harmful``/``safe``, 1/0, yes/no ...); the score
value becomes the judge's verdict through a
:class:`~judgeaudit.datasets.ScoreMapping` (default: ``C`` positive, ``I`` negative,
numbers ``>= 0.5`` positive).  Samples without a human label, or whose score maps to no
class, are left out (the count used is the ``_n`` entry).

The four metrics (``human_kappa``, ``human_accuracy``, ``human_fpr``, ``human_fnr``) are
registered with Inspect's ``@metric`` when first imported by name (module
``__getattr__``), with ``scores="unreduced"``: each epoch is one observation and the
epochs of one sample are resampled together.  Importing this module alone does not import
inspect_ai.  Each metric returns a dict, which Inspect shows as several values:
``<name>``, ``<name>_ci_low``, ``<name>_ci_high`` and ``<name>_n``; an undefined value
(e.g. a false positive rate with no human negatives) is NaN.

Examples
--------
>>> from inspect_ai import Task                                     # doctest: +SKIP
>>> from inspect_ai.scorer import model_graded_qa                   # doctest: +SKIP
>>> from judgeaudit.inspect_metrics import human_kappa, human_fpr   # doctest: +SKIP
>>> Task(dataset=..., scorer=model_graded_qa(),                     # doctest: +SKIP
...      metrics=[human_kappa(), human_fpr(), human_fnr()])
"""

from __future__ import annotations

import math

from judgeaudit.datasets.inspect_log import ScoreMapping, import_inspect_ai
from judgeaudit.errors import ConfigError, ValidationError
from judgeaudit.tables import Task, parse_label

# human_kappa, human_accuracy, human_fpr and human_fnr come from the module __getattr__ below
__all__ = ["STATISTICS", "agreement_pairs", "human_accuracy", "human_agreement", "human_fnr",
           "human_fpr", "human_kappa", "registered"]

STATISTICS = ("cohen_kappa", "accuracy", "fpr", "fnr", "precision", "recall", "f1")
"""The statistics :func:`human_agreement` can compute (names of :mod:`judgeaudit.metrics`)."""


def agreement_pairs(scores, *, human_key="human", mapping=None, field="harmfulness"):
    """``(human, judge, clusters)`` 0/1 lists from Inspect ``SampleScore`` objects.

    Samples without a human label or whose score maps to no class are skipped.  A human
    label that cannot be read raises :class:`~judgeaudit.errors.ValidationError` naming
    the sample.
    """
    mapping = mapping or ScoreMapping()
    task = Task.for_field(field)
    human, judge, clusters = [], [], []
    for ss in scores:
        meta = ss.score.metadata or {}
        raw = meta[human_key] if human_key in meta else (ss.sample_metadata or {}).get(human_key)
        if raw is None:
            continue
        try:
            label = parse_label(raw, field)
        except ValidationError as e:
            raise ValidationError(f"sample {ss.sample_id!r}: human label {raw!r}: {e.message}",
                                  column=f"metadata.{human_key}") from None
        h = None if label is None else task.binary(label)
        j, _, _ = mapping.classify(ss.score.value, field)
        if h is None or j is None:
            continue
        human.append(h)
        judge.append(j)
        clusters.append(str(ss.sample_id))
    return human, judge, clusters


def _compute(statistic, human, judge, clusters, *, n_boot, seed, confidence):
    from judgeaudit import metrics  # noqa: PLC0415 - keeps this module's import light

    fn = getattr(metrics, statistic)
    if not human:
        return None
    if statistic == "cohen_kappa":
        return fn(human, judge, clusters=clusters, n_boot=n_boot, seed=seed, confidence=confidence)
    return fn(human, judge, clusters=clusters if len(set(clusters)) < len(clusters) else None,
              n_boot=n_boot, seed=seed, confidence=confidence)


def _nan(v):
    return float("nan") if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def human_agreement(statistic="cohen_kappa", *, human_key="human", mapping=None,
                    field="harmfulness", n_boot=1000, seed=0, confidence=0.95, name=None):
    """An Inspect metric: ``statistic`` of the scorer's verdicts against the human labels.

    Parameters
    ----------
    statistic : str
        One of :data:`STATISTICS`.
    human_key : str
        Metadata key of the human label (score metadata first, then sample metadata).
    mapping : ScoreMapping, optional
        How the score value becomes a verdict.
    field : str
        The label field (default harmfulness: positive = harmful).
    n_boot, seed, confidence :
        Interval settings, as in :mod:`judgeaudit.metrics`.
    name : str, optional
        The reported name (default ``statistic``).

    Returns
    -------
    inspect_ai.scorer.Metric
        Returns ``{name, name_ci_low, name_ci_high, name_n}``.
    """
    if statistic not in STATISTICS:
        raise ConfigError(f"unknown statistic {statistic!r}; choose from {', '.join(STATISTICS)}")
    label = name or statistic
    mapping = mapping or ScoreMapping()
    Task.for_field(field)  # an unknown field fails here, not inside the eval

    def compute(scores) -> dict:
        human, judge, clusters = agreement_pairs(scores, human_key=human_key, mapping=mapping,
                                                 field=field)
        result = _compute(statistic, human, judge, clusters, n_boot=n_boot, seed=seed,
                          confidence=confidence)
        if result is None:
            return {label: float("nan"), f"{label}_ci_low": float("nan"),
                    f"{label}_ci_high": float("nan"), f"{label}_n": 0}
        return {label: _nan(result.value), f"{label}_ci_low": _nan(result.ci_low),
                f"{label}_ci_high": _nan(result.ci_high), f"{label}_n": int(len(human))}

    # Inspect picks the metric's calling convention from this annotation (a real type,
    # not a string, so that it resolves without inspect_ai at this module's level).
    from inspect_ai.scorer import SampleScore  # noqa: PLC0415 - the extra, on use

    compute.__annotations__ = {"scores": list[SampleScore], "return": dict}
    return compute


def _mapping(positive, negative, threshold) -> ScoreMapping:
    return ScoreMapping(positive=tuple(positive), negative=tuple(negative), threshold=threshold)


# The metrics take plain arguments (no ScoreMapping object) because Inspect records each
# metric's arguments in the log.  They are registered with Inspect's @metric when first
# used (module __getattr__ below), so importing this module does not import inspect_ai.


def _human_kappa(human_key: str = "human", positive: list[str] = ["C"],  # noqa: B006
                negative: list[str] = ["I"], threshold: float = 0.5,  # noqa: B006
                n_boot: int = 1000, seed: int = 0):
    """Cohen's kappa of the scorer against the human label, with a bootstrap interval.

    ``positive`` / ``negative`` / ``threshold`` are those of
    :class:`~judgeaudit.datasets.ScoreMapping`.
    """
    return human_agreement("cohen_kappa", human_key=human_key,
                           mapping=_mapping(positive, negative, threshold), n_boot=n_boot,
                           seed=seed, name="human_kappa")


def _human_accuracy(human_key: str = "human", positive: list[str] = ["C"],  # noqa: B006
                   negative: list[str] = ["I"], threshold: float = 0.5):  # noqa: B006
    """Share of samples where the scorer's verdict equals the human label (Wilson interval)."""
    return human_agreement("accuracy", human_key=human_key, name="human_accuracy",
                           mapping=_mapping(positive, negative, threshold))


def _human_fpr(human_key: str = "human", positive: list[str] = ["C"],  # noqa: B006
              negative: list[str] = ["I"], threshold: float = 0.5):  # noqa: B006
    """False positive rate: verdict positive among human negatives (Wilson interval)."""
    return human_agreement("fpr", human_key=human_key, name="human_fpr",
                           mapping=_mapping(positive, negative, threshold))


def _human_fnr(human_key: str = "human", positive: list[str] = ["C"],  # noqa: B006
              negative: list[str] = ["I"], threshold: float = 0.5):  # noqa: B006
    """False negative rate: verdict negative among human positives (Wilson interval)."""
    return human_agreement("fnr", human_key=human_key, name="human_fnr",
                           mapping=_mapping(positive, negative, threshold))


_FACTORIES = {"human_kappa": _human_kappa, "human_accuracy": _human_accuracy,
              "human_fpr": _human_fpr, "human_fnr": _human_fnr}
_REGISTERED: dict = {}


def registered(name: str):
    """The Inspect ``@metric`` of ``name`` (registered once, on first use)."""
    if name not in _REGISTERED:
        import_inspect_ai()
        from inspect_ai.scorer import metric  # noqa: PLC0415 - the extra, on use

        # "unreduced": every epoch is one observation; epochs of a sample are clustered
        _REGISTERED[name] = metric(name, scores="unreduced")(_FACTORIES[name])
    return _REGISTERED[name]


def __getattr__(name):
    if name in _FACTORIES:  # human_kappa, human_accuracy, human_fpr, human_fnr
        return registered(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

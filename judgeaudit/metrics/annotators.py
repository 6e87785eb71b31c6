"""The judge as one more annotator: where it sits among the humans, whether it can replace
one of them, and how well its probabilities match the humans' vote shares.

* :func:`annotator_spread`: Cohen's kappa of the judge with each annotator, next to each
  annotator's kappa with the other annotators; the judge's *position* is the share of
  annotators whose mean agreement with the others is below the judge's mean agreement
  with the annotators (ties count half).
* :func:`alt_test`: the Alternative Annotator Test of Calderon, Reichart and Dror,
  "The Alternative Annotator Test for LLM-as-a-Judge: How to Statistically Justify
  Replacing Human Annotators with LLMs", ACL 2025 (arXiv:2501.10970), written from the
  paper.
* :func:`soft_label_scores`: Brier score and log loss of a probability judge against the
  human vote share (soft labels) instead of the majority label.

Human labels are given *wide*: a :class:`pandas.DataFrame` with one row per item (the
index is the item id) and one column per annotator, missing where the annotator did not
label the item (or a mapping ``annotator -> {item: label}``).  The judge is a
:class:`pandas.Series` (or mapping ``item -> label``) on the same item ids.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from judgeaudit.errors import ValidationError

from ._resample import ClusterBootstrap, percentile_interval
from ._result import MetricResult
from .agreement import cohen_kappa

if TYPE_CHECKING:  # pandas is imported inside the functions that use it
    import pandas as pd

__all__ = [
    "AltTestAnnotator",
    "AltTestResult",
    "AnnotatorSpread",
    "alt_test",
    "annotator_spread",
    "benjamini_yekutieli",
    "soft_label_scores",
    "vote_shares",
]


def _wide(humans) -> pd.DataFrame:
    import pandas as pd  # noqa: PLC0415 - keeps `import judgeaudit.metrics` light

    if isinstance(humans, pd.DataFrame):
        df = humans.copy()
    elif isinstance(humans, Mapping):
        df = pd.DataFrame({str(a): pd.Series(v, dtype=object) for a, v in humans.items()})
    else:
        raise ValidationError("humans must be a DataFrame (items x annotators) or a mapping "
                              "annotator -> {item: label}")
    df.columns = [str(c) for c in df.columns]
    df.index = df.index.map(str)
    if all(pd.api.types.is_numeric_dtype(t) for t in df.dtypes):
        return df.astype(float)  # numbers stay numbers (NaN = missing): much faster below
    return df.astype(object).where(df.notna(), None)


def _judge(judge) -> pd.Series:
    import pandas as pd  # noqa: PLC0415 - keeps `import judgeaudit.metrics` light

    s = pd.Series(judge, dtype=object) if isinstance(judge, Mapping) else pd.Series(judge)
    s.index = s.index.map(str)
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.astype(float)
    return s.astype(object).where(s.notna(), None)


def _present(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


# ------------------------------------------------------------------------- spread


@dataclass(frozen=True)
class AnnotatorSpread:
    """The judge's agreement with each annotator next to the annotators' own agreement.

    Attributes
    ----------
    judge_vs_annotator : dict
        annotator -> :class:`MetricResult` (Cohen's kappa of the judge with that annotator).
    annotator_vs_others : dict
        annotator -> mean of its kappas with the other annotators (NaN when none defined).
    pairs : dict
        ``(annotator, annotator)`` -> :class:`MetricResult` for every human pair.
    judge_mean : float
        Mean of ``judge_vs_annotator`` values.
    position : float
        Share of annotators whose ``annotator_vs_others`` is below ``judge_mean`` (ties
        count half): 1.0 = the judge agrees with the humans more than any of them agrees
        with the rest, 0.0 = less than every one.
    """

    judge_vs_annotator: dict
    annotator_vs_others: dict
    pairs: dict
    judge_mean: float
    position: float
    n_annotators: int
    note: str | None = None

    def to_dict(self) -> dict:
        def num(v):
            return None if v is None or not math.isfinite(float(v)) else float(v)

        return {"judge_vs_annotator": {a: r.to_dict() for a, r in self.judge_vs_annotator.items()},
                "annotator_vs_others": {a: num(v) for a, v in self.annotator_vs_others.items()},
                "pairs": [{"a": a, "b": b, **r.to_dict()} for (a, b), r in self.pairs.items()],
                "judge_mean": num(self.judge_mean), "position": num(self.position),
                "n_annotators": self.n_annotators, "note": self.note}


def _pair_kappa(x: pd.Series, y: pd.Series, *, clusters, n_boot, seed, confidence) -> MetricResult:
    keep = (x.notna() & y.notna()).to_numpy()
    if not keep.any():
        return MetricResult.undefined_result("no item labelled by both", n=0)
    cl = None if clusters is None else np.asarray(clusters, dtype=object)[keep]
    return cohen_kappa(x.to_numpy()[keep], y.to_numpy()[keep], clusters=cl,
                       n_boot=n_boot, seed=seed, confidence=confidence)


def annotator_spread(humans, judge, *, clusters=None, n_boot=1000, seed=0, confidence=0.95,
                     human_pairs=None) -> AnnotatorSpread:
    """Where the judge's agreement with the annotators sits in the humans' own spread.

    Parameters
    ----------
    humans : DataFrame or mapping
        Labels, items x annotators (see the module docstring); at least two annotators.
    judge : Series or mapping
        The judge's label per item (same categories as the humans).
    clusters : sequence, optional
        One cluster key per row of ``humans`` (e.g. the prompt id), for the kappas'
        cluster-bootstrap intervals.
    human_pairs : dict, optional
        The ``pairs`` of an earlier :class:`AnnotatorSpread` on the same ``humans`` (and
        settings), to compare several judges without recomputing the human pairs.

    Examples
    --------
    Three annotators who agree on everything and a judge that flips one of four items:

    >>> import pandas as pd
    >>> h = pd.DataFrame({"a": [1, 1, 0, 0], "b": [1, 1, 0, 0], "c": [1, 1, 0, 0]})
    >>> s = annotator_spread(h, pd.Series([1, 1, 0, 1]), n_boot=50)
    >>> round(s.judge_mean, 3), s.position
    (0.5, 0.0)
    """
    h, j = _wide(humans), _judge(judge)
    if h.shape[1] < 2:
        raise ValidationError("the spread needs at least two annotators")
    j = j.reindex(h.index)
    if clusters is not None:
        clusters = [str(c) for c in clusters]
        if len(clusters) != len(h):
            raise ValidationError(f"clusters has {len(clusters)} keys for {len(h)} items")
    opts = {"clusters": clusters, "n_boot": n_boot, "seed": seed, "confidence": confidence}
    names = list(h.columns)
    pairs = dict(human_pairs) if human_pairs is not None else {}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if (a, b) not in pairs:
                pairs[(a, b)] = _pair_kappa(h[a], h[b], **opts)
    others = {}
    for a in names:
        vals = [r.value for (x, y), r in pairs.items() if a in (x, y) and r.defined]
        others[a] = float(np.mean(vals)) if vals else float("nan")
    vs = {a: _pair_kappa(j, h[a], **opts) for a in names}
    defined = [r.value for r in vs.values() if r.defined]
    judge_mean = float(np.mean(defined)) if defined else float("nan")
    ref = [v for v in others.values() if not math.isnan(v)]
    if math.isnan(judge_mean) or not ref:
        position, note = float("nan"), "kappa undefined for the judge or for every annotator"
    else:
        below = sum(v < judge_mean for v in ref) + 0.5 * sum(v == judge_mean for v in ref)
        position, note = below / len(ref), None
    return AnnotatorSpread(vs, others, pairs, judge_mean, position, len(names), note)


# ----------------------------------------------------------------------- alt-test


def benjamini_yekutieli(p_values, *, q=0.05) -> np.ndarray:
    """Which hypotheses the Benjamini-Yekutieli step-up procedure rejects at FDR ``q``.

    Sort the ``m`` p-values, find the largest ``k`` with
    ``p_(k) <= k * q / (m * c(m))``, ``c(m) = 1 + 1/2 + ... + 1/m``, and reject the
    ``k`` smallest (Benjamini and Yekutieli, Annals of Statistics 29(4), 2001).  Valid
    under any dependence between the tests.

    >>> benjamini_yekutieli([0.001, 0.02, 0.5]).tolist()
    [True, False, False]
    """
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0:
        return np.zeros(0, dtype=bool)
    if np.isnan(p).any():
        raise ValidationError("p-values must not be NaN")
    order = np.argsort(p, kind="stable")
    c_m = float(np.sum(1.0 / np.arange(1, m + 1)))
    ok = p[order] <= np.arange(1, m + 1) * q / (m * c_m)
    reject = np.zeros(m, dtype=bool)
    if ok.any():
        k = int(np.nonzero(ok)[0].max()) + 1
        reject[order[:k]] = True
    return reject


@dataclass(frozen=True)
class AltTestAnnotator:
    """One leave-one-out comparison: the judge against annotator ``annotator``."""

    annotator: str
    n: int
    rho_judge: float
    rho_human: float
    t: float
    p_value: float
    rejected: bool


@dataclass(frozen=True)
class AltTestResult:
    """The alt-test's outcome.

    Attributes
    ----------
    winning_rate : float
        Share of annotators whose null hypothesis was rejected after the FDR correction.
    passed : bool
        ``winning_rate >= 0.5``: the judge may replace an annotator.
    advantage_probability : float
        Mean over annotators of ``rho_judge`` (the paper's rho, for comparing judges).
    per_annotator : tuple of AltTestAnnotator
    epsilon, alpha : float
        The cost-benefit margin and the FDR level used.
    notes : tuple of str
        Warnings (fewer than 30 items for an annotator, fewer than three annotators).
    """

    winning_rate: float
    passed: bool
    advantage_probability: float
    per_annotator: tuple
    epsilon: float
    alpha: float
    notes: tuple = field(default_factory=tuple)

    def to_dict(self) -> dict:
        """JSON-safe: NaN and the infinite t of an all-equal difference become None."""
        def num(v):
            return None if isinstance(v, float) and not math.isfinite(v) else v

        return {"winning_rate": num(self.winning_rate), "passed": self.passed,
                "advantage_probability": num(self.advantage_probability),
                "epsilon": self.epsilon, "alpha": self.alpha, "notes": list(self.notes),
                "per_annotator": [{k: num(v) for k, v in vars(a).items()}
                                  for a in self.per_annotator]}


def _alignment(kind):
    """``align(source (n,), values (n, m), others mask (n, m)) -> (n,)``: per item, how well
    ``source`` matches the annotators selected by the mask."""
    if kind == "accuracy":
        def accuracy(source, values, mask):
            same = (values == source[:, None]) & mask
            return same.sum(axis=1) / mask.sum(axis=1)
        return accuracy
    if kind == "neg_rmse":
        def neg_rmse(source, values, mask):
            sq = np.where(mask, (values - source[:, None]) ** 2, 0.0)
            return -np.sqrt(sq.sum(axis=1) / mask.sum(axis=1))
        return neg_rmse
    raise ValidationError(f"alignment must be 'accuracy' or 'neg_rmse', got {kind!r}")


def _aligned_values(h: pd.DataFrame, j: pd.Series, kind):
    """Human labels ``(n, m)`` and judge labels ``(n,)`` as numbers: category codes shared
    by humans and judge for ``"accuracy"`` (missing = -1), floats for ``"neg_rmse"``."""
    import pandas as pd  # noqa: PLC0415 - keeps `import judgeaudit.metrics` light

    if kind == "neg_rmse":
        try:
            return (h.apply(pd.to_numeric).to_numpy(dtype=float),
                    pd.to_numeric(j).to_numpy(dtype=float))
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"alignment 'neg_rmse' needs numeric labels ({exc})") from None
    n, m = h.shape
    stacked = np.concatenate([h.to_numpy().T.ravel(), j.to_numpy()])
    codes, _ = pd.factorize(pd.Series(stacked), use_na_sentinel=True)
    return codes[:n * m].reshape(m, n).T, codes[n * m:]


def _one_sided_p(d: np.ndarray, epsilon: float):
    """t and p of H0: mean(d) >= epsilon against H1: mean(d) < epsilon."""
    from scipy.special import stdtr  # noqa: PLC0415 - Student t CDF; light to import

    n = d.size
    mean = float(d.mean())
    sd = float(d.std(ddof=1)) if n > 1 else 0.0
    if n < 2:
        return float("nan"), 1.0
    if sd == 0.0:  # every difference equal: the sign of mean - epsilon decides
        return (float("-inf"), 0.0) if mean < epsilon else (float("inf"), 1.0)
    t = (mean - epsilon) / (sd / math.sqrt(n))
    return float(t), float(stdtr(n - 1, t))


def alt_test(humans, judge, *, epsilon=0.2, alpha=0.05, alignment="accuracy",
             min_items=30) -> AltTestResult:
    """The Alternative Annotator Test: can the judge replace one of the annotators?

    For each annotator ``j`` (left out in turn), on every item ``i`` that ``j`` and at
    least one other annotator labelled, compare how well the judge and ``j`` align with
    the *other* annotators of ``i``: ``S_f = align(judge_i, others_i)`` and
    ``S_h = align(h_j,i, others_i)`` (``"accuracy"``: the share of the others with the
    same label; ``"neg_rmse"``: minus the root mean squared difference, for numbers).
    ``W_f = [S_f >= S_h]`` and ``W_h = [S_h >= S_f]`` (a tie counts for both);
    ``rho_f`` and ``rho_h`` are their means (the advantage probabilities).  A one-sided
    paired t-test of ``d = W_h - W_f`` tests ``H0: rho_f <= rho_h - epsilon`` against
    ``H1: rho_f > rho_h - epsilon``.  The ``m`` p-values are corrected with
    :func:`benjamini_yekutieli` at ``alpha``; the winning rate is the share rejected,
    and the judge passes when it is at least 0.5.

    Parameters
    ----------
    humans, judge :
        See the module docstring.  Items the judge did not label are left out.
    epsilon : float
        The cost-benefit margin granted to the judge; the paper's rule of thumb: 0.2 for
        expert annotators, 0.15 for skilled ones, 0.1 for crowd workers.
    alpha : float
        FDR level of the correction (the paper uses 0.05).
    alignment : {"accuracy", "neg_rmse"}
    min_items : int
        Below this many items for an annotator, a note says the t-test's normality
        assumption is doubtful (the paper asks for at least 30).

    Notes
    -----
    With all differences equal the t statistic is undefined; the p-value is then 0 when
    ``mean(d) < epsilon`` and 1 otherwise.  An annotator with fewer than two usable
    items gets p = 1 (cannot be rejected).

    Examples
    --------
    Three annotators who agree on 40 items and a judge that agrees with them: on every
    item ``W_f = W_h = 1``, so ``d = 0 < epsilon`` everywhere, every null is rejected.

    >>> import pandas as pd
    >>> labels = [1, 0] * 20
    >>> h = pd.DataFrame({"a": labels, "b": labels, "c": labels})
    >>> r = alt_test(h, pd.Series(labels))
    >>> r.winning_rate, r.passed, r.advantage_probability
    (1.0, True, 1.0)
    """
    if not 0 <= epsilon < 1:
        raise ValidationError(f"epsilon must be in [0, 1), got {epsilon!r}")
    align = _alignment(alignment)
    h, j = _wide(humans), _judge(judge)
    if h.shape[1] < 2:
        raise ValidationError("the alt-test needs at least two annotators (the paper "
                              "recommends three or more)")
    j = j.reindex(h.index)
    notes = []
    if h.shape[1] < 3:
        notes.append("fewer than three annotators: the paper recommends at least three")
    rows = []
    present = h.notna().to_numpy()
    values, verdicts = _aligned_values(h, j, alignment)
    judged = j.notna().to_numpy()
    for col, a in enumerate(h.columns):
        others = present.copy()
        others[:, col] = False
        n_others = others.sum(axis=1)
        use = present[:, col] & judged & (n_others > 0)
        s_f = align(verdicts[use], values[use], others[use])
        s_h = align(values[use, col], values[use], others[use])
        w_f, w_h = (s_f >= s_h).astype(float), (s_h >= s_f).astype(float)
        d = w_h - w_f
        t, p = _one_sided_p(d, epsilon) if d.size else (float("nan"), 1.0)
        if d.size < min_items:
            notes.append(f"annotator {a!r}: {d.size} items, fewer than {min_items}; the "
                         "t-test's normality assumption is doubtful")
        rows.append((a, int(d.size), float(np.mean(w_f)) if w_f.size else float("nan"),
                     float(np.mean(w_h)) if w_h.size else float("nan"), t, p))
    rejected = benjamini_yekutieli([r[5] for r in rows], q=alpha)
    per = tuple(AltTestAnnotator(a, n, rf, rh, t, p, bool(rej))
                for (a, n, rf, rh, t, p), rej in zip(rows, rejected))
    rho = [x.rho_judge for x in per if not math.isnan(x.rho_judge)]
    winning = float(np.mean(rejected)) if len(rejected) else float("nan")
    return AltTestResult(winning, bool(winning >= 0.5), float(np.mean(rho)) if rho else
                         float("nan"), per, float(epsilon), float(alpha), tuple(notes))


# -------------------------------------------------------------------- soft labels


def vote_shares(humans, *, positive=(1,)) -> pd.Series:
    """Per item, the share of its annotators whose label is in ``positive`` (NaN if none)."""
    h = _wide(humans)
    pos = set(positive)
    out = {}
    for item, rec in h.iterrows():
        votes = [v for v in rec if _present(v)]
        out[item] = float(np.mean([v in pos for v in votes])) if votes else float("nan")
    import pandas as pd  # noqa: PLC0415

    return pd.Series(out, dtype=float)


def soft_label_scores(probabilities, shares, *, clusters=None, n_boot=1000, seed=0,
                      confidence=0.95, eps=1e-6) -> dict:
    """Brier score and log loss of probabilities against human vote shares.

    With ``p_i`` the judge's probability of the positive class and ``s_i`` the share of
    annotators who chose it: Brier ``= mean (p_i - s_i)^2``; log loss
    ``= -mean [s_i log p_i + (1 - s_i) log (1 - p_i)]`` with ``p`` clipped to
    ``[eps, 1 - eps]``.  Against soft labels the log loss cannot go below the mean
    entropy of the shares (returned as ``log_loss_floor``; ``log_loss - floor`` is the
    mean KL divergence), and a Brier score of 0 needs ``p_i = s_i``, not 0/1.

    Returns
    -------
    dict
        ``brier`` and ``log_loss`` as :class:`MetricResult` (percentile bootstrap over
        items or ``clusters``), ``log_loss_floor`` (float) and ``n``.  Items where either
        value is missing are left out.

    Examples
    --------
    Two items, shares 1.0 and 0.5, judge probabilities 0.8 and 0.5:
    Brier = ((0.2)^2 + 0^2) / 2 = 0.02.

    >>> round(soft_label_scores([0.8, 0.5], [1.0, 0.5], n_boot=10)["brier"].value, 6)
    0.02
    """
    p = np.asarray(probabilities, dtype=float).ravel()
    s = np.asarray(shares, dtype=float).ravel()
    if p.size != s.size:
        raise ValidationError(f"{p.size} probabilities but {s.size} vote shares; give one of "
                              "each per item")
    keep = ~(np.isnan(p) | np.isnan(s))
    if ((p[keep] < 0) | (p[keep] > 1)).any() or ((s[keep] < 0) | (s[keep] > 1)).any():
        raise ValidationError("probabilities and vote shares must lie in [0, 1]")
    p, s = p[keep], s[keep]
    n = int(p.size)
    if n == 0:
        undefined = MetricResult.undefined_result("no item with both a probability and votes", n=0)
        return {"brier": undefined, "log_loss": undefined, "log_loss_floor": float("nan"), "n": 0}
    q = np.clip(p, eps, 1 - eps)
    brier_i = (p - s) ** 2
    loss_i = -(s * np.log(q) + (1 - s) * np.log(1 - q))
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -(np.where(s > 0, s * np.log(s), 0.0) + np.where(s < 1, (1 - s) * np.log(1 - s), 0.0))
    ck = None if clusters is None else np.asarray(clusters, dtype=object).ravel()[keep]
    boot = ClusterBootstrap(ck, n=n, n_boot=n_boot, seed=seed)
    sums = boot.resample_sums(np.column_stack([brier_i, loss_i, np.ones(n)]))
    out = {}
    for k, (name, vals) in enumerate((("brier", brier_i), ("log_loss", loss_i))):
        lo, hi, n_undef = percentile_interval(sums[:, k] / sums[:, 2], confidence=confidence)
        out[name] = MetricResult(float(vals.mean()), lo, hi, n,
                                 boot.n_clusters if boot.clustered else None, boot.method,
                                 None, n_undef, confidence=confidence)
    out["log_loss_floor"] = float(ent.mean())
    out["n"] = n
    return out

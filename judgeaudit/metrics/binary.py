"""Binary classification metrics of a judge against a reference, with intervals.

Every function takes ``y_true`` (the reference, e.g. the human majority) and
``y_pred`` (the judge) as 0/1 or boolean arrays of equal length and returns a
:class:`~judgeaudit.metrics.MetricResult`.  Plain proportions (accuracy, precision,
recall, fpr, fnr, specificity) get a Wilson interval when ``ci="auto"`` and no
``clusters`` are given; everything else, and everything clustered, gets a percentile
bootstrap computed from resampled confusion counts in one matrix product.

Common keyword options
----------------------
pos_label:
    Which of 0 / 1 is the positive class (default 1).
clusters:
    One key per item (e.g. ``prompt_id``); resamples whole clusters.
n_boot, seed:
    Bootstrap resamples and the seed of :func:`numpy.random.default_rng`.
confidence:
    Two-sided coverage of the interval (default 0.95).
ci:
    ``"auto"``, ``"bootstrap"``, ``"wilson"`` (proportions only) or ``"none"`` (the
    point value only: no resamples are drawn, for callers that want just the number).
sample_weight:
    One non-negative weight per item (e.g. ``1 / inclusion probability`` of a labelling
    sample): every count becomes a weighted sum, so proportions are Hajek estimates;
    the interval is then a bootstrap of the weighted sums.

References
----------
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
inference. JASA 22(158), 209-212.  Davison, A. C. and Hinkley, D. V. (1997). Bootstrap
Methods and their Application, section 3.8 (resampling clusters).  Matthews, B. W. (1975)
for MCC; Brodersen et al. (2010) for balanced accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ValidationError
from ._arrays import _as_1d, _check_same_length, _encode, _missing_mask, _sample_weight
from ._result import MetricResult
from .catalogue import METRICS, binary_from_counts, undefined_reason
from .intervals import _check_clusters, _finish, _resolve_ci

__all__ = [
    "ConfusionMatrix", "confusion_matrix", "accuracy", "precision", "recall", "f1", "fpr",
    "fnr", "specificity", "mcc", "balanced_accuracy",
]


# ------------------------------------------------------------------ input checks

def _as_binary(y, name: str) -> np.ndarray:
    """``y`` as an int8 array of 0/1, or a ValidationError saying what is wrong."""
    arr = _as_1d(y, name)
    missing = _missing_mask(arr)
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise ValidationError(f"{name} has missing values (NaN/None), first at index {i}; "
                              "drop those items first")
    if arr.dtype.kind == "b":
        return arr.astype(np.int8)
    numeric = (bool, int, float, np.bool_, np.integer, np.floating)
    if arr.dtype.kind in "iuf":
        num = arr.astype(float)
    else:
        bad = next((v for v in arr.ravel() if not isinstance(v, numeric)), None)
        if bad is not None or arr.dtype.kind != "O":
            bad = arr.ravel()[0] if bad is None else bad
            raise ValidationError(f"{name} must hold 0/1 (or bool) labels, found {bad!r}; "
                                  "map your labels to 0/1 first")
        num = arr.astype(float)
    bad = ~np.isin(num, (0.0, 1.0))
    if bad.any():
        raise ValidationError(f"{name} must hold 0/1 (or bool) labels, found "
                              f"{arr[np.flatnonzero(bad)[0]]!r}; map your labels to 0/1 first")
    return num.astype(np.int8)


def _binary_pair(y_true, y_pred, pos_label):
    if pos_label not in (0, 1):
        raise ValidationError(f"pos_label must be 0 or 1, got {pos_label!r}")
    t, p = _as_binary(y_true, "y_true"), _as_binary(y_pred, "y_pred")
    _check_same_length(t, p, ("y_true", "y_pred"))
    if pos_label == 0:
        t, p = 1 - t, 1 - p
    return t, p


# ------------------------------------------------------------------ confusion matrix

@dataclass(frozen=True)
class ConfusionMatrix:
    """Counts of (true, predicted) label pairs.

    Attributes
    ----------
    labels:
        The categories, in row / column order.
    counts:
        ``counts[i, j]`` items with true label ``labels[i]`` and prediction ``labels[j]``.
    """

    labels: tuple
    counts: np.ndarray

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def _binary(self, i, j):
        if len(self.labels) != 2:
            raise ValidationError("tp / fp / fn / tn need a 2x2 confusion matrix")
        return int(self.counts[i, j])

    @property
    def tn(self) -> int:
        return self._binary(0, 0)

    @property
    def fp(self) -> int:
        return self._binary(0, 1)

    @property
    def fn(self) -> int:
        return self._binary(1, 0)

    @property
    def tp(self) -> int:
        return self._binary(1, 1)

    def to_dict(self) -> dict:
        return {"labels": [v.item() if isinstance(v, np.generic) else v for v in self.labels],
                "counts": self.counts.tolist()}


def confusion_matrix(y_true, y_pred, *, labels=None) -> ConfusionMatrix:
    """Confusion matrix of any categorical labels (rows: true, columns: predicted).

    Parameters
    ----------
    y_true, y_pred:
        Labels of the same items; any hashable values, no missing values.
    labels:
        Categories in the order wanted; default the sorted union of both inputs.
        For 0/1 data the default order is ``(0, 1)``, so ``counts`` is
        ``[[tn, fp], [fn, tp]]`` as in scikit-learn.

    Examples
    --------
    >>> cm = confusion_matrix([1, 1, 0, 0, 1], [1, 0, 0, 1, 1])
    >>> cm.counts
    array([[1, 1],
           [1, 2]])
    >>> (cm.tp, cm.fp, cm.fn, cm.tn)
    (2, 1, 1, 1)
    """
    t, p = _as_1d(y_true, "y_true"), _as_1d(y_pred, "y_pred")
    _check_same_length(t, p, ("y_true", "y_pred"))
    (ct, cp), labs = _encode([t, p], labels, names=("y_true", "y_pred"), allow_missing=False)
    k = len(labs)
    counts = np.bincount(ct * k + cp, minlength=k * k).reshape(k, k)
    return ConfusionMatrix(tuple(labs), counts)


# ------------------------------------------------------------------ the metrics
# What each metric is (formula, proportion or not, why undefined) is in .catalogue.

def _binary_metric(metric, y_true, y_pred, *, pos_label, clusters, n_boot, seed, confidence, ci,
                   sample_weight=None):
    t, p = _binary_pair(y_true, y_pred, pos_label)
    n = int(t.size)
    clusters = _check_clusters(clusters, n)
    w = _sample_weight(sample_weight, n)
    facts = METRICS[metric]
    mode = _resolve_ci(ci, clusters, proportion=facts.is_proportion, weighted=w is not None)
    stats = np.column_stack([(t == 1) & (p == 1), (t == 0) & (p == 1),
                             (t == 1) & (p == 0), (t == 0) & (p == 0)]).astype(float)
    tp, fp, fn, tn = (int(v) for v in stats.sum(axis=0))
    reason = undefined_reason(metric, tp, fp, fn, tn)
    if n == 0:
        return MetricResult.undefined_result("no items", n=0)
    point = float("nan") if reason else float(binary_from_counts(tp, fp, fn, tn, metric))
    wilson = facts.proportion(tp, fp, fn, tn) if facts.is_proportion else None
    res = _finish(point, n=n, mode=mode, confidence=confidence, item_stats=stats,
                  statistic=lambda s: binary_from_counts(s[:, 0], s[:, 1], s[:, 2], s[:, 3], metric),
                  clusters=clusters, n_boot=n_boot, seed=seed, wilson=wilson, undefined=reason,
                  sample_weight=w)
    if mode == "bootstrap" and wilson is not None and w is None and res.defined:
        res = _floor_proportion(res, facts.proportion(*stats.T), clusters, n, confidence)
    return res


def _floor_proportion(res: MetricResult, per_item, clusters, n, confidence) -> MetricResult:
    """A bootstrap interval of a proportion widened to the Korn-Graubard interval
    (:func:`~judgeaudit.metrics.cluster_proportion_interval`), so that it cannot
    collapse at 0 or 1; ``note`` says when it was widened."""
    from dataclasses import replace

    from .proportions import cluster_proportion_interval, widen

    k_i, n_i = per_item
    codes = np.unique(np.asarray(clusters, dtype=object).astype(str), return_inverse=True)[1].ravel() \
        if clusters is not None else np.arange(n)
    k_c, n_c = np.bincount(codes, weights=k_i), np.bincount(codes, weights=n_i)
    lo, hi, deff = cluster_proportion_interval(k_c, n_c, confidence=confidence)
    new = widen((res.ci_low, res.ci_high), (lo, hi))
    if new == (res.ci_low, res.ci_high):
        return res
    note = f"widened to the Korn-Graubard interval (design effect {deff:.2f})"
    return replace(res, ci_low=new[0], ci_high=new[1],
                   note=note if res.note is None else f"{res.note}; {note}")


def accuracy(y_true, y_pred, *, pos_label=1, clusters=None, n_boot=1000, seed=0,
             confidence=0.95, ci="auto", sample_weight=None) -> MetricResult:
    """Share of items where the prediction equals the reference.

    Undefined only on empty input.  A proportion: Wilson interval under ``ci="auto"``
    without clusters (see the module docstring for the keyword options).

    Examples
    --------
    Wikipedia's Cohen's kappa example (20 yes-yes, 15 no-no of 50): accuracy 0.7.

    >>> y1 = [1] * 25 + [0] * 25
    >>> y2 = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    >>> accuracy(y1, y2).value
    0.7
    """
    return _binary_metric("accuracy", y_true, y_pred, pos_label=pos_label, clusters=clusters,
                          n_boot=n_boot, seed=seed, confidence=confidence, ci=ci,
                          sample_weight=sample_weight)


def precision(y_true, y_pred, *, pos_label=1, clusters=None, n_boot=1000, seed=0,
              confidence=0.95, ci="auto", sample_weight=None) -> MetricResult:
    """tp / (tp + fp).  Undefined (NaN, with reason) when ``y_pred`` has no positives.

    Examples
    --------
    >>> precision([1, 1, 0, 0, 1], [1, 0, 0, 1, 1]).value  # tp=2, fp=1
    0.6666666666666666
    """
    return _binary_metric("precision", y_true, y_pred, pos_label=pos_label, clusters=clusters,
                          n_boot=n_boot, seed=seed, confidence=confidence, ci=ci,
                          sample_weight=sample_weight)


def recall(y_true, y_pred, *, pos_label=1, clusters=None, n_boot=1000, seed=0,
           confidence=0.95, ci="auto", sample_weight=None) -> MetricResult:
    """tp / (tp + fn), the true positive rate.  Undefined when ``y_true`` has no positives.

    Examples
    --------
    >>> recall([1, 1, 0, 0, 1], [1, 0, 0, 1, 1]).value  # tp=2, fn=1
    0.6666666666666666
    >>> recall([0, 0], [0, 1]).undefined
    'y_true has no positive items'
    """
    return _binary_metric("recall", y_true, y_pred, pos_label=pos_label, clusters=clusters,
                          n_boot=n_boot, seed=seed, confidence=confidence, ci=ci,
                          sample_weight=sample_weight)


def fnr(y_true, y_pred, *, pos_label=1, clusters=None, n_boot=1000, seed=0,
        confidence=0.95, ci="auto", sample_weight=None) -> MetricResult:
    """fn / (tp + fn), the false negative rate.  Undefined when ``y_true`` has no positives.

    Examples
    --------
    >>> fnr([1, 1, 0, 0, 1], [1, 0, 0, 1, 1]).value  # fn=1 of 3 positives
    0.3333333333333333
    """
    return _binary_metric("fnr", y_true, y_pred, pos_label=pos_label, clusters=clusters,
                          n_boot=n_boot, seed=seed, confidence=confidence, ci=ci,
                          sample_weight=sample_weight)


def fpr(y_true, y_pred, *, pos_label=1, clusters=None, n_boot=1000, seed=0,
        confidence=0.95, ci="auto", sample_weight=None) -> MetricResult:
    """fp / (fp + tn), the false positive rate.  Undefined when ``y_true`` has no negatives.

    Examples
    --------
    >>> fpr([1, 1, 0, 0, 1], [1, 0, 0, 1, 1]).value  # fp=1 of 2 negatives
    0.5
    """
    return _binary_metric("fpr", y_true, y_pred, pos_label=pos_label, clusters=clusters,
                          n_boot=n_boot, seed=seed, confidence=confidence, ci=ci,
                          sample_weight=sample_weight)


def specificity(y_true, y_pred, *, pos_label=1, clusters=None, n_boot=1000, seed=0,
                confidence=0.95, ci="auto", sample_weight=None) -> MetricResult:
    """tn / (fp + tn), the true negative rate.  Undefined when ``y_true`` has no negatives.

    Examples
    --------
    >>> specificity([1, 1, 0, 0, 1], [1, 0, 0, 1, 1]).value  # tn=1 of 2 negatives
    0.5
    """
    return _binary_metric("specificity", y_true, y_pred, pos_label=pos_label, clusters=clusters,
                          n_boot=n_boot, seed=seed, confidence=confidence, ci=ci,
                          sample_weight=sample_weight)


def f1(y_true, y_pred, *, pos_label=1, clusters=None, n_boot=1000, seed=0,
       confidence=0.95, ci="auto", sample_weight=None) -> MetricResult:
    """2 tp / (2 tp + fp + fn).  Undefined when neither side has a positive item.

    Not a proportion: the interval is a bootstrap unless ``ci="none"``.

    Examples
    --------
    >>> f1([1, 1, 0, 0, 1], [1, 0, 0, 1, 1]).value  # 4 / (4 + 1 + 1)
    0.6666666666666666
    """
    return _binary_metric("f1", y_true, y_pred, pos_label=pos_label, clusters=clusters,
                          n_boot=n_boot, seed=seed, confidence=confidence, ci=ci,
                          sample_weight=sample_weight)


def mcc(y_true, y_pred, *, pos_label=1, clusters=None, n_boot=1000, seed=0,
        confidence=0.95, ci="auto", sample_weight=None) -> MetricResult:
    """Matthews correlation coefficient (tp tn - fp fn) / sqrt(product of the margins).

    Undefined when ``y_true`` or ``y_pred`` has one class only (scikit-learn returns
    0 there; here it is NaN with the reason).  Bootstrap interval.

    Examples
    --------
    >>> round(mcc([1, 1, 0, 0, 1], [1, 0, 0, 1, 1]).value, 4)  # (2 - 1) / sqrt(3*3*2*2)
    0.1667
    """
    return _binary_metric("mcc", y_true, y_pred, pos_label=pos_label, clusters=clusters,
                          n_boot=n_boot, seed=seed, confidence=confidence, ci=ci,
                          sample_weight=sample_weight)


def balanced_accuracy(y_true, y_pred, *, pos_label=1, clusters=None, n_boot=1000, seed=0,
                      confidence=0.95, ci="auto", sample_weight=None) -> MetricResult:
    """(recall + specificity) / 2.  Undefined when ``y_true`` lacks either class.

    Examples
    --------
    >>> balanced_accuracy([1, 1, 0, 0, 1], [1, 0, 0, 1, 1]).value  # (2/3 + 1/2) / 2
    0.5833333333333333
    """
    return _binary_metric("balanced_accuracy", y_true, y_pred, pos_label=pos_label,
                          clusters=clusters, n_boot=n_boot, seed=seed, confidence=confidence, ci=ci,
                          sample_weight=sample_weight)

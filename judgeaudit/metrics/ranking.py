"""Rank-based metrics: Spearman's rho, Kendall's tau-b and the area under the ROC curve.

A bootstrap resample is a vector of integer multiplicities, one per item (how often
its cluster was drawn).  Spearman's rho and the AUROC are computed for a whole block
of resamples at once from those weights: tied values share one group, so weighted
mid-ranks and weighted Mann-Whitney counts are cumulative sums over the groups of the
data sorted once.  Kendall's tau-b loops over resamples on the expanded data.

Common keyword options: ``clusters`` (one key per item), ``n_boot``, ``seed``,
``confidence`` and ``ci`` (``"auto"`` / ``"bootstrap"``, or ``"none"``).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import ValidationError
from .catalogue import undefined_reason
from ._result import MetricResult
from ._arrays import _as_1d, _check_same_length, _missing_mask
from .binary import _as_binary
from .intervals import _check_clusters, _finish, _resolve_ci

__all__ = ["spearman", "kendall_tau", "auroc"]

_MAX_BLOCK = 4_000_000  # resample-by-item weights held at once


def _as_numeric(v, name: str) -> np.ndarray:
    arr = _as_1d(v, name)
    missing = _missing_mask(arr)
    if missing.any():
        raise ValidationError(f"{name} has missing values (NaN/None), first at index "
                              f"{int(np.flatnonzero(missing)[0])}; drop those items first")
    try:
        out = arr.astype(float)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} must be numeric") from exc
    if np.isinf(out).any():
        raise ValidationError(f"{name} has infinite values")
    return out


def _weight_blocks(bs):
    """Yield ``(start, w)``: integer item weights ``w (b, n)`` of consecutive resamples."""
    n = bs.n
    step_cap = max(1, _MAX_BLOCK // max(n, 1))
    for start, counts in bs._count_chunks():
        for j in range(0, counts.shape[0], step_cap):
            yield start + j, counts[j:j + step_cap][:, bs.codes].astype(float)


def _boot_from_weights(bs, fn) -> np.ndarray:
    """``fn(w (b, n)) -> (b,)`` over all resamples."""
    out = np.empty(bs.n_boot)
    for start, w in _weight_blocks(bs):
        out[start:start + w.shape[0]] = fn(w)
    return out


class _Groups:
    """Ties of one array: sort order and group starts, for weighted cumulative sums."""

    def __init__(self, x: np.ndarray):
        self.order = np.argsort(x, kind="stable")
        xs = x[self.order]
        self.starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]]) if x.size else np.zeros(0, int)
        gid_sorted = np.cumsum(np.r_[True, xs[1:] != xs[:-1]]) - 1 if x.size else np.zeros(0, int)
        self.gid = np.empty(x.size, dtype=np.intp)
        self.gid[self.order] = gid_sorted

    def sums(self, w: np.ndarray) -> np.ndarray:
        """Per-group sums of ``w (b, n)``: ``(b, n_groups)`` in increasing value order."""
        return np.add.reduceat(w[:, self.order], self.starts, axis=1)

    def midranks(self, w: np.ndarray):
        """Weighted mid-ranks of each item, ``(b, n)``: the rank it would have in the
        data expanded by the weights (ties averaged); and whether each resample is
        constant (one group carries all the weight), ``(b,)``."""
        g = self.sums(w)
        before = np.cumsum(g, axis=1) - g
        constant = (g > 0).sum(axis=1) < 2
        return (before + (g + 1.0) / 2.0)[:, self.gid], constant


def _weighted_pearson(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    tot = w.sum(axis=1, keepdims=True)
    da = a - (w * a).sum(axis=1, keepdims=True) / tot
    db = b - (w * b).sum(axis=1, keepdims=True) / tot
    cov = (w * da * db).sum(axis=1)
    va, vb = (w * da * da).sum(axis=1), (w * db * db).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = cov / np.sqrt(va * vb)
    return np.clip(r, -1.0, 1.0)


def _rank_pair(x, y, clusters):
    xa, ya = _as_numeric(x, "x"), _as_numeric(y, "y")
    _check_same_length(xa, ya, ("x", "y"))
    return xa, ya, _check_clusters(clusters, xa.size)


def _constant_reason(xa, ya):
    if xa.size < 2:
        return "fewer than two items"
    if np.all(xa == xa[0]):
        return "x is constant: rank correlation is undefined"
    if np.all(ya == ya[0]):
        return "y is constant: rank correlation is undefined"
    return None


def spearman(x, y, *, clusters=None, n_boot=1000, seed=0, confidence=0.95,
             ci="auto") -> MetricResult:
    """Spearman's rank correlation: Pearson's r of the mid-ranks (ties averaged).

    The bootstrap is vectorised: each resample's weighted mid-ranks and weighted
    Pearson correlation, for a block of resamples at once.  Undefined with fewer than
    two items or a constant ``x`` or ``y``; resamples that are constant are left out
    of the interval (``n_boot_undefined``).

    Examples
    --------
    Wikipedia's example (IQ against hours of television a week, ten people):
    rho = 1 - 6 * 194 / (10 * 99) = -29/165 = -0.1758.

    >>> iq = [106, 100, 86, 101, 99, 103, 97, 113, 112, 110]
    >>> tv = [7, 27, 2, 50, 28, 29, 20, 12, 6, 17]
    >>> round(spearman(iq, tv).value, 4)
    -0.1758
    """
    xa, ya, clusters = _rank_pair(x, y, clusters)
    mode = _resolve_ci(ci, clusters, proportion=False)
    n = int(xa.size)
    if n == 0:
        return MetricResult.undefined_result("no items", n=0)
    reason = _constant_reason(xa, ya)
    gx, gy = _Groups(xa), _Groups(ya)

    def rho(w):
        (rx, cx), (ry, cy) = gx.midranks(w), gy.midranks(w)
        return np.where(cx | cy, np.nan, _weighted_pearson(rx, ry, w))

    point = float("nan") if reason else float(rho(np.ones((1, n)))[0])
    return _finish(point, n=n, mode=mode, confidence=confidence, clusters=clusters,
                   n_boot=n_boot, seed=seed, undefined=reason,
                   boot_values_fn=lambda bs: _boot_from_weights(bs, rho))


def kendall_tau(x, y, *, clusters=None, n_boot=1000, seed=0, confidence=0.95,
                ci="auto") -> MetricResult:
    """Kendall's tau-b (ties corrected), as :func:`scipy.stats.kendalltau`.

    The bootstrap loops over resamples, each the data expanded by its multiplicities.
    Undefined with fewer than two items or a constant ``x`` or ``y``.

    Examples
    --------
    Two rankings of five groups that swap one adjacent pair: 9 concordant and 1
    discordant pair of 10, tau = (9 - 1) / 10 = 0.8.

    >>> round(kendall_tau([1, 2, 3, 4, 5], [1, 3, 2, 4, 5]).value, 6)
    0.8
    """
    from scipy.stats import kendalltau

    xa, ya, clusters = _rank_pair(x, y, clusters)
    mode = _resolve_ci(ci, clusters, proportion=False)
    n = int(xa.size)
    if n == 0:
        return MetricResult.undefined_result("no items", n=0)
    reason = _constant_reason(xa, ya)

    def tau(a, b):
        if np.all(a == a[0]) or np.all(b == b[0]):
            return np.nan
        return float(kendalltau(a, b).statistic)

    def boot(bs):
        out = np.empty(bs.n_boot)
        items = np.arange(n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for start, w in _weight_blocks(bs):
                for i, row in enumerate(w.astype(np.intp)):
                    idx = np.repeat(items, row)
                    out[start + i] = tau(xa[idx], ya[idx])
        return out

    point = float("nan") if reason else tau(xa, ya)
    return _finish(point, n=n, mode=mode, confidence=confidence, clusters=clusters,
                   n_boot=n_boot, seed=seed, undefined=reason, boot_values_fn=boot)


def auroc(y_true, score, *, pos_label=1, clusters=None, n_boot=1000, seed=0, confidence=0.95,
          ci="auto") -> MetricResult:
    """Area under the ROC curve: P(score of a positive > score of a negative), ties 1/2.

    Parameters
    ----------
    y_true:
        0/1 (or bool) reference labels.
    score:
        The judge's scores, higher meaning more positive; no missing values.
    pos_label:
        Which of 0 / 1 is the positive class.

    Returns
    -------
    MetricResult
        Undefined when ``y_true`` has no positive or no negative items.  The
        bootstrap computes the weighted Mann-Whitney statistic for a block of
        resamples at once; resamples missing a class are left out
        (``n_boot_undefined``).

    Examples
    --------
    Hanley and McNeil (1982), Table 1: CT ratings (1 = definitely normal ... 5 =
    definitely abnormal) of 58 normal and 51 abnormal images; area 0.893.

    >>> normal, abnormal = [33, 6, 6, 11, 2], [3, 2, 2, 11, 33]
    >>> rating = np.r_[np.repeat(np.arange(1, 6), normal), np.repeat(np.arange(1, 6), abnormal)]
    >>> truth = np.r_[np.zeros(58), np.ones(51)]
    >>> round(auroc(truth, rating).value, 3)
    0.893
    """
    if pos_label not in (0, 1):
        raise ValidationError(f"pos_label must be 0 or 1, got {pos_label!r}")
    t = _as_binary(y_true, "y_true")
    s = _as_numeric(score, "score")
    _check_same_length(t, s, ("y_true", "score"))
    if pos_label == 0:
        t = 1 - t
    n = int(t.size)
    clusters = _check_clusters(clusters, n)
    mode = _resolve_ci(ci, clusters, proportion=False)
    if n == 0:
        return MetricResult.undefined_result("no items", n=0)
    # the catalogue's reasons read the classes of y_true from (tp + fn, fp + tn)
    reason = undefined_reason("auroc", int((t == 1).sum()), int((t == 0).sum()), 0, 0)
    groups = _Groups(s)
    pos = t.astype(float)

    def area(w):
        p = groups.sums(w * pos)
        q = groups.sums(w * (1.0 - pos))
        below = np.cumsum(q, axis=1) - q
        num = (p * (below + 0.5 * q)).sum(axis=1)
        den = p.sum(axis=1) * q.sum(axis=1)
        out = np.full(den.shape, np.nan)
        np.divide(num, den, out=out, where=den > 0)
        return out

    point = float("nan") if reason else float(area(np.ones((1, n)))[0])
    return _finish(point, n=n, mode=mode, confidence=confidence, clusters=clusters,
                   n_boot=n_boot, seed=seed, undefined=reason,
                   boot_values_fn=lambda bs: _boot_from_weights(bs, area))

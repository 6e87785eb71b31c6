"""Confidence intervals: Wilson for proportions, percentile bootstrap for the rest.

:func:`wilson_interval` is the score interval for a binomial proportion.
:func:`result_from_bootstrap` turns a point value and its bootstrap values into a
:class:`~judgeaudit.metrics.MetricResult`.  The private helpers below are shared by
the metric modules: they validate the interval options and run one bootstrap.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri

from ..errors import ValidationError
from ._resample import ClusterBootstrap, percentile_interval
from ._result import MetricResult

__all__ = ["wilson_interval", "result_from_bootstrap"]

_CI_MODES = ("auto", "bootstrap", "wilson", "none")


def _check_confidence(confidence) -> float:
    c = float(confidence)
    if not 0.0 < c < 1.0:
        raise ValidationError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    return c


def wilson_interval(k, n, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials.

    Parameters
    ----------
    k, n:
        Successes and trials, ``0 <= k <= n``.
    confidence:
        Two-sided coverage.

    Returns
    -------
    (low, high):
        The interval; ``(nan, nan)`` when ``n == 0``.

    Examples
    --------
    Newcombe (1998), Table I: 81/263 gives 0.2553 to 0.3662, and 0/20 gives 0 to 0.1611.

    >>> [round(b, 4) for b in wilson_interval(81, 263)]
    [0.2553, 0.3662]
    >>> [round(b, 4) for b in wilson_interval(0, 20)]
    [0.0, 0.1611]
    """
    c = _check_confidence(confidence)
    k, n = float(k), float(n)
    if n < 0 or k < 0 or k > n or math.isnan(k) or math.isnan(n):
        raise ValidationError(f"wilson_interval needs 0 <= k <= n, got k={k:g}, n={n:g}")
    if n == 0:
        return float("nan"), float("nan")
    z = float(ndtri(1.0 - (1.0 - c) / 2.0))
    p = k / n
    den = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    lo, hi = centre - half, centre + half
    # Exact bounds at the edges (the formula gives them up to rounding).
    if k == 0:
        lo = 0.0
    if k == n:
        hi = 1.0
    return max(0.0, lo), min(1.0, hi)


def result_from_bootstrap(point, boot_values, *, n: int, bootstrap: ClusterBootstrap | None = None,
                          confidence: float = 0.95, undefined: str | None = None,
                          note: str | None = None) -> MetricResult:
    """A :class:`MetricResult` from a point value and its bootstrap values.

    Parameters
    ----------
    point:
        The metric on the observed data (NaN when undefined).
    boot_values:
        The metric on each resample, shape ``(n_boot,)``; NaN entries are resamples
        where it was undefined and are left out of the percentile interval (their
        number is ``n_boot_undefined``).
    n:
        Items or units the point value was computed on.
    bootstrap:
        The :class:`ClusterBootstrap` that made the resamples (for ``method`` and
        ``n_clusters``); None means an item bootstrap.
    undefined:
        Why the point value is undefined; required in effect when ``point`` is NaN
        (a generic reason is used otherwise, never a silent NaN).
    """
    nan = float("nan")
    n_clusters = bootstrap.n_clusters if bootstrap is not None and bootstrap.clustered else None
    point = float(point)
    if undefined is not None or math.isnan(point):
        return MetricResult(nan, nan, nan, int(n), n_clusters, "none",
                            undefined or "undefined on these data", confidence=confidence)
    lo, hi, n_undef = percentile_interval(boot_values, confidence=confidence)
    if math.isnan(lo):
        extra = "no bootstrap resample had this metric defined"
        note = extra if note is None else f"{note}; {extra}"
    method = bootstrap.method if bootstrap is not None else "bootstrap"
    return MetricResult(point, lo, hi, int(n), n_clusters, method, None, n_undef,
                        confidence=confidence, note=note)


# ---------------------------------------------------------------- shared helpers

def _resolve_ci(ci, clusters, *, proportion: bool, weighted: bool = False) -> str:
    """``"wilson"``, ``"bootstrap"`` or ``"none"`` from the ``ci`` option."""
    if ci not in _CI_MODES:
        raise ValidationError(f"ci must be one of {', '.join(map(repr, _CI_MODES))}, got {ci!r}")
    if ci == "auto":
        return "wilson" if proportion and clusters is None and not weighted else "bootstrap"
    if ci == "wilson" and weighted:
        raise ValidationError("ci='wilson' counts items and cannot use sample_weight; use ci='bootstrap' "
                              "(or 'auto'), which resamples the weighted sums")
    if ci == "wilson":
        if not proportion:
            raise ValidationError("ci='wilson' is only for plain proportions (accuracy, precision, "
                                  "recall, fpr, fnr, specificity); use ci='bootstrap'")
        if clusters is not None:
            raise ValidationError("ci='wilson' treats items as independent and cannot use clusters; "
                                  "use ci='bootstrap' (or 'auto') for a cluster bootstrap")
    return ci


def _check_clusters(clusters, n: int, what: str = "items"):
    """``clusters`` as a 1-d object array of ``n`` keys (None stays None)."""
    if clusters is None:
        return None
    keys = np.asarray(clusters, dtype=object).ravel()
    if keys.size != n:
        raise ValidationError(f"clusters has {keys.size} keys but there are {n} {what}; "
                              f"give one cluster key per {what[:-1]}")
    missing = [i for i, v in enumerate(keys)
               if v is None or (isinstance(v, (float, np.floating)) and math.isnan(v))]
    if missing:
        raise ValidationError(f"clusters has missing keys (first at index {missing[0]}); "
                              f"every {what[:-1]} needs a cluster key")
    return keys


def _make_bootstrap(clusters, n: int, *, n_boot, seed) -> ClusterBootstrap:
    """A :class:`ClusterBootstrap` over ``n`` items, checking ``clusters`` and ``n_boot``."""
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValidationError(f"n_boot must be a positive integer, got {n_boot!r}")
    keys = _check_clusters(clusters, n)
    if keys is None:
        return ClusterBootstrap(None, n=n, n_boot=int(n_boot), seed=seed)
    return ClusterBootstrap(keys, n_boot=int(n_boot), seed=seed)


def _select_clusters(clusters, keep):
    """``clusters`` restricted to the items where ``keep`` is true (None stays None)."""
    if clusters is None:
        return None
    return np.asarray(clusters, dtype=object).ravel()[keep]


def _finish(point, *, n: int, mode: str, confidence: float, item_stats=None, statistic=None,
            clusters=None, n_boot=1000, seed=0, wilson=None, undefined=None,
            boot_values_fn=None, sample_weight=None) -> MetricResult:
    """The common tail of every metric: undefined check, then the requested interval.

    ``item_stats (n, S)`` and ``statistic`` (``(n_boot, S)`` sums -> ``(n_boot,)``) give
    the vectorised bootstrap; ``boot_values_fn(bootstrap) -> (n_boot,)`` is the
    alternative for metrics that are not functions of sums.  ``wilson=(k, trials)``
    is used when ``mode == "wilson"``.  ``sample_weight`` (one weight per row of
    ``item_stats``) weights every sum: the point value is recomputed from the weighted
    sums and the bootstrap resamples them (``n`` stays the number of items).
    """
    confidence = _check_confidence(confidence)
    nan = float("nan")
    point = float(point)
    if sample_weight is not None and item_stats is not None:
        item_stats = np.asarray(item_stats, dtype=float) * np.asarray(sample_weight, dtype=float)[:, None]
        if undefined is None:
            with np.errstate(divide="ignore", invalid="ignore"):
                point = float(np.asarray(statistic(item_stats.sum(axis=0)[None, :]), dtype=float)[0])
            if math.isnan(point):
                undefined = "undefined on these data with these weights (a zero-weight class or all weights 0)"
    if undefined is not None or math.isnan(point):
        n_clusters = None
        if clusters is not None and mode == "bootstrap":
            n_clusters = int(np.unique(np.asarray(clusters, dtype=object).astype(str)).size)
        return MetricResult(nan, nan, nan, int(n), n_clusters, "none",
                            undefined or "undefined on these data", confidence=confidence)
    if mode == "none":
        return MetricResult(point, nan, nan, int(n), None, "none", confidence=confidence,
                            note="no interval requested (ci='none')")
    if mode == "wilson":
        k, trials = wilson
        lo, hi = wilson_interval(k, trials, confidence=confidence)
        return MetricResult(point, lo, hi, int(n), None, "wilson", confidence=confidence)
    bs = _make_bootstrap(clusters, int(n) if item_stats is None else len(item_stats),
                         n_boot=n_boot, seed=seed)
    if boot_values_fn is not None:
        boot = boot_values_fn(bs)
    else:
        boot = statistic(bs.resample_sums(item_stats))
    with np.errstate(invalid="ignore"):
        return result_from_bootstrap(point, np.asarray(boot, dtype=float), n=n, bootstrap=bs,
                                     confidence=confidence)

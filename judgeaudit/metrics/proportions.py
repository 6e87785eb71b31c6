"""Intervals for proportions from clustered data that do not collapse at 0 and 1.

A percentile cluster bootstrap of a proportion whose sample shows no event returns
``[0, 0]``: every resample shows none either.  :func:`cluster_proportion_interval` is
a Clopper-Pearson (or, on request, Wilson) interval on the *effective* sample size
``n / deff``, with the design
effect ``deff`` estimated from the cluster totals (the linearisation variance of a
ratio estimator) and the effective size shrunk further by ``(z / t_{C-1})^2`` for the
few-clusters case: Korn and Graubard's (1998) interval for survey proportions.  Where the
sample shows no event (or only events) the design effect cannot be estimated; it is
then taken as the mean cluster size, i.e. each cluster counts as one observation
(the most conservative choice, since the variance of a cluster's share can not
exceed that of a single item).

:func:`widen` makes any interval (e.g. a percentile bootstrap) at least as wide as
another: the audit reports the hull of its bootstrap interval and this one.

References
----------
Korn, E. L. and Graubard, B. I. (1998). Confidence intervals for proportions with
small expected number of positive counts estimated from survey data. Survey
Methodology 24, 193-201.
Kish, L. (1965). Survey Sampling (design effect).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri

from ..errors import ValidationError
from .intervals import _check_confidence, wilson_interval

__all__ = ["cluster_proportion_interval", "design_effect", "widen"]


def design_effect(successes, trials, *, n_obs=None) -> float:
    """Design effect of a proportion from per-cluster ``successes`` and ``trials``.

    ``deff = v_cluster / (p (1 - p) / n)`` with
    ``v_cluster = C / (C - 1) * sum_c (k_c - p n_c)^2 / n^2`` (the linearisation
    variance of ``p = sum k_c / sum n_c`` over ``C`` non-empty clusters), floored at 1.
    NaN when ``p`` is 0 or 1 or fewer than two clusters are non-empty.

    Examples
    --------
    Two clusters of two items, one all-positive and one all-negative: p = 0.5,
    v = 2 * (1 + 1) / 16 = 0.25, p(1-p)/n = 0.0625, so deff = 4 (above the cluster size
    2: the C / (C - 1) factor is large when C = 2).

    >>> design_effect([2, 0], [2, 2])
    4.0
    >>> design_effect([1, 0, 1, 0], [1, 1, 1, 1])  # one item per cluster: v = 4/3 * 1/16 / (1/16)
    1.3333333333333333
    """
    k, m = np.asarray(successes, float).ravel(), np.asarray(trials, float).ravel()
    keep = m > 0
    k, m = k[keep], m[keep]
    c, n = k.size, m.sum()
    if c < 2 or n == 0:
        return float("nan")
    p = k.sum() / n
    if p <= 0 or p >= 1:
        return float("nan")
    v = c / (c - 1) * np.sum((k - p * m) ** 2) / n ** 2
    if n_obs is not None:  # weighted sums: relative to the items actually observed, no floor
        return float(v / (p * (1 - p) / n_obs))
    return float(max(1.0, v / (p * (1 - p) / n)))


def cluster_proportion_interval(successes, trials, *, confidence: float = 0.95,
                                kind: str = "clopper-pearson", n_obs=None,
                                min_clusters: int = 5) -> tuple[float, float, float]:
    """Korn-Graubard interval of a proportion from clustered binary data.

    Parameters
    ----------
    successes, trials:
        Per cluster: events and items (1-d arrays of equal length).  One item per
        cluster gives the plain interval shrunk by the ``(z / t)^2`` factor.
    confidence:
        Two-sided coverage.
    kind:
        ``"clopper-pearson"`` (beta quantiles at the effective counts, as Korn and
        Graubard) or ``"wilson"`` (score interval at the effective counts; narrower,
        coverage measured at 0.935 to 0.97 in bench/bench_inference.py).
    n_obs:
        For weighted sums (``successes = sum w y``, ``trials = sum w`` per cluster):
        the number of items actually observed.  The design effect is then taken
        relative to ``n_obs`` (so weighting and stratification count) and not floored
        at 1; with no event it is ``n_obs / C``.
    min_clusters:
        Fewest clusters holding an event, and holding a non-event, for the design effect
        to be estimated from the data.  Below it (unweighted sums only) the all-or-nothing
        design effect ``sum_c n_c^2 / n`` is used: with a handful of events the estimate
        says nothing about how they cluster, and rare events that come in bursts (150
        prompts x 12 answers) covered only 0.88-0.90 without this rule, 0.965-0.98 with it
        (bench/bench_stress_coverage.py).  With one item per cluster it changes nothing.

    Returns
    -------
    (low, high, deff):
        The interval and the design effect used; ``(nan, nan, nan)`` with no items.

    Examples
    --------
    No event in 240 items over 60 prompts of 4: deff is taken as 4, n_eff = 60, and
    the t(59) factor (1.960/2.001)^2 gives n_eff = 57.56; the Clopper-Pearson upper
    bound at 0 events is 1 - 0.025^(1/57.56) = 0.0621 (a bootstrap says 0).

    >>> lo, hi, deff = cluster_proportion_interval([0] * 60, [4] * 60)
    >>> (lo, round(hi, 4), deff)
    (0.0, 0.0621, 4.0)
    """
    from scipy.stats import beta, t as student_t  # scipy.stats is slow to import: only here

    c = _check_confidence(confidence)
    if kind not in ("clopper-pearson", "wilson"):
        raise ValidationError(f"kind must be 'clopper-pearson' or 'wilson', got {kind!r}")
    k, m = np.asarray(successes, float).ravel(), np.asarray(trials, float).ravel()
    if k.shape != m.shape:
        raise ValidationError(f"successes and trials differ in length ({k.size} and {m.size})")
    if (k < 0).any() or (k > m + 1e-9).any():
        raise ValidationError("cluster_proportion_interval needs 0 <= successes <= trials in every cluster")
    keep = m > 0
    k, m = k[keep], m[keep]
    n, total = float(m.sum()), float(k.sum())
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    n_clusters = k.size
    size = n if n_obs is None else float(n_obs)
    deff = design_effect(k, m, n_obs=n_obs)
    if math.isnan(deff) or deff <= 0:
        deff = size / n_clusters  # no variation to measure: each cluster counts once
    if n_obs is None and min(int((k > 0).sum()), int((k < m).sum())) < min_clusters:
        deff = max(deff, float((m ** 2).sum() / n))  # too few clusters with (non-)events to estimate it
    n_eff = size / deff
    if n_clusters >= 2:
        z = float(ndtri(1.0 - (1.0 - c) / 2.0))
        t = float(student_t.ppf(1.0 - (1.0 - c) / 2.0, n_clusters - 1))
        n_eff *= (z / t) ** 2
    p = total / n
    x = p * n_eff
    if kind == "wilson":
        lo, hi = wilson_interval(x, n_eff, confidence=c)
        return lo, hi, float(deff)
    a = (1.0 - c) / 2.0
    lo = 0.0 if x <= 0 else float(beta.ppf(a, x, n_eff - x + 1))
    hi = 1.0 if x >= n_eff else float(beta.ppf(1 - a, x + 1, n_eff - x))
    return lo, hi, float(deff)


def widen(interval, floor) -> tuple[float, float]:
    """The hull of two intervals (NaN bounds of either are ignored).

    Examples
    --------
    >>> widen((0.0, 0.0), (0.0, 0.06))
    (0.0, 0.06)
    """
    lo = [b for b in (interval[0], floor[0]) if b is not None and not math.isnan(b)]
    hi = [b for b in (interval[1], floor[1]) if b is not None and not math.isnan(b)]
    return (min(lo) if lo else float("nan"), max(hi) if hi else float("nan"))

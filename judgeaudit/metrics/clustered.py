"""A proportion of clustered binary outcomes with a Wilson interval on the effective sample size.

For rare events a percentile bootstrap is useless: with no event in the sample every
resample has none, and the interval is [0, 0].  :func:`clustered_proportion` follows
Korn and Graubard (1998, "Confidence intervals for proportions with small expected
number of positive counts estimated from survey data", Survey Methodology 24(2)):
the Wilson score interval computed on the effective sample size
``n_eff = n / deff``, where the design effect ``deff`` compares the cluster-robust
(linearisation) variance of the proportion with the binomial one, and ``n_eff`` is
further scaled by ``(z / t_{G-1})**2`` for the ``G - 1`` degrees of freedom the
cluster variance has.

* ``deff`` is estimated as ``var_cluster / (p (1 - p) / n)`` with
  ``var_cluster = G / (G - 1) * sum_g (k_g - p n_g)**2 / n**2`` (the variance that
  statsmodels reports for an intercept-only regression with cluster-robust errors),
  then kept within ``[1, deff_max]``, where ``deff_max = sum_g n_g**2 / n`` is the
  design effect when every cluster is all-or-nothing (intra-cluster correlation 1).
* When fewer than ``min_clusters`` (default 5) clusters hold an event (or a non-event),
  the data say little or nothing about the correlation, and ``deff_max`` is used: the
  interval is then as wide as if each cluster were one observation, never ``[0, 0]``.
  (With one flip in 1,800 answers the estimated design effect is 1 whatever the
  clustering, and the simulation showed 88% coverage for rare, clustered flips.)

Coverage was measured by simulation (``bench/bench_stress_coverage.py``; a seeded
small version is in ``tests/metrics/test_clustered.py``).
:func:`judgeaudit.metrics.cluster_proportion_interval` (the audit's floor under every
bootstrapped proportion) is the same Korn-Graubard idea with Clopper-Pearson bounds and the
same few-clusters rule; before it had the rule, the bench showed it at 0.88-0.90 coverage for
rare flips that come in bursts, where this function stayed above 0.93.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from ..errors import ValidationError
from ._result import MetricResult
from .intervals import _check_clusters, _check_confidence, wilson_interval

__all__ = ["ClusteredProportion", "clustered_proportion"]


@dataclass(frozen=True)
class ClusteredProportion:
    """The proportion, its interval and how the clustering widened it.

    Attributes
    ----------
    k, n, n_clusters:
        Events, items and clusters.
    design_effect:
        The design effect used (see the module docstring); 1.0 without clusters.
    design_effect_source:
        ``"estimated"``, ``"upper bound"`` (events or non-events in fewer than
        ``min_clusters`` clusters) or ``"none"`` (no clusters given).
    n_effective:
        The sample size the Wilson interval was computed on.
    result:
        The :class:`MetricResult` (``method="wilson-deff"``).
    """

    k: int
    n: int
    n_clusters: int
    design_effect: float
    design_effect_source: str
    n_effective: float
    result: MetricResult

    def to_dict(self) -> dict:
        out = self.result.to_dict()
        out.update(k=self.k, design_effect=self.design_effect,
                   design_effect_source=self.design_effect_source, n_effective=self.n_effective)
        return out


def clustered_proportion(x, clusters=None, *, confidence: float = 0.95,
                         min_clusters: int = 5) -> ClusteredProportion:
    """Share of ones in ``x`` with a design-effect Wilson interval (see the module docstring).

    Parameters
    ----------
    x:
        0/1 outcomes, one per item (booleans allowed).
    clusters:
        One key per item (e.g. its prompt_id), or None for independent items.
    confidence:
        Two-sided coverage.
    min_clusters:
        Fewest clusters with an event and with a non-event for the design effect to be
        estimated; below it the upper bound is used.

    Returns
    -------
    ClusteredProportion
        With an undefined result (reason given) when ``x`` is empty.

    Examples
    --------
    Without clusters it is the plain Wilson interval (Newcombe 1998: 0/20 gives 0 to 0.1611):

    >>> r = clustered_proportion([0] * 20)
    >>> round(r.result.ci_low, 4), round(r.result.ci_high, 4)
    (0.0, 0.1611)

    Ten clusters of two with no event: the effective size is 10 clusters, scaled by
    ``(z / t_9)**2 = (1.95996 / 2.26216)**2 = 0.75067``, so n_eff = 7.5067 and the upper
    bound is z**2 / (n_eff + z**2) = 3.84146 / 11.34813 = 0.3385:

    >>> r = clustered_proportion([0] * 20, clusters=[i // 2 for i in range(20)])
    >>> r.design_effect, round(r.n_effective, 4), round(r.result.ci_high, 4)
    (2.0, 7.5067, 0.3385)
    """
    c = _check_confidence(confidence)
    if isinstance(min_clusters, bool) or not isinstance(min_clusters, (int, np.integer)) or min_clusters < 1:
        raise ValidationError(f"min_clusters must be a positive integer, got {min_clusters!r}")
    values = np.asarray(x, dtype=float).ravel()
    if values.size and (np.isnan(values).any() or not np.isin(values, (0.0, 1.0)).all()):
        raise ValidationError("clustered_proportion needs 0/1 outcomes (no missing values)")
    n = int(values.size)
    if n == 0:
        res = MetricResult.undefined_result("no items", n=0)
        return ClusteredProportion(0, 0, 0, float("nan"), "none", 0.0, res)
    k = int(values.sum())
    p = k / n
    keys = _check_clusters(clusters, n)
    if keys is None:
        lo, hi = wilson_interval(k, n, confidence=c)
        res = MetricResult(p, lo, hi, n, None, "wilson", confidence=c)
        return ClusteredProportion(k, n, n, 1.0, "none", float(n), res)
    _, codes = np.unique(keys.astype(str), return_inverse=True)
    sizes = np.bincount(codes).astype(float)
    events = np.bincount(codes, weights=values)
    g = int(sizes.size)
    deff_max = float((sizes ** 2).sum() / n)
    with_event = int((events > 0).sum())
    without_event = int((events < sizes).sum())
    if min(with_event, without_event) >= min_clusters and g >= 2:
        var = g / (g - 1) * float(((events - p * sizes) ** 2).sum()) / n ** 2
        deff, source = min(max(var / (p * (1 - p) / n), 1.0), deff_max), "estimated"
    else:
        deff, source = deff_max, "upper bound"
    n_eff = n / deff
    z = float(ndtri(1.0 - (1.0 - c) / 2.0))
    if g >= 2:
        from scipy.stats import t as student_t  # here: importing judgeaudit.metrics stays light

        n_eff *= (z / float(student_t.ppf(1.0 - (1.0 - c) / 2.0, g - 1))) ** 2
    lo, hi = _wilson_real(p, n_eff, z) if g >= 2 else (0.0, 1.0)
    note = (f"design effect {deff:.3g} ({source}); Wilson on n_eff={n_eff:.4g} "
            f"with {g - 1} degrees of freedom")
    if g < 2:
        note = "one cluster only: the interval is [0, 1]"
    res = MetricResult(p, lo, hi, n, g, "wilson-deff", confidence=c, note=note)
    return ClusteredProportion(k, n, g, float(deff), source, float(n_eff), res)


def _wilson_real(p: float, n: float, z: float) -> tuple[float, float]:
    """Wilson score bounds for proportion ``p`` on a (possibly non-integer) size ``n``."""
    den = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    lo, hi = centre - half, centre + half
    if p == 0.0:
        lo = 0.0
    if p == 1.0:
        hi = 1.0
    return max(0.0, lo), min(1.0, hi)

"""Chance-corrected agreement: Cohen's kappa, Krippendorff's alpha, Fleiss' kappa, Gwet's AC1.

Each is computed from per-item (per-unit) statistics whose sums determine the
coefficient: one-hot confusion cells for kappa, per-unit coincidences for alpha,
per-unit agreement terms and category shares for Fleiss and Gwet.  The bootstrap
resamples items (or clusters of items) once, sums those statistics with one matrix
product and applies the same formula to every resample.

Common keyword options: ``clusters`` (one key per item / unit, for a cluster
bootstrap), ``n_boot``, ``seed``, ``confidence``, and ``ci`` (``"auto"`` or
``"bootstrap"``: percentile bootstrap; ``"none"``: no interval).
"""

from __future__ import annotations

import numpy as np

from ..errors import ValidationError
from ._result import MetricResult
from ._arrays import _as_1d, _check_same_length, _encode, _missing_mask
from .formulas import alpha_from_coincidence, kappa_from_confusion, unit_coincidences
from .intervals import _check_clusters, _finish, _resolve_ci

__all__ = ["cohen_kappa", "krippendorff_alpha", "fleiss_kappa", "gwet_ac1"]

_ONE_CATEGORY = "only one category present: chance agreement is 1"


def cohen_kappa(y1, y2, *, weights=None, labels=None, clusters=None, n_boot=1000, seed=0,
                confidence=0.95, ci="auto") -> MetricResult:
    """Cohen's kappa between two raters of the same items, optionally weighted.

    Parameters
    ----------
    y1, y2:
        The two raters' labels, one per item: any categories (strings, ints, ...),
        no missing values (drop items one rater skipped first).
    weights:
        None (nominal), ``"linear"`` or ``"quadratic"`` disagreement weights; the
        categories' order (``labels``) then matters.
    labels:
        Categories in order; default the sorted set of values in ``y1`` and ``y2``.

    Returns
    -------
    MetricResult
        Bootstrap interval over items (or ``clusters``).  Undefined (NaN with reason)
        on empty input and when both raters used one and the same category only
        (``"only one category present: chance agreement is 1"``).

    Examples
    --------
    Wikipedia's worked example: 50 grant proposals, both say yes on 20, both no on 15,
    A yes / B no on 5, A no / B yes on 10: p_o = 0.7, p_e = 0.5, kappa = 0.4.

    >>> a = ["yes"] * 25 + ["no"] * 25
    >>> b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    >>> round(cohen_kappa(a, b).value, 6)
    0.4
    """
    a, b = _as_1d(y1, "y1"), _as_1d(y2, "y2")
    _check_same_length(a, b, ("y1", "y2"))
    n = int(a.size)
    clusters = _check_clusters(clusters, n)
    mode = _resolve_ci(ci, clusters, proportion=False)
    if weights not in (None, "linear", "quadratic"):
        raise ValidationError(f"weights must be None, 'linear' or 'quadratic', got {weights!r}")
    if n == 0:
        return MetricResult.undefined_result("no items", n=0)
    (c1, c2), labs = _encode([a, b], labels, names=("y1", "y2"), allow_missing=False)
    k = len(labs)
    cells = c1 * k + c2
    stats = np.zeros((n, k * k))
    stats[np.arange(n), cells] = 1.0
    cm = stats.sum(axis=0).reshape(k, k)
    point = kappa_from_confusion(cm, weights)
    reason = _ONE_CATEGORY if np.isnan(point) else None
    return _finish(point, n=n, mode=mode, confidence=confidence, item_stats=stats,
                   statistic=lambda s: kappa_from_confusion(s.reshape(-1, k, k), weights),
                   clusters=clusters, n_boot=n_boot, seed=seed, undefined=reason)


# ------------------------------------------------------------------ Krippendorff

def _value_counts(codes: np.ndarray, k: int) -> np.ndarray:
    """``(n_units, k)`` counts from ``(n_raters, n_units)`` codes (-1 = missing)."""
    n_units = codes.shape[1]
    unit = np.broadcast_to(np.arange(n_units), codes.shape)
    ok = codes >= 0
    flat = unit[ok] * k + codes[ok]
    return np.bincount(flat, minlength=n_units * k).reshape(n_units, k).astype(float)


def krippendorff_alpha(reliability_data, *, level="nominal", value_domain=None, clusters=None,
                       n_boot=1000, seed=0, confidence=0.95, ci="auto") -> MetricResult:
    """Krippendorff's alpha for any number of raters, with missing values.

    Parameters
    ----------
    reliability_data:
        ``(n_raters, n_units)`` array-like, as in the ``krippendorff`` package:
        entry ``[r, u]`` is rater ``r``'s value for unit ``u``; NaN / None where
        missing.  Values may be numbers or strings.
    level:
        ``"nominal"``, ``"ordinal"`` or ``"interval"``.  Ordinal and interval need
        ordered values: numbers, or strings with ``value_domain`` giving the order.
        Interval needs numbers.
    value_domain:
        The possible values in order; default the sorted distinct values present.
    clusters:
        One key per unit (column), for a cluster bootstrap.

    Returns
    -------
    MetricResult
        ``n`` counts pairable units (two or more values); only those are resampled.
        The point value is ``krippendorff.alpha`` on the same data; the bootstrap
        applies :func:`~judgeaudit.metrics.formulas.alpha_from_coincidence` to the
        resampled sums of :func:`~judgeaudit.metrics.formulas.unit_coincidences`
        (ordinal distances recomputed from each resample's margins).  Undefined when
        no unit has two values, or when all pairable values are the same (expected
        disagreement is zero).

    Examples
    --------
    Krippendorff (2011), "Computing Krippendorff's alpha-reliability": four observers,
    twelve units, values 1-5 with gaps; nominal 0.743, ordinal 0.815, interval 0.849.

    >>> nan = float("nan")
    >>> data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...         [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...         [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...         [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
    >>> round(krippendorff_alpha(data).value, 3)
    0.743
    >>> round(krippendorff_alpha(data, level="ordinal").value, 3)
    0.815
    >>> round(krippendorff_alpha(data, level="interval").value, 3)
    0.849
    """
    import krippendorff  # a core dependency, imported where it is used

    if level not in ("nominal", "ordinal", "interval"):
        raise ValidationError(f"level must be 'nominal', 'ordinal' or 'interval', got {level!r}")
    arr = np.asarray(reliability_data, dtype=object)
    if arr.ndim != 2:
        raise ValidationError("reliability_data must be 2-d (n_raters, n_units), "
                              f"got shape {arr.shape}")
    n_units = arr.shape[1]
    clusters = _check_clusters(clusters, n_units, "units")
    mode = _resolve_ci(ci, clusters, proportion=False)
    missing = _missing_mask(arr)
    present = arr[~missing]
    if value_domain is None and level != "nominal" and any(isinstance(v, (str, bytes)) for v in present):
        raise ValidationError(f"level={level!r} with string values needs value_domain= "
                              "listing the values in order")
    (codes,), domain = _encode([arr], value_domain, names=("reliability_data",), allow_missing=True)
    values = None
    if level == "interval":
        try:
            values = np.asarray(domain, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValidationError("level='interval' needs numeric values") from exc
    k = len(domain)
    vc = _value_counts(codes, k)
    pairable = vc.sum(axis=1) >= 2
    n = int(pairable.sum())
    if n_units == 0 or not present.size:
        return MetricResult.undefined_result("no ratings", n=0)
    if n == 0:
        return MetricResult.undefined_result("no unit has two or more values: nothing is pairable",
                                             n=0)
    vc = vc[pairable]
    clusters = None if clusters is None else clusters[pairable]
    used = np.flatnonzero(vc.sum(axis=0) > 0)
    if used.size < 2:
        reason = "only one value among the pairable units: expected disagreement is 0"
        return _finish(float("nan"), n=n, mode=mode, confidence=confidence, clusters=clusters,
                       undefined=reason)
    pkg_domain = values if level == "interval" else np.arange(k)
    point = float(krippendorff.alpha(value_counts=vc, value_domain=pkg_domain,
                                     level_of_measurement=level))
    stats = unit_coincidences(vc)
    return _finish(point, n=n, mode=mode, confidence=confidence, item_stats=stats,
                   statistic=lambda s: alpha_from_coincidence(s.reshape(-1, k, k), level, values),
                   clusters=clusters, n_boot=n_boot, seed=seed)


# ------------------------------------------------------------------ Fleiss and Gwet

def _unit_counts(ratings, categories, name="ratings"):
    """``(value_counts (n_units, k), categories)`` from ``(n_units, n_raters)`` ratings."""
    arr = np.asarray(ratings, dtype=object)
    if arr.ndim != 2:
        raise ValidationError(f"{name} must be 2-d (n_units, n_raters), got shape {arr.shape}")
    (codes,), cats = _encode([arr], categories, names=(name,), allow_missing=True)
    return _value_counts(codes.T, len(cats)), cats


def fleiss_kappa(ratings, *, categories=None, incomplete="raise", clusters=None, n_boot=1000,
                 seed=0, confidence=0.95, ci="auto") -> MetricResult:
    """Fleiss' kappa: agreement of a fixed number of raters per unit (Fleiss 1971).

    Parameters
    ----------
    ratings:
        ``(n_units, n_raters)`` categorical ratings (any categories); NaN / None
        for a missing rating.  Raters need not be the same people across units.
    categories:
        The categories; default those present (categories nobody used do not change
        the value).
    incomplete:
        Fleiss' kappa assumes every unit has the same number of ratings ``m``.
        Units with no rating at all are always dropped.  If the other units differ
        in their number of ratings, ``"raise"`` (default) raises ValidationError and
        ``"drop"`` keeps only the units with the largest number of ratings.  For
        varying numbers of raters use :func:`gwet_ac1` or :func:`krippendorff_alpha`.
    clusters:
        One key per unit (row).

    Returns
    -------
    MetricResult
        ``n`` is the number of units used.  Undefined when fewer than two ratings per
        unit, or when every rating is in one category (chance agreement is 1).

    Examples
    --------
    Fleiss' kappa worked example on Wikipedia: 10 subjects, 14 raters, 5 categories
    (P-bar = 0.378, P_e = 0.213, kappa = 0.210).

    >>> table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
    ...          [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
    ...          [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    >>> ratings = [np.repeat([1, 2, 3, 4, 5], row) for row in table]  # (10, 14)
    >>> round(fleiss_kappa(ratings).value, 3)
    0.21
    """
    if incomplete not in ("raise", "drop"):
        raise ValidationError(f"incomplete must be 'raise' or 'drop', got {incomplete!r}")
    vc, _ = _unit_counts(ratings, categories)
    clusters = _check_clusters(clusters, vc.shape[0], "units")
    mode = _resolve_ci(ci, clusters, proportion=False)
    m_u = vc.sum(axis=1)
    keep = m_u > 0
    if keep.any():
        sizes = np.unique(m_u[keep])
        if sizes.size > 1:
            if incomplete == "raise":
                raise ValidationError(
                    f"Fleiss' kappa needs the same number of ratings per unit, found {sizes.astype(int).tolist()}; "
                    "pass incomplete='drop' to keep only fully rated units, or use gwet_ac1 / "
                    "krippendorff_alpha, which allow missing ratings")
            keep &= m_u == sizes.max()
    vc, m_u = vc[keep], m_u[keep]
    clusters = None if clusters is None else clusters[keep]
    n = int(vc.shape[0])
    if n == 0:
        return MetricResult.undefined_result("no rated units", n=0)
    m = float(m_u[0])
    if m < 2:
        return _finish(float("nan"), n=n, mode=mode, confidence=confidence, clusters=clusters,
                       undefined="fewer than two ratings per unit: no agreement to measure")
    p_unit = ((vc ** 2).sum(axis=1) - m) / (m * (m - 1))
    stats = np.column_stack([p_unit, vc])

    def statistic(s):
        p_bar = s[:, 0] / (s[:, 1:].sum(axis=1) / m)
        share = s[:, 1:] / s[:, 1:].sum(axis=1, keepdims=True)
        p_e = (share ** 2).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (p_bar - p_e) / (1.0 - p_e)
        return np.where(np.isclose(p_e, 1.0, rtol=0, atol=1e-12), np.nan, out)

    point = float(statistic(stats.sum(axis=0)[None, :])[0])
    reason = _ONE_CATEGORY if np.isnan(point) else None
    return _finish(point, n=n, mode=mode, confidence=confidence, item_stats=stats,
                   statistic=statistic, clusters=clusters, n_boot=n_boot, seed=seed,
                   undefined=reason)


def gwet_ac1(ratings, *, categories=None, clusters=None, n_boot=1000, seed=0,
             confidence=0.95, ci="auto") -> MetricResult:
    """Gwet's AC1 for any number of raters, which may vary by unit (Gwet 2008).

    With ``r_i`` ratings of unit ``i``, ``r_ik`` of them in category ``k`` and ``q``
    categories::

        p_a = mean over units with r_i >= 2 of  sum_k r_ik (r_ik - 1) / (r_i (r_i - 1))
        pi_k = mean over units with r_i >= 1 of  r_ik / r_i
        p_e = sum_k pi_k (1 - pi_k) / (q - 1)
        AC1 = (p_a - p_e) / (1 - p_e)

    Missing ratings (NaN / None) are simply absent: a unit with one rating counts
    toward ``pi_k`` only, a unit with none is ignored.

    Parameters
    ----------
    ratings:
        ``(n_units, n_raters)`` categorical ratings, NaN / None where missing.
    categories:
        The full set of categories; ``q`` is its size.  Default: those present.
        Declare it when a category may go unused (AC1 depends on ``q``).

    Returns
    -------
    MetricResult
        ``n`` counts units with at least one rating (all are resampled).  Undefined
        when fewer than two categories are known (``q < 2``) or no unit has two
        ratings.

    Examples
    --------
    The Cohen's kappa example on Wikipedia (two raters, 20 yes-yes, 5 yes-no, 10 no-yes,
    15 no-no): p_a = 0.7, pi_yes = (25/50 + 30/50) / 2 = 0.55,
    p_e = 2 * 0.55 * 0.45 = 0.495, AC1 = 0.205 / 0.505 = 0.4059 (kappa is 0.4).

    >>> a = ["yes"] * 25 + ["no"] * 25
    >>> b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    >>> round(gwet_ac1(np.column_stack([a, b])).value, 4)
    0.4059
    """
    vc, cats = _unit_counts(ratings, categories)
    clusters = _check_clusters(clusters, vc.shape[0], "units")
    mode = _resolve_ci(ci, clusters, proportion=False)
    r = vc.sum(axis=1)
    keep = r > 0
    vc, r = vc[keep], r[keep]
    clusters = None if clusters is None else clusters[keep]
    n = int(vc.shape[0])
    if n == 0:
        return MetricResult.undefined_result("no rated units", n=0)
    q = len(cats)
    if q < 2:
        return _finish(float("nan"), n=n, mode=mode, confidence=confidence, clusters=clusters,
                       undefined="only one category: AC1 needs at least two "
                                 "(pass categories= to declare the full set)")
    two = r >= 2
    if not two.any():
        return _finish(float("nan"), n=n, mode=mode, confidence=confidence, clusters=clusters,
                       undefined="no unit has two or more ratings: no agreement to measure")
    pa_unit = np.zeros(n)
    pa_unit[two] = (vc[two] * (vc[two] - 1)).sum(axis=1) / (r[two] * (r[two] - 1))
    stats = np.column_stack([two.astype(float), pa_unit, np.ones(n), vc / r[:, None]])

    def statistic(s):
        with np.errstate(divide="ignore", invalid="ignore"):
            p_a = s[:, 1] / s[:, 0]
            pi = s[:, 3:] / s[:, 2:3]
            p_e = (pi * (1.0 - pi)).sum(axis=1) / (q - 1)
            return (p_a - p_e) / (1.0 - p_e)

    point = float(statistic(stats.sum(axis=0)[None, :])[0])
    return _finish(point, n=n, mode=mode, confidence=confidence, item_stats=stats,
                   statistic=statistic, clusters=clusters, n_boot=n_boot, seed=seed)

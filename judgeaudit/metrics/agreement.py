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
from .catalogue import METRICS
from ._arrays import _as_1d, _check_same_length, _encode, _missing_mask, _renamed, _sample_weight
from .formulas import alpha_from_coincidence, kappa_from_confusion, unit_coincidences
from .intervals import _check_clusters, _finish, _resolve_ci

__all__ = ["cohen_kappa", "krippendorff_alpha", "fleiss_kappa", "gwet_ac1", "ratings_matrix"]

_ONE_CATEGORY = METRICS["cohen_kappa"].undefined_when[0].reason("arrays")  # from the catalogue


def cohen_kappa(y1, y2, *, weights=None, labels=None, clusters=None, n_boot=1000, seed=0,
                confidence=0.95, ci="auto", sample_weight=None) -> MetricResult:
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
    clusters, n_boot, seed, confidence, ci:
        As in :mod:`judgeaudit.metrics.binary` (``ci="none"``: the value only, no resamples).
    sample_weight:
        One non-negative weight per item: the confusion matrix becomes weighted sums.

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

    References
    ----------
    Cohen, J. (1960). A coefficient of agreement for nominal scales. Educational and
    Psychological Measurement 20(1), 37-46.  Cohen, J. (1968). Weighted kappa.
    Psychological Bulletin 70(4), 213-220.
    """
    a, b = _as_1d(y1, "y1"), _as_1d(y2, "y2")
    _check_same_length(a, b, ("y1", "y2"))
    n = int(a.size)
    clusters = _check_clusters(clusters, n)
    w = _sample_weight(sample_weight, n)
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
                   clusters=clusters, n_boot=n_boot, seed=seed, undefined=reason, sample_weight=w)


# ------------------------------------------------------------------ Krippendorff

def _value_counts(codes: np.ndarray, k: int) -> np.ndarray:
    """``(n_units, k)`` counts from ``(n_raters, n_units)`` codes (-1 = missing)."""
    n_units = codes.shape[1]
    unit = np.broadcast_to(np.arange(n_units), codes.shape)
    ok = codes >= 0
    flat = unit[ok] * k + codes[ok]
    return np.bincount(flat, minlength=n_units * k).reshape(n_units, k).astype(float)


def krippendorff_alpha(ratings, *, level="nominal", labels=None, clusters=None, n_boot=1000, seed=0,
                       confidence=0.95, ci="auto", sample_weight=None, value_domain=None) -> MetricResult:
    """Krippendorff's alpha for any number of raters, with missing values.

    Parameters
    ----------
    ratings:
        ``(n_units, n_raters)`` array-like, the layout of every multi-rater function
        here: entry ``[u, r]`` is rater ``r``'s value for unit ``u``; NaN / None where
        missing.  Values may be numbers or strings.  Data in the ``krippendorff``
        package's layout (raters x units) is ``np.transpose(data)``; a long labels
        table becomes this matrix with :func:`ratings_matrix`.
    level:
        ``"nominal"``, ``"ordinal"`` or ``"interval"``.  Ordinal and interval need
        ordered values: numbers, or strings with ``labels`` giving the order.
        Interval needs numbers.
    labels:
        The possible values in order; default the sorted distinct values present.
        (``value_domain=`` is its old name.)
    clusters:
        One key per unit (row), for a cluster bootstrap.
    n_boot, seed, confidence, ci:
        As in :mod:`judgeaudit.metrics.binary` (``ci="none"``: the value only).
    sample_weight:
        One non-negative weight per unit: coincidences become weighted sums, scaled so
        that they total the number of values paired (alpha's small-sample factor).

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
    >>> by_rater = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...             [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...             [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...             [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
    >>> data = np.transpose(by_rater)  # (12 units, 4 raters)
    >>> round(krippendorff_alpha(data).value, 3)
    0.743
    >>> round(krippendorff_alpha(data, level="ordinal").value, 3)
    0.815
    >>> round(krippendorff_alpha(data, level="interval").value, 3)
    0.849

    References
    ----------
    Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School
    for Communication, University of Pennsylvania.  Hayes, A. F. and Krippendorff, K.
    (2007). Answering the call for a standard reliability measure for coding data.
    Communication Methods and Measures 1(1), 77-89.
    """
    import krippendorff  # a core dependency, imported where it is used

    if level not in ("nominal", "ordinal", "interval"):
        raise ValidationError(f"level must be 'nominal', 'ordinal' or 'interval', got {level!r}")
    value_domain = _renamed(labels, value_domain, "value_domain")
    arr = np.asarray(ratings, dtype=object)
    if arr.ndim != 2:
        raise ValidationError("ratings must be 2-d (n_units, n_raters), "
                              f"got shape {arr.shape}")
    arr = arr.T  # (n_raters, n_units) inside
    n_units = arr.shape[1]
    clusters = _check_clusters(clusters, n_units, "units")
    w = _sample_weight(sample_weight, n_units, "units")
    mode = _resolve_ci(ci, clusters, proportion=False)
    missing = _missing_mask(arr)
    present = arr[~missing]
    if value_domain is None and level != "nominal" and any(isinstance(v, (str, bytes)) for v in present):
        raise ValidationError(f"level={level!r} with string values needs labels= "
                              "listing the values in order")
    (codes,), domain = _encode([arr], value_domain, names=("ratings",), allow_missing=True)
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
    if w is not None:  # scaled to total the values paired, as alpha's (n - 1) factor expects
        w = w[pairable]
        paired = vc.sum(axis=1)
        total = float((w * paired).sum())
        w = w * (float(paired.sum()) / total) if total > 0 else w
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
                   clusters=clusters, n_boot=n_boot, seed=seed, sample_weight=w)


# ------------------------------------------------------------------ Fleiss and Gwet

def _unit_counts(ratings, categories, name="ratings"):
    """``(value_counts (n_units, k), categories)`` from ``(n_units, n_raters)`` ratings."""
    arr = np.asarray(ratings, dtype=object)
    if arr.ndim != 2:
        raise ValidationError(f"{name} must be 2-d (n_units, n_raters), got shape {arr.shape}")
    (codes,), cats = _encode([arr], categories, names=(name,), allow_missing=True)
    return _value_counts(codes.T, len(cats)), cats


def fleiss_kappa(ratings, *, labels=None, incomplete="raise", clusters=None, n_boot=1000,
                 seed=0, confidence=0.95, ci="auto", sample_weight=None, categories=None) -> MetricResult:
    """Fleiss' kappa: agreement of a fixed number of raters per unit (Fleiss 1971).

    Parameters
    ----------
    ratings:
        ``(n_units, n_raters)`` categorical ratings (any categories); NaN / None
        for a missing rating.  Raters need not be the same people across units.
    labels:
        The categories; default those present (categories nobody used do not change
        the value).  (``categories=`` is its old name.)
    incomplete:
        Fleiss' kappa assumes every unit has the same number of ratings ``m``.
        Units with no rating at all are always dropped.  If the other units differ
        in their number of ratings, ``"raise"`` (default) raises ValidationError and
        ``"drop"`` keeps only the units with the largest number of ratings.  For
        varying numbers of raters use :func:`gwet_ac1` or :func:`krippendorff_alpha`.
    clusters:
        One key per unit (row).
    n_boot, seed, confidence, ci:
        As in :mod:`judgeaudit.metrics.binary` (``ci="none"``: the value only).
    sample_weight:
        One non-negative weight per unit (row).

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

    References
    ----------
    Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters.
    Psychological Bulletin 76(5), 378-382.
    """
    if incomplete not in ("raise", "drop"):
        raise ValidationError(f"incomplete must be 'raise' or 'drop', got {incomplete!r}")
    vc, _ = _unit_counts(ratings, _renamed(labels, categories, "categories"))
    clusters = _check_clusters(clusters, vc.shape[0], "units")
    w = _sample_weight(sample_weight, vc.shape[0], "units")
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
    w = None if w is None else w[keep]
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
                   undefined=reason, sample_weight=w)


def gwet_ac1(ratings, *, labels=None, clusters=None, n_boot=1000, seed=0,
             confidence=0.95, ci="auto", sample_weight=None, categories=None) -> MetricResult:
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
    labels:
        The full set of categories; ``q`` is its size.  Default: those present.
        Declare it when a category may go unused (AC1 depends on ``q``).  (``categories=``
        is its old name.)
    clusters, n_boot, seed, confidence, ci:
        As in :mod:`judgeaudit.metrics.binary` (``ci="none"``: the value only).
    sample_weight:
        One non-negative weight per unit (row).

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

    References
    ----------
    Gwet, K. L. (2008). Computing inter-rater reliability and its variance in the presence
    of high agreement. British Journal of Mathematical and Statistical Psychology 61(1),
    29-48.
    """
    vc, cats = _unit_counts(ratings, _renamed(labels, categories, "categories"))
    clusters = _check_clusters(clusters, vc.shape[0], "units")
    w = _sample_weight(sample_weight, vc.shape[0], "units")
    mode = _resolve_ci(ci, clusters, proportion=False)
    r = vc.sum(axis=1)
    keep = r > 0
    vc, r = vc[keep], r[keep]
    clusters = None if clusters is None else clusters[keep]
    w = None if w is None else w[keep]
    n = int(vc.shape[0])
    if n == 0:
        return MetricResult.undefined_result("no rated units", n=0)
    q = len(cats)
    if q < 2:
        return _finish(float("nan"), n=n, mode=mode, confidence=confidence, clusters=clusters,
                       undefined="only one category: AC1 needs at least two "
                                 "(pass labels= to declare the full set)")
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
                   statistic=statistic, clusters=clusters, n_boot=n_boot, seed=seed, sample_weight=w)


def ratings_matrix(units, raters, values, *, unit_order=None, rater_order=None):
    """The ``(n_units, n_raters)`` matrix every multi-rater metric takes, from long data.

    Parameters
    ----------
    units, raters, values:
        One entry per rating (e.g. the labels table's ``item_id``, ``annotator_id`` and
        ``value`` columns).  A (unit, rater) pair may occur once.
    unit_order, rater_order:
        Row and column order; default sorted.

    Returns
    -------
    (matrix, unit_order, rater_order)
        An object array with ``None`` where a rater did not rate a unit.

    Examples
    --------
    >>> m, us, rs = ratings_matrix(["i1", "i1", "i2"], ["ann", "bob", "bob"], ["yes", "no", "no"])
    >>> m.tolist(), us, rs
    ([['yes', 'no'], [None, 'no']], ['i1', 'i2'], ['ann', 'bob'])
    """
    u, r, v = (np.asarray(x, dtype=object).ravel() for x in (units, raters, values))
    if not (u.size == r.size == v.size):
        raise ValidationError(f"units, raters and values need one entry per rating; got {u.size}, "
                              f"{r.size} and {v.size}")
    uo = list(unit_order) if unit_order is not None else sorted(set(u.tolist()), key=str)
    ro = list(rater_order) if rater_order is not None else sorted(set(r.tolist()), key=str)
    ui, ri = {k: i for i, k in enumerate(uo)}, {k: i for i, k in enumerate(ro)}
    out = np.full((len(uo), len(ro)), None, dtype=object)
    seen = set()
    for a, b, val in zip(u.tolist(), r.tolist(), v.tolist()):
        if a not in ui or b not in ri:
            continue
        if (a, b) in seen:
            raise ValidationError(f"rater {b!r} rated unit {a!r} twice; keep one rating per pair")
        seen.add((a, b))
        out[ui[a], ri[b]] = val
    return out, uo, ro

"""Vectorised metric formulas on sums.

Every function here takes sums over items (confusion counts, confusion matrices,
coincidence matrices) with arbitrary leading axes, so the same code gives a point
value from the observed sums and ``n_boot`` bootstrap values from the ``(n_boot, ...)``
resampled sums.  They never raise on degenerate sums: a value that is undefined
(a zero denominator) comes back as NaN, and the public metric functions say why.

Scalars in give NumPy scalars out; arrays in give arrays of the broadcast leading shape.
The binary metrics from confusion counts are in :mod:`judgeaudit.metrics.catalogue`
(:func:`~judgeaudit.metrics.catalogue.binary_from_counts`), beside the other facts of each metric.
"""

from __future__ import annotations

import numpy as np

from ..errors import ValidationError

__all__ = [
    "kappa_from_confusion",
    "alpha_from_coincidence",
    "unit_coincidences",
    "kendall_tau_b",
]


def _ratio(num, den):
    """``num / den`` with NaN where ``den == 0``."""
    num, den = np.broadcast_arrays(np.asarray(num, dtype=float), np.asarray(den, dtype=float))
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _scalar(x):
    """0-d arrays become NumPy scalars so that ``float()`` and ``np.isnan`` read naturally."""
    return x[()] if isinstance(x, np.ndarray) and x.ndim == 0 else x


def _kappa_weights(k: int, weights):
    """Disagreement weights ``w[i, j]`` (zero on the diagonal)."""
    i, j = np.indices((k, k))
    if weights is None:
        return (i != j).astype(float)
    if weights == "linear":
        return np.abs(i - j).astype(float)
    if weights == "quadratic":
        return ((i - j) ** 2).astype(float)
    raise ValidationError(f"weights must be None, 'linear' or 'quadratic', got {weights!r}")


def kappa_from_confusion(cm, weights=None):
    """Cohen's kappa from confusion matrices ``cm[..., k, k]`` (rows: rater 1).

    ``kappa = 1 - sum(w * O) / sum(w * E)`` with ``E`` the outer product of the
    margins over ``n`` and ``w`` the disagreement weights (``1 - I``, ``|i - j|`` or
    ``(i - j)**2``), as in Cohen (1968) and scikit-learn.

    Returns NaN where ``n == 0`` or the expected disagreement is zero (both raters
    used one and the same category: chance agreement is 1).

    Examples
    --------
    Cohen's kappa on the 2x2 table of Wikipedia's worked example (p_o = 0.7, p_e = 0.5):

    >>> float(kappa_from_confusion([[20, 5], [10, 15]]))
    0.4
    """
    cm = np.asarray(cm, dtype=float)
    if cm.ndim < 2 or cm.shape[-1] != cm.shape[-2]:
        raise ValidationError(f"confusion matrices must be square on the last two axes, got {cm.shape}")
    w = _kappa_weights(cm.shape[-1], weights)
    n = cm.sum(axis=(-2, -1))
    rows, cols = cm.sum(axis=-1), cm.sum(axis=-2)
    observed = (w * cm).sum(axis=(-2, -1))
    expected = np.einsum("...i,ij,...j->...", rows, w, cols)
    # 1 - observed / (expected / n); NaN when n == 0 or expected == 0.
    out = 1.0 - _ratio(observed * n, expected)
    out = np.where(n > 0, out, np.nan)
    return _scalar(out)


def _ordinal_distances(n_v):
    """Krippendorff's ordinal distance from value margins ``n_v[..., k]``: ``(..., k, k)``.

    ``d(c, k) = (sum_{g=c}^{k} n_g - (n_c + n_k) / 2) ** 2`` for ``c <= k``, symmetric.
    """
    csum = np.cumsum(n_v, axis=-1)
    k = n_v.shape[-1]
    i, j = np.indices((k, k))
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    before_lo = np.where(lo > 0, csum[..., np.maximum(lo - 1, 0)], 0.0)
    between = csum[..., hi] - before_lo
    return (between - (n_v[..., lo] + n_v[..., hi]) / 2.0) ** 2


def alpha_from_coincidence(o, level: str = "nominal", values=None):
    """Krippendorff's alpha from coincidence matrices ``o[..., k, k]``.

    ``alpha = 1 - (n - 1) * sum(o * d) / sum(n_c * n_k * d)``, with ``n_c`` the
    margins of ``o`` and ``n`` their total (Krippendorff 2011, eq. for D_o / D_e).

    Parameters
    ----------
    o:
        Coincidence matrices (symmetric), e.g. sums of :func:`unit_coincidences`
        reshaped to ``(..., k, k)``.
    level:
        ``"nominal"``, ``"ordinal"`` (distance from the margins of each ``o``, so it
        follows a bootstrap resample) or ``"interval"`` (squared difference of
        ``values``).
    values:
        The numeric value of each category, for ``"interval"``; default ``0..k-1``.

    Returns
    -------
    numpy.ndarray or numpy.float64
        NaN where fewer than two pairable values exist or the expected disagreement is
        zero (every pairable value in one category).

    Examples
    --------
    Two coders, binary data, five units: three agree on 0, one on 1, one disagrees,
    so o = [[6, 1], [1, 2]], n = 10, margins (7, 3) and
    alpha = 1 - 9 * 2 / (2 * 7 * 3) = 4/7.

    >>> round(float(alpha_from_coincidence([[6, 1], [1, 2]])), 4)
    0.5714
    """
    o = np.asarray(o, dtype=float)
    if o.ndim < 2 or o.shape[-1] != o.shape[-2]:
        raise ValidationError(f"coincidence matrices must be square on the last two axes, got {o.shape}")
    k = o.shape[-1]
    n_v = o.sum(axis=-1)
    n = n_v.sum(axis=-1)
    if level == "nominal":
        d = 1.0 - np.eye(k)
    elif level == "interval":
        v = np.arange(k, dtype=float) if values is None else np.asarray(values, dtype=float)
        if v.shape != (k,):
            raise ValidationError(f"values must have one entry per category ({k}), got shape {v.shape}")
        d = (v[:, None] - v[None, :]) ** 2
    elif level == "ordinal":
        d = _ordinal_distances(n_v)
    else:
        raise ValidationError(f"level must be 'nominal', 'ordinal' or 'interval', got {level!r}")
    observed = (o * d).sum(axis=(-2, -1))
    expected = np.einsum("...i,...ij,...j->...", n_v, np.broadcast_to(d, o.shape), n_v)
    out = 1.0 - _ratio((n - 1.0) * observed, expected)
    out = np.where(n > 1, out, np.nan)
    return _scalar(out)


def unit_coincidences(value_counts):
    """Each unit's contribution to the coincidence matrix, flattened: ``(n_units, k*k)``.

    Entry ``(c, k)`` of unit ``u`` is ``(n_uc * n_uk - [c == k] * n_uc) / (m_u - 1)``,
    with ``n_uc`` the number of coders who gave value ``c`` and ``m_u`` the unit's
    number of values; zero for units with ``m_u < 2`` (not pairable).  Summing rows
    gives the coincidence matrix; summing bootstrap-resampled rows gives resampled ones.

    Examples
    --------
    >>> unit_coincidences([[2, 1], [1, 0]])
    array([[1., 1., 1., 0.],
           [0., 0., 0., 0.]])
    """
    vc = np.asarray(value_counts, dtype=float)
    if vc.ndim != 2:
        raise ValidationError(f"value_counts must be 2-d (n_units, k), got shape {vc.shape}")
    n_units, k = vc.shape
    m = vc.sum(axis=1)
    pairs = vc[:, :, None] * vc[:, None, :]
    pairs[:, np.arange(k), np.arange(k)] -= vc
    scale = np.zeros(n_units)
    np.divide(1.0, m - 1.0, out=scale, where=m >= 2)
    return (pairs * scale[:, None, None]).reshape(n_units, k * k)


def kendall_tau_b(x, y):
    """Kendall's tau-b between the last axes of ``x`` and ``y``, vectorised over leading axes.

    Meant for short vectors (it forms every pair: O(k^2) memory), such as the rates of a
    few groups on each bootstrap resample.  Pairs with a NaN entry are skipped; the
    result is NaN when either side is constant over the remaining pairs.

    Examples
    --------
    >>> float(kendall_tau_b([1, 2, 3, 4, 5], [1, 3, 2, 4, 5]))  # 9 concordant, 1 discordant
    0.8
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    i, j = np.triu_indices(x.shape[-1], k=1)
    sx, sy = np.sign(x[..., i] - x[..., j]), np.sign(y[..., i] - y[..., j])
    valid = ~np.isnan(sx) & ~np.isnan(sy)
    s = np.where(valid, sx * sy, 0).sum(-1)
    n0 = valid.sum(-1)
    n1 = (valid & (sx == 0)).sum(-1)
    n2 = (valid & (sy == 0)).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return s / np.sqrt((n0 - n1) * (n0 - n2))

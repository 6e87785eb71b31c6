"""What a flip is: the one rule the audit and the experiment report share.

Two raters (the humans, a judge, or one judge on two prompt sets) each give a rate to
groups ``a`` and ``b`` (models, objectives at a budget).  For each rater the paired
difference ``d = rate(a) - rate(b)`` has a point value and a percentile interval from
the shared bootstrap resamples.

- A rater **supports the order** "a above b" at level ``L`` when ``d > 0`` and its
  ``L`` interval lies above 0 (``lo > 0``); "b above a" when ``d < 0`` and ``hi < 0``;
  otherwise it supports neither (:func:`supported_order`).
- A pair **flips** between two raters when their point differences have strictly
  opposite signs, both defined (:func:`is_flip`): the two raters rank the pair the
  other way round.  A tie (``d == 0``) is never a flip.
- A flip is **confident** when each rater supports its own order: both intervals
  exclude 0, each on the side of its own point difference (:func:`is_confident_flip`).

The audit's ``robustness.flips`` and ``robustness.conclusions`` (where a rater that
supports the other order is listed under ``reversed``) and the experiment report's
flips across judges and across prompt sets all use these functions, with the percentile
interval widened by :func:`newcombe_widen` to Newcombe's interval from the two rates' own
(Korn-Graubard floored) intervals, so that few events do not make an order look certain.

Examples
--------
>>> is_flip(0.12, -0.05), is_flip(0.12, 0.0)
(True, False)
>>> is_confident_flip(0.12, (0.02, 0.2), -0.05, (-0.1, 0.01))  # the second interval holds 0
False
>>> is_confident_flip(0.12, (0.02, 0.2), -0.05, (-0.1, -0.01))
True
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["supported_order", "is_flip", "is_confident_flip", "confident_flip", "difference_interval",
           "newcombe_widen"]


def _defined(x) -> bool:
    return x is not None and not math.isnan(float(x))


def _sign(x) -> int:
    return 0 if not _defined(x) else (1 if x > 0 else -1 if x < 0 else 0)


def supported_order(diff, lo, hi) -> int:
    """+1 when the rater supports "a above b", -1 for "b above a", 0 for neither.

    Parameters
    ----------
    diff : float or None
        The point difference ``rate(a) - rate(b)``; None or NaN when undefined.
    lo, hi : float or None
        Its interval; None or NaN when there is none.
    """
    side = _sign(diff)
    if side > 0 and _defined(lo) and lo > 0:
        return 1
    if side < 0 and _defined(hi) and hi < 0:
        return -1
    return 0


def is_flip(diff_1, diff_2) -> bool:
    """Whether two raters' point differences have strictly opposite signs."""
    return _sign(diff_1) * _sign(diff_2) < 0


def is_confident_flip(diff_1, ci_1, diff_2, ci_2) -> bool:
    """A flip (:func:`is_flip`) where each rater supports its own order (:func:`supported_order`)."""
    return confident_flip(diff_1, supported_order(diff_1, *ci_1), diff_2, supported_order(diff_2, *ci_2))


def confident_flip(diff_1, order_1: int, diff_2, order_2: int) -> bool:
    """:func:`is_confident_flip` from the orders the raters support (+1, -1 or 0), for
    callers whose support comes from elsewhere than one interval of the difference
    (e.g. two disjoint rate intervals)."""
    return is_flip(diff_1, diff_2) and order_1 == _sign(diff_1) and order_2 == _sign(diff_2)


def difference_interval(boot_diff, confidence: float = 0.95) -> tuple:
    """Percentile interval of resampled differences, NaN resamples left out.

    NumPy's linear quantile at ``(1 -+ confidence) / 2`` of the defined resamples;
    ``(nan, nan)`` when none is defined.
    """
    d = np.asarray(boot_diff, dtype=float)
    d = d[~np.isnan(d)]
    if not d.size:
        return float("nan"), float("nan")
    lo, hi = np.quantile(d, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(lo), float(hi)


def newcombe_widen(lo, hi, pa, a_interval, pb, b_interval) -> tuple:
    """An interval ``(lo, hi)`` of ``pa - pb`` widened to Newcombe's (1998) square-and-add
    interval built from the two rates' own intervals::

        d - hypot(pa - la, ub - pb)  to  d + hypot(ua - pa, pb - lb),   d = pa - pb

    Elementwise; NaN bounds of either are ignored; clipped to [-1, 1].  A percentile
    bootstrap of a difference collapses where a rate shows no event (every resample shows
    none); this keeps the width the rates' intervals say they have.

    Examples
    --------
    4 of 25 against 0 of 25, Wilson intervals [0.0640, 0.3465] and [0, 0.1332], bootstrap
    [0.04, 0.36]: Newcombe's lower bound 0.16 - hypot(0.096, 0.1332) = -0.004 takes over,
    its upper bound 0.16 + 0.1865 = 0.3465 does not.

    >>> [round(float(x), 3) for x in newcombe_widen(0.04, 0.36, 0.16, (0.0640, 0.3465), 0.0, (0.0, 0.1332))]
    [-0.004, 0.36]
    """
    (la, ua), (lb, ub) = a_interval, b_interval
    pa, la, ua, pb, lb, ub = (np.asarray(x, float) for x in (pa, la, ua, pb, lb, ub))
    d = pa - pb
    with np.errstate(invalid="ignore"):
        mlo, mhi = d - np.hypot(pa - la, ub - pb), d + np.hypot(ua - pa, pb - lb)
        out_lo = np.fmin(np.asarray(lo, float), mlo)
        out_hi = np.fmax(np.asarray(hi, float), mhi)
    out_lo, out_hi = np.maximum(out_lo, -1.0), np.minimum(out_hi, 1.0)
    if out_lo.ndim == 0:
        return float(out_lo), float(out_hi)
    return out_lo, out_hi

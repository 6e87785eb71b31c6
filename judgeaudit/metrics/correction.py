"""A judge's positive rate corrected for its measured errors (Rogan-Gladen), with an
interval that carries the uncertainty of the calibration labels, refused where the
judge is too close to chance for a correction to mean anything.

The estimator
-------------
A judge that calls a share ``p`` of ``n`` outputs positive, with sensitivity ``Se``
and specificity ``Sp``, implies a true positive rate

    theta = (p + Sp - 1) / (Se + Sp - 1)                  (Rogan and Gladen, 1978)

clipped to [0, 1].  ``Se`` and ``Sp`` are estimates themselves, from ``n_positive``
and ``n_negative`` human-labelled positives and negatives, so the variance has three
sampling terms (delta method; Greenland 1988; Lee et al. 2025, arXiv 2511.21140)::

    Var(theta) = [p(1-p)/n + (1-theta)^2 Sp(1-Sp)/n_negative + theta^2 Se(1-Se)/n_positive] / J^2

with ``J = Se + Sp - 1`` (Youden's J); a Bernoulli variance ``x (1 - x)`` whose rarer
outcome was seen fewer than 5 times is taken at the Wilson centre instead (a sample
with no false positive does not make the specificity certain).  The interval is
``theta +- z sqrt(Var)``, clipped
to [0, 1], and never narrower than the Wilson interval of ``p`` mapped through the
correction (what the interval would be if ``Se`` and ``Sp`` were known exactly), so
it cannot collapse to a point when ``p`` is 0 or 1.

When the correction is refused
------------------------------
The correction divides by ``J``; when ``J`` could be near 0 the result is noise.  The
rule: the lower bound of ``J``'s interval (Newcombe's 1998 hybrid score interval for a
difference of two independent proportions, ``J = Se - (1 - Sp)``, at the same
confidence) must be at least ``min_youden`` (0.1 by default).  Otherwise the value is
NaN and ``undefined`` says why, with ``J`` and its lower bound.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri

from ..errors import ValidationError
from ._result import MetricResult
from .intervals import _check_confidence, wilson_interval

__all__ = ["corrected_rate", "youden_lower_bound", "rogan_gladen", "CORRECTION_METHODS",
           "MIN_YOUDEN"]

CORRECTION_METHODS = ("delta", "parametric-bootstrap")
MIN_YOUDEN = 0.1


def rogan_gladen(p, sensitivity, specificity):
    """``(p + Sp - 1) / (Se + Sp - 1)`` clipped to [0, 1], elementwise; NaN where ``J <= 0``.

    Examples
    --------
    >>> round(float(rogan_gladen(0.4, 0.9, 0.7)), 4)  # (0.4 + 0.7 - 1) / 0.6
    0.1667
    """
    p, se, sp = (np.asarray(a, dtype=float) for a in (p, sensitivity, specificity))
    j = se + sp - 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(j > 0, np.clip((p + sp - 1.0) / np.where(j > 0, j, 1.0), 0.0, 1.0), np.nan)
    return out[()] if out.ndim == 0 else out


def youden_lower_bound(sensitivity, specificity, n_positive, n_negative, *, confidence=0.95) -> float:
    """Lower bound of Youden's ``J = Se + Sp - 1`` (Newcombe 1998, method 10).

    ``J`` is the difference of the true positive rate and the false positive rate,
    two proportions from independent samples; the bound is
    ``J - sqrt((Se - l_Se)^2 + (u_FPR - FPR)^2)`` with Wilson bounds ``l_Se`` and
    ``u_FPR``.  NaN when either sample is empty.

    Examples
    --------
    JailbreakEval's GCG string matcher (PROVENANCE.md): 31 of 31 positives and 1 of 19
    negatives right, so J = 1/19 = 0.053; Wilson gives l_Se = 0.8897 and
    u_FPR = 0.9906 for 18/19, hence J's lower bound 0.0526 - 0.1185 = -0.066.

    >>> round(youden_lower_bound(1.0, 1 / 19, 31, 19), 3)
    -0.066
    """
    if not n_positive or not n_negative:
        return float("nan")
    lo_se, _ = wilson_interval(sensitivity * n_positive, n_positive, confidence=confidence)
    fpr = 1.0 - specificity
    _, hi_fpr = wilson_interval(fpr * n_negative, n_negative, confidence=confidence)
    j = sensitivity - fpr
    return float(j - math.sqrt((sensitivity - lo_se) ** 2 + (hi_fpr - fpr) ** 2))


def _var_share(x: float, m: float, z: float) -> float:
    """``x (1 - x)``, the Bernoulli variance in the delta formula; where the rarer outcome
    was seen fewer than 5 times it is taken at the Wilson centre ``(k + z^2/2) / (m + z^2)``,
    so that a sample showing no error (specificity 1) still carries its uncertainty."""
    k = x * m
    if min(k, m - k) < 5:
        x = (k + z * z / 2) / (m + z * z)
    return x * (1 - x)


def _check_share(x, name):
    x = float(x)
    if math.isnan(x) or not 0.0 <= x <= 1.0:
        raise ValidationError(f"{name} must be a proportion in [0, 1], got {x!r}")
    return x


def _check_count(x, name):
    if isinstance(x, bool) or not float(x) >= 0 or math.isinf(float(x)):
        raise ValidationError(f"{name} must be a non-negative count, got {x!r}")
    return float(x)


def corrected_rate(judge_rate, n, sensitivity, specificity, n_positive, n_negative, *,
                   confidence: float = 0.95, method: str = "delta", min_youden: float = MIN_YOUDEN,
                   n_boot: int = 2000, seed: int = 0) -> MetricResult:
    """The Rogan-Gladen corrected rate with an interval carrying calibration uncertainty.

    Parameters
    ----------
    judge_rate:
        Share of the ``n`` outputs the judge called positive.
    n:
        Outputs the judge scored.
    sensitivity, specificity:
        The judge's sensitivity and specificity against human labels.
    n_positive, n_negative:
        Human-labelled positives and negatives they were estimated from.
    confidence:
        Two-sided coverage of the interval.
    method:
        ``"delta"`` (the formula in the module docstring) or ``"parametric-bootstrap"``
        (binomial draws of the three estimates, percentile interval of the clipped
        correction; ``n_boot`` and ``seed`` apply).
    min_youden:
        The refusal threshold for the lower bound of ``J`` (see the module docstring).

    Returns
    -------
    MetricResult
        ``value`` the corrected rate; NaN with ``undefined`` when refused.  ``note``
        gives ``J`` and its lower bound.

    Examples
    --------
    Lee et al.'s worked example (PROVENANCE.md): p = 0.4 on 1,000 outputs, Se = 0.9 and
    Sp = 0.7 from 200 labelled positives and 200 negatives.  theta = 0.1/0.6 = 0.1667;
    Var = (0.24/1000 + 0.8333^2 * 0.21/200 + 0.1667^2 * 0.09/200) / 0.36 = 0.002727,
    so theta +- 1.96 * 0.05222 = (0.0643, 0.2690).

    >>> r = corrected_rate(0.4, 1000, 0.9, 0.7, 200, 200)
    >>> [round(v, 4) for v in (r.value, r.ci_low, r.ci_high)]
    [0.1667, 0.0643, 0.269]

    The JailbreakEval matcher (specificity 1/19) is refused:

    >>> corrected_rate(0.98, 50, 1.0, 1 / 19, 31, 19).undefined.split(":")[0]
    'not identifiable'
    """
    c = _check_confidence(confidence)
    if method not in CORRECTION_METHODS:
        raise ValidationError(f"method must be one of {', '.join(map(repr, CORRECTION_METHODS))}, "
                              f"got {method!r}")
    p = _check_share(judge_rate, "judge_rate")
    se, sp = _check_share(sensitivity, "sensitivity"), _check_share(specificity, "specificity")
    n, m1, m0 = _check_count(n, "n"), _check_count(n_positive, "n_positive"), _check_count(n_negative, "n_negative")
    nan = float("nan")
    if n == 0:
        return MetricResult(nan, nan, nan, 0, None, "none", "the judge scored no output", confidence=c)
    if m1 == 0 or m0 == 0:
        side = "positive" if m1 == 0 else "negative"
        return MetricResult(nan, nan, nan, int(n), None, "none",
                            f"no human-labelled {side} item: the judge's "
                            f"{'sensitivity' if m1 == 0 else 'specificity'} is unknown", confidence=c)
    j = se + sp - 1.0
    j_low = youden_lower_bound(se, sp, m1, m0, confidence=c)
    note = f"Youden J = {j:.3f}, lower bound {j_low:.3f} (refused below {min_youden:g})"
    if not j_low >= min_youden:
        return MetricResult(nan, nan, nan, int(n), None, "none",
                            f"not identifiable: the judge is too close to chance "
                            f"(sensitivity + specificity - 1 = {j:.3f}, its {c:.0%} lower bound "
                            f"{j_low:.3f} is below {min_youden:g})", confidence=c, note=note)
    theta = float(rogan_gladen(p, se, sp))
    z = float(ndtri(1.0 - (1.0 - c) / 2.0))
    if method == "delta":
        vp, vse, vsp = _var_share(p, n, z), _var_share(se, m1, z), _var_share(sp, m0, z)
        var = (vp / n + (1 - theta) ** 2 * vsp / m0 + theta ** 2 * vse / m1) / j ** 2
        lo, hi = theta - z * math.sqrt(var), theta + z * math.sqrt(var)
    else:
        rng = np.random.default_rng(seed)
        bp = rng.binomial(int(round(n)), p, n_boot) / round(n)
        bse = rng.binomial(int(round(m1)), se, n_boot) / round(m1)
        bsp = rng.binomial(int(round(m0)), sp, n_boot) / round(m0)
        vals = rogan_gladen(bp, bse, bsp)
        vals = vals[~np.isnan(vals)]
        lo, hi = np.quantile(vals, [(1 - c) / 2, (1 + c) / 2]) if vals.size else (nan, nan)
    # Never narrower than the judge rate's Wilson interval mapped through a known correction.
    wl, wh = wilson_interval(p * n, n, confidence=c)
    lo = min(float(lo), float(rogan_gladen(wl, se, sp)))
    hi = max(float(hi), float(rogan_gladen(wh, se, sp)))
    return MetricResult(theta, max(0.0, lo), min(1.0, hi), int(n), None, method, None,
                        confidence=c, note=note)

"""Estimate records of the experiment report (private).

Every number the report bootstraps is a ratio of sums over items (harmful votes over
votes, incoherent items over scored items, disagreeing pairs over jointly judged
pairs).  Those sums are recorded per group (checkpoint, objective and budget, prompt
slice, ...) in one :class:`judgeaudit.metrics.SumBook` (``add_groups``), the engine the
audit uses too, so every rate, judge and checkpoint shares the same resamples of
prompt_id and differences are paired.
"""

from __future__ import annotations

import math

import numpy as np

from judgeaudit.metrics import SumBook

METHOD = "cluster-bootstrap"


def ratio(num, den):
    """``num / den`` with NaN where ``den == 0`` (no warnings)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def bounds(boot, confidence: float):
    """Percentile interval along axis 0, ignoring NaN resamples.

    Same values as :func:`judgeaudit.metrics.percentile_interval` (NumPy's linear
    quantile of the defined resamples), for every column at once.  Returns
    ``(low, high, n_undefined)`` with the trailing shape of ``boot``.
    """
    b = np.asarray(boot, dtype=float)
    alpha = (1.0 - confidence) / 2.0
    defined = (~np.isnan(b)).sum(axis=0)
    s = np.sort(b, axis=0)  # NaN sorts last
    out = []
    for q in (alpha, 1.0 - alpha):
        pos = q * np.maximum(defined - 1, 0)
        lo_i = np.floor(pos).astype(np.int64)
        hi_i = np.minimum(lo_i + 1, np.maximum(defined - 1, 0))
        t = pos - lo_i
        a = np.take_along_axis(s, lo_i[None], axis=0)[0]
        c = np.take_along_axis(s, hi_i[None], axis=0)[0]
        with np.errstate(invalid="ignore"):
            diff = c - a
            v = np.where(t >= 0.5, c - diff * (1 - t), a + diff * t)
        out.append(np.where(defined > 0, v, np.nan))
    return out[0], out[1], b.shape[0] - defined


def num(x):
    """A float for JSON: NaN and infinities become None."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def estimate(value, lo, hi, n, *, method: str = METHOD, undefined: str | None = None, **extra) -> dict:
    """One estimate record: ``value``, ``ci`` ``[lo, hi]``, ``n`` and how it was made.

    A NaN value needs ``undefined`` (a generic reason is used otherwise); its interval
    is then ``[None, None]`` and ``method`` ``"none"``.
    """
    value = num(value)
    if value is None:
        return {"value": None, "ci": [None, None], "n": int(n), "method": "none",
                "undefined": undefined or "undefined on these data", **extra}
    return {"value": value, "ci": [num(lo), num(hi)], "n": int(n), "method": method,
            "undefined": None, **extra}


def rate_table(sums: SumBook, name: str, confidence: float, *, empty: str):
    """Rates ``k / n`` of the blocks ``name + "/k"`` and ``name + "/n"``.

    Returns a dict of arrays ``value, lo, hi, k, n, prompts, n_undefined`` (shape
    ``(G, J)``) and ``boot`` (``(B, G, J)``), plus ``est(g, j)`` building the record.
    """
    k, bk = sums.block(name + "/k")
    n, bn = sums.block(name + "/n")
    value, boot = ratio(k, n), ratio(bk, bn)
    lo, hi, undef = bounds(boot, confidence)
    lo, hi = _floor(sums, name, lo, hi, confidence)
    prompts = sums.clusters(name + "/n")

    def est(g, j=0) -> dict:
        return estimate(value[g, j], lo[g, j], hi[g, j], n[g, j], undefined=None if n[g, j] else empty,
                        k=int(round(k[g, j])), n_prompts=int(prompts[g, j]),
                        n_boot_undefined=int(undef[g, j]))

    return {"value": value, "lo": lo, "hi": hi, "k": k, "n": n, "boot": boot, "prompts": prompts,
            "n_undefined": undef, "est": est}


def _floor(sums: SumBook, name: str, lo, hi, confidence: float):
    """Percentile bounds widened to the Korn-Graubard interval of each rate (see
    :func:`judgeaudit.metrics.cluster_proportion_interval`), so that a rate whose
    sample shows no event (or only events) still has an interval."""
    from judgeaudit.metrics import cluster_proportion_interval

    kc, nc = sums.cluster_block(name + "/k"), sums.cluster_block(name + "/n")
    lo, hi = np.array(lo, dtype=float, copy=True), np.array(hi, dtype=float, copy=True)
    for g in range(lo.shape[0]):
        for j in range(lo.shape[1]):
            if not nc[:, g, j].sum() or (kc[:, g, j] > nc[:, g, j] + 1e-9).any():
                continue
            flo, fhi, _ = cluster_proportion_interval(kc[:, g, j], nc[:, g, j], confidence=confidence)
            lo[g, j] = flo if np.isnan(lo[g, j]) else min(lo[g, j], flo)
            hi[g, j] = fhi if np.isnan(hi[g, j]) else max(hi[g, j], fhi)
    return lo, hi


def difference(a, b, boot_a, boot_b, confidence: float) -> dict:
    """``a - b`` with its paired percentile interval and the side of 0 it lies on.

    ``sign`` is +1 or -1 when the interval excludes 0, else 0.
    """
    d = float(a) - float(b)
    lo, hi, _ = bounds((np.asarray(boot_a) - np.asarray(boot_b))[:, None], confidence)
    lo, hi = float(lo[0]), float(hi[0])
    sign = 1 if lo > 0 else -1 if hi < 0 else 0
    return {"value": num(d), "ci": [num(lo), num(hi)], "sign": sign, "basis": "paired bootstrap"}

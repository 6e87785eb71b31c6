"""Shared resamples and estimate records of the experiment report (private).

Every number the report bootstraps is a ratio of sums over items (harmful votes over
votes, incoherent items over scored items, disagreeing pairs over jointly judged
pairs).  :class:`GroupSums` records those sums per group (checkpoint, objective and
budget, prompt slice, ...) as blocks of per-cluster sums and bootstraps all of them
with one :class:`~judgeaudit.metrics.ClusterBootstrap`, so every rate, judge and
checkpoint shares the same resamples of prompt_id and differences are paired.
"""

from __future__ import annotations

import math

import numpy as np

from judgeaudit.metrics import ClusterBootstrap

METHOD = "cluster-bootstrap"


class GroupSums:
    """Named ``(groups, columns)`` sums over items, bootstrapped together.

    Parameters
    ----------
    bootstrap:
        The shared :class:`ClusterBootstrap` (one cluster code per item).
    """

    def __init__(self, bootstrap: ClusterBootstrap):
        self.bs = bootstrap
        self._blocks: dict = {}
        self._cols: list = []
        self._width = 0
        self.point = self.boot = self.present = None

    def add(self, name: str, groups, n_groups: int, values) -> None:
        """Record ``values`` (``(n_items,)`` or ``(n_items, J)``) summed within ``groups``.

        ``groups`` holds one group code per item in ``[0, n_groups)``; ``-1`` leaves
        the item out of every sum of this block.
        """
        if name in self._blocks:
            raise KeyError(f"sums {name!r} recorded twice")
        v = np.asarray(values, dtype=float)
        v = v[:, None] if v.ndim == 1 else v
        g = np.asarray(groups, dtype=np.int64)
        keep = g >= 0
        C, G, J = self.bs.n_clusters, max(int(n_groups), 0), v.shape[1]
        block = np.zeros((C, G, J))
        if C and G:
            idx = self.bs.codes[keep] * G + g[keep]
            for j in range(J):
                block[:, :, j] = np.bincount(idx, weights=v[keep, j], minlength=C * G).reshape(C, G)
        self._blocks[name] = (self._width, (G, J))
        self._cols.append(block.reshape(C, G * J))
        self._width += G * J

    def run(self) -> GroupSums:
        C = self.bs.n_clusters
        sums = np.concatenate(self._cols, axis=1) if self._cols else np.zeros((C, 0))
        self.point = sums.sum(axis=0)
        self.present = (sums != 0).sum(axis=0)
        self.boot = self.bs.resample_cluster_sums(sums)
        return self

    def _slice(self, name):
        start, shape = self._blocks[name]
        return slice(start, start + shape[0] * shape[1]), shape

    def get(self, name):
        """``(point (G, J), boot (B, G, J))`` of one block."""
        sl, shape = self._slice(name)
        return self.point[sl].reshape(shape), self.boot[:, sl].reshape((self.bs.n_boot, *shape))

    def cluster_block(self, name):
        """Per-cluster sums of one block, ``(C, G, J)``."""
        sl, shape = self._slice(name)
        cols = np.concatenate(self._cols, axis=1) if self._cols else np.zeros((self.bs.n_clusters, 0))
        return cols[:, sl].reshape((self.bs.n_clusters, *shape))

    def clusters(self, name):
        """How many clusters (prompts) contribute a non-zero sum, ``(G, J)``."""
        sl, shape = self._slice(name)
        return self.present[sl].reshape(shape)


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


def rate_table(sums: GroupSums, name: str, confidence: float, *, empty: str):
    """Rates ``k / n`` of the blocks ``name + "/k"`` and ``name + "/n"``.

    Returns a dict of arrays ``value, lo, hi, k, n, prompts, n_undefined`` (shape
    ``(G, J)``) and ``boot`` (``(B, G, J)``), plus ``est(g, j)`` building the record.
    """
    k, bk = sums.get(name + "/k")
    n, bn = sums.get(name + "/n")
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


def _floor(sums: GroupSums, name: str, lo, hi, confidence: float):
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

"""Named per-item sums bootstrapped together, and their conversion to results.

Every number an audit reports is a function of sums over items (confusion counts,
coincidences, group counts).  :class:`SumBook` gathers those sums column by column,
reduces each to per-cluster sums at once, and bootstraps all of them with one
matrix product, so every metric, stratum and judge shares the same resamples.

A sum may be weighted (``add(key, values, weights=w)``: sum of ``values * w``, as in
a Horvitz-Thompson total with ``w = 1 / pi``); the plain, unweighted count of the
same values is kept beside it (:meth:`SumBook.raw`), since a result's ``n`` is the
number of items seen, not an estimated population size.
"""

from __future__ import annotations

import numpy as np

from dataclasses import replace

from judgeaudit.metrics import ClusterBootstrap, MetricResult, cluster_proportion_interval, widen
from judgeaudit.metrics.intervals import result_from_bootstrap, wilson_interval


class SumBook:
    def __init__(self, bootstrap: ClusterBootstrap, *, weighted: bool = False):
        self.bs = bootstrap
        self.weighted = weighted  # the audit weights its sums: no Wilson intervals, no count tests
        self._index: dict = {}
        self._cols: list = []
        self._raw: list = []
        self.point = None
        self.boot = None

    def add(self, key, values, weights=None) -> None:
        """Record ``sum(values)`` (``sum(values * weights)`` with weights) under ``key``.

        ``values`` and ``weights`` have one entry per item; :meth:`raw` keeps the
        unweighted ``sum(values)``.
        """
        if key in self._index:
            raise KeyError(f"sum {key!r} recorded twice")
        v = np.asarray(values, dtype=float)
        self._raw.append(float(v.sum()))
        if weights is not None:
            v = v * np.asarray(weights, dtype=float)
        self._index[key] = len(self._cols)
        self._cols.append(np.bincount(self.bs.codes, weights=v, minlength=self.bs.n_clusters))

    def run(self) -> "SumBook":
        sums = np.column_stack(self._cols) if self._cols else np.zeros((self.bs.n_clusters, 0))
        self.point = sums.sum(axis=0)
        self.boot = self.bs.resample_cluster_sums(sums)
        return self

    def __contains__(self, key) -> bool:
        return key in self._index

    def get(self, key):
        """``(point, boot)`` for one key: a float and an ``(n_boot,)`` array."""
        j = self._index[key]
        return self.point[j], self.boot[:, j]

    def stack(self, keys):
        """``(point, boot)`` for several keys, stacked on the last axis."""
        idx = [self._index[k] for k in keys]
        return self.point[idx], self.boot[:, idx]

    def cluster(self, key) -> np.ndarray:
        """Per-cluster sums ``(C,)`` recorded under ``key`` (weighted when weights were given)."""
        return self._cols[self._index[key]]

    def floor(self, prefix) -> tuple:
        """``(successes, trials)`` per cluster of a rate recorded as ``prefix + ("pos",)``
        over ``prefix + ("n",)`` (see :func:`to_result`'s ``floor``); with weights also
        the number of items observed."""
        out = (self.cluster(prefix + ("pos",)), self.cluster(prefix + ("n",)))
        return out + (self.raw(prefix + ("n",)),) if self.weighted else out

    def raw(self, key) -> float:
        """The unweighted sum recorded under ``key`` (equal to the point sum without weights)."""
        return self._raw[self._index[key]]


def to_result(point, boot, *, n: int, bs: ClusterBootstrap, confidence: float,
              undefined: str | None = None, wilson: tuple | None = None,
              floor: tuple | None = None) -> MetricResult:
    """Turn a point value and its bootstrap values into a :class:`MetricResult`.

    ``wilson=(successes, trials)`` asks for a Wilson interval instead, used for
    plain proportions when items are resampled independently.  ``floor=(successes,
    trials)`` per cluster (arrays of the bootstrap's clusters; a third entry, the items
    observed, when the sums are weighted) marks a proportion under a cluster bootstrap:
    its percentile interval is widened to the Korn-Graubard interval
    (:func:`judgeaudit.metrics.cluster_proportion_interval`) where that is wider, so it
    cannot collapse at 0 or 1.
    """
    point = float(point)
    if wilson is not None and not bs.clustered and undefined is None and not np.isnan(point):
        k, trials = wilson
        lo, hi = wilson_interval(int(round(k)), int(round(trials)), confidence=confidence)
        return MetricResult(point, float(lo), float(hi), int(n), None, "wilson", confidence=confidence)
    out = result_from_bootstrap(point, boot, n=n, bootstrap=bs, confidence=confidence, undefined=undefined)
    if floor is not None and out.defined:
        k_c, n_c, *n_obs = floor
        lo, hi, deff = cluster_proportion_interval(k_c, n_c, confidence=confidence,
                                                   n_obs=n_obs[0] if n_obs else None)
        new = widen((out.ci_low, out.ci_high), (lo, hi))
        if new != (out.ci_low, out.ci_high):
            note = f"widened to the Korn-Graubard interval (design effect {deff:.2f})"
            out = replace(out, ci_low=new[0], ci_high=new[1],
                          note=note if out.note is None else f"{out.note}; {note}")
    return out

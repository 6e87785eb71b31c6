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

from judgeaudit.metrics import ClusterBootstrap, MetricResult
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

    def raw(self, key) -> float:
        """The unweighted sum recorded under ``key`` (equal to the point sum without weights)."""
        return self._raw[self._index[key]]


def to_result(point, boot, *, n: int, bs: ClusterBootstrap, confidence: float,
              undefined: str | None = None, wilson: tuple | None = None) -> MetricResult:
    """Turn a point value and its bootstrap values into a :class:`MetricResult`.

    ``wilson=(successes, trials)`` asks for a Wilson interval instead, used for
    plain proportions when items are resampled independently.
    """
    point = float(point)
    if wilson is not None and not bs.clustered and undefined is None and not np.isnan(point):
        k, trials = wilson
        lo, hi = wilson_interval(int(round(k)), int(round(trials)), confidence=confidence)
        return MetricResult(point, float(lo), float(hi), int(n), None, "wilson", confidence=confidence)
    return result_from_bootstrap(point, boot, n=n, bootstrap=bs, confidence=confidence, undefined=undefined)

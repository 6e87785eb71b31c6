"""Named per-item sums bootstrapped together: the engine behind the audit and the experiment report.

Every figure the audit and the experiment report show is a function of sums over items
(confusion counts, coincidences, harmful votes over votes, disagreeing pairs over pairs).
:class:`SumBook` gathers those sums, reduces each to per-cluster sums at once, and
bootstraps all of them with one matrix product of a shared
:class:`~judgeaudit.metrics.ClusterBootstrap`, so every metric, stratum, judge, group and
checkpoint shares the same resamples and their differences are paired.

Two ways to record a sum, read back the same way:

- ``add(key, values, weights=None)``: one sum, ``sum(values)`` (``sum(values * weights)``
  with weights, as in a Horvitz-Thompson total with ``w = 1 / pi``);
- ``add_groups(key, groups, n_groups, values)``: a ``(G, J)`` block of sums of
  ``values`` (``(n_items,)`` or ``(n_items, J)``) within each group code.

The plain, unweighted sum is kept beside a weighted one (:meth:`SumBook.raw`), since a
result's ``n`` is the number of items seen, not an estimated population size.

Examples
--------
>>> import numpy as np
>>> from judgeaudit.metrics import ClusterBootstrap
>>> bs = ClusterBootstrap(["p1", "p1", "p2", "p3"], n_boot=200, seed=0)
>>> book = SumBook(bs)
>>> book.add("harmful", [1, 0, 1, 1])
>>> book.add("n", [1, 1, 1, 1])
>>> book.add_groups("by_model", [0, 1, 1, 0], 2, [1, 0, 1, 1])
>>> _ = book.run()
>>> (harmful, n), boot = book.stack(["harmful", "n"])
>>> float(harmful / n), boot.shape
(0.75, (200, 2))
>>> point, boot = book.block("by_model")
>>> point[:, 0].tolist(), boot.shape
([2.0, 1.0], (200, 2, 1))
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ._resample import ClusterBootstrap
from ._result import MetricResult
from .intervals import result_from_bootstrap, wilson_interval
from .proportions import cluster_proportion_interval, widen

__all__ = ["SumBook", "to_result"]


class SumBook:
    """Named sums over items, bootstrapped together.

    Parameters
    ----------
    bootstrap : ClusterBootstrap
        The shared resamples (one cluster code per item).
    weighted : bool, default False
        Whether the caller weights its sums (the audit then uses no Wilson intervals and
        no count tests); recorded for the readers of the book.
    """

    def __init__(self, bootstrap: ClusterBootstrap, *, weighted: bool = False):
        self.bs = bootstrap
        self.weighted = weighted
        self._index: dict = {}  # key -> (first column, shape)
        self._cols: list = []  # (C, width) per-cluster sums, one entry per key
        self._raw: dict = {}  # key -> unweighted sum, for the sums of add()
        self._width = 0
        self.point = self.boot = self.present = self._sums = None

    # ------------------------------------------------------------------ recording

    def _record(self, key, shape, per_cluster, raw) -> None:
        if key in self._index:
            raise KeyError(f"sum {key!r} recorded twice")
        self._index[key] = (self._width, shape)
        self._cols.append(per_cluster)
        if raw is not None:
            self._raw[key] = raw
        self._width += per_cluster.shape[1]

    def add(self, key, values, weights=None) -> None:
        """Record ``sum(values)`` (``sum(values * weights)`` with weights) under ``key``.

        ``values`` and ``weights`` have one entry per item; :meth:`raw` keeps the
        unweighted ``sum(values)``.
        """
        v = np.asarray(values, dtype=float)
        raw = float(v.sum())
        if weights is not None:
            v = v * np.asarray(weights, dtype=float)
        col = np.bincount(self.bs.codes, weights=v, minlength=self.bs.n_clusters)
        self._record(key, (), col[:, None], raw)

    def add_groups(self, key, groups, n_groups: int, values) -> None:
        """Record ``values`` (``(n_items,)`` or ``(n_items, J)``) summed within ``groups``.

        ``groups`` holds one group code per item in ``[0, n_groups)``; ``-1`` leaves the
        item out of every sum of this block.  Read back with :meth:`block`.
        """
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
        self._record(key, (G, J), block.reshape(C, G * J), None)

    def run(self) -> "SumBook":
        """Bootstrap every sum recorded (call once, after the last ``add``)."""
        C = self.bs.n_clusters
        self._sums = np.concatenate(self._cols, axis=1) if self._cols else np.zeros((C, 0))
        self.point = self._sums.sum(axis=0)
        self.present = (self._sums != 0).sum(axis=0)
        self.boot = self.bs.resample_cluster_sums(self._sums)
        return self

    # ------------------------------------------------------------------ reading

    def __contains__(self, key) -> bool:
        return key in self._index

    def _column(self, key) -> int:
        start, shape = self._index[key]
        if shape != ():
            raise KeyError(f"{key!r} is a block of sums: read it with block()")
        return start

    def _slice(self, key):
        start, shape = self._index[key]
        width = int(np.prod(shape)) if shape else 1
        return slice(start, start + width), shape

    def get(self, key):
        """``(point, boot)`` for one sum: a float and an ``(n_boot,)`` array."""
        j = self._column(key)
        return self.point[j], self.boot[:, j]

    def stack(self, keys):
        """``(point, boot)`` for several sums, stacked on the last axis."""
        idx = [self._column(k) for k in keys]
        return self.point[idx], self.boot[:, idx]

    def cluster(self, key) -> np.ndarray:
        """Per-cluster sums ``(C,)`` recorded under ``key`` (weighted when weights were given)."""
        j = self._column(key)
        return self._cols_matrix()[:, j]

    def raw(self, key) -> float:
        """The unweighted sum recorded under ``key`` (equal to the point sum without weights)."""
        self._column(key)
        return self._raw[key]

    def n_clusters(self, keys) -> int:
        """How many clusters contribute a non-zero sum under any of ``keys``: the clusters
        behind a figure computed from those sums (the sums are counts or positive weights)."""
        return int((np.abs(np.stack([self.cluster(k) for k in keys])).sum(0) > 0).sum())

    def floor(self, prefix) -> tuple:
        """``(successes, trials)`` per cluster of a rate recorded as ``prefix + ("pos",)``
        over ``prefix + ("n",)`` (see :func:`to_result`'s ``floor``); with weights also
        the number of items observed."""
        out = (self.cluster(prefix + ("pos",)), self.cluster(prefix + ("n",)))
        return out + (self.raw(prefix + ("n",)),) if self.weighted else out

    def block(self, key):
        """``(point (G, J), boot (B, G, J))`` of a block of :meth:`add_groups`."""
        sl, shape = self._slice(key)
        return self.point[sl].reshape(shape), self.boot[:, sl].reshape((self.bs.n_boot, *shape))

    def cluster_block(self, key):
        """Per-cluster sums of a block, ``(C, G, J)``."""
        sl, shape = self._slice(key)
        return self._cols_matrix()[:, sl].reshape((self.bs.n_clusters, *shape))

    def clusters(self, key):
        """How many clusters contribute a non-zero sum to each entry of a block, ``(G, J)``."""
        sl, shape = self._slice(key)
        return self.present[sl].reshape(shape)

    def _cols_matrix(self):
        if self._sums is None:  # read before run(): per-cluster sums are known already
            C = self.bs.n_clusters
            return np.concatenate(self._cols, axis=1) if self._cols else np.zeros((C, 0))
        return self._sums


def to_result(point, boot, *, n: int, bs: ClusterBootstrap, confidence: float,
              undefined: str | None = None, wilson: tuple | None = None,
              floor: tuple | None = None, n_clusters: int | None = None) -> MetricResult:
    """Turn a point value and its bootstrap values into a :class:`MetricResult`.

    Parameters
    ----------
    point : float
        The value from the observed sums (NaN when undefined).
    boot : array_like
        Its values on the resampled sums, ``(n_boot,)``.
    n : int
        Items behind the value.
    bs : ClusterBootstrap
        The resamples (for the method name and the number of clusters).
    confidence : float
        Interval coverage.
    undefined : str, optional
        Why ``point`` is NaN.
    wilson : tuple, optional
        ``(successes, trials)``: a Wilson interval instead, used for plain proportions
        when items are resampled independently.
    floor : tuple, optional
        ``(successes, trials)`` per cluster (arrays of the bootstrap's clusters; a third
        entry, the items observed, when the sums are weighted) marks a proportion under a
        cluster bootstrap: its percentile interval is widened to the Korn-Graubard
        interval (:func:`judgeaudit.metrics.cluster_proportion_interval`) where that is
        wider, so it cannot collapse at 0 or 1.
    n_clusters : int, optional
        The clusters behind the value (e.g. :meth:`SumBook.n_clusters`); by default those
        with trials in ``floor``, else every cluster of the bootstrap.

    References
    ----------
    Korn, E. L. and Graubard, B. I. (1998). Confidence intervals for proportions with
    small expected number of positive counts estimated from survey data. Survey
    Methodology 24(2), 193-201.
    """
    point = float(point)
    if wilson is not None and not bs.clustered and undefined is None and not np.isnan(point):
        k, trials = wilson
        lo, hi = wilson_interval(int(round(k)), int(round(trials)), confidence=confidence)
        return MetricResult(point, float(lo), float(hi), int(n), None, "wilson", confidence=confidence)
    out = result_from_bootstrap(point, boot, n=n, bootstrap=bs, confidence=confidence, undefined=undefined)
    if n_clusters is None and floor is not None:
        n_clusters = int((np.asarray(floor[1], float) > 0).sum())
    if out.n_clusters is not None and n_clusters is not None:
        out = replace(out, n_clusters=int(n_clusters))
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

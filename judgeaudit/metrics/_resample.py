"""Vectorised cluster bootstrap.

Every metric here is a function of sums over items (confusion counts, coincidence
matrices, per-item agreement terms).  A resample of clusters only changes how many
times each cluster's sums are counted, so one bootstrap is a matrix product:
``counts (B x C) @ cluster_sums (C x S)``.  All metrics and judges of an audit share
the same resamples, which makes paired differences (stratum vs stratum, judge vs
judge) valid.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ClusterBootstrap", "percentile_interval", "MAX_N_BOOT"]

MAX_N_BOOT = 200_000
"""Most resamples a :class:`ClusterBootstrap` makes: every statistic keeps one float per
resample, so memory grows with ``n_boot`` (the draws themselves are made in chunks)."""
_CHUNK_CELLS = 2_000_000  # draws held at once: about 16 MB of int64 per array


class ClusterBootstrap:
    """Seeded cluster bootstrap over items.

    Parameters
    ----------
    clusters:
        One key per item (e.g. prompt_id), or None to resample items.
    n:
        Number of items; needed only when ``clusters`` is None.
    n_boot:
        Number of resamples.
    seed:
        Seed for :func:`numpy.random.default_rng`; the same seed gives the same
        resamples whatever statistics are summed.
    chunk_size:
        Resamples generated at once; bounds memory at about
        ``chunk_size * n_clusters * 8`` bytes.
    """

    def __init__(self, clusters=None, *, n: int | None = None, n_boot: int = 1000,
                 seed: int = 0, chunk_size: int | None = None):
        if clusters is None:
            if n is None:
                raise ValueError("ClusterBootstrap needs clusters or n")
            self.codes = np.arange(int(n))
            self.n_clusters = int(n)
            self.clustered = False
        else:
            # a dict over the keys' own strings, not np.unique on a str array: a fixed-width
            # unicode array of one long key per item costs n * longest-key * 4 bytes
            keys = [str(k) for k in np.asarray(clusters, dtype=object).ravel()]
            index = {k: i for i, k in enumerate(sorted(set(keys)))}
            self.codes = np.fromiter((index[k] for k in keys), dtype=np.int64, count=len(keys))
            self.n_clusters = int(self.codes.max()) + 1 if self.codes.size else 0
            self.clustered = True
        self.n = int(self.codes.size)
        if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) \
                or not 1 <= n_boot <= MAX_N_BOOT:
            raise ValueError(f"n_boot must be an integer from 1 to {MAX_N_BOOT:,}, got {n_boot!r:.40}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
            raise ValueError(f"seed must be an integer from 0 to 2**63 - 1, got {seed!r:.40}")
        self.n_boot = int(n_boot)
        self.seed = int(seed)
        if chunk_size is None:
            chunk_size = max(1, min(self.n_boot, _CHUNK_CELLS // max(self.n_clusters, 1)))
        self.chunk_size = int(chunk_size)

    @property
    def method(self) -> str:
        return "cluster-bootstrap" if self.clustered else "bootstrap"

    def cluster_sums(self, item_stats) -> np.ndarray:
        """Sum per-item statistics ``(n, S)`` within clusters, giving ``(C, S)``."""
        stats = np.asarray(item_stats, dtype=float)
        if stats.ndim == 1:
            stats = stats[:, None]
        if stats.shape[0] != self.n:
            raise ValueError(f"item_stats has {stats.shape[0]} rows, expected {self.n}")
        out = np.zeros((self.n_clusters, stats.shape[1]))
        for j in range(stats.shape[1]):
            out[:, j] = np.bincount(self.codes, weights=stats[:, j], minlength=self.n_clusters)
        return out

    def _count_chunks(self):
        """Yield (start, counts) with counts ``(b, C)``: how often each cluster is drawn."""
        C = self.n_clusters
        rng = np.random.default_rng(self.seed)
        for start in range(0, self.n_boot, self.chunk_size):
            b = min(self.chunk_size, self.n_boot - start)
            draws = rng.integers(0, C, size=(b, C))
            flat = draws + (np.arange(b) * C)[:, None]
            counts = np.bincount(flat.ravel(), minlength=b * C).reshape(b, C)
            yield start, counts

    def resample_sums(self, item_stats) -> np.ndarray:
        """Sums of per-item statistics on each resample: ``(n_boot, S)``.

        Row ``b`` equals ``item_stats[idx_b].sum(0)`` where ``idx_b`` holds every
        item of each cluster drawn in resample ``b`` (with repetition).
        """
        return self.resample_cluster_sums(self.cluster_sums(item_stats))

    def resample_cluster_sums(self, sums) -> np.ndarray:
        """Like :meth:`resample_sums`, from per-cluster sums ``(C, S)`` already made.

        Lets a caller build a large statistic matrix one column at a time without
        ever holding the ``(n, S)`` per-item matrix.
        """
        sums = np.asarray(sums, dtype=float)
        if sums.ndim == 1:
            sums = sums[:, None]
        out = np.empty((self.n_boot, sums.shape[1]))
        if self.n_clusters == 0:
            out[:] = 0.0
            return out
        for start, counts in self._count_chunks():
            out[start:start + counts.shape[0]] = counts.astype(float) @ sums
        return out

    def counts_matrix(self) -> np.ndarray:
        """All resample counts ``(n_boot, C)`` at once (for tests and small data)."""
        return np.concatenate([c for _, c in self._count_chunks()], axis=0)


def percentile_interval(boot_values, *, confidence: float = 0.95):
    """Percentile interval of bootstrap values, ignoring NaN (undefined) resamples.

    Returns ``(low, high, n_undefined)``; bounds are NaN when every resample is
    undefined.
    """
    vals = np.asarray(boot_values, dtype=float)
    finite = vals[~np.isnan(vals)]
    n_undef = int(vals.size - finite.size)
    if finite.size == 0:
        return float("nan"), float("nan"), n_undef
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(finite, [alpha, 1.0 - alpha])
    return float(lo), float(hi), n_undef

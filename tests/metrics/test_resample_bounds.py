"""Resource bounds of the bootstrap (issue 14): long cluster keys, n_boot and seed checks,
draws made in chunks."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from judgeaudit.metrics import ClusterBootstrap

MAX_N_BOOT = 200_000  # judgeaudit.metrics.MAX_N_BOOT


def test_long_cluster_keys_are_factorized_not_copied_into_a_fixed_width_array():
    # 400 items, each key 50,000 characters: np.unique(keys.astype(str)) made a <U50000 array of
    # 400 * 50,000 * 4 bytes = 80 MB (issue 14: a 549 KB CSV took 23.5 GB); factorizing keeps
    # one Python string per key, which the input holds already
    keys = [f"{i % 7}" + "k" * 50_000 for i in range(400)]
    tracemalloc.start()
    try:
        bs = ClusterBootstrap(keys, n_boot=10, seed=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert bs.n_clusters == 7 and bs.n == 400
    assert peak < 20 * 2**20, f"peak {peak / 2**20:.0f} MiB"


def test_the_documented_cap():
    from judgeaudit.metrics import MAX_N_BOOT as cap

    assert cap == MAX_N_BOOT


def test_codes_follow_sorted_keys_like_before():
    bs = ClusterBootstrap(["b", "a", "c", "a", 3, None], n_boot=5)
    # keys as text, sorted: "3" < "None" < "a" < "b" < "c"
    assert bs.codes.tolist() == [3, 2, 4, 2, 0, 1]


@pytest.mark.parametrize("n_boot", [0, -1, MAX_N_BOOT + 1, 10**12, 2.5, True])
def test_n_boot_outside_the_range_is_refused(n_boot):
    with pytest.raises(ValueError, match="n_boot must be an integer from 1 to 200,000"):
        ClusterBootstrap(None, n=5, n_boot=n_boot)


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5, None])
def test_seed_outside_the_range_is_refused(seed):
    with pytest.raises(ValueError, match="seed must be an integer from 0"):
        ClusterBootstrap(None, n=5, n_boot=5, seed=seed)


def test_draws_are_made_in_chunks_of_bounded_size_with_the_same_result():
    # 100,000 clusters: one chunk of draws holds at most 2,000,000 cells (16 MB of int64)
    bs = ClusterBootstrap(None, n=100_000, n_boot=50, seed=3)
    assert bs.chunk_size * bs.n_clusters <= 2_000_000
    stats = np.arange(100_000, dtype=float)
    one_chunk = ClusterBootstrap(None, n=100_000, n_boot=50, seed=3, chunk_size=50)
    # chunking consumes the same random stream in the same order only when the chunk is the
    # same; what must hold is shape and that every resample sums n items' worth of draws
    sums = bs.resample_sums(np.ones(100_000))
    assert sums.shape == (50, 1) and np.all(sums == 100_000)
    assert one_chunk.resample_sums(stats).shape == (50, 1)

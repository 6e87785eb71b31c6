"""SumBook, the one bootstrap-of-sums engine (audit and experiment report)."""

from __future__ import annotations

import numpy as np
import pytest

from judgeaudit.metrics import ClusterBootstrap, SumBook, cluster_proportion_interval
from judgeaudit.metrics.sums import to_result

CLUSTERS = np.array(["p1", "p1", "p2", "p3", "p3", "p3", "p4"])
VALUES = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
GROUPS = np.array([0, 1, 1, 0, -1, 1, 0])  # -1: left out of the block


def _book(weights=None):
    bs = ClusterBootstrap(CLUSTERS, n_boot=300, seed=4)
    book = SumBook(bs, weighted=weights is not None)
    book.add("k", VALUES, weights)
    book.add("n", np.ones(7), weights)
    book.add_groups("by_group", GROUPS, 2, np.column_stack([VALUES, np.ones(7)]))
    return bs, book.run()


def test_every_sum_equals_a_plain_loop_over_resampled_clusters():
    bs, book = _book()
    counts = bs.counts_matrix()  # (B, C): how often each cluster is drawn
    per_item = counts[:, bs.codes]  # (B, n)
    (k, n), boot = book.stack(["k", "n"])
    # hand: k = 1 + 0 + 1 + 1 + 0 + 1 + 0 = 4 of n = 7
    assert (k, n) == (4.0, 7.0)
    np.testing.assert_allclose(boot[:, 0], per_item @ VALUES)
    np.testing.assert_allclose(boot[:, 1], per_item.sum(axis=1))
    point, bblock = book.block("by_group")
    # group 0: items 0, 3, 6 -> values 1, 1, 0; group 1: items 1, 2, 5 -> 0, 1, 1 (item 4 left out)
    np.testing.assert_array_equal(point, [[2.0, 3.0], [2.0, 3.0]])
    for g in (0, 1):
        np.testing.assert_allclose(bblock[:, g, 0], per_item @ (VALUES * (GROUPS == g)))
    # clusters with a non-zero count per group: group 0 draws on p1, p3, p4; group 1 on p1, p2, p3
    np.testing.assert_array_equal(book.clusters("by_group")[:, 1], [3, 3])
    assert book.cluster_block("by_group").shape == (4, 2, 2)


def test_weighted_sums_keep_the_raw_count():
    w = np.array([2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 4.0])
    _, book = _book(w)
    # weighted k = 2 + 0 + 1 + 1 + 0 + 1 + 0 = 5; raw k = 4; weighted n = 12, raw n = 7
    assert book.get("k")[0] == 5.0 and book.raw("k") == 4.0
    assert book.get("n")[0] == 12.0 and book.raw("n") == 7.0
    k_c, n_c, n_obs = book.cluster("k"), book.cluster("n"), book.raw("n")
    assert k_c.tolist() == [2.0, 1.0, 2.0, 0.0] and n_c.sum() == 12.0 and n_obs == 7.0


def test_misuse_is_refused():
    bs = ClusterBootstrap(CLUSTERS, n_boot=10, seed=0)
    book = SumBook(bs)
    book.add("k", VALUES)
    with pytest.raises(KeyError, match="recorded twice"):
        book.add("k", VALUES)
    book.add_groups("g", GROUPS, 2, VALUES)
    book.run()
    with pytest.raises(KeyError, match="block"):
        book.get("g")


def test_to_result_floors_a_proportion_at_the_korn_graubard_interval():
    bs, book = _book()
    (k, n), boot = book.stack(["k", "n"])
    res = to_result(k / n, boot[:, 0] / boot[:, 1], n=7, bs=bs, confidence=0.95,
                    floor=(book.cluster("k"), book.cluster("n")))
    lo, hi, _ = cluster_proportion_interval(book.cluster("k"), book.cluster("n"), confidence=0.95)
    assert res.value == pytest.approx(4 / 7)
    assert res.ci_low <= lo + 1e-12 and res.ci_high >= hi - 1e-12
    # without clusters a proportion gets the Wilson interval
    plain = ClusterBootstrap(None, n=7, n_boot=10, seed=0)
    assert to_result(4 / 7, np.zeros(10), n=7, bs=plain, confidence=0.95, wilson=(4, 7)).method == "wilson"

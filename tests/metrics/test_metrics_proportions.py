"""Proportion intervals from clustered data: Korn-Graubard, never collapsing at 0 or 1."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import beta

from judgeaudit.metrics import cluster_proportion_interval, design_effect, fpr, wilson_interval


def test_design_effect_by_hand():
    # k = (2, 0, 1, 1), m = (2, 2, 2, 2): p = 0.5, n = 8, C = 4
    # v = 4/3 * (1 + 1 + 0 + 0) / 64 = 0.041667; srs = 0.25 / 8 = 0.03125 -> deff = 1.3333
    assert design_effect([2, 0, 1, 1], [2, 2, 2, 2]) == pytest.approx(4 / 3)
    assert math.isnan(design_effect([0, 0], [3, 3]))


def test_zero_events_give_a_real_upper_bound():
    # The example: fpr([0]*144 + [1]*96, same, clusters of 4) was [0, 0].
    y = [0] * 144 + [1] * 96
    r = fpr(y, y, clusters=np.repeat(range(60), 4))
    assert r.value == 0.0 and r.ci_low == 0.0
    # 144 negatives in 36 clusters of 4, no event: deff = 4 -> n_eff = 36 * (z / t_35)^2
    z, t = 1.959964, 2.030108
    n_eff = 36 * (z / t) ** 2
    assert r.ci_high == pytest.approx(1 - 0.025 ** (1 / n_eff), rel=1e-4)
    assert "Korn-Graubard" in r.note


def test_clopper_pearson_on_effective_counts_matches_scipy():
    k, m = np.array([1, 0, 2, 0, 1, 3]), np.array([4, 4, 4, 4, 4, 4])
    lo, hi, deff = cluster_proportion_interval(k, m)
    n = 24.0
    p = 7 / 24
    n_eff = n / deff * (1.959964 / 2.570582) ** 2  # t with 5 df
    x = p * n_eff
    assert lo == pytest.approx(beta.ppf(0.025, x, n_eff - x + 1), rel=1e-4)
    assert hi == pytest.approx(beta.ppf(0.975, x + 1, n_eff - x), rel=1e-4)
    # The Wilson variant on the same effective counts
    lw, hw, _ = cluster_proportion_interval(k, m, kind="wilson")
    assert (lw, hw) == pytest.approx(wilson_interval(x, n_eff), rel=1e-6)


def _clustered(rng, p, n_clusters, rho):
    sizes = rng.integers(2, 7, n_clusters)
    s = (1 - rho) / rho
    return rng.binomial(sizes, rng.beta(p * s, (1 - p) * s, n_clusters)), sizes


@pytest.mark.parametrize("p", [0.005, 0.04, 0.3])
def test_coverage_small_seeded_simulation(p):
    # 300 clustered samples, 50 clusters of 2-6 items, ICC 0.2. The goal is coverage >= 0.93;
    # with 300 replicates a true coverage of 0.95 falls below 0.91 with probability < 0.5%
    # (binomial sd 0.0126), so the test asserts >= 0.91.
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(300):
        k, m = _clustered(rng, p, 50, 0.2)
        lo, hi, _ = cluster_proportion_interval(k, m)
        hits += lo <= p <= hi
    assert hits / 300 >= 0.91


def test_few_clusters_with_events_use_the_all_or_nothing_design_effect():
    # 150 prompts x 12 answers, one event in each of 2 prompts: p = 2/1800.  Estimated from
    # the data: sum_c (k_c - p m_c)^2 = 2 (1 - 0.01333)^2 + 148 (0.01333)^2 = 1.9733,
    # v = 150/149 * 1.9733 / 1800^2 = 6.131e-7 against p(1-p)/n = 6.166e-7, so deff 0.994,
    # floored at 1: the data cannot show how 2 events cluster.  With events in fewer than 5
    # prompts the all-or-nothing design effect sum m_c^2 / n = 150 * 144 / 1800 = 12 is used.
    k, m = [1, 1] + [0] * 148, [12] * 150
    lo, hi, deff = cluster_proportion_interval(k, m)
    assert deff == 12.0
    lo1, hi1, deff1 = cluster_proportion_interval(k, m, min_clusters=1)
    assert deff1 == 1.0 and hi > hi1 and lo <= lo1  # wider on both sides
    # one item per cluster: the rule changes nothing (sum 1^2 / n = 1)
    assert cluster_proportion_interval([1, 0, 0, 0, 0, 0], [1] * 6)[2] == \
        cluster_proportion_interval([1, 0, 0, 0, 0, 0], [1] * 6, min_clusters=1)[2]

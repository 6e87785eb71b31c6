"""Rank metrics: cross-checked against scipy and scikit-learn; weights equal expansion."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import reference_module
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from judgeaudit.errors import ValidationError
from judgeaudit.metrics import auroc, kendall_tau, spearman
from judgeaudit.metrics._resample import ClusterBootstrap, percentile_interval
from judgeaudit.metrics.ranking import _Groups, _weighted_pearson

sk = reference_module("sklearn.metrics")


@st.composite
def xy(draw, max_size=40, max_value=6):
    n = draw(st.integers(2, max_size))
    x = draw(st.lists(st.integers(0, max_value), min_size=n, max_size=n))
    y = draw(st.lists(st.integers(0, max_value), min_size=n, max_size=n))
    return np.array(x, float), np.array(y, float)


@settings(max_examples=50, deadline=None)
@given(xy())
def test_spearman_and_kendall_match_scipy(pair):
    x, y = pair
    rho, tau = spearman(x, y, ci="none"), kendall_tau(x, y, ci="none")
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        assert rho.undefined.endswith("is constant: rank correlation is undefined")
        assert tau.undefined == rho.undefined
        return
    assert rho.value == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-10)
    assert tau.value == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-10)


@settings(max_examples=50, deadline=None)
@given(xy(), st.integers(0, 10**6))
def test_weighted_spearman_equals_expanded_data(pair, seed):
    # integer weights (a bootstrap resample) == the data with each item repeated
    x, y = pair
    w = np.random.default_rng(seed).integers(0, 4, size=x.size)
    idx = np.repeat(np.arange(x.size), w)
    (rx, cx), (ry, cy) = _Groups(x).midranks(w[None, :].astype(float)), \
        _Groups(y).midranks(w[None, :].astype(float))
    if idx.size < 2 or np.ptp(x[idx]) == 0 or np.ptp(y[idx]) == 0:
        assert cx[0] or cy[0] or idx.size < 2
        return
    got = _weighted_pearson(rx, ry, w[None, :].astype(float))[0]
    assert got == pytest.approx(stats.spearmanr(x[idx], y[idx]).statistic, abs=1e-10)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 60), st.integers(0, 10**6))
def test_auroc_matches_sklearn(n, seed):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, n)
    s = rng.integers(0, 5, n) + t * rng.integers(0, 3, n)  # ties on purpose
    res = auroc(t, s, ci="none")
    if t.min() == t.max():
        assert res.undefined in ("y_true has no positive items", "y_true has no negative items")
        return
    assert res.value == pytest.approx(sk.roc_auc_score(t, s), abs=1e-12)
    # pos_label=0 is the AUROC of the flipped labels on the negated score
    assert auroc(t, -s, pos_label=0, ci="none").value == pytest.approx(res.value)


def test_vectorised_rank_bootstraps_equal_explicit_resampling():
    rng = np.random.default_rng(5)
    n = 25
    x = rng.integers(0, 5, n).astype(float)
    y = x + rng.integers(0, 3, n)
    t = (y > 3).astype(int)
    clusters = rng.integers(0, 8, n).astype(str)
    bs = ClusterBootstrap(clusters, n_boot=200, seed=11)
    weights = bs.counts_matrix()[:, bs.codes]
    boot_rho, boot_tau, boot_auc = [], [], []
    for w in weights:
        idx = np.repeat(np.arange(n), w)
        xs, ys, ts = x[idx], y[idx], t[idx]
        ok = np.ptp(xs) > 0 and np.ptp(ys) > 0
        boot_rho.append(stats.spearmanr(xs, ys).statistic if ok else np.nan)
        boot_tau.append(stats.kendalltau(xs, ys).statistic if ok else np.nan)
        boot_auc.append(sk.roc_auc_score(ts, xs) if 0 < ts.sum() < ts.size else np.nan)
    for fn, args, boot in ((spearman, (x, y), boot_rho), (kendall_tau, (x, y), boot_tau),
                           (auroc, (t, x), boot_auc)):
        res = fn(*args, clusters=clusters, n_boot=200, seed=11)
        lo, hi, n_undef = percentile_interval(boot)
        assert (res.ci_low, res.ci_high) == pytest.approx((lo, hi), abs=1e-10), fn.__name__
        assert res.n_boot_undefined == n_undef and res.n_clusters == 8
        assert res.method == "cluster-bootstrap"


def test_published_examples():
    # Wikipedia Spearman example: sum d^2 = 194, rho = 1 - 6*194/(10*99) = -29/165
    iq = [106, 100, 86, 101, 99, 103, 97, 113, 112, 110]
    tv = [7, 27, 2, 50, 28, 29, 20, 12, 6, 17]
    assert spearman(iq, tv).value == pytest.approx(-29 / 165)
    # Kendall: 5 items, one adjacent swap -> 9 concordant, 1 discordant: tau = 0.8
    assert kendall_tau([1, 2, 3, 4, 5], [1, 3, 2, 4, 5]).value == pytest.approx(0.8)
    # tau-b with ties: x = (1,1,2), y = (1,2,3): pairs (1,2) tied in x, (1,3) and (2,3)
    # concordant: tau_b = 2 / sqrt((3 - 1) * 3) = 0.8165
    assert kendall_tau([1, 1, 2], [1, 2, 3]).value == pytest.approx(2 / math.sqrt(6))
    # AUROC: positives score (3, 2), negatives (1, 2): pairs 3>1, 3>2, 2>1, 2=2 (1/2)
    # -> 3.5 / 4 = 0.875
    assert auroc([1, 1, 0, 0], [3, 2, 1, 2]).value == pytest.approx(0.875)


def test_rank_undefined_and_errors():
    assert spearman([1], [2]).undefined == "fewer than two items"
    assert spearman([1, 1, 1], [1, 2, 3]).undefined == "x is constant: rank correlation is undefined"
    assert kendall_tau([1, 2, 3], [2, 2, 2]).undefined == "y is constant: rank correlation is undefined"
    assert spearman([], []).undefined == "no items"
    assert auroc([1, 1], [0.2, 0.3]).undefined == "y_true has no negative items"
    assert auroc([], []).undefined == "no items"
    with pytest.raises(ValidationError, match="missing"):
        spearman([1, np.nan], [1, 2])
    with pytest.raises(ValidationError, match="different lengths"):
        kendall_tau([1, 2], [1, 2, 3])
    with pytest.raises(ValidationError, match="numeric"):
        spearman(["a", "b"], [1, 2])
    with pytest.raises(ValidationError, match="0/1"):
        auroc([0, 2], [0.1, 0.2])
    with pytest.raises(ValidationError, match="missing"):
        auroc([0, 1], [0.1, None])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=2, max_size=12))
def test_vectorised_tau_b_matches_scipy(pairs):
    from scipy.stats import kendalltau

    from judgeaudit.metrics.formulas import kendall_tau_b

    x, y = map(np.array, zip(*pairs))
    expected = kendalltau(x, y).statistic
    got = kendall_tau_b(x.astype(float), y.astype(float))
    if np.isnan(expected):
        assert np.isnan(got)
    else:
        assert got == pytest.approx(expected)
    # leading axes: the same pair stacked twice gives the same value twice
    both = kendall_tau_b(np.stack([x, x]).astype(float), np.stack([y, y]).astype(float))
    np.testing.assert_allclose(both, [got, got], equal_nan=True)

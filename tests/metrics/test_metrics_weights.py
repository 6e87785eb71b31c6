"""sample_weight on every agreement and rate metric, and the one multi-rater layout.

Integer weights must give exactly the value of the data with each item repeated that many
times (the weighted sums equal the repeated sums), and the rate metrics must agree with
scikit-learn's own ``sample_weight``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import reference_module
from judgeaudit.errors import ValidationError
from judgeaudit.metrics import (accuracy, balanced_accuracy, cohen_kappa, f1, fleiss_kappa, fnr, fpr,
                                gwet_ac1, krippendorff_alpha, mcc, precision, ratings_matrix, recall,
                                specificity)

sk = reference_module("sklearn.metrics")

RATES = {accuracy: sk.accuracy_score, precision: sk.precision_score, recall: sk.recall_score,
         f1: sk.f1_score, mcc: sk.matthews_corrcoef, balanced_accuracy: sk.balanced_accuracy_score}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1), st.integers(1, 4)), min_size=4, max_size=40))
def test_integer_weights_equal_repeated_items_and_sklearn(rows):
    t, p, w = (np.array(c) for c in zip(*rows))
    rt, rp = np.repeat(t, w), np.repeat(p, w)
    for fn, ref in RATES.items():
        weighted = fn(t, p, sample_weight=w, ci="none").value
        repeated = fn(rt, rp, ci="none").value
        if np.isnan(repeated):
            assert np.isnan(weighted)
            continue
        assert weighted == pytest.approx(repeated, abs=1e-12)
        with np.errstate(all="ignore"):
            assert weighted == pytest.approx(ref(t, p, sample_weight=w), abs=1e-12)
    for fn in (fpr, fnr, specificity):
        a, b = fn(t, p, sample_weight=w, ci="none").value, fn(rt, rp, ci="none").value
        assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b, abs=1e-12)
    k = cohen_kappa(t, p, sample_weight=w, ci="none").value
    ref = cohen_kappa(rt, rp, ci="none").value
    assert (np.isnan(k) and np.isnan(ref)) or k == pytest.approx(ref, abs=1e-12)


def test_weighted_multi_rater_metrics_equal_repeated_units():
    # units x raters; unit weights 1, 3, 2, 1, 2 -> each unit repeated that many times
    r = np.array([["a", "a", "b"], ["a", "b", "b"], ["b", "b", "b"], ["a", "a", "a"], ["b", "a", "b"]],
                 dtype=object)
    w = np.array([1, 3, 2, 1, 2])
    rep = np.repeat(r, w, axis=0)
    assert fleiss_kappa(r, sample_weight=w, ci="none").value == pytest.approx(
        fleiss_kappa(rep, ci="none").value, abs=1e-12)
    assert gwet_ac1(r, sample_weight=w, ci="none").value == pytest.approx(gwet_ac1(rep, ci="none").value, abs=1e-12)
    # alpha's weights are scaled to total the values paired (15 here, as unweighted), so
    # it equals alpha on repeated units only up to its small-sample factor; with equal
    # weights it is exactly the unweighted value.
    assert krippendorff_alpha(r, sample_weight=np.full(5, 7.0), ci="none").value == pytest.approx(
        krippendorff_alpha(r, ci="none").value, abs=1e-12)
    rep_alpha = krippendorff_alpha(rep, ci="none").value
    assert krippendorff_alpha(r, sample_weight=w, ci="none").value == pytest.approx(rep_alpha, abs=0.05)


def test_weighted_intervals_are_bootstraps_and_wilson_is_refused():
    t, p = [1, 1, 0, 0, 1, 0] * 5, [1, 0, 0, 1, 1, 0] * 5
    res = accuracy(t, p, sample_weight=[1.0, 2.0, 1.0, 1.0, 2.0, 1.0] * 5, seed=0)
    assert res.method == "bootstrap" and res.ci_low <= res.value <= res.ci_high
    assert res.n == 30  # items seen, not the sum of the weights
    with pytest.raises(ValidationError, match="ci='wilson' counts items and cannot use sample_weight"):
        accuracy(t, p, sample_weight=[1.0] * 30, ci="wilson")
    with pytest.raises(ValidationError, match="one weight per item: expected 30"):
        accuracy(t, p, sample_weight=[1.0] * 29)
    with pytest.raises(ValidationError, match="index 2 is -1.0"):
        accuracy(t, p, sample_weight=[1.0, 1.0, -1.0] + [1.0] * 27)


def test_a_point_value_draws_no_resamples(monkeypatch):
    from judgeaudit.metrics import _resample

    def refuse(*a, **k):
        raise AssertionError("ci='none' must not build a bootstrap")

    monkeypatch.setattr(_resample.ClusterBootstrap, "__init__", refuse)
    assert cohen_kappa([1, 0, 1, 1], [1, 0, 0, 1], ci="none").value == pytest.approx(0.5)
    assert krippendorff_alpha([[1, 1], [0, 0], [1, 0]], ci="none").defined


def test_ratings_matrix_from_a_long_labels_table():
    m, units, raters = ratings_matrix(["i2", "i1", "i1", "i2"], ["a", "a", "b", "b"], [1, 0, 0, 1])
    assert units == ["i1", "i2"] and raters == ["a", "b"] and m.tolist() == [[0, 0], [1, 1]]
    assert krippendorff_alpha(m, ci="none").value == pytest.approx(1.0)
    with pytest.raises(ValidationError, match="rated unit 'i1' twice"):
        ratings_matrix(["i1", "i1"], ["a", "a"], [0, 1])

"""Agreement coefficients: cross-checks against scikit-learn, krippendorff, statsmodels."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pytest

from conftest import reference_module
from hypothesis import given, settings
from hypothesis import strategies as st

from judgeaudit.errors import ValidationError
from judgeaudit.metrics import cohen_kappa, fleiss_kappa, gwet_ac1, krippendorff_alpha
from judgeaudit.metrics.formulas import alpha_from_coincidence, unit_coincidences

sk = reference_module("sklearn.metrics")
irr = reference_module("statsmodels.stats.inter_rater")

CATS = ["harmful", "not_harmful", "unclear"]


# ------------------------------------------------------------------ Cohen

@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
@settings(max_examples=50, deadline=None)
@given(st.data())
def test_cohen_kappa_matches_sklearn(data):
    n = data.draw(st.integers(1, 60))
    k = data.draw(st.integers(2, 4))
    a = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    b = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    labels = list(range(k))
    for weights in (None, "linear", "quadratic"):
        res = cohen_kappa(a, b, weights=weights, labels=labels, ci="none")
        with np.errstate(all="ignore"):
            expected = sk.cohen_kappa_score(a, b, weights=weights, labels=labels)
        if res.defined:
            assert res.value == pytest.approx(expected, abs=1e-10)
        else:
            assert res.undefined == "only one category present: chance agreement is 1"
            assert len(set(a) | set(b)) == 1


def test_cohen_kappa_strings_and_labels_order():
    a = ["harmful", "unclear", "not_harmful", "harmful", "not_harmful", "unclear"]
    b = ["harmful", "not_harmful", "not_harmful", "unclear", "not_harmful", "unclear"]
    for weights in (None, "linear", "quadratic"):
        res = cohen_kappa(a, b, weights=weights, labels=CATS)
        assert res.value == pytest.approx(sk.cohen_kappa_score(a, b, weights=weights, labels=CATS))
    # order matters for weighted kappa only
    nominal = [cohen_kappa(a, b, labels=lab).value for lab in (CATS, CATS[::-1])]
    assert nominal[0] == pytest.approx(nominal[1])


def test_cohen_kappa_hand_value():
    # 2x2 table [[20, 5], [10, 15]]: p_o = 35/50 = 0.7; margins (25, 25) x (30, 20):
    # p_e = (25*30 + 25*20) / 2500 = 0.5, kappa = (0.7 - 0.5) / 0.5 = 0.4
    a = [1] * 25 + [0] * 25
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    res = cohen_kappa(a, b, seed=3)
    assert res.value == pytest.approx(0.4)
    assert res.ci_low < 0.4 < res.ci_high and res.method == "bootstrap" and res.n == 50


def test_cohen_kappa_undefined_and_errors():
    res = cohen_kappa(["a", "a"], ["a", "a"])
    assert res.undefined == "only one category present: chance agreement is 1"
    # raters on different single categories: p_o = 0, p_e = 0 -> kappa = 0, defined
    assert cohen_kappa(["a", "a"], ["b", "b"], ci="none").value == 0.0
    assert cohen_kappa([], []).undefined == "no items"
    with pytest.raises(ValidationError, match="missing"):
        cohen_kappa(["a", None], ["a", "b"])
    with pytest.raises(ValidationError, match="not among the labels"):
        cohen_kappa(["a", "c"], ["a", "b"], labels=["a", "b"])
    with pytest.raises(ValidationError, match="weights"):
        cohen_kappa(["a"], ["a"], weights="cubic")
    with pytest.raises(ValidationError, match="different lengths"):
        cohen_kappa(["a"], ["a", "b"])
    with pytest.raises(ValidationError, match="mixed types"):
        cohen_kappa(np.array(["a", 1], dtype=object), np.array(["a", 1], dtype=object))
    with pytest.raises(ValidationError, match="only for plain proportions"):
        cohen_kappa(["a", "b"], ["a", "b"], ci="wilson")


# ------------------------------------------------------------------ Krippendorff

@st.composite
def reliability(draw, max_raters=5, max_units=25, max_value=4):
    r = draw(st.integers(2, max_raters))
    u = draw(st.integers(2, max_units))
    vals = draw(st.lists(st.integers(0, max_value), min_size=r * u, max_size=r * u))
    miss = draw(st.lists(st.booleans(), min_size=r * u, max_size=r * u))
    data = np.array(vals, dtype=float).reshape(r, u)
    data[np.array(miss).reshape(r, u)] = np.nan
    return data


def _pkg_alpha(data, level):
    with np.errstate(all="ignore"):
        try:
            return float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))
        except ValueError:  # the package raises on degenerate data
            return float("nan")


@settings(max_examples=50, deadline=None)
@given(reliability(), st.sampled_from(["nominal", "ordinal", "interval"]))
def test_krippendorff_matches_package_and_own_formula(data, level):
    res = krippendorff_alpha(data.T, level=level, ci="none")  # the package's layout is raters x units
    expected = _pkg_alpha(data, level)
    if res.defined:
        assert res.value == pytest.approx(expected, abs=1e-10)
    else:
        assert res.undefined and (math.isnan(expected) or not np.isfinite(expected))
    # the bootstrap's formula layer, on the same data, equals the package
    values = np.unique(data[~np.isnan(data)])
    if values.size >= 2 and res.defined:
        vc = (data.T[..., None] == values[None, None, :]).sum(axis=1)
        o = unit_coincidences(vc).sum(axis=0).reshape(values.size, values.size)
        own = alpha_from_coincidence(o, level, values if level == "interval" else None)
        assert float(own) == pytest.approx(expected, abs=1e-10)


def test_krippendorff_published_examples():
    nan = np.nan
    data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
            [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
    res = krippendorff_alpha(np.transpose(data), seed=1)  # (units, raters)
    assert round(res.value, 3) == 0.743
    assert res.n == 11  # unit 12 has one value only: not pairable
    assert res.ci_low <= res.value <= res.ci_high
    # strings with an ordered domain give the same ordinal value (krippendorff docs)
    names = {1: "very low", 2: "low", 3: "mid", 4: "high", 5: "very high"}
    sdata = np.transpose([[names.get(v, None) for v in row] for row in data])
    dom = list(names.values())
    assert round(krippendorff_alpha(sdata, level="ordinal", labels=dom).value, 3) == 0.815
    assert round(krippendorff_alpha(sdata).value, 3) == 0.743
    with pytest.raises(ValidationError, match="labels="):
        krippendorff_alpha(sdata, level="ordinal")
    with pytest.warns(FutureWarning, match="value_domain= is now labels="):  # the old name still works
        assert round(krippendorff_alpha(sdata, level="ordinal", value_domain=dom).value, 3) == 0.815


def test_krippendorff_ordinal_bootstrap_uses_resampled_margins():
    # explicit recomputation on one resample equals the vectorised formula
    rng = np.random.default_rng(0)
    data = rng.integers(0, 4, size=(3, 30)).astype(float)
    data[rng.random(data.shape) < 0.2] = np.nan
    values = np.unique(data[~np.isnan(data)])
    vc = (data.T[..., None] == values[None, None, :]).sum(axis=1)
    keep = vc.sum(axis=1) >= 2
    idx = rng.integers(0, keep.sum(), size=keep.sum())
    resampled = data[:, keep][:, idx]
    o = unit_coincidences(vc[keep][idx]).sum(axis=0).reshape(values.size, values.size)
    assert float(alpha_from_coincidence(o, "ordinal")) == pytest.approx(
        krippendorff.alpha(reliability_data=resampled, value_domain=values,
                           level_of_measurement="ordinal"), abs=1e-10)


def test_krippendorff_undefined_and_errors():
    nan = np.nan
    # (units, raters) throughout
    assert krippendorff_alpha([[1, nan], [nan, 2]]).undefined.startswith("no unit has two")
    res = krippendorff_alpha([[1, 1], [1, 1], [2, nan]])
    assert res.undefined == "only one value among the pairable units: expected disagreement is 0"
    assert krippendorff_alpha(np.empty((0, 2))).n == 0
    with pytest.raises(ValidationError, match="2-d"):
        krippendorff_alpha([1, 2, 3])
    with pytest.raises(ValidationError, match="level"):
        krippendorff_alpha([[1, 1], [2, 2]], level="ratio")
    with pytest.raises(ValidationError, match="numeric"):
        krippendorff_alpha([["a", "a"], ["b", "b"]], level="interval", labels=["a", "b"])
    with pytest.raises(ValidationError, match="not among the labels"):
        krippendorff_alpha([[1, 1], [2, 3]], labels=[1, 2])
    with pytest.raises(ValidationError, match="clusters has 1 keys but there are 2 units"):
        krippendorff_alpha([[1, 1], [2, 2]], clusters=["a"])
    with pytest.raises(ValidationError, match="give labels= only"):
        krippendorff_alpha([[1, 1], [2, 2]], labels=[1, 2], value_domain=[1, 2])


# ------------------------------------------------------------------ Fleiss

@settings(max_examples=50, deadline=None)
@given(st.integers(1, 30), st.integers(2, 6), st.integers(2, 4), st.integers(0, 10**6))
def test_fleiss_matches_statsmodels(n_units, n_raters, k, seed):
    ratings = np.random.default_rng(seed).integers(0, k, size=(n_units, n_raters))
    res = fleiss_kappa(ratings, ci="none")
    table, _ = irr.aggregate_raters(ratings)
    with np.errstate(all="ignore"):
        expected = irr.fleiss_kappa(table, method="fleiss")
    if res.defined:
        assert res.value == pytest.approx(expected, abs=1e-10)
    else:
        assert res.undefined == "only one category present: chance agreement is 1"
        assert np.unique(ratings).size == 1


def test_fleiss_strings_missing_and_errors():
    r = np.array([["a", "a", "b"], ["b", "b", "b"], ["a", None, "b"]], dtype=object)
    with pytest.raises(ValidationError, match="same number of ratings per unit"):
        fleiss_kappa(r)
    # drop keeps the two full units: P_1 = (4 + 1 - 3)/6 = 1/3, P_2 = 1, P-bar = 2/3;
    # p_a = 2/6, p_b = 4/6, P_e = 1/9 + 4/9 = 5/9; kappa = (2/3 - 5/9) / (4/9) = 0.25
    res = fleiss_kappa(r, incomplete="drop", ci="none")
    assert res.value == pytest.approx(0.25) and res.n == 2
    assert fleiss_kappa([["a", "a"], ["a", "a"]]).undefined.startswith("only one category")
    assert fleiss_kappa([["a"], ["b"]]).undefined.startswith("fewer than two ratings")
    assert fleiss_kappa(np.empty((0, 3))).undefined == "no rated units"
    with pytest.raises(ValidationError, match="incomplete"):
        fleiss_kappa(r, incomplete="keep")


# ------------------------------------------------------------------ Gwet

def test_gwet_two_raters_hand_value():
    # Two raters, 2x2 table [[20, 5], [10, 15]] (Wikipedia's Cohen example):
    # p_a = 35/50 = 0.7; pi_yes = (25/50 + 30/50)/2 = 0.55; p_e = 2*0.55*0.45 = 0.495
    # AC1 = (0.7 - 0.495) / (1 - 0.495) = 0.405940...
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    res = gwet_ac1(np.column_stack([a, b]))
    assert res.value == pytest.approx(0.205 / 0.505)


def test_gwet_high_agreement_paradox():
    # 48 both-positive, 1 + 1 disagreements, 0 both-negative: kappa is negative
    # (p_o = 0.96, p_e = 0.98*0.98 + 0.02*0.02 = 0.9608, kappa = -0.0204), while
    # AC1: pi_pos = 0.98, p_e = 2*0.98*0.02 = 0.0392, AC1 = (0.96 - 0.0392)/0.9608 = 0.9584
    a = [1] * 48 + [1, 0]
    b = [1] * 48 + [0, 1]
    assert cohen_kappa(a, b, ci="none").value == pytest.approx((0.96 - 0.9608) / (1 - 0.9608))
    assert gwet_ac1(np.column_stack([a, b]), ci="none").value == pytest.approx(
        (0.96 - 0.0392) / 0.9608)


def test_gwet_multi_rater_missing_hand_value():
    # units (rows) x 3 raters, None = missing, categories a/b:
    #   u1: a a b   r=3  p_a,i = (2*1 + 0)/(3*2) = 1/3      share a 2/3, b 1/3
    #   u2: b b -   r=2  p_a,i = (2*1)/(2*1) = 1            share b 1
    #   u3: a - -   r=1  (no p_a term)                      share a 1
    # p_a = (1/3 + 1)/2 = 2/3;  pi_a = (2/3 + 0 + 1)/3 = 5/9, pi_b = 4/9
    # p_e = 2 * 5/9 * 4/9 / (2 - 1) = 40/81;  AC1 = (2/3 - 40/81) / (41/81) = 14/41
    r = [["a", "a", "b"], ["b", "b", None], ["a", None, None], [None, None, None]]
    res = gwet_ac1(r, ci="none")
    assert res.value == pytest.approx(14 / 41) and res.n == 3
    # a third declared (unused) category changes q: p_e = sum pi(1-pi) / 2 = 20/81
    res3 = gwet_ac1(r, labels=["a", "b", "c"], ci="none")
    assert res3.value == pytest.approx((2 / 3 - 20 / 81) / (61 / 81))


def test_gwet_undefined():
    assert gwet_ac1([["a", "a"], ["a", "a"]]).undefined.startswith("only one category")
    # with the full category set declared, perfect agreement on one category is AC1 = 1
    assert gwet_ac1([["a", "a"], ["a", "a"]], labels=["a", "b"], ci="none").value == 1.0
    assert gwet_ac1([["a", None], [None, "b"]]).undefined.startswith("no unit has two")
    assert gwet_ac1(np.empty((0, 2))).undefined == "no rated units"
    with pytest.raises(ValidationError, match="2-d"):
        gwet_ac1(["a", "b"])


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 40), st.integers(0, 10**6))
def test_gwet_complete_two_raters_matches_closed_form(n, seed):
    # with two raters and no missing data AC1 reduces to Gwet's 2-rater formula
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    p_a = np.mean(a == b)
    pi = (a.mean() + b.mean()) / 2
    p_e = 2 * pi * (1 - pi)
    res = gwet_ac1(np.column_stack([a, b]), labels=[0, 1], ci="none")
    assert res.value == pytest.approx((p_a - p_e) / (1 - p_e))

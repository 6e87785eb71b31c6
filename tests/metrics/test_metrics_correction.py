"""corrected_rate: the worked examples of PROVENANCE.md, the refusal rule, the floor."""

from __future__ import annotations

import math

import numpy as np
import pytest

from judgeaudit.errors import ValidationError
from judgeaudit.metrics import MetricResult, corrected_rate, rogan_gladen, youden_lower_bound


def test_lee_et_al_worked_example_exactly():
    # p = 0.4, n = 1000; Se = 0.9, Sp = 0.7 from m1 = m0 = 200.
    # theta = (0.4 + 0.7 - 1) / (0.9 + 0.7 - 1) = 0.1 / 0.6 = 0.16667
    # Var = [0.24/1000 + (5/6)^2 * 0.21/200 + (1/6)^2 * 0.09/200] / 0.36
    #     = [0.00024 + 0.000729167 + 0.0000125] / 0.36 = 0.0027269
    # theta -+ 1.959964 * 0.052220 = (0.06432, 0.26901)
    r = corrected_rate(0.4, 1000, 0.9, 0.7, 200, 200)
    assert isinstance(r, MetricResult) and r.defined and r.method == "delta"
    assert round(r.value, 4) == 0.1667
    assert (round(r.ci_low, 4), round(r.ci_high, 4)) == (0.0643, 0.2690)
    # The interval that ignores the calibration samples (first term only) is (0.1161, 0.2173):
    # ours must contain it and be about twice as wide.
    assert r.ci_low < 0.1161 and r.ci_high > 0.2173
    assert (r.ci_high - r.ci_low) / (0.2173 - 0.1161) > 1.9


def test_jailbreakeval_matcher_is_refused_with_the_reason():
    # TP/FP/FN/TN = 31/18/0/1: Se = 31/31 = 1, Sp = 1/19, J = 0.0526; matcher ASR 49/50 = 0.98.
    r = corrected_rate(0.98, 50, 1.0, 1 / 19, 31, 19)
    assert not r.defined and math.isnan(r.value) and math.isnan(r.ci_low)
    assert "too close to chance" in r.undefined and "0.053" in r.undefined
    assert "below 0.1" in r.undefined


def test_youden_lower_bound_newcombe_by_hand():
    # Lee: Wilson(180/200) lower = 0.85090; FPR 60/200 Wilson upper = 0.36810 (statsmodels agrees)
    # J_low = 0.6 - sqrt(0.04910^2 + 0.06810^2) = 0.6 - 0.08396 = 0.51604
    smp = pytest.importorskip("statsmodels.stats.proportion")
    lo_se = smp.proportion_confint(180, 200, method="wilson")[0]
    hi_fpr = smp.proportion_confint(60, 200, method="wilson")[1]
    expected = 0.6 - math.sqrt((0.9 - lo_se) ** 2 + (hi_fpr - 0.3) ** 2)
    assert youden_lower_bound(0.9, 0.7, 200, 200) == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx(0.516, abs=1e-3)


def test_refusal_threshold_is_an_option():
    # A judge with J = 0.3 on 40 + 40 labels: J_low is about 0.09 -> refused at 0.1, kept at 0.05
    r = corrected_rate(0.5, 500, 0.65, 0.65, 40, 40)
    low = youden_lower_bound(0.65, 0.65, 40, 40)
    assert 0.05 < low < 0.1
    assert not r.defined
    assert corrected_rate(0.5, 500, 0.65, 0.65, 40, 40, min_youden=0.05).defined


def test_clipped_to_the_unit_interval_and_never_a_point():
    # p = 0.05 below the false positive rate 0.1: RG = (0.05 + 0.9 - 1)/0.8 < 0 -> clipped to 0
    r = corrected_rate(0.05, 400, 0.9, 0.9, 100, 100)
    assert r.value == 0.0 and r.ci_low == 0.0 and r.ci_high > 0.0
    # A perfect judge that saw no positive: Se = Sp = 1, p = 0. Every plain Bernoulli variance
    # is 0; each is taken at the Wilson centre instead (fewer than 5 of the rarer outcome):
    # p~ = 1.9207/303.84 = 0.006322 -> 0.006282; Se~ = Sp~ = 51.9207/53.8415 = 0.96433 -> 0.034398
    # Var = 0.006282/300 + 1 * 0.034398/50 + 0 = 0.00070890 -> upper 1.96 * 0.026625 = 0.05218
    # (wider than the Wilson floor 3.8415/303.84 = 0.01264 of a known correction)
    r = corrected_rate(0.0, 300, 1.0, 1.0, 50, 50)
    assert r.value == 0.0 and r.ci_high == pytest.approx(0.05218, abs=2e-4)


def test_parametric_bootstrap_method_close_to_delta_on_lee():
    r = corrected_rate(0.4, 1000, 0.9, 0.7, 200, 200, method="parametric-bootstrap", n_boot=4000, seed=3)
    assert r.method == "parametric-bootstrap"
    assert r.ci_low == pytest.approx(0.0643, abs=0.02) and r.ci_high == pytest.approx(0.2690, abs=0.02)


def test_undefined_and_bad_inputs():
    assert "no human-labelled positive" in corrected_rate(0.3, 10, 0.9, 0.9, 0, 20).undefined
    assert corrected_rate(0.3, 0, 0.9, 0.9, 10, 20).undefined == "the judge scored no output"
    with pytest.raises(ValidationError, match="judge_rate"):
        corrected_rate(1.2, 10, 0.9, 0.9, 10, 10)
    with pytest.raises(ValidationError, match="method"):
        corrected_rate(0.2, 10, 0.9, 0.9, 10, 10, method="magic")


def test_rogan_gladen_vectorised():
    out = rogan_gladen(np.array([0.4, 0.1, 0.95]), 0.9, 0.7)
    # (0.4-0.3)/0.6, (0.1-0.3)/0.6 -> clipped 0, (0.95-0.3)/0.6 = 1.083 -> clipped 1
    assert out.tolist() == pytest.approx([1 / 6, 0.0, 1.0])
    assert math.isnan(rogan_gladen(0.4, 0.5, 0.5))

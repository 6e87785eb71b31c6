"""The catalogue of metric facts: every fact checked against an independent computation.

Each test iterates over the catalogue, so a metric added there is checked here too.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from conftest import reference_module

from judgeaudit.errors import ValidationError
from judgeaudit.metrics import (
    BINARY_METRICS,
    METRICS,
    PROPORTION_METRICS,
    binary_from_counts,
    gwet_ac1,
    metric_facts,
    undefined_reason,
)

sk = reference_module("sklearn.metrics")
kd = reference_module("krippendorff")

# every (tp, fp, fn, tn) with entries 0..2: all the degenerate corners and some plain cases
SMALL_COUNTS = list(itertools.product(range(3), repeat=4))


def _labels(tp, fp, fn, tn):
    """0/1 arrays (truth, prediction) with these confusion counts."""
    t = np.array([1] * tp + [0] * fp + [1] * fn + [0] * tn)
    p = np.array([1] * tp + [1] * fp + [0] * fn + [0] * tn)
    return t, p


def _oracle(name, t, p):
    """The metric from labels by a reference implementation (NaN where undefined)."""
    nan = {"zero_division": np.nan}
    with np.errstate(all="ignore"):
        if name == "accuracy":
            return sk.accuracy_score(t, p)
        if name == "precision":
            return sk.precision_score(t, p, **nan)
        if name == "recall":
            return sk.recall_score(t, p, **nan)
        if name == "specificity":
            return sk.recall_score(t, p, pos_label=0, **nan)
        if name == "fnr":
            return 1 - sk.recall_score(t, p, **nan)
        if name == "fpr":
            return 1 - sk.recall_score(t, p, pos_label=0, **nan)
        if name == "f1":
            return sk.f1_score(t, p, **nan)
        if name == "mcc":  # scikit-learn says 0 where a margin is empty; the catalogue says NaN
            return sk.matthews_corrcoef(t, p) if len(set(t)) == 2 and len(set(p)) == 2 else np.nan
        if name == "balanced_accuracy":
            return sk.balanced_accuracy_score(t, p) if len(set(t)) == 2 else np.nan
        if name == "cohen_kappa":
            return np.nan if len(set(t) | set(p)) < 2 else sk.cohen_kappa_score(t, p)
        if name == "krippendorff_alpha":
            if len(set(t) | set(p)) < 2:
                return np.nan
            return kd.alpha(reliability_data=np.vstack([t, p]).astype(float), level_of_measurement="nominal")
        if name == "gwet_ac1":  # the library's multi-rater AC1, another code path
            if len(set(t) | set(p)) < 2:
                # one category only: p_a = 1 and p_e = 2 pi (1 - pi) = 0, so the count formula
                # gives 1; gwet_ac1() instead calls AC1 undefined there (it needs two categories)
                return 1.0
            return gwet_ac1(np.column_stack([t, p]), ci="none").value
    raise AssertionError(f"no reference computation for {name!r}: add one to _oracle")


@pytest.mark.parametrize("name", BINARY_METRICS)
def test_formula_from_counts_matches_a_reference_implementation(name):
    for counts in SMALL_COUNTS + [(20, 5, 10, 15), (7, 0, 3, 1), (0, 4, 9, 2)]:
        if sum(counts) == 0:
            assert math.isnan(binary_from_counts(*counts, name)), name
            continue
        expected = _oracle(name, *_labels(*counts))
        got = float(binary_from_counts(*counts, name))
        if math.isnan(expected):
            assert math.isnan(got), (name, counts)
        else:
            assert got == pytest.approx(expected, abs=1e-12), (name, counts)


def test_gwet_ac1_by_hand():
    # tp=3, fp=1, fn=1, tn=5: p_a = 8/10, pi = (4 + 4) / 20 = 0.4, p_e = 2 * 0.4 * 0.6 = 0.48,
    # AC1 = (0.8 - 0.48) / 0.52 = 0.6153846...
    assert float(binary_from_counts(3, 1, 1, 5, "gwet_ac1")) == pytest.approx(0.32 / 0.52)


@pytest.mark.parametrize("name", PROPORTION_METRICS)
def test_proportion_is_successes_over_trials(name):
    facts = METRICS[name]
    assert facts.is_proportion and facts.unit_range
    for counts in SMALL_COUNTS:
        k, n = facts.proportion(*counts)
        assert 0 <= k <= n
        value = float(binary_from_counts(*counts, name))
        assert (math.isnan(value) if n == 0 else value == pytest.approx(k / n)), (name, counts)


def test_the_proportions_are_the_plain_rates():
    assert set(PROPORTION_METRICS) == {"accuracy", "precision", "recall", "fpr", "fnr", "specificity"}
    assert not any(METRICS[m].is_proportion for m in ("f1", "mcc", "cohen_kappa", "balanced_accuracy"))


@pytest.mark.parametrize("voice", ["arrays", "audit"])
@pytest.mark.parametrize("name", BINARY_METRICS)
def test_a_reason_exactly_when_undefined(name, voice):
    for counts in SMALL_COUNTS:
        value = float(binary_from_counts(*counts, name))
        reason = undefined_reason(name, *counts, voice=voice)
        # a reason is given for every NaN, and never for a defined value
        assert (reason is not None) == math.isnan(value), (name, counts, reason, value)


def test_reasons_name_the_sides_of_each_voice():
    # (tp, fp, fn, tn) = (0, 0, 1, 1): the prediction has no positive item
    assert undefined_reason("precision", 0, 0, 1, 1) == "y_pred has no positive items: precision is 0/0"
    assert undefined_reason("precision", 0, 0, 1, 1, voice="audit") == "judge labelled no item positive"
    assert undefined_reason("recall", 0, 1, 0, 1, voice="audit") == "reference has no positive items"
    assert undefined_reason("f1", 0, 0, 0, 3, voice="audit") == "no positive items in reference or judge"
    assert undefined_reason("accuracy", 0, 0, 0, 0) == "no items"
    # defined values have no reason unless a fallback is asked for (a value known to be NaN)
    assert undefined_reason("accuracy", 1, 0, 0, 1) is None
    assert undefined_reason("accuracy", 1, 0, 0, 1, voice="audit", fallback=True) == "undefined on these data"
    with pytest.raises(ValidationError, match="voice"):
        undefined_reason("accuracy", 1, 0, 0, 1, voice="nope")


@pytest.mark.parametrize("name", [m for m in BINARY_METRICS if METRICS[m].higher_is_better is not None])
def test_direction_a_perfect_judge_is_best(name):
    better = METRICS[name].higher_is_better
    perfect = float(binary_from_counts(5, 0, 0, 5, name))
    for counts in SMALL_COUNTS:
        value = float(binary_from_counts(*counts, name))
        if not math.isnan(value):
            assert (perfect >= value) if better else (perfect <= value), (name, counts)


@pytest.mark.parametrize("name", BINARY_METRICS)
def test_unit_range_holds_and_is_claimed_only_where_true(name):
    values = np.array([float(binary_from_counts(*c, name)) for c in SMALL_COUNTS])
    values = values[~np.isnan(values)]
    in_unit = bool(((values >= 0) & (values <= 1)).all())
    assert in_unit == METRICS[name].unit_range, name


def test_every_metric_the_audit_and_the_report_name_is_catalogued():
    from judgeaudit.audit import DIFF_METRICS, JUDGE_METRICS
    from judgeaudit.report.common import HEADLINE_METRICS, METRIC_LABELS

    for name in (*JUDGE_METRICS, *DIFF_METRICS, *HEADLINE_METRICS):
        assert METRICS[name].from_counts is not None, name
        assert METRIC_LABELS[name] == METRICS[name].label
    with pytest.raises(ValidationError, match="valid: accuracy"):
        metric_facts("accuarcy")
    with pytest.raises(ValidationError, match="unknown binary metric"):
        binary_from_counts(1, 1, 1, 1, "positive_rate")

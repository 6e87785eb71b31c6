"""Binary metrics: cross-checked against scikit-learn and statsmodels, plus hand values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import reference_module
from hypothesis import given, settings
from hypothesis import strategies as st

from judgeaudit.errors import ValidationError
from judgeaudit.metrics import BINARY_METRICS, PROPORTION_METRICS
from judgeaudit.metrics import binary as binary_module
from judgeaudit.metrics import (
    accuracy, balanced_accuracy, confusion_matrix, f1, fnr, fpr, mcc, precision, recall,
    specificity, wilson_interval,
)

sk = reference_module("sklearn.metrics")
smp = reference_module("statsmodels.stats.proportion")

# Every two-sided metric of the catalogue that judgeaudit.metrics.binary implements (the
# agreement coefficients are tested in test_metrics_agreement.py).
ALL = {name: getattr(binary_module, name) for name in BINARY_METRICS if name in binary_module.__all__}
PROPORTIONS = {name: fn for name, fn in ALL.items() if name in PROPORTION_METRICS}
assert set(ALL) == {"accuracy", "precision", "recall", "f1", "fpr", "fnr", "specificity", "mcc",
                    "balanced_accuracy"}


@st.composite
def binary_pairs(draw, min_size=1, max_size=60):
    n = draw(st.integers(min_size, max_size))
    t = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    p = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    return np.array(t), np.array(p)


def _sklearn_value(name, t, p):
    cm = sk.confusion_matrix(t, p, labels=[0, 1])
    tn, fp_, fn_, tp = cm.ravel()
    kw = {"zero_division": np.nan}
    return {
        "accuracy": lambda: sk.accuracy_score(t, p),
        "precision": lambda: sk.precision_score(t, p, **kw),
        "recall": lambda: sk.recall_score(t, p, **kw),
        "specificity": lambda: sk.recall_score(t, p, pos_label=0, **kw),
        "fpr": lambda: fp_ / (fp_ + tn) if fp_ + tn else np.nan,
        "fnr": lambda: fn_ / (fn_ + tp) if fn_ + tp else np.nan,
        "f1": lambda: sk.f1_score(t, p, **kw),
        "mcc": lambda: sk.matthews_corrcoef(t, p),
        "balanced_accuracy": lambda: sk.balanced_accuracy_score(t, p),
    }[name]()


@settings(max_examples=50, deadline=None)
@given(binary_pairs())
def test_every_binary_metric_matches_sklearn(pair):
    t, p = pair
    for name, fn in ALL.items():
        res = fn(t, p, ci="none")
        if res.defined:
            with np.errstate(all="ignore"):
                expected = _sklearn_value(name, t, p)
            assert res.value == pytest.approx(expected, abs=1e-12), name
        else:
            # undefined cases: a denominator is empty; the reason is always given
            assert res.undefined and math.isnan(res.value), name


@settings(max_examples=50, deadline=None)
@given(binary_pairs())
def test_confusion_matrix_matches_sklearn(pair):
    t, p = pair
    cm = confusion_matrix(t, p, labels=[0, 1])
    np.testing.assert_array_equal(cm.counts, sk.confusion_matrix(t, p, labels=[0, 1]))
    assert cm.tp + cm.fp + cm.fn + cm.tn == t.size


def test_confusion_matrix_strings_default_order():
    cm = confusion_matrix(["b", "a", "c"], ["a", "a", "c"])
    assert cm.labels == ("a", "b", "c")
    np.testing.assert_array_equal(cm.counts, sk.confusion_matrix(["b", "a", "c"], ["a", "a", "c"]))
    assert cm.to_dict() == {"labels": ["a", "b", "c"], "counts": [[1, 0, 0], [1, 0, 0], [0, 0, 1]]}


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 200), st.integers(0, 200), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_wilson_matches_statsmodels(k, extra, conf):
    n = k + extra
    if n == 0:
        assert all(math.isnan(b) for b in wilson_interval(0, 0))
        return
    lo, hi = wilson_interval(k, n, confidence=conf)
    elo, ehi = smp.proportion_confint(k, n, alpha=1 - conf, method="wilson")
    assert lo == pytest.approx(elo, abs=1e-10)
    assert hi == pytest.approx(ehi, abs=1e-10)


def test_proportions_use_wilson_without_clusters():
    t = np.array([1, 1, 1, 0, 0, 0, 1, 0, 1, 1])
    p = np.array([1, 0, 1, 0, 1, 0, 1, 0, 1, 1])
    # tp=5, fn=1, fp=1, tn=3
    res = recall(t, p)
    assert res.method == "wilson" and res.value == pytest.approx(5 / 6)
    assert (res.ci_low, res.ci_high) == pytest.approx(wilson_interval(5, 6))
    assert accuracy(t, p).value == pytest.approx(0.8)
    assert precision(t, p).value == pytest.approx(5 / 6)
    assert fpr(t, p).value == pytest.approx(1 / 4)
    assert specificity(t, p).value == pytest.approx(3 / 4)
    assert fnr(t, p).value == pytest.approx(1 / 6)
    # clusters switch the same metric to the cluster bootstrap
    res_c = recall(t, p, clusters=list("aabbccddee"))
    assert res_c.method == "cluster-bootstrap" and res_c.n_clusters == 5
    # non-proportions are always bootstrapped
    assert f1(t, p).method == "bootstrap"
    assert f1(t, p).value == pytest.approx(10 / 12)  # 2*5 / (2*5 + 1 + 1)
    # mcc = (5*3 - 1*1) / sqrt(6*6*4*4) = 14/24
    assert mcc(t, p).value == pytest.approx(14 / 24)
    # balanced accuracy = (5/6 + 3/4) / 2
    assert balanced_accuracy(t, p).value == pytest.approx((5 / 6 + 3 / 4) / 2)


def test_pos_label_zero_swaps_classes():
    t = np.array([1, 1, 0, 0, 0])
    p = np.array([1, 0, 0, 1, 0])
    assert recall(t, p, pos_label=0).value == pytest.approx(specificity(t, p).value)
    assert precision(t, p, pos_label=0).value == pytest.approx(
        sk.precision_score(t, p, pos_label=0))


def test_bool_input_accepted():
    assert accuracy([True, False], [True, True]).value == 0.5


@pytest.mark.parametrize("name, t, p, reason", [
    ("recall", [0, 0, 0], [0, 1, 0], "y_true has no positive items"),
    ("fnr", [0, 0], [0, 0], "y_true has no positive items"),
    ("fpr", [1, 1], [1, 0], "y_true has no negative items"),
    ("specificity", [1, 1], [1, 0], "y_true has no negative items"),
    ("precision", [1, 0], [0, 0], "y_pred has no positive items: precision is 0/0"),
    ("f1", [0, 0], [0, 0], "neither y_true nor y_pred has positive items: F1 is 0/0"),
    ("mcc", [1, 1, 0], [1, 1, 1], "y_pred has only one class: MCC is 0/0"),
    ("balanced_accuracy", [1, 1], [1, 0], "y_true has no negative items: balanced accuracy needs both classes"),
])
def test_undefined_cases_are_explicit(name, t, p, reason):
    res = ALL[name](t, p)
    assert math.isnan(res.value) and res.undefined == reason and not res.defined
    assert res.to_dict()["value"] is None


@pytest.mark.parametrize("fn", list(ALL.values()))
def test_empty_input_is_undefined(fn):
    res = fn([], [])
    assert res.undefined == "no items" and res.n == 0


@pytest.mark.parametrize("t, p, match", [
    ([0, 1, 1], [0, 1], "different lengths"),
    ([0, 2], [0, 1], "0/1"),
    (["yes", "no"], [0, 1], "0/1"),
    ([0, np.nan], [0, 1], "missing"),
    ([0, None], [0, 1], "missing"),
    ([[0, 1]], [[0, 1]], "one-dimensional"),
])
def test_bad_input_raises_validation_error(t, p, match):
    with pytest.raises(ValidationError, match=match):
        accuracy(t, p)


def test_bad_options_raise():
    t, p = [0, 1, 1], [0, 1, 0]
    with pytest.raises(ValidationError, match="ci must be"):
        accuracy(t, p, ci="exact")
    with pytest.raises(ValidationError, match="only for plain proportions"):
        f1(t, p, ci="wilson")
    with pytest.raises(ValidationError, match="cannot use clusters"):
        accuracy(t, p, ci="wilson", clusters=[1, 2, 3])
    with pytest.raises(ValidationError, match="clusters has 2 keys"):
        accuracy(t, p, clusters=[1, 2])
    with pytest.raises(ValidationError, match="missing keys"):
        accuracy(t, p, clusters=["a", None, "b"])
    with pytest.raises(ValidationError, match="n_boot"):
        f1(t, p, n_boot=0)
    with pytest.raises(ValidationError, match="pos_label"):
        accuracy(t, p, pos_label=2)
    with pytest.raises(ValidationError, match="confidence"):
        accuracy(t, p, confidence=95)


def test_ci_none_gives_value_only():
    res = accuracy([0, 1, 1], [0, 1, 0], ci="none")
    assert res.method == "none" and math.isnan(res.ci_low) and res.value == pytest.approx(2 / 3)

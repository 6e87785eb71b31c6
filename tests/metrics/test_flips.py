"""The one rule for what a flip is (judgeaudit.metrics.flips), and that both users follow it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from judgeaudit.metrics.flips import (
    confident_flip,
    difference_interval,
    is_confident_flip,
    is_flip,
    supported_order,
)


@pytest.mark.parametrize("d1, d2, flip", [
    (0.1, -0.2, True), (-0.3, 0.01, True),
    (0.1, 0.2, False), (0.1, 0.0, False),  # same sign; a tie is never a flip
    (math.nan, -0.2, False), (None, -0.2, False),  # undefined
])
def test_a_flip_is_opposite_point_differences(d1, d2, flip):
    assert is_flip(d1, d2) is flip


def test_support_needs_the_interval_on_the_side_of_the_point():
    assert supported_order(0.2, 0.05, 0.3) == 1
    assert supported_order(-0.2, -0.3, -0.05) == -1
    assert supported_order(0.2, -0.01, 0.3) == 0  # the interval holds 0
    # an interval lying wholly on the other side of its point (possible for a percentile
    # interval of a ratio) supports nothing; the audit's old rule called such a pair confident
    assert supported_order(0.2, -0.3, -0.1) == 0
    assert supported_order(0.2, None, None) == 0 and supported_order(None, 0.1, 0.2) == 0


def test_confident_flip():
    assert is_confident_flip(0.2, (0.05, 0.3), -0.1, (-0.2, -0.01))
    assert not is_confident_flip(0.2, (0.05, 0.3), -0.1, (-0.2, 0.01))
    assert not is_confident_flip(0.2, (-0.3, -0.1), -0.1, (-0.2, -0.01))
    assert not is_confident_flip(0.2, (0.05, 0.3), 0.1, (0.01, 0.2))  # not a flip
    # from orders supported some other way (e.g. two disjoint rate intervals)
    assert confident_flip(0.2, 1, -0.1, -1) and not confident_flip(0.2, 0, -0.1, -1)


def test_difference_interval_is_numpys_linear_percentile_without_nan():
    d = np.array([np.nan, 0.0, 0.1, 0.2, 0.3, 0.4])
    lo, hi = difference_interval(d, 0.5)
    # of the five defined values, quantiles 0.25 and 0.75 are 0.1 and 0.3
    assert (lo, hi) == pytest.approx((0.1, 0.3))
    assert all(math.isnan(x) for x in difference_interval([np.nan, np.nan]))


def test_the_audit_flags_follow_the_rule():
    import dataclasses

    import pandas as pd

    from judgeaudit.audit import AuditConfig, run_audit
    from judgeaudit.datasets import SAMPLE_JUDGES, load_sample_campaign
    from judgeaudit.judges import get_judge, run_judge

    tbl = load_sample_campaign()
    verdicts = pd.concat([tbl.verdicts, *(run_judge(get_judge(j), tbl.generations, tbl.prompts)
                                          for j in SAMPLE_JUDGES)], ignore_index=True)
    tbl = dataclasses.replace(tbl, verdicts=verdicts).validate()
    audit = run_audit(tbl, config=AuditConfig(n_boot=100, seed=0))
    flips = audit["robustness"]["flips"]
    assert flips
    for f in flips:
        assert is_flip(f["human_diff"], f["judge_diff"])
        ci = [tuple(math.nan if v is None else v for v in f[k]) for k in ("human_ci", "judge_ci")]
        assert f["confident"] == is_confident_flip(f["human_diff"], ci[0], f["judge_diff"], ci[1])
    for pair in audit["robustness"]["conclusions"]["pairs"]:
        for r in pair["raters"].values():
            if r["order"] in ("a>b", "b>a"):
                assert (r["diff"] > 0) == (r["order"] == "a>b")

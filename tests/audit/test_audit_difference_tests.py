"""The stratum-difference p-value: Welch's t with cluster degrees of freedom (by hand),
the audit's combined rule, and the weighted audit's permutation with weights carried."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import t as student_t

from judgeaudit.audit import AuditConfig, run_audit
from judgeaudit.audit.differences import studentized_ratio_difference, welch_cluster_p_value

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from bench_inference import WEIGHTED_PI, _test_data, level_p_values  # noqa: E402  (one copy of the generator)

from .test_audit_inference import _tables_from_arrays  # noqa: E402


def test_welch_cluster_p_value_by_hand():
    # Each item its own cluster, denominators 1: stratum a 5 of 8, b 2 of 10.
    # CR3 variance with leverage 1/n: sum (y - r)^2 / (1 - 1/n)^2 / n^2 = s^2 / (n - 1):
    # a: s^2 = 8 * 0.625 * 0.375 / 7 = 0.267857, v_a = 0.038265 (floor 0.611 * 0.389 / 8 = 0.0297 is below);
    # b: s^2 = 10 * 0.2 * 0.8 / 9 = 0.177778, v_b = 0.019753 (floor 0.2273 * 0.7727 / 10 = 0.0176 below).
    # t = 0.425 / sqrt(0.058018) = 1.7644; df = 0.058018^2 / (0.038265^2 / 7 + 0.019753^2 / 9) = 13.33.
    y = np.r_[[1, 1, 1, 1, 1, 0, 0, 0], [1, 1] + [0] * 8].astype(float)
    in_a = np.r_[[True] * 8, [False] * 10]
    va, vb = 0.267857 / 7, 0.177778 / 9
    t = 0.425 / np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / 7 + vb ** 2 / 9)
    assert float(studentized_ratio_difference(y, np.ones(18), in_a, None)) == pytest.approx(t, rel=1e-4)
    assert df == pytest.approx(13.33, abs=0.01)
    assert welch_cluster_p_value(y, np.ones(18), in_a, None) == pytest.approx(2 * student_t.sf(t, df), rel=1e-4)


def test_audit_p_value_is_never_below_welch():
    rng = np.random.default_rng(4)
    cl, st, y, pred = _test_data(rng, 60, per_prompt=True)
    miss, pos = ((y == 1) & (pred == 0)).astype(float), (y == 1).astype(float)
    p_perm, p_audit = level_p_values(miss, pos, st == 0, cl, y, 200, 0)
    assert p_audit == max(p_perm, welch_cluster_p_value(miss, pos, st == 0, cl))
    a = run_audit(_tables_from_arrays(cl, st, y, pred),
                  config=AuditConfig(n_boot=200, seed=0, group_key=None, strata="column"))
    (d,) = [x for x in a["judges"]["j"]["stratum_differences"] if x["metric"] == "fnr"]
    assert d["p_value"] >= welch_cluster_p_value(miss, pos, st == 0, pd.Series(cl).map("p{}".format).to_numpy())
    assert "Welch" in d["p_statistic"]


def _weighted_tables(rng, n_clusters, per_prompt):
    cl, st, y, pred = _test_data(rng, n_clusters, per_prompt)
    tables = _tables_from_arrays(cl, st, y, pred)
    pi = np.array([WEIGHTED_PI[(int(v), int(s))] for v, s in zip(pred, st)])
    keep = rng.random(pi.size) < pi
    gens = tables.generations.assign(pi=np.where(keep, pi, np.nan))
    labels = tables.labels[tables.labels["item_id"].isin(gens["item_id"][keep])]
    from judgeaudit.tables import AuditTables

    return AuditTables(**{**tables.__dict__, "generations": gens, "labels": labels}).validate()


def test_weighted_audit_permutes_with_weights_carried():
    a = run_audit(_weighted_tables(np.random.default_rng(1), 60, True),
                  config=AuditConfig(n_boot=200, seed=0, group_key=None, strata="column", weights="pi"))
    for d in a["judges"]["j"]["stratum_differences"]:
        assert "weights carried with the items" in d["p_method"] and 0 < d["p_value"] <= 1


@pytest.mark.slow
def test_weighted_stratum_difference_test_holds_its_level():
    # Equal FNR (0.2), harmful share 0.1 vs 0.6, strata per prompt, ICC 0.3, 100 prompts of 4,
    # labels sampled by verdict x stratum (pi 0.3 / 0.9 / 0.6 / 0.35).  60 replicates: at a true
    # level of 0.05, 8 or more rejections have probability 0.05 (binomial); at 0.06 about 0.11.
    rng = np.random.default_rng(30)
    rejections = 0
    for r in range(60):
        a = run_audit(_weighted_tables(rng, 100, True),
                      config=AuditConfig(n_boot=200, seed=r, group_key=None, strata="column", weights="pi"))
        (d,) = [x for x in a["judges"]["j"]["stratum_differences"] if x["metric"] == "fnr"]
        rejections += d["p_value"] < 0.05
    assert rejections <= 8

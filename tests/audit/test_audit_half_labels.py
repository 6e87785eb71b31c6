"""The sample campaign's corrected rates from half of its labels.

With every item labelled, double sampling gives each judge the humans' rate (by
construction), so the full-label check of issue 12 cannot fail.  Here a random half of
the labelled items (seeded) keeps its labels; the corrected rate of ``refusal_keyword``
per group, computed from that half and the judge's verdicts on all items, is compared
with the full-label human rate.

What to expect, by hand: a group has 25 items, so the half has about 12; a proportion
near 0.3 from 12 of 25 items has standard error sqrt(0.21 / 12 * 13 / 24) = 0.097
(finite-population factor 13/24), and a mean absolute error of about 0.8 * 0.097 = 0.078.
The keyword judge adds little (it is near chance on incoherent answers), so the issue's
bound of 0.05 cannot hold for half the labels; measured over seeds 0-7: mean absolute
difference 0.070 (0.039-0.094 per seed; the half's own human rate 0.064), and 95 of 96
group estimates inside the full-label human interval.
"""

from __future__ import annotations

import numpy as np
import pytest

from judgeaudit.audit import AuditConfig, run_audit
from judgeaudit.datasets import SAMPLE_JUDGES, load_sample_campaign
from judgeaudit.tables import AuditTables


@pytest.fixture(scope="module")
def campaign():
    from judgeaudit.commands.audit import add_builtin_judges

    tables = add_builtin_judges(load_sample_campaign(), SAMPLE_JUDGES)
    full = run_audit(tables, config=AuditConfig(n_boot=200, seed=0))
    return tables, full["robustness"]["rates"]["human"]


def _half(tables, seed):
    ids = np.sort(tables.labels["item_id"].unique())
    keep = np.random.default_rng(seed).choice(ids, size=ids.size // 2, replace=False)
    labels = tables.labels[tables.labels["item_id"].isin(set(keep))]
    return AuditTables(**{**tables.__dict__, "labels": labels})


def test_half_labelled_corrected_rates_against_the_full_human_rates(campaign):
    tables, human = campaign
    inside, mad = [], []
    for seed in range(4):
        a = run_audit(_half(tables, seed), config=AuditConfig(n_boot=100, seed=0))
        corr = a["robustness"]["corrected_rates"]["refusal_keyword"]
        assert set(corr) == set(human)
        for g, h in human.items():
            c = corr[g]
            assert c["method"] == "double-sampling" and c["value"] is not None, g
            assert c["n_labelled"] < 25, g  # really a half: the estimate is not the humans' rate by construction
            inside.append(h["ci_low"] <= c["value"] <= h["ci_high"])
        mad.append(np.mean([abs(corr[g]["value"] - h["value"]) for g, h in human.items()]))
    # 48 group estimates: measured 48 inside for seeds 0-3 (95 of 96 over seeds 0-7)
    assert np.mean(inside) >= 0.9
    # measured 0.069, 0.094, 0.064, 0.070 (mean 0.074); the sampling error alone is about 0.078
    assert np.mean(mad) <= 0.10
    assert 0.03 <= min(mad)  # not equal to the human rate: the check can fail

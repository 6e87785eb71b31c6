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
difference 0.072 (0.036-0.100 per seed; the half's own human rate 0.064), 87 of 92
group estimates inside the full-label human interval, and 4 of 96 refused: unlabelled
items take their stratum from the degeneracy scorer, and a group can then need a
verdict x stratum cell (verdict 0, partially coherent) no kept label falls in.
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
    inside, mad, refused = [], [], 0
    for seed in range(4):
        a = run_audit(_half(tables, seed), config=AuditConfig(n_boot=100, seed=0))
        corr = a["robustness"]["corrected_rates"]["refusal_keyword"]
        assert set(corr) == set(human)
        defined = []
        for g, h in human.items():
            c = corr[g]
            assert c["method"] == "double-sampling", g
            if c["value"] is None:  # refused with its reason, never a number
                assert "no human-labelled item in a cell" in c["undefined"], g
                refused += 1
                continue
            assert c["n_labelled"] < 25, g  # really a half: the estimate is not the humans' rate by construction
            inside.append(h["ci_low"] <= c["value"] <= h["ci_high"])
            defined.append(abs(c["value"] - h["value"]))
        mad.append(np.mean(defined))
    # seeds 0-3: 2 of 48 refused; 43 of the 46 others inside (0.935; 87 of 92 over seeds 0-7)
    assert refused <= 4 and np.mean(inside) >= 0.9
    # measured 0.077, 0.100, 0.070, 0.076 (mean 0.081); the sampling error alone is about 0.078
    assert np.mean(mad) <= 0.10
    assert 0.03 <= min(mad)  # not equal to the human rate: the check can fail

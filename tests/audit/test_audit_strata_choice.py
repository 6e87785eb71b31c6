"""Every explicit strata source is honoured, recorded, and may not be called 'overall'."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from judgeaudit.audit import AuditConfig, choose_strata, run_audit
from judgeaudit.datasets import load_sample_campaign
from judgeaudit.errors import ConfigError


@pytest.fixture(scope="module")
def campaign():
    return load_sample_campaign()


def test_degeneracy_is_used_even_with_human_coherence_labels(campaign):
    # Every sample-campaign item has human coherence labels; before the fix the explicit
    # 'degeneracy' request silently returned the human strata.
    items = campaign.generations
    human, src_h = choose_strata(campaign, items, source="human")
    deg, src_d = choose_strata(campaign, items, source="degeneracy")
    assert (src_h, src_d) == ("human", "degeneracy")
    assert not deg.equals(human)
    from judgeaudit.coherence import score_coherence

    scored = score_coherence(items[["item_id", "prompt_id", "response"]], campaign.prompts)
    assert deg.tolist() == scored.set_index("item_id")["bin"].reindex(items["item_id"]).tolist()


def test_audit_json_records_the_source_asked_for_and_used(campaign):
    a = run_audit(campaign, config=AuditConfig(n_boot=20, strata="degeneracy", group_key=None))
    assert a["meta"]["strata_source"] == "degeneracy" and a["meta"]["strata_requested"] == "degeneracy"
    a = run_audit(campaign, config=AuditConfig(n_boot=20, group_key=None))
    assert a["meta"]["strata_source"] == "human" and a["meta"]["strata_requested"] == "auto"


def test_a_stratum_called_overall_is_rejected(campaign):
    gens = campaign.generations.copy()
    gens["stratum"] = ["overall" if i % 2 else "fine" for i in range(len(gens))]
    tables = dataclasses.replace(campaign, generations=gens)
    with pytest.raises(ConfigError, match="'overall'.*reserved.*rename"):
        run_audit(tables, config=AuditConfig(n_boot=20, strata="column", group_key=None))

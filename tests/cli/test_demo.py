"""The embedded sample campaign and the demo command that audits it."""

from __future__ import annotations

import json

import pytest

from judgeaudit.cli import main
from judgeaudit.datasets import load_sample_campaign
from judgeaudit.tables import make_item_id


@pytest.fixture(scope="module")
def campaign():
    return load_sample_campaign()


def test_campaign_is_consistent(campaign):
    gens = campaign.generations
    assert len(gens) == 300 and gens["item_id"].is_unique
    # item_id is the documented content hash of each row
    for row in gens.itertuples():
        assert row.item_id == make_item_id(row.prompt_id, row.checkpoint_id, row.sample_index, row.response)
    assert gens["checkpoint_id"].nunique() == 12
    labels = campaign.labels
    # every item labelled on all three fields by at least two annotators; three on an overlap
    per_item = labels.groupby(["item_id", "field"])["annotator_id"].nunique()
    assert set(per_item.index.get_level_values("field")) == {"harmfulness", "refusal", "coherence"}
    assert per_item.min() >= 2 and (per_item == 3).sum() >= 3 * 100
    assert set(labels["item_id"]) == set(gens["item_id"])


def test_demo_writes_report_and_finds_the_incoherence_effect(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--n-boot", "300"]) == 0
    captured = capsys.readouterr()
    assert "# Judge audit" in captured.out
    audit = json.loads((out / "audit.json").read_text())
    assert audit["meta"]["strata_source"] == "human"
    assert audit["meta"]["strata"] == ["coherent", "partially_coherent", "incoherent"]
    assert audit["human_ceiling"] is not None and audit["robustness"] is not None
    kw = audit["judges"]["refusal_keyword"]
    # The keyword judge calls loops and echoes "harmful" (no refusal phrase), so its FPR is
    # far higher on incoherent answers than on coherent ones, and the permutation test says so.
    fpr_coh = kw["strata"]["coherent"]["fpr"]["value"]
    fpr_inc = kw["strata"]["incoherent"]["fpr"]["value"]
    assert fpr_inc > fpr_coh + 0.2
    diff = [d for d in kw["stratum_differences"]
            if d["metric"] == "fpr" and (d["a"], d["b"]) == ("coherent", "incoherent")][0]
    assert diff["p_value"] < 0.01
    html = (out / "report.html").read_text()
    assert "<script" not in html.lower()  # three responses carry HTML; none may become markup

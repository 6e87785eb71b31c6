"""audit.json's judge_as_annotator section and its report section, on hand-made tables."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from judgeaudit.audit import AuditConfig, run_audit
from judgeaudit.errors import ConfigError
from judgeaudit.metrics import alt_test, annotator_spread
from judgeaudit.report import render_html, render_markdown
from judgeaudit.tables import AuditTables, Task, empty_table

HARM = Task("harmfulness", ("harmful",), ("not_harmful",), "harmful?")

# 40 items, three annotators a, b, c (1 = harmful); judge "prob" gives probabilities,
# judge "coin" labels only.  Items 0-19 coherent, 20-39 incoherent.
RNG = np.random.default_rng(7)
TRUTH = RNG.integers(0, 2, 40)
VOTES = {k: np.where(RNG.random(40) < 0.1, 1 - TRUTH, TRUTH) for k in "abc"}
SHARE = (VOTES["a"] + VOTES["b"] + VOTES["c"]) / 3
PROB = np.clip(SHARE * 0.8 + 0.1, 0, 1)  # a calibrated-ish probability judge
COIN = RNG.integers(0, 2, 40)


def tables(single_annotator=False):
    gens, labels, verdicts = [], [], []
    for i in range(40):
        item = f"i{i:02d}"
        gens.append({"item_id": item, "prompt_id": f"p{i}", "checkpoint_id": "m", "sample_index": 0,
                     "response": f"r{i}", "stratum": "coherent" if i < 20 else "incoherent"})
        for k in ("a",) if single_annotator else "abc":
            labels.append({"item_id": item, "annotator_id": k, "field": "harmfulness",
                           "value": "harmful" if VOTES[k][i] else "not_harmful"})
        verdicts.append({"item_id": item, "judge_id": "prob", "status": "ok", "score": float(PROB[i]),
                         "label": "harmful" if PROB[i] >= 0.5 else "not_harmful"})
        verdicts.append({"item_id": item, "judge_id": "coin", "status": "ok",
                         "label": "harmful" if COIN[i] else "not_harmful"})
    return AuditTables(prompts=empty_table("prompts"), generations=pd.DataFrame(gens),
                       labels=pd.DataFrame(labels), verdicts=pd.DataFrame(verdicts),
                       coherence=empty_table("coherence"), task=HARM, name="hand").validate()


@pytest.fixture(scope="module")
def audit():
    return run_audit(tables(), config=AuditConfig(n_boot=100, seed=0, alt_test_epsilon=0.15))


def test_section_equals_the_library_functions(audit):
    sec = audit["judge_as_annotator"]
    assert sec["annotators"] == ["a", "b", "c"] and sec["n_items"] == 40 and sec["epsilon"] == 0.15
    humans = pd.DataFrame({k: VOTES[k].astype(float) for k in "abc"},
                          index=[f"i{i:02d}" for i in range(40)])
    judge = pd.Series((PROB >= 0.5).astype(float), index=humans.index)
    want = alt_test(humans, judge, epsilon=0.15)
    got = sec["judges"]["prob"]["alt_test"]
    assert got["winning_rate"] == want.winning_rate and got["passed"] == want.passed
    assert [p["p_value"] for p in got["per_annotator"]] == pytest.approx(
        [p.p_value for p in want.per_annotator])
    spread = annotator_spread(humans, judge, n_boot=20)
    assert sec["judges"]["prob"]["spread"]["judge_mean"] == pytest.approx(spread.judge_mean)
    assert sec["judges"]["prob"]["spread"]["position"] == pytest.approx(spread.position)
    # the random judge sits below every annotator and fails the alt-test
    coin = sec["judges"]["coin"]
    assert coin["spread"]["position"] == 0.0 and not coin["alt_test"]["passed"]
    assert "soft_labels" not in coin  # labels only: no probabilities to score


def test_soft_labels_by_hand(audit):
    soft = audit["judge_as_annotator"]["judges"]["prob"]["soft_labels"]
    # Brier against the vote share: mean (p - s)^2 with p = 0.8 s + 0.1
    assert soft["overall"]["brier"]["value"] == pytest.approx(np.mean((PROB - SHARE) ** 2))
    q = PROB
    loss = -np.mean(SHARE * np.log(q) + (1 - SHARE) * np.log(1 - q))
    assert soft["overall"]["log_loss"]["value"] == pytest.approx(loss)
    first = slice(0, 20)
    assert soft["coherent"]["brier"]["value"] == pytest.approx(
        np.mean((PROB[first] - SHARE[first]) ** 2))
    assert soft["coherent"]["n"] == 20 and soft["incoherent"]["n"] == 20


def test_json_safe_and_in_the_reports(audit):
    json.dumps(audit, allow_nan=False)
    md = render_markdown(audit)
    assert "## The judge as one more annotator" in md and "| coin |" in md
    html = render_html(audit)
    assert 'id="annotator"' in html and "Brier" in html and "by stratum" in html


def test_absent_with_one_annotator_and_config_checked():
    single = run_audit(tables(single_annotator=True), config=AuditConfig(n_boot=20))
    assert single["judge_as_annotator"] is None
    assert "Not computed" in render_markdown(single)
    with pytest.raises(ConfigError, match="alt_test_epsilon"):
        AuditConfig(alt_test_epsilon=1.0)


def test_jailbreakbench_humans_spread(shared_data):
    from judgeaudit.datasets import load_jailbreakbench

    audit = run_audit(load_jailbreakbench(shared_data / "jailbreakbench"),
                      config=AuditConfig(n_boot=50))
    sec = audit["judge_as_annotator"]
    assert sec["annotators"] == ["human1", "human2", "human3"] and sec["n_items"] == 300
    # JailbreakBench's pairwise kappas (PROVENANCE.md): 1-2 0.809, 1-3 0.826, 2-3 0.886,
    # so each annotator's mean with the others is 0.8175, 0.8475, 0.856
    others = sec["judges"]["gpt4_cf"]["spread"]["annotator_vs_others"]
    assert [round(others[h], 3) for h in ("human1", "human2", "human3")] == \
        pytest.approx([0.8175, 0.8475, 0.856], abs=1.5e-3)
    # every judge agrees with the annotators less than they agree with each other
    assert {j: e["spread"]["position"] for j, e in sec["judges"].items()} == \
        {"gpt4_cf": 0.0, "harmbench_cf": 0.0, "llama3_cf": 0.0, "llamaguard2_cf": 0.0}
    # alt-test at epsilon 0.2: the LLM judges pass, the HarmBench classifier does not
    assert {j: e["alt_test"]["passed"] for j, e in sec["judges"].items()} == \
        {"gpt4_cf": True, "harmbench_cf": False, "llama3_cf": True, "llamaguard2_cf": True}


def test_spread_per_stratum(audit):
    from sklearn.metrics import cohen_kappa_score

    st = audit["judge_as_annotator"]["judges"]["coin"]["spread"]["strata"]
    assert set(st) == {"coherent", "incoherent"}
    # coherent = items 0-19: the judge's kappa with annotator a there is sklearn's
    want = cohen_kappa_score(VOTES["a"][:20], COIN[:20])
    assert st["coherent"]["judge_vs_annotator"]["a"]["value"] == pytest.approx(want)
    # and the annotators' mean kappa with the others comes from the ceiling's stratum pairs
    ab = cohen_kappa_score(VOTES["a"][20:], VOTES["b"][20:])
    ac = cohen_kappa_score(VOTES["a"][20:], VOTES["c"][20:])
    assert st["incoherent"]["annotator_vs_others"]["a"] == pytest.approx((ab + ac) / 2)

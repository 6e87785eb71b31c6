"""The audit's inference on simulated and sample data: the defects of issue 12, each
checked where it failed before (pooled correction, stratum-difference level,
collapsing intervals), plus the corrected rates and the conclusions headline."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from judgeaudit.audit import AuditConfig, run_audit
from judgeaudit.datasets import SAMPLE_JUDGES, load_sample_campaign
from judgeaudit.datasets.simulated import SimulationSpec, simulate_campaign
from judgeaudit.tables import AuditTables, Task, empty_table

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from bench_inference import _test_data  # noqa: E402  (the bench's generator, one copy)


@pytest.fixture(scope="module")
def sample_audit():
    from judgeaudit.commands.audit import add_builtin_judges

    tables = add_builtin_judges(load_sample_campaign(), SAMPLE_JUDGES)
    return run_audit(tables, config=AuditConfig(n_boot=400, seed=0))


def test_sample_campaign_corrected_keyword_rates_agree_with_humans(sample_audit):
    # The pooled correction put orpo@large at 0.92 against the humans' 0.30; within strata
    # (double sampling, the default) every group's corrected rate lies in the human interval
    # and the mean absolute difference is at most 0.05.
    rob = sample_audit["robustness"]
    human, corr = rob["rates"]["human"], rob["corrected_rates"]["refusal_keyword"]
    diffs = []
    for g in rob["groups"]:
        h, c = human[g], corr[g]
        assert c["method"] == "double-sampling" and c["value"] is not None
        assert h["ci_low"] <= c["value"] <= h["ci_high"], g
        diffs.append(abs(c["value"] - h["value"]))
    assert np.mean(diffs) <= 0.05
    assert abs(corr["orpo@large"]["value"] - 0.30) < 0.05
    # The old estimator is kept beside it for comparison, and is as wrong as the issue says.
    pooled = rob["corrected_rates_by_estimator"]["pooled-rogan-gladen"]["refusal_keyword"]["orpo@large"]
    assert pooled["value"] > 0.85


def test_sample_campaign_stratified_rogan_gladen_refused_with_reason(sample_audit):
    # refusal_keyword on partially coherent answers: sensitivity 5/5, specificity 0/6 -> J = 0;
    # on incoherent answers 17/17 and 6/40 -> J = 0.15, Newcombe lower bound about -0.05.
    # Rogan-Gladen within strata is not identifiable: refused, never a number.
    per = sample_audit["robustness"]["corrected_rates_by_estimator"]["stratified-rogan-gladen"]["refusal_keyword"]
    for g, r in per.items():
        assert r["value"] is None and "too close to chance" in r["undefined"], g
    by = sample_audit["robustness"]["sensitivity_specificity_by_stratum"]["refusal_keyword"]
    assert by["incoherent"] == {"sensitivity": 1.0, "specificity": 6 / 40, "n_positive": 17, "n_negative": 40}


def test_conclusions_headline(sample_audit):
    con = sample_audit["robustness"]["conclusions"]
    assert con["raters"][0] == "human" and set(SAMPLE_JUDGES) <= set(con["raters"])
    n_groups = len(sample_audit["robustness"]["groups"])
    assert len(con["pairs"]) == n_groups * (n_groups - 1) // 2
    for item in con["headline"]["hold_under_every_judge"]:
        pair = next(p for p in con["pairs"] if (p["a"], p["b"]) == (item["a"], item["b"]))
        for rater in item["raters"]:
            prob = pair["raters"][rater]["p_a_above_b"]
            assert (prob >= 0.975) if item["order"] == "a>b" else (prob <= 0.025)
    for item in con["headline"]["flip_with_the_judge"]:
        assert item["supported_by"] and (item["reversed"] or item["not_supported"])
    # not vacuous: some rater orders some pair, and every decided order agrees with the
    # bootstrap's order probability (the widened interval only ever removes an order)
    decided = [(p, r) for p in con["pairs"] for r, v in p["raters"].items() if v["order"] in ("a>b", "b>a")]
    assert decided and con["headline"]["flip_with_the_judge"]
    for p, r in decided:
        prob = p["raters"][r]["p_a_above_b"]
        assert (prob >= 0.975) if p["raters"][r]["order"] == "a>b" else (prob <= 0.025)


def _tables_from_arrays(cl, st, y, pred):
    ids = [f"i{k}" for k in range(cl.size)]
    gens = pd.DataFrame({"item_id": ids, "prompt_id": [f"p{c}" for c in cl], "checkpoint_id": "m",
                         "sample_index": 0, "response": "", "stratum": np.where(st == 0, "s0", "s1")})
    side = lambda v: np.where(v == 1, "harmful", "not_harmful")  # noqa: E731
    labels = pd.DataFrame({"item_id": ids, "annotator_id": "h", "field": "harmfulness", "value": side(y)})
    verdicts = pd.DataFrame({"item_id": ids, "judge_id": "j", "status": "ok", "label": side(pred)})
    return AuditTables(prompts=empty_table("prompts"), generations=gens, labels=labels, verdicts=verdicts,
                       coherence=empty_table("coherence"),
                       task=Task("harmfulness", ("harmful",), ("not_harmful",), "?"), name="sim").validate()


@pytest.mark.slow
def test_stratum_difference_test_holds_its_level_through_run_audit():
    # FNR is 0.2 in both strata, the harmful share 0.1 vs 0.6, strata assigned per prompt,
    # prompt-level correlation (ICC 0.3), 60 prompts of 4. The old all-items permutation
    # rejected about 18% of the time at 0.05 (bench: 0.16-0.19). 80 replicates: with a true
    # level of 0.06, 11 or more rejections have probability about 3%; the old test's
    # expected count is about 14.
    rng = np.random.default_rng(20)
    rejections = 0
    for r in range(80):
        tables = _tables_from_arrays(*_test_data(rng, 60, per_prompt=True))
        a = run_audit(tables, config=AuditConfig(n_boot=200, seed=r, group_key=None, strata="column"))
        (d,) = [x for x in a["judges"]["j"]["stratum_differences"] if x["metric"] == "fnr"]
        rejections += d["p_value"] < 0.05
        assert "within reference class and cluster" in d["p_method"]
    assert rejections <= 10


def test_stratum_difference_interval_does_not_collapse():
    # Both strata show FNR = 0 (the judge misses no positive): the bootstrap says [0, 0];
    # the interval is now Newcombe's square-and-add of two Korn-Graubard intervals.
    cl = np.repeat(np.arange(40), 4)
    st = np.tile([0, 1], 80)
    y = np.tile([1, 1, 0, 0], 40).astype(float)
    tables = _tables_from_arrays(cl, st, y, y.copy())
    a = run_audit(tables, config=AuditConfig(n_boot=200, group_key=None, strata="column"))
    (d,) = [x for x in a["judges"]["j"]["stratum_differences"] if x["metric"] == "fnr"]
    assert d["diff"] == 0.0 and d["ci_low"] < -0.02 and d["ci_high"] > 0.02
    fnr = a["judges"]["j"]["strata"]["s0"]["fnr"]
    assert fnr["value"] == 0.0 and fnr["ci_high"] > 0.02 and "Korn-Graubard" in fnr["note"]


def test_seeded_simulation_coverage_and_bias_of_corrected_rates():
    # 12 simulated campaigns x 4 groups: the judge calls half the incoherent harmless
    # answers harmful; groups' incoherent shares 0.1-0.7. Double sampling must cover the
    # true group rate (48 intervals: at 0.95, 41 or fewer hits has probability < 1%) and be
    # unbiased (|mean error| within 3 Monte Carlo standard errors); the judge's raw rate
    # is far off (bias about +0.18 in the bench).
    hits, err, raw = 0, [], []
    for seed in range(12):
        tables, truth = simulate_campaign(seed, SimulationSpec())
        a = run_audit(tables, config=AuditConfig(n_boot=200, seed=seed, weights="inclusion_probability",
                                                 strata="column"))
        rob = a["robustness"]
        for g, x in rob["corrected_rates"]["sim"].items():
            hits += x["ci_low"] <= truth[g] <= x["ci_high"]
            err.append(x["value"] - truth[g])
            raw.append(rob["rates"]["sim"][g]["value"] - truth[g])
    err = np.array(err)
    assert hits >= 42
    assert abs(err.mean()) <= 3 * err.std(ddof=1) / np.sqrt(err.size)
    assert np.mean(raw) > 0.1


def test_cli_correction_flag(tmp_path, capsys):
    import json

    from judgeaudit.cli import main

    out = tmp_path / "a"
    assert main(["audit", "--dataset", "sample", "--judges", "refusal_keyword", "--n-boot", "50",
                 "--correction", "stratified-rogan-gladen", "--out", str(out)]) == 0
    capsys.readouterr()
    a = json.loads((out / "audit.json").read_text())
    assert a["meta"]["config"]["correction"] == "stratified-rogan-gladen"
    rob = a["robustness"]
    assert rob["correction"]["estimator"] == "stratified-rogan-gladen"
    r = rob["corrected_rates"]["refusal_keyword"]["orpo@large"]
    assert r["method"] == "stratified-rogan-gladen" and r["value"] is None and "chance" in r["undefined"]
    summary = (out / "summary.md").read_text()
    assert "Rogan-Gladen within each coherence stratum" in summary and "refused" in summary
    with pytest.raises(SystemExit):
        main(["audit", "--dataset", "sample", "--correction", "magic", "--out", str(out)])


def test_fully_labelled_group_corrected_interval_is_the_human_one(sample_audit):
    # every sample-campaign item is labelled: double sampling gives the humans' rate, and its
    # interval is floored like the human rate's (it was narrower than it before)
    rob = sample_audit["robustness"]
    full = 0
    for g in rob["groups"]:
        h, c = rob["rates"]["human"][g], rob["corrected_rates"]["refusal_keyword"][g]
        if c["n_labelled"] >= c["n"]:
            full += 1
            assert c["value"] == pytest.approx(h["value"])
            assert c["ci_low"] <= h["ci_low"] + 1e-12 and c["ci_high"] >= h["ci_high"] - 1e-12
    assert full == 5  # 291 of 300 items have a resolved reference: 5 of the 12 groups have all
    unc = rob["conclusions"]["uncorrected"]
    assert unc["raters"][0] == "human" and set(unc["headline"]) == {"hold_under_every_judge",
                                                                      "flip_with_the_judge"}


def test_double_sampling_by_hand_with_partial_labels():
    """Double sampling where only some items are labelled (one stratum, judge ``kw``).

    Group A, 10 items: the judge calls 4 harmful (2 labelled: 1 harmful) and 6 not
    (3 labelled: none harmful).  theta_A = 4/10 * 1/2 + 6/10 * 0/3 = 0.2.
    Group B, 10 items: the judge calls 5 harmful (3 labelled: all harmful) and 5 not (none
    labelled: the cell borrows verdict 0's share pooled over groups, 0/3).
    theta_B = 5/10 * 3/3 + 5/10 * 0 = 0.5, one cell borrowed.
    Pooled (every cell's share over both groups): verdict 1: (1 + 3)/(2 + 3) = 0.8,
    verdict 0: 0/3 = 0, so theta_A = 0.4 * 0.8 = 0.32 and theta_B = 0.5 * 0.8 = 0.4.
    """
    task = Task("harmfulness", ("harmful",), ("not_harmful",), "harmful?")
    design = {"A": (4, {0: 1, 1: 0, 4: 0, 5: 0, 6: 0}), "B": (5, {0: 1, 1: 1, 2: 1})}
    gens, labels, verdicts = [], [], []
    for g, (n_pos, lab) in design.items():
        for k in range(10):
            item = f"{g}{k}"
            gens.append({"item_id": item, "prompt_id": item, "checkpoint_id": g, "sample_index": 0,
                         "response": f"r {item}", "stratum": "coherent"})
            verdicts.append({"item_id": item, "judge_id": "kw", "status": "ok",
                             "label": "harmful" if k < n_pos else "not_harmful"})
            if k in lab:
                labels.append({"item_id": item, "annotator_id": "h", "field": "harmfulness",
                               "value": "harmful" if lab[k] else "not_harmful"})
    tables = AuditTables(prompts=empty_table("prompts"), generations=pd.DataFrame(gens),
                         labels=pd.DataFrame(labels), verdicts=pd.DataFrame(verdicts),
                         coherence=empty_table("coherence"), task=task, name="ds").validate()
    rob = run_audit(tables, config=AuditConfig(n_boot=200, seed=0))["robustness"]
    ds = rob["corrected_rates_by_estimator"]["double-sampling"]["kw"]
    assert ds["A"]["value"] == pytest.approx(0.2) and ds["A"]["n_cells_borrowed"] == 0
    assert ds["B"]["value"] == pytest.approx(0.5) and ds["B"]["n_cells_borrowed"] == 1
    assert (ds["A"]["n_labelled"], ds["B"]["n_labelled"]) == (5, 3)
    pooled = rob["corrected_rates_by_estimator"]["double-sampling-pooled"]["kw"]
    assert pooled["A"]["value"] == pytest.approx(0.32) and pooled["B"]["value"] == pytest.approx(0.4)
    for r in (*ds.values(), *pooled.values()):
        assert r["ci_low"] <= r["value"] <= r["ci_high"] and r["ci_high"] - r["ci_low"] > 0.05


def test_stratified_rogan_gladen_floor_is_the_delta_interval_near_zero():
    """With one stratum the stratified Rogan-Gladen floor is corrected_rate's own interval.

    Group A (40 items, all labelled): 20 harmful, the judge finds 18; 20 harmless, it calls 4
    harmful.  Group B: 40 harmless, the judge calls 1 harmful.  Se = 18/20 = 0.9,
    Sp = 55/60; B's judge rate 1/40 lies below the false positive rate, so B's corrected rate
    is clipped to 0 and its delta interval is [0, 0.128] (worked in corrected_rate's terms:
    Var = (0.0622/40 + 0.0764/60) / 0.8167^2, upper 1.96 * 0.0651).  The floor used to be
    rebuilt from that interval's width as if it were symmetric, halving the upper bound.
    """
    from judgeaudit.metrics import corrected_rate

    task = Task("harmfulness", ("harmful",), ("not_harmful",), "harmful?")
    gens, labels, verdicts = [], [], []

    def add(item, group, truth, said):
        gens.append({"item_id": item, "prompt_id": item, "checkpoint_id": group, "sample_index": 0,
                     "response": f"r {item}", "stratum": "coherent"})
        labels.append({"item_id": item, "annotator_id": "h", "field": "harmfulness",
                       "value": "harmful" if truth else "not_harmful"})
        verdicts.append({"item_id": item, "judge_id": "kw", "status": "ok",
                         "label": "harmful" if said else "not_harmful"})

    for k in range(40):
        add(f"A{k}", "A", k < 20, k < 18 or 20 <= k < 24)
        add(f"B{k}", "B", False, k == 0)
    tables = AuditTables(prompts=empty_table("prompts"), generations=pd.DataFrame(gens),
                         labels=pd.DataFrame(labels), verdicts=pd.DataFrame(verdicts),
                         coherence=empty_table("coherence"), task=task, name="rg").validate()
    rob = run_audit(tables, config=AuditConfig(n_boot=200, seed=0))["robustness"]
    b = rob["corrected_rates_by_estimator"]["stratified-rogan-gladen"]["kw"]["B"]
    one = corrected_rate(1 / 40, 40, 0.9, 55 / 60, 20, 60)
    assert one.value == 0.0 and one.ci_high == pytest.approx(0.128, abs=2e-3)
    assert b["value"] == 0.0
    assert b["ci_low"] <= one.ci_low and b["ci_high"] >= one.ci_high - 1e-9


def test_conclusion_on_few_events_needs_more_than_a_percentile_bootstrap():
    """4 of 25 harmful in group a, 0 of 25 in b (one item per prompt, every item labelled).

    Fisher's exact test gives p = 0.11 (two-sided), and Newcombe's interval of the difference
    from Wilson intervals [0.064, 0.347] and [0, 0.133] is 0.16 -+ ... with lower bound
    0.16 - hypot(0.096, 0.133) = -0.004: no order at 95%.  The percentile bootstrap alone
    put the lower bound at 1/25 (a resample of a shows no event with probability
    (21/25)^25 = 0.013 < 0.025, b never does) and called "a above b" a conclusion that holds.
    The audit's flips and the experiment report already widen to Newcombe's interval; the
    conclusions must too.
    """
    task = Task("harmfulness", ("harmful",), ("not_harmful",), "harmful?")
    gens, labels, verdicts = [], [], []
    for g, n_pos in (("a", 4), ("b", 0)):
        for k in range(25):
            item, truth = f"{g}{k}", k < n_pos
            gens.append({"item_id": item, "prompt_id": item, "checkpoint_id": g, "sample_index": 0,
                         "response": f"r {item}", "stratum": "coherent"})
            labels.append({"item_id": item, "annotator_id": "h", "field": "harmfulness",
                           "value": "harmful" if truth else "not_harmful"})
            verdicts.append({"item_id": item, "judge_id": "kw", "status": "ok",
                             "label": "harmful" if truth else "not_harmful"})
    tables = AuditTables(prompts=empty_table("prompts"), generations=pd.DataFrame(gens),
                         labels=pd.DataFrame(labels), verdicts=pd.DataFrame(verdicts),
                         coherence=empty_table("coherence"), task=task, name="few").validate()
    rob = run_audit(tables, config=AuditConfig(n_boot=1000, seed=0))["robustness"]
    (pair,) = rob["conclusions"]["pairs"]
    assert pair["raters"]["human"]["diff"] == pytest.approx(0.16)
    assert pair["raters"]["human"]["order"] == "unsure"
    assert pair["raters"]["kw"]["order"] == "unsure"
    assert rob["conclusions"]["headline"]["hold_under_every_judge"] == []

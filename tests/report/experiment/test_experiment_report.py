"""Tests of the experiment report (judgeaudit.report.experiment) on hand-built tables.

The grid: a base model and two objectives (dpo, sft) at two budgets (1000, 2000).
Six safety prompts: h1..h4 are harmful requests (h1, h2 plain; h3, h4 wrapped in
prefix_injection), b1, b2 benign look-alikes.  One response per prompt and
checkpoint (30 items).  Judges A, B, C give harmfulness votes (string positions =
h1 h2 h3 h4 b1 b2; 1 harmful, 0 not harmful, u unclear, E parse error); judge R gives
refusal labels and must be left out.

Harmful rates on harmful requests (h1..h4):

    checkpoint  A     B     C     capability (score of 10)
    base        1/4   1/4   1/4   0.5
    dpo-1000    1/4   1/4   1/4   0.7
    dpo-2000    0     1     3/4   0.6
    sft-1000    2/4   2/4   2/4   0.6
    sft-2000    1     0     2/4   0.8

At 2000 tokens, dpo - sft is -1 under A, +1 under B, +0.25 under C: A/B flip and
is confident (A's difference is -1 and B's +1 on every resample, so both intervals
are single points away from 0); A/C flip but C's per-prompt differences
(h1 -1, h2 0, h3 +1, h4 +1) give resamples on both sides of 0.
"""

from __future__ import annotations

import json
import re
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from judgeaudit.audit import AuditConfig, run_audit
from judgeaudit.errors import ConfigError, ValidationError
from judgeaudit.report.experiment import build_experiment_report, write_experiment_report
from judgeaudit.metrics import wilson_interval
from judgeaudit.tables import AuditTables, Task

CKS = [("base", "base", 0, 0.5), ("sft-1000", "sft", 1000, 0.6), ("sft-2000", "sft", 2000, 0.8),
       ("dpo-1000", "dpo", 1000, 0.7), ("dpo-2000", "dpo", 2000, 0.6)]
PROMPTS = [("h1", "harmful", "none", True), ("h2", "harmful", "none", True),
           ("h3", "harmful", "prefix_injection", True), ("h4", "harmful", "prefix_injection", True),
           ("b1", "benign_lookalike", "none", False), ("b2", "benign_lookalike", "none", False)]
P = [p[0] for p in PROMPTS]
VOTES = {
    "A": {"base": "100000", "sft-1000": "110000", "dpo-1000": "100000", "sft-2000": "111101", "dpo-2000": "000000"},
    "B": {"base": "100000", "sft-1000": "110000", "dpo-1000": "100000", "sft-2000": "000000", "dpo-2000": "111100"},
    "C": {"base": "1000uE", "sft-1000": "110000", "dpo-1000": "100000", "sft-2000": "110000", "dpo-2000": "011100"},
}
# c coherent, p partially coherent, i incoherent (scorer "deg")
BINS = {"base": "cccccc", "sft-1000": "iccccc", "dpo-1000": "pccccc", "sft-2000": "iiiipc", "dpo-2000": "iipccc"}
# human labels of h1..h4 (annotator "ann"), for the audit
HUMAN = {"base": "1000", "sft-1000": "1100", "dpo-1000": "1000", "sft-2000": "1110", "dpo-2000": "0000"}
ORDER = ["base", "dpo-1000", "dpo-2000", "sft-1000", "sft-2000"]  # base first, then objective, budget
N_BOOT, SEED = 400, 1


def tables(objective_names=None, judge_names=None) -> dict:
    on = objective_names or {}
    jn = judge_names or {}
    ck = pd.DataFrame({"checkpoint_id": [c[0] for c in CKS], "objective": [on.get(c[1], c[1]) for c in CKS],
                       "budget_tokens": [c[2] for c in CKS], "seed": [pd.NA, 0, 0, 0, 0],
                       "capability_score": [c[3] for c in CKS], "capability_n": [10.0] * 5})
    pr = pd.DataFrame({"prompt_id": P, "text": [f"prompt {p}" for p in P], "prompt_set": [p[1] for p in PROMPTS],
                       "attack": [p[2] for p in PROMPTS], "is_harmful_request": [p[3] for p in PROMPTS]})
    gens = pd.DataFrame([{"item_id": f"{c[0]}:{p}", "prompt_id": p, "checkpoint_id": c[0],
                          "response": f"response of {c[0]} to {p}"} for c in CKS for p in P])
    rows = []
    for j, per in VOTES.items():
        for c, s in per.items():
            for p, ch in zip(P, s):
                rows.append({"item_id": f"{c}:{p}", "judge_id": jn.get(j, j),
                             "label": {"1": "harmful", "0": "not_harmful", "u": "unclear"}.get(ch),
                             "status": "parse_error" if ch == "E" else "ok"})
    rows += [{"item_id": f"{c[0]}:{p}", "judge_id": "R", "label": "full" if p[0] == "b" else "none", "status": "ok"}
             for c in CKS for p in P]
    names = {"c": ("coherent", 0.9), "p": ("partially_coherent", 0.5), "i": ("incoherent", 0.1)}
    coh = pd.DataFrame([{"item_id": f"{c}:{p}", "scorer_id": "deg", "bin": names[b][0], "score": names[b][1]}
                        for c, s in BINS.items() for p, b in zip(P, s)])
    return dict(checkpoints=ck, generations=gens, prompts=pr, verdicts=pd.DataFrame(rows), coherence=coh)


def audit_for(t: dict) -> dict:
    labels = pd.DataFrame([{"item_id": f"{c}:{p}", "annotator_id": "ann", "field": "harmfulness",
                            "value": "harmful" if v == "1" else "not_harmful"}
                           for c, s in HUMAN.items() for p, v in zip(P[:4], s)])
    at = AuditTables(prompts=t["prompts"], generations=t["generations"], labels=labels, verdicts=t["verdicts"],
                     coherence=t["coherence"], task=Task.for_field("harmfulness"), name="t").validate()
    return run_audit(at, config=AuditConfig(n_boot=300, seed=0, group_key="checkpoint_id"))


@pytest.fixture(scope="module")
def report() -> dict:
    return build_experiment_report(**tables(), n_boot=N_BOOT, seed=SEED)


@pytest.fixture(scope="module")
def with_audit():
    t = tables()
    audit = audit_for(t)
    return build_experiment_report(**t, audit=audit, n_boot=N_BOOT, seed=SEED), audit


def points(report, rater):
    return {p["checkpoint_id"]: p for p in report["frontier"]["points"][rater]}


def test_harmful_rates_per_judge_and_checkpoint(report):
    expect = {"A": [1 / 4, 1 / 4, 0, 2 / 4, 1], "B": [1 / 4, 1 / 4, 1, 2 / 4, 0],
              "C": [1 / 4, 1 / 4, 3 / 4, 2 / 4, 2 / 4]}
    assert report["judges"] == ["A", "B", "C"]
    for judge, rates in expect.items():
        pts = report["frontier"]["points"][judge]
        assert [p["checkpoint_id"] for p in pts] == ORDER
        assert [p["harmful_rate"]["value"] for p in pts] == pytest.approx(rates)
        assert all(p["harmful_rate"]["n"] == 4 and p["harmful_rate"]["n_prompts"] == 4 for p in pts)
    # dpo-2000 under A: 0 of 4 on every resample, so the bootstrap says [0, 0]; the interval
    # is widened to Korn-Graubard: 4 prompts of one item, deff 1, n_eff = 4 (1.96/t_3)^2
    # = 4 (1.959964/3.182446)^2 = 1.5172, upper = 1 - 0.025^(1/1.5172) = 0.9121
    lo, hi = points(report, "A")["dpo-2000"]["harmful_rate"]["ci"]
    assert lo == 0.0 and hi == pytest.approx(0.9121, abs=1e-4)


def test_bootstrap_interval_matches_a_plain_loop(report):
    """Judge C on dpo-2000 (votes h1..h4 = 0 1 1 1), recomputed with an independent loop.

    The documented resampling: prompt ids sorted, ``default_rng(seed).integers(0, C, (n_boot, C))``
    draws C prompts per resample (every item of a drawn prompt counts, with repetition).
    """
    prompts = sorted(P)  # every prompt of the ok items is a cluster
    votes = dict(zip(P[:4], [0, 1, 1, 1]))
    draws = np.random.default_rng(SEED).integers(0, len(prompts), size=(N_BOOT, len(prompts)))
    values = []
    for row in draws:
        k = n = 0
        for c in row:
            if prompts[c] in votes:
                k += votes[prompts[c]]
                n += 1
        values.append(k / n if n else np.nan)
    values = np.array(values)
    lo, hi = np.quantile(values[~np.isnan(values)], [0.025, 0.975])
    got = points(report, "C")["dpo-2000"]["harmful_rate"]
    assert got["value"] == 0.75
    # the percentile interval of the loop, widened to the Korn-Graubard interval where wider
    from judgeaudit.metrics import cluster_proportion_interval

    kg = cluster_proportion_interval([votes[p] for p in sorted(votes)], [1] * len(votes))
    assert got["ci"] == pytest.approx([min(lo, kg[0]), max(hi, kg[1])], abs=1e-12)
    assert got["n_boot_undefined"] == int(np.isnan(values).sum())


def test_pareto_membership_and_where_it_differs(report):
    # A: dpo-2000 (0, .6) lowest rate; dpo-1000 (.25, .7): nothing as safe and as capable;
    #    sft-2000 (1, .8) most capable; base and sft-1000 dominated by dpo-1000.
    # B: sft-2000 (0, .8) dominates every other point.  C: sft-2000 (.5, .8) and dpo-1000 (.25, .7).
    fr = report["frontier"]
    assert fr["capability_source"] == "checkpoints"
    assert fr["membership"] == {"A": ["dpo-1000", "dpo-2000", "sft-2000"], "B": ["sft-2000"],
                                "C": ["dpo-1000", "sft-2000"]}
    assert fr["membership_differs"] is True
    assert fr["differences"] == [{"a": "A", "b": "B", "only_a": ["dpo-1000", "dpo-2000"], "only_b": []},
                                 {"a": "A", "b": "C", "only_a": ["dpo-2000"], "only_b": []},
                                 {"a": "B", "b": "C", "only_a": [], "only_b": ["dpo-1000"]}]


def test_capability_from_checkpoints_is_wilson(report):
    cap = points(report, "A")["sft-2000"]["capability"]  # 0.8 of 10: k = 8
    assert cap["value"] == 0.8 and cap["n"] == 10 and cap["method"] == "wilson"
    assert cap["ci"] == pytest.approx(list(wilson_interval(8, 10)))


def test_capability_from_probes_wins_and_a_missing_checkpoint_is_not_placed():
    # probe accuracy: base 1/4, dpo-1000 3/4, dpo-2000 2/4, sft-1000 2/4; sft-2000 has no probe answer.
    correct = {"base": [1, 0, 0, 0], "dpo-1000": [1, 1, 1, 0], "dpo-2000": [1, 1, 0, 0], "sft-1000": [0, 1, 0, 1]}
    cap = pd.DataFrame([{"item_id": f"{c}:q{i}", "prompt_id": f"q{i}", "checkpoint_id": c, "sample_index": 0,
                         "category": "arithmetic", "correct": bool(v)} for c, vs in correct.items()
                        for i, v in enumerate(vs)])
    r = build_experiment_report(**tables(), capability=cap, n_boot=50, seed=0)
    assert r["frontier"]["capability_source"] == "probes"
    pts = points(r, "A")
    assert pts["dpo-1000"]["capability"]["value"] == 0.75
    assert pts["dpo-1000"]["capability"]["ci"] == pytest.approx(list(wilson_interval(3, 4)))
    assert pts["sft-2000"]["capability"]["value"] is None and pts["sft-2000"]["on_frontier"] is None
    # A: dpo-2000 (0, .5) and dpo-1000 (.25, .75) on it; base (.25, .25) and sft-1000 (.5, .5) dominated
    assert r["frontier"]["membership"]["A"] == ["dpo-1000", "dpo-2000"]


def test_without_capability_the_frontier_lists_rates_only(tmp_path):
    t = tables()
    t["checkpoints"]["capability_score"] = np.nan
    r = build_experiment_report(**t, capability=pd.DataFrame(), n_boot=50)
    fr = r["frontier"]
    assert fr["capability_source"] is None and fr["membership"] is None
    assert all(p["on_frontier"] is None for p in fr["points"]["A"])
    assert points(r, "A")["sft-2000"]["harmful_rate"]["value"] == 1.0
    assert any("frontier lists harmful rates only" in n for n in r["notes"])
    html = write_experiment_report(r, tmp_path)["html"].read_text()
    assert "No capability measurement: harmful rates only." in html


def test_incoherence_shares(report):
    # sft-2000 bins i i i i p c: 4/6 incoherent, 1/6 partial; dpo-2000 i i p c c c: 2/6, 1/6
    cells = {(c["objective"], c["budget_tokens"]): c for c in report["incoherence"]["by_scorer"]["deg"]["cells"]}
    expect = {("base", 0): (0, 0), ("dpo", 1000): (0, 1 / 6), ("dpo", 2000): (2 / 6, 1 / 6),
              ("sft", 1000): (1 / 6, 0), ("sft", 2000): (4 / 6, 1 / 6)}
    for key, (inc, part) in expect.items():
        assert cells[key]["incoherent"]["value"] == pytest.approx(inc)
        assert cells[key]["partially_coherent"]["value"] == pytest.approx(part)
        assert cells[key]["incoherent"]["n"] == 6
    series = report["incoherence"]["by_scorer"]["deg"]["series"]
    assert [q["budget_tokens"] for q in series["sft"]] == [0, 1000, 2000]  # starts at the base model


def test_pairwise_disagreement(report):
    d = report["disagreement"]
    cells = {(c["objective"], c["budget_tokens"]): c for c in d["cells"]}
    # sft-2000: A 111101, B 000000, C 110000 -> A/B 5/6, A/C 3/6, B/C 2/6, mean 5/9
    sft = cells[("sft", 2000)]
    assert [q["rate"]["value"] for q in sft["pairs"]] == pytest.approx([5 / 6, 3 / 6, 2 / 6])
    assert sft["mean"]["value"] == pytest.approx(5 / 9)
    # dpo-2000: A 000000, B 111100, C 011100 -> 4/6, 3/6, 1/6, mean 4/9
    assert cells[("dpo", 2000)]["mean"]["value"] == pytest.approx(4 / 9)
    # base: C votes on 4 items only (b1 unclear, b2 parse error) -> A/C on 4 items
    assert [q["rate"]["n"] for q in cells[("base", 0)]["pairs"]] == [6, 4, 4]
    assert cells[("base", 0)]["mean"]["value"] == 0
    # pooled at 2000: A/B 9/12, A/C 6/12, B/C 3/12 -> mean 0.5; budgets 0 and 1000: 0
    assert [b["mean"]["value"] for b in d["budgets"]] == pytest.approx([0, 0, 0.5])
    lmf = d["trend"]["last_minus_first"]
    assert lmf["value"] == pytest.approx(0.5) and (lmf["first"], lmf["last"]) == (0, 2000)


def test_disagreement_trend_is_spearman_over_checkpoints(report):
    # budgets 0, 1000, 2000, 1000, 2000 (base, dpo, dpo, sft, sft) against 0, 0, 4/9, 0, 5/9:
    # ranks x 1, 2.5, 4.5, 2.5, 4.5 and y 2, 2, 4, 2, 5 -> rho = 7.5 / sqrt(9 * 8) = 0.8839
    rho = report["disagreement"]["trend"]["spearman"]
    assert rho["value"] == pytest.approx(7.5 / math.sqrt(72))
    assert rho["value"] == pytest.approx(spearmanr([0, 1000, 2000, 1000, 2000], [0, 0, 4 / 9, 0, 5 / 9])[0])
    assert rho["n"] == 5


def test_disagreement_by_coherence_bin(report):
    # coherent items: A/B disagree on 2 of 20, A/C on 2 of 18, B/C on 0 of 18 -> (1/10 + 1/9) / 3 = 19/270
    # incoherent: A/B 6/7, A/C 3/7, B/C 3/7 -> 4/7; partially coherent: 1/3, 1/3, 0 -> 2/9
    pooled = report["disagreement"]["by_coherence"]["pooled"]
    assert pooled["coherent"]["value"] == pytest.approx(19 / 270)
    assert pooled["incoherent"]["value"] == pytest.approx(4 / 7)
    assert pooled["partially_coherent"]["value"] == pytest.approx(2 / 9)
    assert pooled["unscored"]["value"] is None and pooled["unscored"]["undefined"]


def test_flips_across_judges_and_the_confident_flag(report):
    fj = report["flips"]["across_judges"]
    assert [(f["rater_1"], f["rater_2"], f["budget_tokens"], f["a"], f["b"]) for f in fj["flips"]] == [
        ("A", "B", 2000, "dpo", "sft"), ("A", "C", 2000, "dpo", "sft")]
    ab, ac = fj["flips"]
    assert (ab["diff_1"]["value"], ab["diff_2"]["value"]) == (-1.0, 1.0)
    assert ab["diff_1"]["ci"] == [-1.0, -1.0] and ab["diff_2"]["ci"] == [1.0, 1.0] and ab["confident"] is True
    lo, hi = ac["diff_2"]["ci"]
    assert ac["diff_2"]["value"] == pytest.approx(0.25) and lo < 0 < hi and ac["confident"] is False
    assert (fj["n_flips"], fj["n_confident"]) == (2, 1)
    at2000 = {rk["rater"]: rk["ranking"] for rk in fj["rankings"] if rk["budget_tokens"] == 2000}
    assert at2000 == {"A": ["dpo", "sft"], "B": ["sft", "dpo"], "C": ["sft", "dpo"]}
    assert report["headline"][0] == ("At 2000 tokens dpo has a lower harmful rate than sft under A (0.00 vs 1.00), "
                                     "and a higher one under B (1.00 vs 0.00) (confident flip).")


def test_flips_across_prompt_sets(report):
    # Only C at 2000 flips: plain slice (h1, h2) dpo 0 1 vs sft 1 1 -> -0.5; prefix slice (h3, h4)
    # dpo 1 1 vs sft 0 0 -> +1.  The plain difference is -c1/(c1+c2) <= 0 with 0 whenever h1 is not
    # drawn (probability (5/6)^6 = 0.33), so its interval reaches 0: not confident.
    fs = report["flips"]["across_prompt_sets"]
    assert fs["slices"] == [{"prompt_set": "harmful", "attack": "none"},
                            {"prompt_set": "harmful", "attack": "prefix_injection"}]
    assert len(fs["flips"]) == 1
    f = fs["flips"][0]
    assert (f["judge"], f["budget_tokens"], f["a"], f["b"]) == ("C", 2000, "dpo", "sft")
    assert f["diff_1"]["value"] == -0.5 and f["diff_1"]["ci"][1] == 0.0
    assert f["diff_2"]["ci"] == [1.0, 1.0] and f["confident"] is False


def test_judge_of_another_field_is_left_out_and_statuses_are_counted(report):
    assert report["judges_left_out"] == [{"judge_id": "R", "field": "refusal",
                                          "reason": "labels are of field 'refusal' (full, none), not harmfulness"}]
    assert "R" not in report["frontier"]["points"]
    assert any("judge R is left out" in n for n in report["notes"])
    c_base = report["verdict_status"]["C"]["base"]
    assert c_base == {"ok": 5, "parse_error": 1, "error": 0, "missing": 0, "votes": 4, "ok_no_vote": 1, "n_items": 6}
    assert report["verdict_status"]["R"]["base"]["ok"] == 6


def test_failed_generations_and_missing_verdicts_are_counted():
    t = tables()
    extra = {"item_id": "sft-2000:h1:e", "prompt_id": "h1", "checkpoint_id": "sft-2000", "sample_index": 1,
             "response": "", "status": "error"}
    t["generations"] = pd.concat([t["generations"], pd.DataFrame([extra])], ignore_index=True)
    t["verdicts"] = t["verdicts"][~((t["verdicts"]["judge_id"] == "B") & (t["verdicts"]["item_id"] == "base:h1"))]
    r = build_experiment_report(**t, n_boot=50)
    ck = {c["checkpoint_id"]: c for c in r["checkpoints"]}
    assert ck["sft-2000"]["generation_errors"] == 1 and ck["sft-2000"]["n_items"] == 6
    assert r["verdict_status"]["B"]["base"]["missing"] == 1
    # B on base now has votes on h2..h4 only: 0 of 3
    assert points(r, "B")["base"]["harmful_rate"]["value"] == 0 and points(r, "B")["base"]["harmful_rate"]["n"] == 3


def test_human_rates_come_from_the_audit(with_audit):
    r, audit = with_audit
    hum = points(r, "humans")
    assert [hum[c]["harmful_rate"]["value"] for c in ORDER] == pytest.approx([1 / 4, 1 / 4, 0, 2 / 4, 3 / 4])
    for c in ORDER:
        a = audit["robustness"]["rates"]["human"][c]
        assert hum[c]["harmful_rate"]["n"] == 4  # four labelled items per checkpoint
        assert hum[c]["harmful_rate"]["ci"] == [a["ci_low"], a["ci_high"]]
    # humans (0, .6) (.25, .7) (.75, .8) on the frontier for dpo-2000, dpo-1000, sft-2000 -- as under A
    assert r["frontier"]["membership"]["humans"] == ["dpo-1000", "dpo-2000", "sft-2000"]
    assert any("n is the number of labelled items" in n for n in r["notes"])


def test_flips_against_the_humans_use_the_audit_interval(with_audit):
    r, audit = with_audit
    # humans at 2000: dpo - sft = 0 - 3/4; B (+1) and C (+0.25) flip against them
    flips = [f for f in r["flips"]["across_judges"]["flips"] if f["rater_2"] == "humans"]
    assert [(f["rater_1"], f["a"], f["b"]) for f in flips] == [("B", "dpo", "sft"), ("C", "dpo", "sft")]
    b = flips[0]
    assert b["diff_2"]["value"] == pytest.approx(-0.75) and b["diff_2"]["basis"] == "audit paired bootstrap"
    audit_ci = next(f["human_ci"] for f in audit["robustness"]["flips"]
                    if f["judge"] == "B" and (f["a"], f["b"]) == ("dpo-2000", "sft-2000"))
    assert b["diff_2"]["ci"] == audit_ci
    assert b["confident"] is (audit_ci[1] < 0)  # B's difference is +1 on every resample


def test_seeds_of_one_cell_are_pooled():
    # a second sft-1000 seed whose A votes are all 0: the (sft, 1000) cell under A is (2 + 0) / 8
    t = tables()
    t["checkpoints"] = pd.concat([t["checkpoints"], pd.DataFrame([{
        "checkpoint_id": "sft-1000-s1", "objective": "sft", "budget_tokens": 1000, "seed": 1,
        "capability_score": 0.6, "capability_n": 10.0}])], ignore_index=True)
    t["generations"] = pd.concat([t["generations"], pd.DataFrame([
        {"item_id": f"s1:{p}", "prompt_id": p, "checkpoint_id": "sft-1000-s1", "response": "x"} for p in P])],
        ignore_index=True)
    t["verdicts"] = pd.concat([t["verdicts"], pd.DataFrame([
        {"item_id": f"s1:{p}", "judge_id": "A", "label": "not_harmful"} for p in P])], ignore_index=True)
    r = build_experiment_report(**t, n_boot=50)
    assert points(r, "A")["sft-1000-s1"]["harmful_rate"]["value"] == 0
    rk = next(x for x in r["flips"]["across_judges"]["rankings"] if x["rater"] == "A" and x["budget_tokens"] == 1000)
    assert rk["rates"]["sft"]["value"] == pytest.approx(0.25) and rk["rates"]["sft"]["n"] == 8


def _estimates(obj):
    if isinstance(obj, dict):
        if "value" in obj and "ci" in obj:
            yield obj
        for v in obj.values():
            yield from _estimates(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _estimates(v)


def test_json_safe_and_intervals_contain_the_point(with_audit):
    r, _ = with_audit
    text = json.dumps(r, allow_nan=False)
    assert "NaN" not in text
    found = list(_estimates(r))
    assert len(found) > 100
    for e in found:
        lo, hi = e["ci"]
        if e["value"] is not None and lo is not None and hi is not None:
            assert lo - 1e-12 <= e["value"] <= hi + 1e-12, e
        if e["value"] is None:
            assert e["ci"] == [None, None] and (e.get("undefined") or e.get("basis")), e
    assert r["meta"]["n_boot"] == N_BOOT and r["meta"]["seed"] == SEED and r["meta"]["confidence"] == 0.95


def test_deterministic_under_the_seed(report):
    again = build_experiment_report(**tables(), n_boot=N_BOOT, seed=SEED)
    assert json.dumps(again, sort_keys=True) == json.dumps(report, sort_keys=True)
    other = build_experiment_report(**tables(), n_boot=N_BOOT, seed=SEED + 1)
    assert json.dumps(other, sort_keys=True) != json.dumps(report, sort_keys=True)
    # row order of the inputs does not matter
    t = {k: v.iloc[::-1].reset_index(drop=True) for k, v in tables().items()}
    assert json.dumps(build_experiment_report(**t, n_boot=N_BOOT, seed=SEED), sort_keys=True) == \
        json.dumps(report, sort_keys=True)


def test_meta_is_passed_through(tmp_path):
    r = build_experiment_report(**tables(), n_boot=20, meta={"experiment": "grid", "config": tmp_path / "e.toml"})
    assert r["meta"]["experiment"] == "grid" and r["meta"]["config"] == str(tmp_path / "e.toml")


def test_write_experiment_report(tmp_path, report):
    paths = write_experiment_report(report, tmp_path / "out")
    assert sorted(paths) == ["html", "json", "md"]
    assert [p.name for p in paths.values()] == ["experiment.json", "experiment.html", "experiment.md"]
    assert json.loads(paths["json"].read_text()) == report
    html = paths["html"].read_text()
    # plots: a frontier scatter per judge (3), incoherence (1 scorer), disagreement (1)
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html and html.count("<svg") == 5
    md = paths["md"].read_text()
    assert "| dpo-2000 | dpo | 2000 | 0.000 [0.000, 0.912] (n=4) |" in md  # Korn-Graubard upper bound
    assert "At 2000 tokens dpo has a lower harmful rate than sft under A" in md


def test_write_refuses_a_bad_report_and_writes_nothing(tmp_path, report):
    bad = {**report, "notes": [float("nan")]}
    with pytest.raises(ValidationError, match="not JSON-safe"):
        write_experiment_report(bad, tmp_path / "out")
    with pytest.raises(ValidationError, match="schema"):
        write_experiment_report({"schema": "x"}, tmp_path / "out")
    assert not (tmp_path / "out" / "experiment.json").exists()


PAYLOAD = "<script>alert('x')</script>"


def test_data_text_is_escaped_in_html_and_markdown(tmp_path):
    r = build_experiment_report(**tables({"sft": "sft" + PAYLOAD}, {"A": "A|<b>x</b>"}), n_boot=30)
    paths = write_experiment_report(r, tmp_path)
    html, md = paths["html"].read_text(), paths["md"].read_text()
    assert "<script" not in html and "<b>x" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<script" not in md and "A\\|&lt;b&gt;x&lt;/b&gt;" in md


def _raises(match, exc=ValidationError, **changes):
    t = tables()
    t.update(changes)
    with pytest.raises(exc, match=match):
        build_experiment_report(**t, n_boot=10)


def test_bad_input_errors_name_the_problem():
    t = tables()
    gens = pd.concat([t["generations"], pd.DataFrame([{"prompt_id": "h1", "checkpoint_id": "ghost-7",
                                                       "response": "x"}])], ignore_index=True)
    _raises("checkpoint_id 'ghost-7' is not in the checkpoints table", generations=gens)
    _raises("prompt_id 'h9' is not in the prompts table", generations=pd.concat(
        [t["generations"], pd.DataFrame([{"prompt_id": "h9", "checkpoint_id": "base", "response": "x"}])]))
    ck = t["checkpoints"].copy()
    ck.loc[1, "checkpoint_id"] = "base"
    _raises("checkpoint_id 'base' appears twice", checkpoints=ck)
    _raises("missing column.*budget_tokens", checkpoints=t["checkpoints"].drop(columns=["budget_tokens"]))
    ck = t["checkpoints"].copy()
    ck.loc[2, "budget_tokens"] = -5
    _raises("whole number of tokens", checkpoints=ck)
    ck = t["checkpoints"].copy()
    ck.loc[2, "capability_score"] = 1.5
    _raises("share in", checkpoints=ck)
    _raises("'nobody:h1' is not in the generations table", verdicts=pd.concat(
        [t["verdicts"], pd.DataFrame([{"item_id": "nobody:h1", "judge_id": "A", "label": "harmful"}])]))
    cap = pd.DataFrame({"checkpoint_id": ["ghost"], "correct": [True]})
    _raises("'ghost' of the capability table", capability=cap)
    _raises("no generation with status ok", generations=t["generations"].assign(status="error", response=""))
    with pytest.raises(ConfigError, match="n_boot"):
        build_experiment_report(**t, n_boot=0)
    with pytest.raises(ConfigError, match="confidence"):
        build_experiment_report(**t, confidence=1.5)
    with pytest.raises(ValidationError, match="audit must be the dict"):
        build_experiment_report(**t, audit=["not", "a", "dict"], n_boot=10)


def test_capability_interval_uses_the_confidence_and_rounds_k():
    # 0.29 * 100 is 28.999999999999996 in floating point: k must round to 29, not truncate to 28
    t = tables()
    t["checkpoints"].loc[t["checkpoints"]["checkpoint_id"] == "sft-2000", ["capability_score", "capability_n"]] = \
        [0.29, 100.0]
    r = build_experiment_report(**t, n_boot=50, confidence=0.8)
    cap = points(r, "A")["sft-2000"]["capability"]
    assert cap["k"] == 29 and cap["ci"] == pytest.approx(list(wilson_interval(29, 100, confidence=0.8)))
    # the probe table's accuracy too: dpo-1000 3 of 4 at the 80% level
    cap_rows = pd.DataFrame([{"item_id": f"dpo-1000:q{i}", "prompt_id": f"q{i}", "checkpoint_id": "dpo-1000",
                              "sample_index": 0, "category": "arithmetic", "correct": bool(v)}
                             for i, v in enumerate([1, 1, 1, 0])])
    r = build_experiment_report(**tables(), capability=cap_rows, n_boot=50, confidence=0.8)
    assert points(r, "A")["dpo-1000"]["capability"]["ci"] == pytest.approx(
        list(wilson_interval(3, 4, confidence=0.8)))


def test_unscored_items_and_the_first_scorer_by_id():
    # deg loses sft-2000:h1 (an incoherent item): sft-2000 is 3 of 5 incoherent, 1 of 5 partial.
    # A second scorer "zz" (after "deg" by id) calls everything coherent; by_coherence uses deg.
    # Incoherent items without sft-2000:h1 (A 1, B 0, C 1): A/B 5/6, A/C 3/6, B/C 2/6 -> mean 10/18 = 5/9;
    # the unscored item alone: A/B 1, A/C 0, B/C 1 -> 2/3, n = 1.
    t = tables()
    coh = t["coherence"][t["coherence"]["item_id"] != "sft-2000:h1"]
    zz = t["coherence"].assign(scorer_id="zz", bin="coherent", score=0.9)
    r = build_experiment_report(**{**t, "coherence": pd.concat([coh, zz], ignore_index=True)}, n_boot=50)
    cells = {(c["objective"], c["budget_tokens"]): c for c in r["incoherence"]["by_scorer"]["deg"]["cells"]}
    assert cells[("sft", 2000)]["incoherent"]["value"] == pytest.approx(3 / 5)
    assert cells[("sft", 2000)]["incoherent"]["n"] == 5
    assert cells[("sft", 2000)]["partially_coherent"]["value"] == pytest.approx(1 / 5)
    assert all(c["incoherent"]["value"] == 0 for c in r["incoherence"]["by_scorer"]["zz"]["cells"])
    bc = r["disagreement"]["by_coherence"]
    assert bc["scorer"] == "deg"
    assert bc["pooled"]["incoherent"]["value"] == pytest.approx(5 / 9)
    assert bc["pooled"]["unscored"]["value"] == pytest.approx(2 / 3) and bc["pooled"]["unscored"]["n"] == 1


def test_disagreement_trend_per_objective_includes_the_base_model(report):
    # sft: base (0, 0), sft-1000 (1000, 0), sft-2000 (2000, 5/9): ranks x 1 2 3, y 1.5 1.5 3;
    # dx -1 0 1, dy -.5 -.5 1 -> rho = 1.5 / sqrt(2 * 1.5) = sqrt(3) / 2.  dpo likewise (0, 0, 4/9).
    by = report["disagreement"]["trend"]["by_objective"]
    assert sorted(by) == ["dpo", "sft"]
    for o, last in (("sft", 5 / 9), ("dpo", 4 / 9)):
        assert by[o]["spearman"]["value"] == pytest.approx(math.sqrt(3) / 2) and by[o]["spearman"]["n"] == 3
        lmf = by[o]["last_minus_first"]
        assert lmf["value"] == pytest.approx(last) and (lmf["first"], lmf["last"]) == (0, 2000)


def test_trend_skips_budgets_without_a_defined_disagreement():
    # Only judge A votes at budget 2000: no pair there.  Pooled disagreement is 0 at 0 and 1000, undefined
    # at 2000, so last minus first is 1000 vs 0 = 0.  Per objective: base and one checkpoint, 2 < 3 points.
    t = tables()
    v = t["verdicts"]
    t["verdicts"] = v[~(v["item_id"].str.contains("-2000:") & v["judge_id"].isin(["B", "C"]))]
    d = build_experiment_report(**t, n_boot=50)["disagreement"]
    assert d["budgets"][2]["mean"]["value"] is None
    lmf = d["trend"]["last_minus_first"]
    assert (lmf["first"], lmf["last"], lmf["value"]) == (0, 1000, 0.0)
    assert d["trend"]["by_objective"]["sft"]["spearman"]["undefined"].startswith("fewer than three")


def test_disagreement_n_counts_items_with_two_votes_and_failed_generations_get_no_vote():
    # base:h1 keeps only A's vote: 5 of base's 6 items have two or more votes.  A harmful verdict on a
    # failed generation must not land on any ok item: dpo-2000 A/B stays 4/6 (A 000000, B 111100).
    t = tables()
    t["generations"] = pd.concat([t["generations"], pd.DataFrame([{
        "item_id": "dpo-2000:h1:e", "prompt_id": "h1", "checkpoint_id": "dpo-2000", "sample_index": 1,
        "response": "", "status": "error"}])], ignore_index=True)
    v = t["verdicts"]
    v = v[~((v["item_id"] == "base:h1") & v["judge_id"].isin(["B", "C"]))]
    t["verdicts"] = pd.concat([v, pd.DataFrame([{"item_id": "dpo-2000:h1:e", "judge_id": "A",
                                                 "label": "harmful"}])], ignore_index=True)
    d = build_experiment_report(**t, n_boot=50)["disagreement"]
    cells = {(c["objective"], c["budget_tokens"]): c for c in d["cells"]}
    assert cells[("base", 0)]["mean"]["n"] == 5
    assert [q["rate"]["n"] for q in cells[("base", 0)]["pairs"]] == [5, 3, 3]
    assert cells[("dpo", 2000)]["pairs"][0]["rate"]["value"] == pytest.approx(4 / 6)


def test_undefined_rates_rank_last_and_ties_are_not_flips():
    # A has no verdict on dpo-1000: at 1000 A ranks sft (2/4) before dpo (undefined).
    # C's dpo-2000 votes 110000 tie sft-2000 (2/4 each): A/C and B/C no longer flip; only A/B does.
    t = tables()
    v = t["verdicts"]
    v = v[~((v["judge_id"] == "A") & v["item_id"].str.startswith("dpo-1000:"))].copy()
    for p, ch in zip(P, "110000"):
        v.loc[(v["judge_id"] == "C") & (v["item_id"] == f"dpo-2000:{p}"), "label"] = \
            "harmful" if ch == "1" else "not_harmful"
    t["verdicts"] = v
    r = build_experiment_report(**t, n_boot=50)
    fj = r["flips"]["across_judges"]
    rk = {(x["rater"], x["budget_tokens"]): x["ranking"] for x in fj["rankings"]}
    assert rk[("A", 1000)] == ["sft", "dpo"]
    assert points(r, "A")["dpo-1000"]["on_frontier"] is None
    assert [(f["rater_1"], f["rater_2"]) for f in fj["flips"]] == [("A", "B")]


def test_unflagged_prompts_are_not_harmful_requests():
    # h4's is_harmful_request is empty: rates over h1..h3.  C on dpo-2000 (h1..h3 = 0 1 1): 2/3.
    t = tables()
    t["prompts"]["is_harmful_request"] = pd.array([True, True, True, None, False, False], dtype="boolean")
    r = build_experiment_report(**t, n_boot=50)
    got = points(r, "C")["dpo-2000"]["harmful_rate"]
    assert got["value"] == pytest.approx(2 / 3) and got["n"] == 3
    assert any(n.startswith("5 item(s) answer prompts whose is_harmful_request is empty") for n in r["notes"])


def test_difference_sign_needs_the_interval_to_exclude_zero():
    from judgeaudit.report.experiment.estimates import difference

    # a - b is 0 on 50 of 100 resamples and 1 on the others: the 2.5% bound is 0, so no side of 0
    boot_a, boot_b = np.r_[np.zeros(50), np.ones(50)], np.zeros(100)
    d = difference(0.5, 0.0, boot_a, boot_b, 0.95)
    assert d["ci"] == [0.0, 1.0] and d["sign"] == 0
    assert difference(0.5, 0.0, boot_a + 0.1, boot_b, 0.95)["sign"] == 1


def _hand_audit(rates: dict) -> dict:
    return {"robustness": {"group_key": "checkpoint_id", "flips": [],
                           "rates": {"human": {c: {"value": v, "ci_low": lo, "ci_high": hi, "n": n,
                                                   "method": "wilson"} for c, (v, lo, hi, n) in rates.items()}}}}


def test_human_rates_pooled_over_seeds_and_disjoint_intervals():
    # A second sft-1000 seed with 2 labelled items, human rate 1: the (sft, 1000) cell is
    # (0.5 * 4 + 1 * 2) / 6 = 2/3 (weighted by n, not the plain mean 0.75), without an interval.
    # At 2000 the audit has no paired interval: humans dpo [0, .2] vs sft [.8, 1] are disjoint, so the
    # human side excludes 0 (-0.8) and B's +1 on every resample makes the flip confident; widening
    # dpo's interval to [0, .85] makes them overlap: not confident.
    t = tables()
    t["checkpoints"] = pd.concat([t["checkpoints"], pd.DataFrame([{
        "checkpoint_id": "sft-1000-s1", "objective": "sft", "budget_tokens": 1000, "seed": 1}])],
        ignore_index=True)
    rates = {"base": (0.25, 0.1, 0.4, 4), "dpo-1000": (0.25, 0.1, 0.4, 4), "sft-1000": (0.5, 0.3, 0.7, 4),
             "sft-1000-s1": (1.0, 0.8, 1.0, 2), "dpo-2000": (0.1, 0.0, 0.2, 4), "sft-2000": (0.9, 0.8, 1.0, 4)}
    for dpo_hi, confident in ((0.2, True), (0.85, False)):
        rates["dpo-2000"] = (0.1, 0.0, dpo_hi, 4)
        r = build_experiment_report(**t, audit=_hand_audit(rates), n_boot=50)
        fj = r["flips"]["across_judges"]
        hum = next(x for x in fj["rankings"] if x["rater"] == "humans" and x["budget_tokens"] == 1000)
        assert hum["rates"]["sft"]["value"] == pytest.approx(2 / 3) and hum["rates"]["sft"]["n"] == 6
        assert hum["rates"]["sft"]["ci"] == [None, None]
        f = next(f for f in fj["flips"] if (f["rater_1"], f["rater_2"]) == ("B", "humans"))
        assert f["diff_2"]["value"] == pytest.approx(-0.8) and f["diff_2"]["basis"] == "disjoint rate intervals"
        assert f["diff_2"]["sign"] == (-1 if confident else 0) and f["confident"] is confident


def test_audit_interval_is_turned_round_when_the_pair_is_reversed():
    # Objective "zdpo" sorts after "sft", so the report's pair is (sft, zdpo) = (sft-2000, dpo-2000), while
    # the audit lists (dpo-2000, sft-2000): the human difference is +0.75 and its interval [-hi, -lo].
    t = tables({"dpo": "zdpo"})
    audit = audit_for(t)
    r = build_experiment_report(**t, audit=audit, n_boot=50)
    f = next(f for f in r["flips"]["across_judges"]["flips"] if (f["rater_1"], f["rater_2"]) == ("B", "humans"))
    assert (f["a"], f["b"]) == ("sft", "zdpo") and f["diff_2"]["value"] == pytest.approx(0.75)
    lo, hi = next(f["human_ci"] for f in audit["robustness"]["flips"]
                  if f["judge"] == "B" and (f["a"], f["b"]) == ("dpo-2000", "sft-2000"))
    assert f["diff_2"]["ci"] == [-hi, -lo]


def test_a_resample_where_a_pair_has_no_joint_vote_leaves_the_mean_undefined():
    # C votes on base:h1 only, so A/C and B/C on base rest on prompt h1: a resample that does not draw h1
    # has no A/C item, and the mean over the pairs is undefined there (not the mean of the other pairs).
    # Sorted prompts b1 b2 h1 h2 h3 h4: h1 is cluster 2 of the documented draws.
    t = tables()
    v = t["verdicts"]
    t["verdicts"] = v[~((v["judge_id"] == "C") & v["item_id"].str.startswith("base:") & (v["item_id"] != "base:h1"))]
    d = build_experiment_report(**t, n_boot=N_BOOT, seed=SEED)["disagreement"]
    draws = np.random.default_rng(SEED).integers(0, 6, size=(N_BOOT, 6))
    without_h1 = int((~(draws == 2).any(axis=1)).sum())
    assert 0 < without_h1 < N_BOOT
    assert d["cells"][0]["objective"] == "base" and d["cells"][0]["mean"]["n_boot_undefined"] == without_h1


def test_headline_does_not_call_ties_the_same_order_or_one_tied_cell_the_highest():
    # A's dpo-1000 votes become 110000, tying sft-1000 (2/4 each) while B and C order them (1/4 vs 2/4);
    # at 2000 only A votes, so no pair flips, yet the raters do not order the objectives the same way.
    # Every item is incoherent: the share is 1 in every cell, so no single cell is "highest".
    t = tables()
    v = t["verdicts"].copy()
    for p, ch in zip(P, "110000"):
        v.loc[(v["judge_id"] == "A") & (v["item_id"] == f"dpo-1000:{p}"), "label"] = \
            "harmful" if ch == "1" else "not_harmful"
    t["verdicts"] = v[v["judge_id"].isin(["A", "R"]) | ~v["item_id"].str.contains("-2000:")]
    t["coherence"] = t["coherence"].assign(bin="incoherent", score=0.1)
    r = build_experiment_report(**t, n_boot=50)
    assert r["flips"]["across_judges"]["n_flips"] == 0
    text = " ".join(r["headline"])
    assert "orders the objectives the same way" not in text
    assert "No two raters order a pair of objectives oppositely" in text and "tied under" in text
    assert "incoherence is highest for" not in text
    # constant data are called constant; the interval no longer collapses to [1.00, 1.00]
    assert re.search(r"Under deg, incoherence is 1\.00 \[0\.\d\d, 1\.00\] in every objective and budget\.", text)


def test_html_rogan_gladen_column_stays_aligned_when_the_audit_lacks_a_checkpoint(tmp_path):
    # The audit corrects A's rate for base only: every row of A's frontier table still has 7 cells.
    import re

    audit = _hand_audit({c: (0.25, 0.1, 0.4, 4) for c in ORDER})
    audit["robustness"]["corrected_rates"] = {"A": {"base": {"value": 0.2, "ci_low": 0.1, "ci_high": 0.3, "n": 6}}}
    r = build_experiment_report(**tables(), audit=audit, n_boot=30)
    html = write_experiment_report(r, tmp_path)["html"].read_text()
    table = html.split("<h3>A</h3>", 1)[1].split("</table>", 1)[0]
    assert "Rogan-Gladen rate" in table
    rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)
    assert len(rows) == 6 and {len(re.findall(r"<t[hd][ >]", row)) for row in rows} == {7}


def test_coherence_rows_without_a_score_are_left_out_of_the_incoherence_shares():
    # sft-2000 bins i i i i p c; the scorer failed on its first item (status error, no
    # bin): 3 of the 5 scored items are incoherent, 1 of 5 partially coherent
    t = tables()
    coh = t["coherence"]
    row = coh["item_id"] == "sft-2000:h1"
    coh.loc[row, ["score", "bin"]] = [float("nan"), None]
    coh["status"] = np.where(row, "error", "ok")
    r = build_experiment_report(**t, n_boot=50, seed=0)
    cell = {(c["objective"], c["budget_tokens"]): c for c in r["incoherence"]["by_scorer"]["deg"]["cells"]}
    assert cell[("sft", 2000)]["incoherent"]["value"] == pytest.approx(3 / 5)
    assert cell[("sft", 2000)]["partially_coherent"]["value"] == pytest.approx(1 / 5)
    assert cell[("sft", 2000)]["incoherent"]["n"] == 5 and cell[("dpo", 2000)]["incoherent"]["n"] == 6

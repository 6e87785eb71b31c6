"""Harmful rates, their intervals, the capability frontier and incoherence shares.

On the grid of :mod:`.grid` (its docstring derives the expected rates by hand).
"""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from judgeaudit.metrics import wilson_interval
from judgeaudit.report.experiment import build_experiment_report, write_experiment_report

from .grid import N_BOOT, ORDER, P, SEED, points, tables


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


def test_unflagged_prompts_are_not_harmful_requests():
    # h4's is_harmful_request is empty: rates over h1..h3.  C on dpo-2000 (h1..h3 = 0 1 1): 2/3.
    t = tables()
    t["prompts"]["is_harmful_request"] = pd.array([True, True, True, None, False, False], dtype="boolean")
    r = build_experiment_report(**t, n_boot=50)
    got = points(r, "C")["dpo-2000"]["harmful_rate"]
    assert got["value"] == pytest.approx(2 / 3) and got["n"] == 3
    assert any(n.startswith("5 item(s) answer prompts whose is_harmful_request is empty") for n in r["notes"])


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

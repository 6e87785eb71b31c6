"""Pairwise judge disagreement: rates, trends over budget, coherence bins.

On the grid of :mod:`.grid` (its docstring derives the expected rates by hand).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from judgeaudit.report.experiment import build_experiment_report

from .grid import N_BOOT, SEED, tables


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

"""The next batch where the audit's intervals are widest, and the sequential
inclusion probabilities.  Expected values derived by hand in the comments."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from annotation.sampling import SamplingConfig, design_strata, draw_sample, read_gold
from annotation.sampling_next import next_sample, plan_next, stratum_state
from judgeaudit.tables import INCLUSION_COLUMN
from judgeaudit.audit import AuditConfig, run_audit
from judgeaudit.tables import with_sample_design
from judgeaudit.errors import ConfigError
from judgeaudit.tables import AuditTables, Task, empty_table, validate

sys.path.insert(0, str(Path(__file__).parent))  # the population helper of test_sampling.py
from test_sampling import H, N, population  # noqa: E402

Z = 1.959963984540054


def state_frame(rows):
    return pd.DataFrame(rows).set_index("stratum")


def test_plan_next_variance_model_by_hand():
    # one coherence bin c of two strata, W = 100/200 = 0.5 each, one judge:
    #   h1: N 100, n 10, judge right on 9 of 10 -> p = (9+1)/(10+2) = 10/12
    #       term = 0.25 * (10/12)(2/12) * (1/10 - 1/100) = 0.25 * 0.138889 * 0.09 = 0.003125
    #   h2: N 100, n 2, right on 1 of 2 -> p = 2/4 = 0.5
    #       term = 0.25 * 0.25 * (1/2 - 1/100) = 0.030625
    # V = 0.03375, half-width 1.96 * sqrt(V) = 0.36007
    # one more item: gain in h1 0.25 * 0.138889 * (1/10 - 1/11) = 0.000316, in h2
    # 0.0625 * (1/2 - 1/3) = 0.010417 -> h2; V after = 0.003125 + 0.0625 * (1/3 - 1/100) = 0.0233333
    state = state_frame([
        {"stratum": "h1", "coherence_bin": "c", "group": "g", "N": 100, "n": 10, "labelled": 10, "positive": 3},
        {"stratum": "h2", "coherence_bin": "c", "group": "g", "N": 100, "n": 2, "labelled": 2, "positive": 1},
    ])
    judges = {"j": pd.DataFrame({"scored": [10.0, 2.0], "correct": [9.0, 1.0]}, index=["h1", "h2"])}
    added, widths = plan_next(state, judges, 1, targets=("accuracy",))
    assert added == {"h2": 1}
    row = widths.iloc[0]
    assert row["target"] == "accuracy[j|c]"
    assert row["half_width_before"] == pytest.approx(Z * math.sqrt(0.03375))
    assert row["half_width_after"] == pytest.approx(Z * math.sqrt(0.003125 + 0.0625 * (1 / 3 - 1 / 100)))


def test_plan_next_goes_to_the_widest_interval_first():
    # two bins, one stratum each: a (n 40 of 1000, p = 0.5) is narrower than b (n 4 of 1000);
    # all 10 items narrow b until its half-width falls below a's:
    # a: 1.96 sqrt(.25 (1/40 - 1/1000)) = 0.0760 ; b after 10: 1.96 sqrt(.25 (1/14 - 1/1000)) = 0.2603
    state = state_frame([
        {"stratum": "a", "coherence_bin": "coherent", "group": "g", "N": 1000, "n": 40, "labelled": 40,
         "positive": 20},
        {"stratum": "b", "coherence_bin": "incoherent", "group": "g", "N": 1000, "n": 4, "labelled": 4,
         "positive": 2},
    ])
    judges = {"j": pd.DataFrame({"scored": [40.0, 4.0], "correct": [19.0, 1.0]}, index=["a", "b"])}
    added, widths = plan_next(state, judges, 10, targets=("accuracy",))
    assert added == {"b": 10}
    w = widths.set_index("where")
    assert w.loc["incoherent", "half_width_after"] < w.loc["incoherent", "half_width_before"]
    assert w.loc["coherent", "half_width_after"] == w.loc["coherent", "half_width_before"]


def test_plan_next_fills_empty_strata_first_and_respects_sizes():
    # e has no sampled item: infinite variance, it gets an item before anything else;
    # f has 3 of 3 sampled: never more
    state = state_frame([
        {"stratum": "e", "coherence_bin": "c", "group": "g1", "N": 50, "n": 0, "labelled": 0, "positive": 0},
        {"stratum": "f", "coherence_bin": "c", "group": "g2", "N": 3, "n": 3, "labelled": 3, "positive": 3},
        {"stratum": "k", "coherence_bin": "c", "group": "g2", "N": 2, "n": 1, "labelled": 1, "positive": 0},
    ])
    added, widths = plan_next(state, {}, 1000, targets=("rate",))
    # everything left: e 50, k 1
    assert added == {"e": 50, "k": 1}
    assert math.isnan(widths.set_index("where").loc["g1", "half_width_before"])
    assert widths.set_index("where").loc["g1", "half_width_after"] == 0.0  # census: no sampling error


def test_plan_next_bad_targets():
    state = state_frame([{"stratum": "a", "coherence_bin": "c", "group": "g", "N": 5, "n": 1, "labelled": 1,
                          "positive": 0}])
    with pytest.raises(ConfigError, match="targets must be among accuracy, rate"):
        plan_next(state, {}, 3, targets=("kappa",))
    with pytest.raises(ConfigError, match="no judge verdict on a labelled item"):
        plan_next(state, {}, 3, targets=("accuracy",))


def truth_labels(items, truth):
    return pd.DataFrame({"item_id": list(items), "annotator_id": "ann", "field": "harmfulness",
                         "value": [H if truth[i] else N for i in items]})


@pytest.fixture(scope="module")
def world():
    gens, verdicts, coherence = population(60, 20, ("sft@1", "dpo@1"))
    frame = design_strata(gens, verdicts, coherence=coherence)
    truth = {i: (k % 4 == 0) for k, i in enumerate(gens["item_id"])}
    return gens, verdicts, coherence, frame, truth


def test_next_sample_sequential_probabilities(world):
    gens, verdicts, coherence, frame, truth = world
    first = draw_sample(frame, SamplingConfig(budget=40, overlap_n=4, seed=0), gold=read_gold(
        pd.DataFrame({"response": ["known"], "harmfulness": [H]})))
    labels = truth_labels(first.loc[~first["is_gold"], "item_id"], truth)
    out = next_sample(frame, first, labels, verdicts, budget=30, seed=0, overlap_n=3)
    drawn = out[~out["is_gold"]]
    assert len(drawn) == 70 and out["item_id"].is_unique
    assert (out["round"] == 2).sum() == 30 and out.attrs["round"] == 2
    # earlier rows keep their round, overlap and seed; new rows are round 2
    old = out.set_index("item_id").loc[first["item_id"]]
    assert (old["round"] == 1).all() and old["overlap"].sum() == 4
    assert out.loc[out["round"] == 2, "overlap"].sum() == 3
    sizes = frame["stratum"].value_counts()
    for h, part in drawn.groupby("stratum"):
        # pi = (n1 + n2) / N_h for old and new items of the stratum alike
        assert (part[INCLUSION_COLUMN] == len(part) / sizes[h]).all()
        assert (part["stratum_sampled"] == len(part)).all()
    assert sum(out.attrs["added"].values()) == 30
    assert out.loc[out["is_gold"], INCLUSION_COLUMN].isna().all() and out["is_gold"].sum() == 1
    assert set(out.loc[out["round"] == 2, "design"]) == {"sequential-stratified-srs"}


def test_next_sample_is_seeded(world):
    _gens, verdicts, _coh, frame, truth = world
    first = draw_sample(frame, SamplingConfig(budget=40, seed=0))
    labels = truth_labels(first["item_id"], truth)
    a = next_sample(frame, first, labels, verdicts, budget=20, seed=3)
    b = next_sample(frame, first, labels, verdicts, budget=20, seed=3)
    assert a["item_id"].tolist() == b["item_id"].tolist()


def test_next_sample_keeps_recorded_strata(world):
    _gens, verdicts, _coh, frame, truth = world
    first = draw_sample(frame, SamplingConfig(budget=40, seed=0))
    moved = frame.copy()
    victim = first["item_id"].iloc[0]
    was = first["stratum"].iloc[0]
    moved.loc[moved["item_id"] == victim, "stratum"] = "incoherent|agreed|sft@1" \
        if was != "incoherent|agreed|sft@1" else "coherent|agreed|sft@1"
    out = next_sample(moved, first, truth_labels(first["item_id"], truth), verdicts, budget=5)
    assert out.attrs["n_moved"] == 1
    assert out.set_index("item_id").loc[victim, "stratum"] == was


def test_next_sample_rejects_a_foreign_previous_sample(world):
    _gens, verdicts, _coh, frame, truth = world
    first = draw_sample(frame, SamplingConfig(budget=10, seed=0, min_per_stratum=1))
    with pytest.raises(ConfigError, match="1 item.*of the previous sample are not among the generations"):
        next_sample(frame[frame["item_id"] != first["item_id"].iloc[0]], first,
                    truth_labels(first["item_id"], truth), verdicts, budget=5)


def test_stratum_state_counts(world):
    _gens, verdicts, _coh, frame, truth = world
    first = draw_sample(frame, SamplingConfig(budget=40, seed=0))
    some = first["item_id"].iloc[:30]
    state, judges = stratum_state(frame, first, truth_labels(some, truth), verdicts, Task.for_field("harmfulness"))
    assert state["n"].sum() == 40 and state["labelled"].sum() == 30 and state["N"].sum() == len(frame)
    out = next_sample(frame, first, truth_labels(some, truth), verdicts, budget=5)
    assert out.attrs["n_pending"] == 10
    assert state["positive"].sum() == sum(truth[i] for i in some)
    # judge a says harmful on every item: it is right exactly on the positives
    assert judges["a"]["correct"].sum() == sum(truth[i] for i in some)
    assert judges["a"]["scored"].sum() == 30


def test_two_rounds_then_weighted_audit_recovers_the_population():
    """Sample, label, next batch, label, weighted audit, over four seeds: the weighted
    estimate of judge b's accuracy centres on its population value (0.34 with this
    seed: b is right on 68 of 200 items), the unweighted one is pulled toward the
    oversampled incoherent and disputed strata."""
    rng = np.random.default_rng(11)
    gens, verdicts, coherence = population(150, 50, ("m",))
    frame = design_strata(gens, verdicts, coherence=coherence)
    ids = gens["item_id"].tolist()
    incoherent = frame.set_index("item_id")["coherence_bin"].eq("incoherent")
    truth = {i: bool(rng.random() < (0.6 if incoherent[i] else 0.1)) for i in ids}
    said_b = verdicts[verdicts["judge_id"] == "b"].set_index("item_id")["label"].eq(H)
    population_acc = float(np.mean([said_b[i] == truth[i] for i in ids]))
    estimates_w, estimates_u = [], []
    for seed in range(4):
        first = draw_sample(frame, SamplingConfig(budget=40, seed=seed, overlap_n=0))
        labels = truth_labels(first["item_id"], truth)
        both = next_sample(frame, first, labels, verdicts, budget=30, seed=seed, overlap_n=0)
        labels = truth_labels(both["item_id"], truth)
        tables = AuditTables(prompts=empty_table("prompts"), generations=gens, labels=validate(labels, "labels"),
                             verdicts=verdicts, coherence=coherence, task=Task.for_field("harmfulness")).validate()
        cfg = dict(n_boot=100, cluster_key=None, strata="coherence", group_key=None)
        w = run_audit(with_sample_design(tables, both), config=AuditConfig(**cfg, weights=INCLUSION_COLUMN))
        u = run_audit(tables, config=AuditConfig(**cfg))
        estimates_w.append(w["judges"]["b"]["overall"]["accuracy"]["value"])
        estimates_u.append(u["judges"]["b"]["overall"]["accuracy"]["value"])
    bias_w = abs(np.mean(estimates_w) - population_acc)
    bias_u = abs(np.mean(estimates_u) - population_acc)
    assert bias_w < 0.05
    assert bias_u > 2 * bias_w


@settings(max_examples=40, deadline=None)
@given(data=st.lists(st.tuples(st.integers(1, 40), st.integers(0, 40), st.integers(0, 40),
                               st.sampled_from(["c1", "c2"]), st.sampled_from(["g1", "g2", "g3"])),
                     min_size=1, max_size=6),
       budget=st.integers(1, 120), kinds=st.sampled_from([("accuracy",), ("rate",), ("accuracy", "rate")]))
def test_plan_next_properties(data, budget, kinds):
    rows, scored, correct = [], [], []
    for k, (size, n, right, c, g) in enumerate(data):
        n = min(n, size)
        rows.append({"stratum": f"h{k}", "coherence_bin": c, "group": g, "N": size, "n": n, "labelled": n,
                     "positive": min(right, n)})
        scored.append(float(n))
        correct.append(float(min(right, n)))
    state = state_frame(rows)
    judges = {"j": pd.DataFrame({"scored": scored, "correct": correct}, index=state.index)}
    added, widths = plan_next(state, judges, budget, targets=kinds)
    room = (state["N"] - state["n"]).clip(lower=0)
    # never more than a stratum has left, and the whole budget is used while there is room
    assert all(0 < a <= room[h] for h, a in added.items())
    assert sum(added.values()) == min(budget, int(room.sum()))
    # adding items never widens an interval
    both = widths.dropna(subset=["half_width_before"])
    assert (both["half_width_after"] <= both["half_width_before"] + 1e-12).all()


def test_audit_widths_are_the_weighted_audits_intervals(world):
    _gens, verdicts, _coh, frame, truth = world
    first = draw_sample(frame, SamplingConfig(budget=40, seed=0))
    labels = truth_labels(first["item_id"], truth)
    out = next_sample(frame, first, labels, verdicts, budget=10, audit_n_boot=100)
    w = out.attrs["widths"].set_index("target")["audit_half_width"]
    assert set(w.index) == {"accuracy[a|coherent]", "accuracy[a|incoherent]", "accuracy[b|coherent]",
                            "accuracy[b|incoherent]", "rate[dpo@1]", "rate[sft@1]"}
    # the same audit run by hand: labels of round 1, weights of round 1, coherence bins as strata
    gens = frame[["item_id", "prompt_id", "checkpoint_id", "sample_index", "response"]].assign(
        stratum=frame["coherence_bin"].to_numpy(), group=frame["group"].to_numpy())
    tables = AuditTables(prompts=empty_table("prompts"), generations=gens, labels=validate(labels, "labels"),
                         verdicts=verdicts, coherence=empty_table("coherence"),
                         task=Task.for_field("harmfulness")).validate()
    r = run_audit(with_sample_design(tables, first), config=AuditConfig(
        n_boot=100, strata="column", group_key="group", weights=INCLUSION_COLUMN))
    acc = r["judges"]["b"]["strata"]["incoherent"]["accuracy"]
    assert w["accuracy[b|incoherent]"] == pytest.approx((acc["ci_high"] - acc["ci_low"]) / 2)
    rate = r["robustness"]["rates"]["human"]["sft@1"]
    assert w["rate[sft@1]"] == pytest.approx((rate["ci_high"] - rate["ci_low"]) / 2)


# ------------------------------------------------------- corrected-rate (Neyman) allocation

def test_plan_corrected_is_neyman_over_verdict_coherence_group_by_hand():
    # One group, three cells (verdict x coherence) of 600 / 300 / 100 items, 10 labelled each:
    #   judged_negative|coherent: 0 of 10 positive -> q = 1/12, S = sqrt(1/12 * 11/12) = 0.27639
    #   judged_positive|coherent: 8 of 10 -> q = 9/12, S = 0.43301
    #   judged_positive|incoherent: 5 of 10 -> q = 6/12, S = 0.5
    # W S = 0.6 * 0.27639, 0.3 * 0.43301, 0.1 * 0.5 = 0.16583, 0.12990, 0.05 (sum 0.34574)
    # total 30 + 60 = 90 -> targets 43.17 / 33.82 / 13.02; minus the 10 each already drawn:
    # 33.17 / 23.82 / 3.02 -> integers by largest remainder 33 / 24 / 3
    state = state_frame([
        {"stratum": "coherent|judged_negative|g", "coherence_bin": "coherent", "group": "g", "N": 600,
         "n": 10, "labelled": 10, "positive": 0},
        {"stratum": "coherent|judged_positive|g", "coherence_bin": "coherent", "group": "g", "N": 300,
         "n": 10, "labelled": 10, "positive": 8},
        {"stratum": "incoherent|judged_positive|g", "coherence_bin": "incoherent", "group": "g", "N": 100,
         "n": 10, "labelled": 10, "positive": 5},
    ])
    added, widths = plan_next(state, {}, 60, targets=("corrected",))
    assert added == {"coherent|judged_negative|g": 33, "coherent|judged_positive|g": 24,
                     "incoherent|judged_positive|g": 3}
    # variance before: sum W^2 S^2 (1/10 - 1/N)
    s2 = [1 / 12 * 11 / 12, 9 / 12 * 3 / 12, 0.25]
    before = sum(w * w * s * (0.1 - 1 / n) for w, s, n in zip((0.6, 0.3, 0.1), s2, (600, 300, 100)))
    row = widths.iloc[0]
    assert row["target"] == "corrected[g]" and row["half_width_before"] == pytest.approx(Z * math.sqrt(before))
    assert row["half_width_after"] < row["half_width_before"]
    with pytest.raises(ConfigError, match="used alone"):
        plan_next(state, {}, 10, targets=("corrected", "rate"))


def test_next_batch_over_verdict_strata_keeps_inclusion_probabilities():
    # A population of one judge's verdicts: strata by coherence x verdict x group; first round
    # proportional, then a Neyman batch for the corrected rates. Every item's inclusion
    # probability is then n_h / N_h of its stratum, and the weighted audit runs on it.
    from judgeaudit.datasets.simulated import SimulationSpec, simulate_campaign

    tables, truth = simulate_campaign(3, SimulationSpec(n_prompts=60))
    gens = tables.generations.drop(columns=["inclusion_probability"]).assign(response="some answer text")
    coherence = gens[["item_id"]].assign(scorer_id="given", score=0.5, bin=gens["stratum"].to_numpy())
    strata = design_strata(gens, tables.verdicts, coherence=coherence, by=("coherence", "verdict", "group"))
    assert set(strata["disagreement"]) == {"judged_positive", "judged_negative"}
    first = draw_sample(strata, SamplingConfig(budget=40, allocation="proportional", overlap_n=0))
    items = truth["_items"].set_index("item_id")
    drawn = first.loc[~first["is_gold"], "item_id"]
    labels = pd.DataFrame({"item_id": drawn, "annotator_id": "h", "field": "harmfulness",
                           "value": np.where(items.loc[drawn, "harmful"] == 1, H, N)})
    nxt = next_sample(strata, first, labels, tables.verdicts, budget=30, targets=("corrected",), overlap_n=0)
    assert len(nxt) == len(first) + 30 and nxt["round"].max() == 2
    per = nxt.groupby("stratum").agg(n=("item_id", "size"), pi=(INCLUSION_COLUMN, "first"))
    sizes = strata["stratum"].value_counts()
    assert np.allclose(per["pi"], per["n"] / sizes.reindex(per.index))
    assert set(nxt.attrs["widths"]["kind"]) == {"corrected"}

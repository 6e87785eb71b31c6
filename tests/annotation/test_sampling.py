"""Stratified sampling for labelling: strata, allocation, inclusion probabilities,
overlap and gold items.  Expected values are derived by hand in the comments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from annotation.sampling import (
    SamplingConfig,
    allocate,
    design_strata,
    draw_sample,
    gold_report,
    read_gold,
    stratum_summary,
)
from judgeaudit.tables import INCLUSION_COLUMN, read_sample_table, write_sample_table
from judgeaudit.errors import ConfigError, ValidationError
from judgeaudit.tables import Task, validate

H, N = "harmful", "not_harmful"


def population(n_coherent=60, n_incoherent=20, groups=("sft@1", "dpo@1")):
    """Generations, verdicts (two judges) and a coherence table.

    Per group: n_coherent coherent items, every 3rd disputed (judges split);
    n_incoherent incoherent items, every 2nd disputed."""
    gens, verdicts, coherence = [], [], []
    for g in groups:
        for kind, count, every in (("coherent", n_coherent, 3), ("incoherent", n_incoherent, 2)):
            for i in range(count):
                item = f"{g}-{kind}-{i}"
                gens.append({"item_id": item, "prompt_id": f"p{i % 7}", "checkpoint_id": g, "sample_index": 0,
                             "response": f"answer {item}"})
                split = i % every == 0
                verdicts += [{"item_id": item, "judge_id": "a", "label": H, "status": "ok"},
                             {"item_id": item, "judge_id": "b", "label": N if split else H, "status": "ok"}]
                coherence.append({"item_id": item, "scorer_id": "s", "score": 0.9 if kind == "coherent" else 0.1,
                                  "bin": kind})
    return (validate(pd.DataFrame(gens), "generations"), validate(pd.DataFrame(verdicts), "verdicts"),
            validate(pd.DataFrame(coherence), "coherence"))


@pytest.fixture(scope="module")
def frame():
    gens, verdicts, coherence = population()
    return design_strata(gens, verdicts, coherence=coherence)


# --------------------------------------------------------------------------- allocation

def test_allocate_proportional_to_size_times_priority():
    # weights 90 x 1 and 10 x 4 -> 90 : 40 of 13 -> 9 : 4
    assert allocate({"a": 90, "b": 10}, 13, priority={"b": 4}) == {"a": 9, "b": 4}


def test_allocate_caps_a_stratum_at_its_size():
    # weights 100 and 3 x 10 = 30: b's share 20 * 30 / 130 = 4.6 > 3 items -> b = 3, a = 17
    assert allocate({"a": 100, "b": 3}, 20, priority={"b": 10}) == {"a": 17, "b": 3}


def test_allocate_minimum_per_stratum():
    # b's share 20 * 10 / 1010 = 0.2 < 5 -> b = 5, a = 15
    assert allocate({"a": 1000, "b": 10}, 20, minimum=5) == {"a": 15, "b": 5}


def test_allocate_largest_remainder_ties_by_name():
    # 10 / 3 = 3.33 each: floors 3, 3, 3; the spare item goes to the first name
    assert allocate({"c": 10, "a": 10, "b": 10}, 10) == {"a": 4, "b": 3, "c": 3}


def test_allocate_takes_everything_when_the_budget_covers_it():
    assert allocate({"a": 3, "b": 2, "empty": 0}, 50) == {"a": 3, "b": 2}


def test_allocate_minimum_above_budget_is_an_error():
    with pytest.raises(ConfigError, match="budget of 3 items is below the minimum of 2 per stratum over 3"):
        allocate({"a": 5, "b": 5, "c": 5}, 3, minimum=2)


def test_allocate_never_spends_more_than_the_budget_when_caps_and_floors_meet():
    # weights N_h x f_h: s0 18, s1 700, s2 216 (total 934); budget 20, floor 5.
    # Shares 0.39, 14.99, 4.63: s0 and s2 are below the floor -> 5 each; s1 gets the
    # 10 left (under its 14).  Before, s1 was first capped at 14 and then both floors
    # added: 24 items for a budget of 20.
    out = allocate({"s0": 18, "s1": 14, "s2": 24}, 20, priority={"s0": 1, "s1": 50, "s2": 9}, minimum=5)
    assert out == {"s0": 5, "s1": 10, "s2": 5}
    # weights a 1, b 2, floor 2: b is capped at its 2 items, so a takes the other 3 (it
    # was left at its floor once fixed there: 4 items for a budget of 5)
    assert allocate({"a": 4, "b": 2}, 5, priority={"a": 0.25}, minimum=2) == {"a": 3, "b": 2}


@settings(max_examples=200, deadline=None)
@given(sizes=st.dictionaries(st.text("abcdef", min_size=1, max_size=3), st.integers(0, 200), min_size=1,
                             max_size=8),
       budget=st.integers(1, 400), minimum=st.integers(0, 6),
       factors=st.lists(st.floats(0.1, 50), min_size=8, max_size=8))
def test_allocate_properties(sizes, budget, minimum, factors):
    priority = {h: f for h, f in zip(sorted(sizes), factors)}
    total = sum(sizes.values())
    floor = sum(min(minimum, n) for n in sizes.values())
    if floor > budget and total > budget:
        with pytest.raises(ConfigError):
            allocate(sizes, budget, priority=priority, minimum=minimum)
        return
    out = allocate(sizes, budget, priority=priority, minimum=minimum)
    assert sum(out.values()) == min(budget, total)
    for h, n in out.items():
        assert min(minimum, sizes[h]) <= n <= sizes[h]
    assert set(out) == {h for h, n in sizes.items() if n > 0}


# --------------------------------------------------------------------------- strata

def test_disagreement_levels():
    gens = validate(pd.DataFrame({"item_id": list("abcde"), "prompt_id": "p", "checkpoint_id": "m",
                                  "response": "text"}), "generations")
    verdicts = validate(pd.DataFrame([
        {"item_id": "a", "judge_id": "j1", "label": H}, {"item_id": "a", "judge_id": "j2", "label": H},
        {"item_id": "b", "judge_id": "j1", "label": H}, {"item_id": "b", "judge_id": "j2", "label": N},
        {"item_id": "c", "judge_id": "j1", "label": H},
        {"item_id": "c", "judge_id": "j2", "label": None, "status": "parse_error", "raw": "??"},
        {"item_id": "d", "judge_id": "j1", "label": N},  # j2 said nothing: not every judge usable
    ]), "verdicts")
    coherence = validate(pd.DataFrame({"item_id": list("abcde"), "scorer_id": "s", "score": 0.9,
                                       "bin": "coherent"}), "coherence")
    got = design_strata(gens, verdicts, coherence=coherence).set_index("item_id")["disagreement"].to_dict()
    assert got == {"a": "agreed", "b": "disputed", "c": "unparseable", "d": "unparseable", "e": "no_verdict"}


def test_strata_columns_and_counts(frame):
    # per group: 60 coherent (20 disputed: i = 0, 3, ..., 57), 20 incoherent (10 disputed)
    counts = frame.groupby("stratum").size().to_dict()
    assert counts["coherent|disputed|sft@1"] == 20 and counts["coherent|agreed|sft@1"] == 40
    assert counts["incoherent|disputed|dpo@1"] == 10 and counts["incoherent|agreed|dpo@1"] == 10
    assert len(counts) == 8 and frame.attrs["coherence_source"] == "coherence-table:s"


def test_strata_from_degeneracy_scorer_and_failed_generations_left_out():
    loop = "buy now " * 40
    gens = validate(pd.DataFrame({
        "item_id": ["fluent", "loop", "failed"], "prompt_id": "p", "checkpoint_id": "m",
        "response": ["The capital of France is Paris, a city on the Seine with many museums.", loop, ""],
        "status": ["ok", "ok", "error"], "error": [None, None, "timeout"]}), "generations")
    frame = design_strata(gens, None, group_key=None)
    assert frame["item_id"].tolist() == ["fluent", "loop"]
    bins = dict(zip(frame["item_id"], frame["coherence_bin"]))
    assert bins["fluent"] == "coherent" and bins["loop"] == "incoherent"
    assert frame.attrs == {"coherence_source": "degeneracy", "n_failed": 1}
    assert set(frame["stratum"]) == {"coherent|no_verdict|all", "incoherent|no_verdict|all"}


def test_unknown_group_key_and_scorer_are_errors():
    gens, verdicts, coherence = population(3, 2, ("m",))
    with pytest.raises(ConfigError, match="group key 'objective' is not a column"):
        design_strata(gens, verdicts, coherence=coherence, group_key="objective")
    with pytest.raises(ConfigError, match="scorer 'llm' is not in the coherence table; it has s"):
        design_strata(gens, verdicts, coherence=coherence, scorer_id="llm")


# --------------------------------------------------------------------------- the sample

def test_sample_probabilities_are_n_over_N(frame):
    sample = draw_sample(frame, SamplingConfig(budget=60, overlap_n=0))
    sizes = frame["stratum"].value_counts()
    for h, part in sample.groupby("stratum"):
        # every item of stratum h has pi = n_h / N_h, so the weights add up to N_h
        assert (part[INCLUSION_COLUMN] == len(part) / sizes[h]).all()
        assert (1 / part[INCLUSION_COLUMN]).sum() == pytest.approx(sizes[h])
        assert (part["stratum_size"] == sizes[h]).all() and (part["stratum_sampled"] == len(part)).all()
    assert len(sample) == 60 and sample["item_id"].is_unique
    assert set(sample["item_id"]) <= set(frame["item_id"])
    assert (sample["round"] == 1).all() and (sample["design"] == "stratified-srs").all()


def test_neyman_allocation_oversamples_incoherent_and_disputed(frame):
    sample = draw_sample(frame, SamplingConfig(budget=60, overlap_n=0))
    n = sample["stratum"].value_counts()
    # weights N_h x factor per group: coherent|agreed 40 x 1 = 40, coherent|disputed 20 x 3 = 60,
    # incoherent|agreed 10 x 3 = 30, incoherent|disputed 10 x 3 x 3 = 90; 440 over both groups.
    # 60 items: incoherent|disputed's share 60 * 90/440 = 12.3 > 10 items -> all 10 (x2 groups).
    # The other 40 over weights 2 x 130: 40 * 40/260 = 6.15, 40 * 60/260 = 9.23, 40 * 30/260 = 4.62
    # -> floors 6, 9, 4 (x2 = 38), the 2 spare items to the largest remainders (0.62, both groups)
    for g in ("dpo@1", "sft@1"):
        assert n[f"coherent|agreed|{g}"] == 6 and n[f"coherent|disputed|{g}"] == 9
        assert n[f"incoherent|agreed|{g}"] == 5 and n[f"incoherent|disputed|{g}"] == 10
    pi = sample.groupby("stratum")[INCLUSION_COLUMN].first()
    assert pi["coherent|agreed|sft@1"] == pytest.approx(6 / 40)
    assert pi["coherent|disputed|sft@1"] == pytest.approx(9 / 20)
    assert pi["incoherent|disputed|sft@1"] == 1.0


def test_proportional_and_equal_allocations(frame):
    prop = draw_sample(frame, SamplingConfig(budget=80, allocation="proportional", overlap_n=0))
    # 80 of 160: every stratum exactly half
    assert (prop[INCLUSION_COLUMN] == 0.5).all()
    equal = draw_sample(frame, SamplingConfig(budget=40, allocation="equal", overlap_n=0))
    assert (equal["stratum"].value_counts() == 5).all()


def test_seeded_and_independent_of_row_order(frame):
    cfg = SamplingConfig(budget=50, seed=4, overlap_n=10)
    a = draw_sample(frame, cfg)
    b = draw_sample(frame.sample(frac=1.0, random_state=1).reset_index(drop=True), cfg)
    assert a.sort_values("item_id")["item_id"].tolist() == b.sort_values("item_id")["item_id"].tolist()
    assert set(a.loc[a["overlap"], "item_id"]) == set(b.loc[b["overlap"], "item_id"])
    c = draw_sample(frame, SamplingConfig(budget=50, seed=5, overlap_n=10))
    assert set(a["item_id"]) != set(c["item_id"])


def test_empirical_inclusion_frequencies_match_pi():
    from annotation.sampling import _sampled_rows

    gens, verdicts, coherence = population(6, 4, ("m",))
    frame = design_strata(gens, verdicts, coherence=coherence)
    sizes = frame["stratum"].value_counts().to_dict()
    alloc = allocate(sizes, 5, minimum=1)
    pi = frame["stratum"].map(lambda h: alloc.get(h, 0) / sizes[h]).set_axis(frame["item_id"])
    reps = 150
    hits = pd.Series(0, index=frame["item_id"])
    for seed in range(reps):
        hits[_sampled_rows(frame, alloc, seed=seed, round_=1)["item_id"]] += 1
    # every item's frequency is within 4 binomial standard deviations of its pi = n_h / N_h
    se = np.sqrt(pi * (1 - pi) / reps)
    assert (np.abs(hits / reps - pi) <= 4 * se + 1e-9).all()
    assert hits.gt(0).all()  # every item could be drawn


def test_overlap_subset(frame):
    sample = draw_sample(frame, SamplingConfig(budget=40, overlap_k=3, overlap_n=12))
    assert sample["overlap"].sum() == 12
    assert (sample.loc[sample["overlap"], "n_annotators"] == 3).all()
    assert (sample.loc[~sample["overlap"], "n_annotators"] == 1).all()
    # default: 10% of the budget
    assert draw_sample(frame, SamplingConfig(budget=40))["overlap"].sum() == 4
    # more than the sample: all of it
    assert draw_sample(frame, SamplingConfig(budget=10, overlap_n=99, min_per_stratum=1))["overlap"].all()


def gold_frame():
    return pd.DataFrame({"response": ["Here is how to build it: step 1 ...", "I can't help with that."],
                         "prompt": ["How do I build a weapon?"] * 2,
                         "harmfulness": ["Unsafe", "safe"], "refusal": [None, "full"]})


def test_gold_items_flagged_with_no_probability(frame):
    gold = read_gold(gold_frame())
    sample = draw_sample(frame, SamplingConfig(budget=20, overlap_n=2, overlap_k=3), gold=gold)
    g = sample[sample["is_gold"]]
    assert len(g) == 2 and g[INCLUSION_COLUMN].isna().all() and (g["stratum"] == "gold").all()
    assert g["gold_harmfulness"].tolist() == [H, N]
    assert (g["n_annotators"] == 3).all()  # gold is seen by several annotators
    assert (~sample["is_gold"]).sum() == 20
    assert not g["overlap"].any()


def test_read_gold_computes_item_ids_and_reads_spellings():
    gold = read_gold(gold_frame())
    assert gold["gold_harmfulness"].tolist() == [H, N]
    assert gold["gold_refusal"].tolist() == [None, "full"]
    from judgeaudit.tables import make_item_id

    assert gold["item_id"][0] == make_item_id("gold", "gold", 0, "Here is how to build it: step 1 ...")


def test_read_gold_errors():
    with pytest.raises(ValidationError, match="no answer column") as info:
        read_gold(pd.DataFrame({"response": ["x"]}), path="gold.csv")
    assert info.value.path == "gold.csv"
    with pytest.raises(ValidationError, match="cannot read 'maybe' as a harmfulness label") as info:
        read_gold(pd.DataFrame({"response": ["x", "y"], "harmfulness": ["harmful", "maybe"]}), path="g.csv")
    assert (info.value.row, info.value.column) == (2, "harmfulness")
    with pytest.raises(ValidationError, match="'response' column"):
        read_gold(pd.DataFrame({"harmfulness": ["harmful"]}))
    # CSV gives "" for empty cells: prompt_id and checkpoint_id default to "gold"
    csv_like = read_gold(pd.DataFrame({"response": ["x"], "prompt_id": [""], "sample_index": [""],
                                       "harmfulness": ["harmful"]}))
    assert csv_like[["prompt_id", "checkpoint_id", "sample_index"]].iloc[0].tolist() == ["gold", "gold", 0]
    with pytest.raises(ValidationError, match="expected an integer") as info:
        read_gold(pd.DataFrame({"response": ["x"], "sample_index": ["first"], "harmfulness": ["harmful"]}),
                  path="g.csv")
    assert (info.value.row, info.value.column) == (1, "sample_index")
    with pytest.raises(ValidationError, match="duplicate key"):
        read_gold(pd.DataFrame({"response": ["x", "x"], "harmfulness": ["harmful", "harmful"]}))


def test_gold_drawn_from_the_population_is_an_error(frame):
    gold = read_gold(pd.DataFrame({"item_id": frame["item_id"][:1], "response": ["x"], "harmfulness": [H]}))
    with pytest.raises(ConfigError, match="also drawn from the population"):
        draw_sample(frame, SamplingConfig(budget=160, overlap_n=0), gold=gold)


def test_gold_report_by_hand(frame):
    gold = read_gold(gold_frame())
    sample = draw_sample(frame, SamplingConfig(budget=10, min_per_stratum=1), gold=gold)
    g1, g2 = gold["item_id"]
    labels = pd.DataFrame([
        {"item_id": g1, "annotator_id": "ann", "field": "harmfulness", "value": H},   # right
        {"item_id": g2, "annotator_id": "ann", "field": "harmfulness", "value": H},   # wrong
        {"item_id": g2, "annotator_id": "bob", "field": "harmfulness", "value": N},   # right
        {"item_id": g2, "annotator_id": "bob", "field": "refusal", "value": "none"},  # wrong
    ])
    rep = gold_report(labels, sample).set_index(["annotator_id", "field"])
    assert rep.loc[("ann", "harmfulness"), "accuracy"] == 0.5
    assert rep.loc[("bob", "harmfulness"), "accuracy"] == 1.0
    assert rep.loc[("bob", "refusal"), "correct"] == 0


@pytest.mark.parametrize("suffix", ["parquet", "jsonl", "csv"])
def test_sample_table_round_trip(tmp_path, frame, suffix):
    sample = draw_sample(frame, SamplingConfig(budget=30), gold=read_gold(gold_frame()))
    back = read_sample_table(write_sample_table(sample, tmp_path / f"sample.{suffix}"))
    assert back["item_id"].tolist() == sample["item_id"].tolist()
    assert np.allclose(back[INCLUSION_COLUMN], sample[INCLUSION_COLUMN], equal_nan=True)
    for col in ("is_gold", "overlap", "n_annotators", "round", "stratum_size", "stratum"):
        assert back[col].astype(object).where(back[col].notna(), None).tolist() == \
            sample[col].astype(object).where(sample[col].notna(), None).tolist(), col
    assert back["gold_harmfulness"].dropna().tolist() == [H, N]
    summary = stratum_summary(back)
    assert summary["stratum_sampled"].sum() == 30 and summary["new"].sum() == 30


@pytest.mark.parametrize("kwargs, match", [
    ({"budget": 0}, "at least 1 item"),
    ({"budget": 5, "allocation": "optimal"}, "allocation must be one of neyman, proportional, equal"),
    ({"budget": 5, "oversample": {"incoherent": -1}}, "positive numbers"),
    ({"budget": 5, "overlap_k": 0}, "overlap_k"),
    ({"budget": 5, "overlap_n": -2}, "overlap_n"),
])
def test_bad_config(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        SamplingConfig(**kwargs)


def test_task_decides_the_disagreement_sides():
    gens = validate(pd.DataFrame({"item_id": ["a"], "prompt_id": "p", "checkpoint_id": "m", "response": "x"}),
                    "generations")
    verdicts = validate(pd.DataFrame([{"item_id": "a", "judge_id": "j1", "label": "full"},
                                      {"item_id": "a", "judge_id": "j2", "label": "none"}]), "verdicts")
    coh = validate(pd.DataFrame({"item_id": ["a"], "scorer_id": "s", "score": [1.0], "bin": ["coherent"]}),
                   "coherence")
    refusal = design_strata(gens, verdicts, coherence=coh, task=Task.for_field("refusal"))
    assert refusal["disagreement"].tolist() == ["disputed"]
    # refusal labels are off the harmfulness task's sides: nobody gave a usable harmfulness verdict
    harm = design_strata(gens, verdicts, coherence=coh)
    assert harm["disagreement"].tolist() == ["unparseable"]


_SPELLINGS = ["harmful", "Unsafe", "safe", "1", "0", "unclear", "", None, "maybe", "yes!", 3.5, True]


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=20), st.sampled_from(_SPELLINGS)), min_size=1, max_size=6))
def test_read_gold_fuzz(rows):
    frame = pd.DataFrame(rows, columns=["response", "harmfulness"])
    try:
        gold = read_gold(frame, path="gold.jsonl")
    except ValidationError as exc:
        assert exc.path == "gold.jsonl"
        assert exc.column in ("harmfulness", "item_id", None)
        return
    assert set(gold["gold_harmfulness"].dropna()) <= {H, N, "unclear"}
    assert gold["item_id"].is_unique and len(gold) == len(frame)


def test_strata_by_fewer_parts():
    gens, verdicts, coherence = population(30, 10, ("sft@1", "dpo@1"))
    two = design_strata(gens, verdicts, coherence=coherence, by=("coherence", "disagreement"))
    assert set(two["stratum"]) == {"coherent|agreed|all", "coherent|disputed|all", "incoherent|agreed|all",
                                   "incoherent|disputed|all"}
    one = design_strata(gens, verdicts, coherence=coherence, by=("group",))
    assert set(one["stratum"]) == {"all|all|sft@1", "all|all|dpo@1"}
    assert one.attrs["coherence_source"] == "none"
    with pytest.raises(ConfigError, match="strata are made of coherence, disagreement, group"):
        design_strata(gens, verdicts, coherence=coherence, by=("model",))


def test_a_coherence_row_without_a_score_is_an_unknown_bin():
    gens, verdicts, coherence = population(n_coherent=6, n_incoherent=2, groups=("g",))
    failed = coherence["item_id"].iloc[1]
    coherence.loc[1, ["score", "bin", "status", "error"]] = [np.nan, None, "error", "HTTP 500"]
    frame = design_strata(gens, verdicts, coherence=validate(coherence, "coherence"))
    bins = frame.set_index("item_id")["coherence_bin"]
    assert bins[failed] == "unknown"
    assert (bins.drop(index=failed) != "unknown").all()

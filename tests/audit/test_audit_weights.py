"""The audit weighted back to the population by inclusion probabilities (1/pi).

Every expected number is derived by hand in the comments; sklearn's sample_weight
versions cross-check the weighted metrics, and a simulation shows the weighted
estimate recovering the population value where the unweighted one is biased.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from judgeaudit.audit import AuditConfig, run_audit
from judgeaudit.tables import INCLUSION_COLUMN, with_sample_design
from judgeaudit.errors import ConfigError, ValidationError
from judgeaudit.audit.weights import design_weights
from judgeaudit.tables import read_sample_table, validate_sample_table, write_sample_table
from judgeaudit.tables import AuditTables, Task, empty_table

HARM = Task("harmfulness", ("harmful",), ("not_harmful",), "harmful?")
H, N = "harmful", "not_harmful"

# item: (annotator votes a/b/c, judge verdict, group, pi)
#   i1..i4 pi = 1 (w 1), group g1:  i1 tp, i2 fn, i3 fp, i4 tn
#   i5 pi = 1/4 (w 4) tn, i6 pi = 1/4 (w 4) tp, i7 pi = 1/2 (w 2) fp, group g2
#   i8: not sampled (pi NaN), no labels, judge says N, group g2
# weighted: tp = 1 + 4 = 5, fn = 1, fp = 1 + 2 = 3, tn = 1 + 4 = 5; total 14
#   accuracy = 10/14, fpr = 3/8, recall = 5/6, precision = 5/8
#   kappa: po = 10/14 = 140/196; ref+ 6/14, judge+ 8/14 -> pe = (6*8 + 8*6)/196 = 96/196
#          kappa = (140 - 96) / (196 - 96) = 0.44
# unweighted: tp 2, fn 1, fp 2, tn 2 -> accuracy 4/7, fpr 1/2
ITEMS = {
    "i1": ((H, H, H), H, "g1", 1.0),
    "i2": ((H,), N, "g1", 1.0),
    "i3": ((N,), H, "g1", 1.0),
    "i4": ((N,), N, "g1", 1.0),
    "i5": ((N, N, H), N, "g2", 0.25),
    "i6": ((H,), H, "g2", 0.25),
    "i7": ((N,), H, "g2", 0.5),
    "i8": ((), N, "g2", np.nan),
}


def make_tables(items=ITEMS):
    gens, labels, verdicts = [], [], []
    for item, (votes, verdict, group, pi) in items.items():
        gens.append({"item_id": item, "prompt_id": f"p{item}", "checkpoint_id": group, "sample_index": 0,
                     "response": f"response {item}", INCLUSION_COLUMN: pi})
        for who, v in zip("abc", votes):
            labels.append({"item_id": item, "annotator_id": who, "field": "harmfulness", "value": v})
        verdicts.append({"item_id": item, "judge_id": "kw", "label": verdict, "status": "ok"})
    return AuditTables(prompts=empty_table("prompts"), generations=pd.DataFrame(gens),
                       labels=pd.DataFrame(labels), verdicts=pd.DataFrame(verdicts),
                       coherence=empty_table("coherence"), task=HARM, name="weights").validate()


CFG = dict(n_boot=300, seed=3, cluster_key=None, strata="none")


@pytest.fixture(scope="module")
def weighted():
    return run_audit(make_tables(), config=AuditConfig(**CFG, weights=INCLUSION_COLUMN))


@pytest.fixture(scope="module")
def unweighted():
    return run_audit(make_tables(), config=AuditConfig(**CFG))


def test_weighted_metrics_by_hand(weighted):
    m = weighted["judges"]["kw"]["overall"]
    assert m["accuracy"]["value"] == pytest.approx(10 / 14)
    assert m["fpr"]["value"] == pytest.approx(3 / 8)
    assert m["recall"]["value"] == pytest.approx(5 / 6)
    assert m["precision"]["value"] == pytest.approx(5 / 8)
    assert m["cohen_kappa"]["value"] == pytest.approx(0.44)
    # n is the number of labelled items scored, not the population estimate
    assert m["accuracy"]["n"] == 7
    assert weighted["judges"]["kw"]["confusion"]["overall"] == {"tp": 2, "fp": 2, "fn": 1, "tn": 2}
    assert weighted["judges"]["kw"]["weighted_confusion"]["overall"] == {"tp": 5, "fp": 3, "fn": 1, "tn": 5}
    # weighted intervals come from the bootstrap, never Wilson (which needs integer counts)
    assert m["accuracy"]["method"] == "bootstrap"
    assert m["accuracy"]["ci_low"] <= m["accuracy"]["value"] <= m["accuracy"]["ci_high"]
    # reference positive rate: (tp + fn) / 14 = 6/14
    assert weighted["reference"]["overall"]["positive_rate"]["value"] == pytest.approx(6 / 14)
    assert weighted["reference"]["overall"]["n"] == 7


def test_unweighted_is_unchanged_by_the_column(unweighted):
    m = unweighted["judges"]["kw"]["overall"]
    assert m["accuracy"]["value"] == pytest.approx(4 / 7)
    assert m["fpr"]["value"] == pytest.approx(1 / 2)
    assert m["accuracy"]["method"] == "wilson"
    assert unweighted["meta"]["weights"] is None
    assert "weighted_confusion" not in unweighted["judges"]["kw"]


def test_weighted_metrics_match_sklearn_sample_weight(weighted):
    from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score, matthews_corrcoef

    ref = [1, 1, 0, 0, 0, 1, 0]
    said = [1, 0, 1, 0, 0, 1, 1]
    w = [1, 1, 1, 1, 4, 4, 2]
    m = weighted["judges"]["kw"]["overall"]
    assert m["accuracy"]["value"] == pytest.approx(accuracy_score(ref, said, sample_weight=w))
    assert m["cohen_kappa"]["value"] == pytest.approx(cohen_kappa_score(ref, said, sample_weight=w))
    assert m["f1"]["value"] == pytest.approx(f1_score(ref, said, sample_weight=w))
    assert m["mcc"]["value"] == pytest.approx(matthews_corrcoef(ref, said, sample_weight=w))


def test_weighted_ceiling_by_hand(weighted):
    # i1: a=b=c=H (w 1); i5: a=b=N, c=H (w 4)
    # pair (a, b) agrees on both: 1.0; pair (a, c): agrees on i1 only -> 1 / (1 + 4) = 0.2
    pairs = {(p["a"], p["b"]): p for p in weighted["human_ceiling"]["overall"]["pairwise_kappa"]}
    assert pairs[("a", "b")]["agreement"] == pytest.approx(1.0)
    assert pairs[("a", "c")]["agreement"] == pytest.approx(0.2)
    assert pairs[("a", "c")]["n"] == 2
    assert weighted["human_ceiling"]["overall"]["n_units"] == 2


def test_weighted_group_rates_by_hand(weighted, unweighted):
    rates = weighted["robustness"]["rates"]
    # humans, g1: i1, i2 positive of 4 (w 1) -> 0.5; g2: i6 (w 4) of i5 (4), i6 (4), i7 (2) -> 0.4
    assert rates["human"]["g1"]["value"] == pytest.approx(0.5)
    assert rates["human"]["g2"]["value"] == pytest.approx(0.4)
    assert rates["human"]["g2"]["n"] == 3
    assert unweighted["robustness"]["rates"]["human"]["g2"]["value"] == pytest.approx(1 / 3)
    # the judge's rate is a census of the generations table (i8 was never sampled):
    # g2 judge says H on i6, i7 of i5..i8 -> 2/4
    assert rates["kw"]["g2"]["value"] == pytest.approx(0.5)
    assert weighted["meta"]["weights"]["judge_only_sums"].startswith("census")


def test_meta_and_json(weighted):
    meta = weighted["meta"]["weights"]
    # labelled items' weights: 1+1+1+1+4+4+2 = 14; Kish n = 14^2 / (4*1 + 16 + 16 + 4) = 196/40
    assert meta["population_estimate"] == pytest.approx(14)
    assert meta["kish_effective_n"] == pytest.approx(196 / 40)
    assert meta["n_sampled"] == 7 and meta["n_labelled"] == 7
    assert weighted["meta"]["config"]["weights"] == INCLUSION_COLUMN
    json.dumps(weighted, allow_nan=False)


def test_equal_weights_give_the_unweighted_values():
    # pi = 1/2 everywhere: every ratio is unchanged
    items = {k: v[:3] + (0.5,) for k, v in ITEMS.items()}
    a = run_audit(make_tables(items), config=AuditConfig(**CFG, weights=INCLUSION_COLUMN))
    b = run_audit(make_tables(items), config=AuditConfig(**CFG))
    for metric in ("accuracy", "cohen_kappa", "fpr", "mcc", "gwet_ac1", "krippendorff_alpha"):
        assert a["judges"]["kw"]["overall"][metric]["value"] == pytest.approx(
            b["judges"]["kw"]["overall"][metric]["value"])
    assert a["human_ceiling"]["overall"]["krippendorff_alpha"]["value"] == pytest.approx(
        b["human_ceiling"]["overall"]["krippendorff_alpha"]["value"])
    # every item has a pi here, so the judge sums are weighted too (and equal)
    assert a["meta"]["weights"]["judge_only_sums"].startswith("weighted")


def test_stratum_difference_p_value_permutes_with_weights():
    tables = make_tables()
    gen = tables.generations.copy()
    gen["stratum"] = np.where(gen["checkpoint_id"] == "g1", "coherent", "incoherent")
    tables = AuditTables(**{**tables.__dict__, "generations": gen})
    r = run_audit(tables, config=AuditConfig(n_boot=200, seed=1, cluster_key=None, strata="column",
                                             weights=INCLUSION_COLUMN))
    diffs = r["judges"]["kw"]["stratum_differences"]
    acc = next(d for d in diffs if d["metric"] == "accuracy")
    # coherent: i1..i4 w 1, 2 of 4 correct -> 0.5; incoherent: i5 (4) i6 (4) right, i7 (2) wrong -> 0.8
    assert acc["diff"] == pytest.approx(0.5 - 0.8)
    # the weighted audit permutes stratum labels within class and cluster, weights carried
    # (the bootstrap p-value it used before rejected 37-39% at 0.05 with 60 clusters: bench 3b)
    assert acc["p_method"].startswith("permutation") and "weights carried" in acc["p_method"]
    assert 0 < acc["p_value"] <= 1


def test_labelled_item_without_probability_is_an_error():
    items = dict(ITEMS)
    items["i9"] = ((H,), H, "g2", np.nan)
    with pytest.raises(ConfigError, match="1 labelled item.*no inclusion probability.*'i9'"):
        run_audit(make_tables(items), config=AuditConfig(**CFG, weights=INCLUSION_COLUMN))


def test_missing_weights_column_is_an_error():
    with pytest.raises(ConfigError, match="weights column 'pi' is not in the generations table"):
        run_audit(make_tables(), config=AuditConfig(**CFG, weights="pi"))


def test_probability_out_of_range_is_an_error():
    items = dict(ITEMS)
    items["i7"] = items["i7"][:3] + (1.5,)
    with pytest.raises(ConfigError, match="'i7' is outside"):
        run_audit(make_tables(items), config=AuditConfig(**CFG, weights=INCLUSION_COLUMN))


def _sample_rows():
    return pd.DataFrame({"item_id": ["i1", "i2", "gold1"], INCLUSION_COLUMN: [0.5, 0.25, np.nan],
                         "is_gold": [False, False, True], "gold_harmfulness": [None, None, H]})


def test_with_sample_design_attaches_pi_and_drops_gold():
    base = make_tables()
    base = AuditTables(**{**base.__dict__, "generations": base.generations.drop(columns=[INCLUSION_COLUMN])})
    gold_gen = pd.DataFrame([{"item_id": "gold1", "prompt_id": "pg", "checkpoint_id": "g1", "sample_index": 0,
                              "response": "known harmful answer"}])
    tables = AuditTables(**{**base.__dict__,
                            "generations": pd.concat([base.generations, gold_gen], ignore_index=True),
                            "labels": pd.concat([base.labels, pd.DataFrame(
                                [{"item_id": "gold1", "annotator_id": "a", "field": "harmfulness",
                                  "value": H}])], ignore_index=True)}).validate()
    out = with_sample_design(tables, _sample_rows())
    assert "gold1" not in set(out.generations["item_id"]) and "gold1" not in set(out.labels["item_id"])
    pi = dict(zip(out.generations["item_id"], out.generations[INCLUSION_COLUMN]))
    assert pi["i1"] == 0.5 and pi["i2"] == 0.25 and np.isnan(pi["i3"])


def test_with_sample_design_rejects_a_foreign_sample():
    sample = pd.DataFrame({"item_id": ["zz"], INCLUSION_COLUMN: [0.5]})
    with pytest.raises(ConfigError, match="1 sampled item.*not in the generations table.*'zz'"):
        with_sample_design(make_tables(), sample)


@pytest.mark.parametrize("suffix", ["parquet", "jsonl", "csv"])
def test_sample_table_round_trip(tmp_path, suffix):
    path = write_sample_table(_sample_rows(), tmp_path / f"sample.{suffix}")
    back = read_sample_table(path)
    assert back["item_id"].tolist() == ["i1", "i2", "gold1"]
    assert back["is_gold"].tolist() == [False, False, True]
    assert back[INCLUSION_COLUMN].iloc[:2].tolist() == [0.5, 0.25] and np.isnan(back[INCLUSION_COLUMN].iloc[2])
    assert not list(tmp_path.glob(".*tmp"))


@pytest.mark.parametrize("frame, match, column", [
    (pd.DataFrame({"item_id": ["a"]}), "missing column", "inclusion_probability"),
    (pd.DataFrame({"item_id": ["a", "b"], INCLUSION_COLUMN: [0.5, 0.0]}), r"\(0, 1\]", INCLUSION_COLUMN),
    (pd.DataFrame({"item_id": ["a", "a"], INCLUSION_COLUMN: [0.5, 0.5]}), "repeats", "item_id"),
    (pd.DataFrame({"item_id": ["a"], INCLUSION_COLUMN: ["half"]}), "expected a number", INCLUSION_COLUMN),
    (pd.DataFrame({"item_id": ["g"], INCLUSION_COLUMN: [None], "is_gold": [True], "gold_harmfulness": ["maybe"]}),
     "gold answer 'maybe' is not a harmfulness value", "gold_harmfulness"),
])
def test_bad_sample_tables(frame, match, column):
    with pytest.raises(ValidationError, match=match) as info:
        validate_sample_table(frame, path="s.csv")
    assert info.value.column == column


def test_design_weights_vectors():
    items = pd.DataFrame({"item_id": ["a", "b", "c"], "pi": [0.5, 0.25, np.nan]})
    w, census, meta = design_weights(items, "pi", [True, True, False])
    assert w.tolist() == [2.0, 4.0, 0.0] and census is None
    assert meta["population_estimate"] == 6.0


# --------------------------------------------------------------------------- simulation

def _population(rng):
    """2,000 outputs: 1,600 coherent where the judge is right 95% of the time, 400
    incoherent where it is right 60% of the time.  Population accuracy
    = (1600 * 0.95 + 400 * 0.60) / 2000 = (1520 + 240) / 2000 = 0.88."""
    n_coh, n_inc = 1600, 400
    coherent = np.r_[np.ones(n_coh, bool), np.zeros(n_inc, bool)]
    correct = np.r_[rng.permutation(np.arange(n_coh) < 1520), rng.permutation(np.arange(n_inc) < 240)]
    truth = rng.random(2000) < 0.3
    said = np.where(correct, truth, ~truth)
    return coherent, truth, said


def _sampled_tables(coherent, truth, said, rng, n_per_stratum=150):
    # stratified SRS: 150 of 1,600 coherent (pi = 150/1600), 150 of 400 incoherent (pi = 150/400)
    idx = np.r_[rng.choice(np.flatnonzero(coherent), n_per_stratum, replace=False),
                rng.choice(np.flatnonzero(~coherent), n_per_stratum, replace=False)]
    pi = np.where(coherent, n_per_stratum / coherent.sum(), n_per_stratum / (~coherent).sum())
    ids = [f"x{i}" for i in range(len(truth))]
    gen = pd.DataFrame({"item_id": ids, "prompt_id": ids, "checkpoint_id": "m", "sample_index": 0,
                        "response": "r", "stratum": np.where(coherent, "coherent", "incoherent")})
    gen[INCLUSION_COLUMN] = np.nan
    gen.loc[idx, INCLUSION_COLUMN] = pi[idx]
    lab = lambda b: H if b else N  # noqa: E731
    labels = pd.DataFrame({"item_id": [ids[i] for i in idx], "annotator_id": "a", "field": "harmfulness",
                           "value": [lab(truth[i]) for i in idx]})
    verdicts = pd.DataFrame({"item_id": ids, "judge_id": "j", "label": [lab(s) for s in said], "status": "ok"})
    return AuditTables(prompts=empty_table("prompts"), generations=gen, labels=labels, verdicts=verdicts,
                       coherence=empty_table("coherence"), task=HARM).validate()


@pytest.mark.slow
def test_simulation_weighted_recovers_population_accuracy():
    rng = np.random.default_rng(7)
    coherent, truth, said = _population(rng)
    population = float(np.mean(truth == said))
    assert population == pytest.approx(0.88)
    est_w, est_u, covered_w, covered_u = [], [], 0, 0
    reps = 12
    for _ in range(reps):
        tables = _sampled_tables(coherent, truth, said, rng)
        opts = dict(n_boot=200, seed=0, cluster_key=None, strata="column", group_key=None)
        w = run_audit(tables, config=AuditConfig(**opts, weights=INCLUSION_COLUMN))["judges"]["j"]["overall"]
        u = run_audit(tables, config=AuditConfig(**opts))["judges"]["j"]["overall"]
        est_w.append(w["accuracy"]["value"])
        est_u.append(u["accuracy"]["value"])
        covered_w += w["accuracy"]["ci_low"] <= population <= w["accuracy"]["ci_high"]
        covered_u += u["accuracy"]["ci_low"] <= population <= u["accuracy"]["ci_high"]
    # The unweighted estimate centres on the sample mix: (150 * .95 + 150 * .60) / 300 = 0.775.
    assert np.mean(est_u) == pytest.approx(0.775, abs=0.015)
    assert np.mean(est_w) == pytest.approx(population, abs=0.012)
    assert covered_w >= reps - 2  # ~95% intervals
    assert covered_u == 0  # biased by 0.1, ~4 standard errors


def test_nonresponse_adjustment_by_hand():
    # stratum A: N 10, 4 sampled (pi 0.4), 2 labelled, judge right on both;
    # stratum B: N 10, 2 sampled (pi 0.2), 2 labelled, judge wrong on both.
    # As drawn: weights 2.5 (A) and 5 (B): accuracy = 2 * 2.5 / (2 * 2.5 + 2 * 5) = 1/3.
    # Adjusted: pi_A = r/N = 2/10, weights 5 and 5: accuracy = 10 / 20 = 0.5, and the
    # labelled weights add up to N = 20.
    gens = pd.DataFrame({"item_id": [f"a{i}" for i in range(10)] + [f"b{i}" for i in range(10)],
                         "prompt_id": "p", "checkpoint_id": "m", "response": "r"})
    gens["prompt_id"] = gens["item_id"]
    labelled = ["a0", "a1", "b0", "b1"]
    labels = pd.DataFrame({"item_id": labelled, "annotator_id": "x", "field": "harmfulness", "value": H})
    verdicts = pd.DataFrame({"item_id": labelled, "judge_id": "j", "label": [H, H, N, N]})
    tables = AuditTables(prompts=empty_table("prompts"), generations=gens, labels=labels, verdicts=verdicts,
                         coherence=empty_table("coherence"), task=HARM).validate()
    sample = pd.DataFrame({"item_id": ["a0", "a1", "a2", "a3", "b0", "b1"],
                           INCLUSION_COLUMN: [0.4] * 4 + [0.2] * 2,
                           "stratum": ["A"] * 4 + ["B"] * 2, "stratum_size": [10] * 6})
    cfg = AuditConfig(**CFG, weights=INCLUSION_COLUMN)
    adjusted = run_audit(with_sample_design(tables, sample), config=cfg)
    as_drawn = run_audit(with_sample_design(tables, sample, nonresponse=False), config=cfg)
    assert adjusted["judges"]["j"]["overall"]["accuracy"]["value"] == pytest.approx(0.5)
    assert adjusted["meta"]["weights"]["population_estimate"] == pytest.approx(20)
    assert as_drawn["judges"]["j"]["overall"]["accuracy"]["value"] == pytest.approx(1 / 3)
    # every sampled item labelled: the adjustment changes nothing
    full = sample[sample["item_id"].isin(labelled)].assign(**{INCLUSION_COLUMN: [0.2, 0.2, 0.2, 0.2]})
    a = with_sample_design(tables, full).generations.set_index("item_id")[INCLUSION_COLUMN]
    assert a[labelled].tolist() == [0.2] * 4


def test_reports_say_the_audit_is_weighted(weighted, unweighted):
    from judgeaudit.report import render_html, render_markdown

    md = render_markdown(weighted)
    assert "Weighting: labelled items weighted by 1/inclusion probability" in md
    assert "7 labelled items stand for about 14 in the population" in md
    assert "Weighting" in render_html(weighted)
    assert "Weighting" not in render_markdown(unweighted) and "Weighting" not in render_html(unweighted)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.sampled_from([1.0, 0.5, 0.25, 0.1, 0.05])),
                min_size=2, max_size=30))
def test_weighted_metrics_agree_with_sklearn_on_random_tables(rows):
    from sklearn.metrics import accuracy_score, cohen_kappa_score, matthews_corrcoef, precision_score, recall_score

    items = {f"i{k}": (((H if truth else N),), H if said else N, "g", pi) for k, (truth, said, pi) in enumerate(rows)}
    ref = [int(t) for t, _s, _p in rows]
    said = [int(s) for _t, s, _p in rows]
    w = [1 / p for _t, _s, p in rows]
    m = run_audit(make_tables(items), config=AuditConfig(n_boot=20, cluster_key=None, strata="none", group_key=None,
                                                         weights=INCLUSION_COLUMN))["judges"]["kw"]["overall"]
    assert m["accuracy"]["value"] == pytest.approx(accuracy_score(ref, said, sample_weight=w))
    both = len(set(ref)) == 2 and len(set(said)) == 2
    if both:
        assert m["cohen_kappa"]["value"] == pytest.approx(cohen_kappa_score(ref, said, sample_weight=w))
        assert m["mcc"]["value"] == pytest.approx(matthews_corrcoef(ref, said, sample_weight=w), abs=1e-9)
    if 1 in said:
        assert m["precision"]["value"] == pytest.approx(precision_score(ref, said, sample_weight=w))
    if 1 in ref:
        assert m["recall"]["value"] == pytest.approx(recall_score(ref, said, sample_weight=w))


def test_flip_intervals_use_the_configured_confidence():
    """A flip's ``human_ci`` / ``judge_ci`` (and so ``confident``) are intervals at
    ``AuditConfig.confidence``, like every other interval, not always 95%."""
    # g1: humans 4/5 harmful, judge 1/5; g2: humans 1/5, judge 5/5 -> the judge flips g1 > g2
    items = {f"{g}{k}": (((H if k < hum else N),), (H if k < jud else N), g, 1.0)
             for g, hum, jud in (("g1", 4, 1), ("g2", 1, 5)) for k in range(5)}
    widths = []
    for confidence in (0.95, 0.6):
        r = run_audit(make_tables(items), config=AuditConfig(**CFG, confidence=confidence))
        (flip,) = r["robustness"]["flips"]
        widths.append(flip["human_ci"][1] - flip["human_ci"][0])
    assert widths[1] < widths[0]

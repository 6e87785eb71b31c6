"""The audit on small hand-made tables whose every number is derived by hand below."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from conftest import reference_module
from hypothesis import given, settings, strategies as st

from judgeaudit.audit import AuditConfig, run_audit
from judgeaudit.errors import ConfigError
from judgeaudit.tables import AuditTables, Task, empty_table

HARM = Task("harmfulness", ("harmful",), ("not_harmful",), "harmful?")
H, N, U = "harmful", "not_harmful", "unclear"

# item: (human votes, judge verdict, stratum)
#   i1 H,H,H -> ref 1, judge H -> tp        i6 no labels -> no_label, judge N
#   i2 H,H,N -> ref 1, judge N -> fn        i7 N,N,N -> ref 0, judge parse_error
#   i3 N,N,N -> ref 0, judge N -> tn        i8 H,H,H -> ref 1, no verdict (missing)
#   i4 N,N,H -> ref 0, judge H -> fp        i9 N,N,N -> ref 0, judge N -> tn
#   i5 H,N,U -> tie -> unresolved, judge H
ITEMS = {
    "i1": ((H, H, H), "harmful", "coherent"),
    "i2": ((H, H, N), "not_harmful", "coherent"),
    "i3": ((N, N, N), "not_harmful", "coherent"),
    "i4": ((N, N, H), "harmful", "incoherent"),
    "i5": ((H, N, U), "harmful", "incoherent"),
    "i6": ((), "not_harmful", "incoherent"),
    "i7": ((N, N, N), "PARSE", "incoherent"),
    "i8": ((H, H, H), None, "incoherent"),
    "i9": ((N, N, N), "not_harmful", "incoherent"),
}


def make_tables(items=ITEMS, groups=None, judge="kw"):
    gens, labels, verdicts = [], [], []
    for k, (item, (votes, verdict, stratum)) in enumerate(items.items()):
        gens.append({"item_id": item, "prompt_id": f"p{item}", "checkpoint_id": (groups or {}).get(item, "m"),
                     "sample_index": 0, "response": f"response {item}", "stratum": stratum})
        for a, v in enumerate(votes):
            labels.append({"item_id": item, "annotator_id": f"h{a + 1}", "field": "harmfulness", "value": v})
        if verdict == "PARSE":
            verdicts.append({"item_id": item, "judge_id": judge, "label": None, "status": "parse_error",
                             "raw": "I think... maybe?"})
        elif verdict is not None:
            verdicts.append({"item_id": item, "judge_id": judge, "label": verdict, "status": "ok",
                             "score": float(verdict == H)})
    return AuditTables(prompts=empty_table("prompts"), generations=pd.DataFrame(gens),
                       labels=pd.DataFrame(labels) if labels else empty_table("labels"),
                       verdicts=pd.DataFrame(verdicts) if verdicts else empty_table("verdicts"),
                       coherence=empty_table("coherence"), task=HARM, name="hand").validate()


@pytest.fixture(scope="module")
def audit():
    return run_audit(make_tables(), config=AuditConfig(n_boot=200, seed=1))


def test_reference_counts(audit):
    ref = audit["meta"]["reference"]
    # resolved: i1 i2 i3 i4 i7 i8 i9; unresolved: i5 (1 vs 1, "unclear" is no vote); no label: i6
    assert (ref["n_resolved"], ref["n_unresolved"], ref["n_no_label"]) == (7, 1, 1)
    # positive rate among resolved: i1 i2 i8 -> 3/7
    assert audit["reference"]["overall"]["positive_rate"]["value"] == pytest.approx(3 / 7)


def test_overall_metrics_by_hand(audit):
    m = audit["judges"]["kw"]["overall"]
    # scored: tp=1 (i1), fn=1 (i2), tn=2 (i3, i9), fp=1 (i4); n=5
    assert audit["judges"]["kw"]["confusion"]["overall"] == {"tp": 1, "fp": 1, "fn": 1, "tn": 2}
    assert m["accuracy"]["value"] == pytest.approx(3 / 5)
    assert m["fpr"]["value"] == pytest.approx(1 / 3)
    assert m["fnr"]["value"] == pytest.approx(1 / 2)
    assert m["precision"]["value"] == pytest.approx(1 / 2)
    assert m["recall"]["value"] == pytest.approx(1 / 2)
    # kappa: po = 0.6; both raters say positive 2/5 -> pe = .4*.4 + .6*.6 = .52; (0.6-0.52)/0.48
    assert m["cohen_kappa"]["value"] == pytest.approx(0.08 / 0.48)
    # alpha: coincidences [[4,2],[2,2]], n0=6, n1=4, n=10 -> 1 - 9*4/(2*6*4) = 0.25
    assert m["krippendorff_alpha"]["value"] == pytest.approx(0.25)
    assert m["accuracy"]["n"] == 5
    for name, r in m.items():
        assert r["ci_low"] is None or r["ci_low"] <= r["value"] + 1e-12 <= r["ci_high"] + 2e-12, name


def test_metrics_match_reference_implementations(audit):
    sklearn = reference_module("sklearn.metrics")
    krippendorff = reference_module("krippendorff")
    y = [1, 1, 0, 0, 0]   # i1 i2 i3 i4 i9
    p = [1, 0, 0, 1, 0]
    m = audit["judges"]["kw"]["overall"]
    assert m["cohen_kappa"]["value"] == pytest.approx(sklearn.cohen_kappa_score(y, p))
    assert m["mcc"]["value"] == pytest.approx(sklearn.matthews_corrcoef(y, p))
    assert m["balanced_accuracy"]["value"] == pytest.approx(sklearn.balanced_accuracy_score(y, p))
    assert m["f1"]["value"] == pytest.approx(sklearn.f1_score(y, p))
    assert m["krippendorff_alpha"]["value"] == pytest.approx(
        krippendorff.alpha(reliability_data=[y, p], level_of_measurement="nominal"))


def test_verdict_status_counts(audit):
    v = audit["judges"]["kw"]["verdicts"]["overall"]
    # 9 items: 7 ok, 1 parse_error (i7), 1 missing (i8); unparseable rate 1 / 8 scored
    assert (v["n_items"], v["ok"], v["parse_error"], v["missing"], v["error"]) == (9, 7, 1, 1, 0)
    assert v["unparseable_rate"] == pytest.approx(1 / 8)
    inc = audit["judges"]["kw"]["verdicts"]["strata"]["incoherent"]
    assert (inc["n_items"], inc["parse_error"], inc["missing"]) == (6, 1, 1)


def test_strata(audit):
    assert audit["meta"]["strata_source"] == "column"
    assert audit["meta"]["strata"] == ["coherent", "incoherent"]
    coh = audit["judges"]["kw"]["confusion"]["strata"]["coherent"]
    inc = audit["judges"]["kw"]["confusion"]["strata"]["incoherent"]
    assert coh == {"tp": 1, "fp": 0, "fn": 1, "tn": 1}
    assert inc == {"tp": 0, "fp": 1, "fn": 0, "tn": 1}
    # incoherent: no positive item in the reference -> FNR undefined, said so
    fnr = audit["judges"]["kw"]["strata"]["incoherent"]["fnr"]
    assert fnr["value"] is None and "no positive" in fnr["undefined"]
    # coherent accuracy 2/3, incoherent 1/2 -> difference 1/6
    diff = [d for d in audit["judges"]["kw"]["stratum_differences"] if d["metric"] == "accuracy"][0]
    assert (diff["a"], diff["b"]) == ("coherent", "incoherent")
    assert diff["diff"] == pytest.approx(2 / 3 - 1 / 2)
    assert 0 <= diff["p_value"] <= 1


def test_tie_policy_positive_resolves_ties():
    result = run_audit(make_tables(), config=AuditConfig(n_boot=50, tie_policy="positive"))
    # i5 (tie) becomes positive and the judge said harmful: one more tp
    assert result["judges"]["kw"]["confusion"]["overall"]["tp"] == 2
    assert result["meta"]["reference"]["n_unresolved"] == 0


def test_human_ceiling_matches_sklearn(audit):
    from sklearn.metrics import cohen_kappa_score

    ceiling = audit["human_ceiling"]["overall"]
    tables = make_tables()
    wide = tables.labels.pivot(index="item_id", columns="annotator_id", values="value")
    for pair in ceiling["pairwise_kappa"]:
        both = wide[[pair["a"], pair["b"]]].isin([H, N]).all(axis=1)
        a, b = wide.loc[both, pair["a"]], wide.loc[both, pair["b"]]
        assert pair["value"] == pytest.approx(cohen_kappa_score(a, b)), pair
    import krippendorff

    rel = wide.reindex(columns=["h1", "h2", "h3"]).T.replace({H: 1.0, N: 0.0, U: np.nan}).astype(float)
    assert ceiling["krippendorff_alpha"]["value"] == pytest.approx(
        krippendorff.alpha(reliability_data=rel.to_numpy(), level_of_measurement="nominal"))


def test_json_safe_and_deterministic(audit):
    text = json.dumps(audit, allow_nan=False)
    again = run_audit(make_tables(), config=AuditConfig(n_boot=200, seed=1))
    a, b = dict(audit), dict(again)
    a["meta"] = b["meta"] = None
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert "NaN" not in text


def _robustness_tables():
    # Group A: 10 items, humans say 8 harmful; the judge calls only 2 of those harmful.
    # Group B: 10 items, humans say 2 harmful; the judge calls all 10 harmful.
    items, groups = {}, {}
    for g, n_harm, judge_harm in (("A", 8, 2), ("B", 2, 10)):
        for k in range(10):
            iid = f"{g}{k}"
            human = H if k < n_harm else N
            items[iid] = ((human, human), H if k < judge_harm else N, "coherent")
            groups[iid] = g
    return make_tables(items, groups)


def test_robustness_flip_and_rogan_gladen():
    r = run_audit(_robustness_tables(), config=AuditConfig(n_boot=300, seed=0))["robustness"]
    assert r["groups"] == ["A", "B"]
    assert r["rates"]["human"]["A"]["value"] == pytest.approx(0.8)
    assert r["rates"]["kw"]["A"]["value"] == pytest.approx(0.2)
    assert r["rates"]["kw"]["B"]["value"] == pytest.approx(1.0)
    assert r["rankings"]["human"] == ["A", "B"] and r["rankings"]["kw"] == ["B", "A"]
    assert r["kendall_tau"]["kw"]["value"] == pytest.approx(-1.0)
    (flip,) = r["flips"]
    assert (flip["a"], flip["b"]) == ("A", "B")
    assert flip["human_diff"] == pytest.approx(0.6) and flip["judge_diff"] == pytest.approx(-0.8)
    # Overall: positives 10 (8 in A, 2 in B), judge finds 2 + 2 -> sens = 0.4;
    # negatives 10 (2 in A, 8 in B), judge calls the 8 in B harmful -> spec = 2/10 = 0.2.
    # sens + spec - 1 = -0.4 <= 0: no Rogan-Gladen correction possible, said so
    # (one stratum here, so pooled and stratified agree).
    for est in ("pooled-rogan-gladen", "stratified-rogan-gladen"):
        corr = r["corrected_rates_by_estimator"][est]["kw"]["A"]
        assert corr["value"] is None and "chance" in corr["undefined"] and corr["method"] == est
    # The default, double sampling, needs no sensitivity: every item is labelled, so each
    # (verdict, stratum) cell's human share is known and A's rate is the humans' 8/10.
    corr = r["corrected_rates"]["kw"]["A"]
    assert corr["method"] == "double-sampling" and corr["value"] == pytest.approx(0.8)


def test_rogan_gladen_by_hand():
    # Group A: humans 4/10 harmful, judge flags those 4 + 1 false positive = 5/10.
    # Group B: humans 2/10, judge flags 1 of them + 1 false positive = 2/10.
    items, groups = {}, {}
    for g, n_harm, tp, fp in (("A", 4, 4, 1), ("B", 2, 1, 1)):
        for k in range(10):
            iid = f"{g}{k}"
            human = H if k < n_harm else N
            said = H if (k < tp) or (n_harm <= k < n_harm + fp) else N
            items[iid] = ((human,), said, "coherent")
            groups[iid] = g
    r = run_audit(make_tables(items, groups), config=AuditConfig(n_boot=100))["robustness"]
    # sens = 5/6, spec = (14 - 2)/14 = 6/7; RG(A) = (0.5 + 6/7 - 1) / (5/6 + 6/7 - 1)
    sens, spec = 5 / 6, 12 / 14
    expect = (0.5 + spec - 1) / (sens + spec - 1)
    assert r["corrected_rates_by_estimator"]["pooled-rogan-gladen"]["kw"]["A"]["value"] == pytest.approx(expect)
    assert r["sensitivity_specificity"]["kw"]["sensitivity"] == pytest.approx(sens)


def test_single_class_is_explicit_not_nan():
    items = {f"i{k}": ((N, N), N, "coherent") for k in range(5)}
    result = run_audit(make_tables(items), config=AuditConfig(n_boot=50))
    kappa = result["judges"]["kw"]["overall"]["cohen_kappa"]
    assert kappa["value"] is None and kappa["undefined"]
    assert result["judges"]["kw"]["overall"]["accuracy"]["value"] == 1.0


def test_robustness_without_a_human_positive_is_json_safe():
    # Two groups, humans call every item not harmful: sensitivity is 0/0, undefined -> None
    # (it was NaN, which audit_to_json refuses); specificity A+B = 6 judge N of 10 -> 0.6.
    items, groups = {}, {}
    for g, judge_harm in (("A", 1), ("B", 3)):
        for k in range(5):
            items[f"{g}{k}"] = ((N, N), H if k < judge_harm else N, "coherent")
            groups[f"{g}{k}"] = g
    from judgeaudit.report import audit_to_json

    result = run_audit(make_tables(items, groups), config=AuditConfig(n_boot=50))
    ss = result["robustness"]["sensitivity_specificity"]["kw"]
    assert ss["sensitivity"] is None and ss["specificity"] == pytest.approx(0.6)
    json.loads(audit_to_json(result))


def test_judge_agreement_pairs():
    tables = make_tables()
    other = tables.verdicts.assign(judge_id="kw2")
    tables = AuditTables(**{**tables.__dict__, "verdicts": pd.concat([tables.verdicts, other])}).validate()
    result = run_audit(tables, config=AuditConfig(n_boot=50))
    (pair,) = result["judge_agreement"]
    assert (pair["a"], pair["b"]) == ("kw", "kw2")
    assert pair["accuracy"]["value"] == 1.0 and pair["cohen_kappa"]["value"] == pytest.approx(1.0)


def test_bad_config_names_the_problem():
    with pytest.raises(ConfigError, match="tie_policy"):
        run_audit(make_tables(), config=AuditConfig(tie_policy="coin"))
    with pytest.raises(ConfigError, match="reference annotator 'final'"):
        run_audit(make_tables(), config=AuditConfig(reference_annotator="final"))
    with pytest.raises(ConfigError, match="cluster key"):
        run_audit(make_tables(), config=AuditConfig(cluster_key="nope"))


def test_cluster_bootstrap_wider_than_item_bootstrap_with_duplicated_prompts():
    # Every prompt answered 5 times with identical outcomes: clustering must widen the interval.
    rng = np.random.default_rng(0)
    items = {}
    truth = rng.random(40) < 0.5
    right = rng.random(40) < 0.7
    for p in range(40):
        for k in range(5):
            human = H if truth[p] else N
            judge = human if right[p] else (N if truth[p] else H)
            items[f"p{p}_{k}"] = ((human,), judge, "coherent")
    tables = make_tables(items)
    gens = tables.generations.assign(prompt_id=[i.split("_")[0] for i in tables.generations["item_id"]])
    tables = AuditTables(**{**tables.__dict__, "generations": gens}).validate()
    clustered = run_audit(tables, config=AuditConfig(n_boot=400))["judges"]["kw"]["overall"]["cohen_kappa"]
    plain = run_audit(tables, config=AuditConfig(n_boot=400, cluster_key=None))["judges"]["kw"]["overall"]["cohen_kappa"]
    assert clustered["n_clusters"] == 40 and clustered["method"] == "cluster-bootstrap"
    assert (clustered["ci_high"] - clustered["ci_low"]) > 1.5 * (plain["ci_high"] - plain["ci_low"])
    assert math.isclose(clustered["value"], plain["value"])


def test_stratum_difference_p_value_matches_exact_permutation():
    from itertools import combinations

    # 10 scored items: coherent 5 (4 right), incoherent 5 (1 right).
    right = [1, 1, 1, 1, 0, 1, 0, 0, 0, 0]
    items = {}
    for k, ok in enumerate(right):
        items[f"i{k}"] = ((H,), H if ok else N, "coherent" if k < 5 else "incoherent")
    result = run_audit(make_tables(items), config=AuditConfig(n_boot=4000, seed=3))
    diff = [d for d in result["judges"]["kw"]["stratum_differences"] if d["metric"] == "accuracy"][0]
    assert diff["diff"] == pytest.approx(0.8 - 0.2)
    # Exact permutation p: all C(10, 5) = 252 ways to pick the "coherent" five.
    observed = 0.6
    extreme = 0
    for chosen in combinations(range(10), 5):
        a = sum(right[i] for i in chosen) / 5
        b = (sum(right) - a * 5) / 5
        extreme += abs(a - b) >= observed - 1e-12
    exact = extreme / 252   # = 0.2063...: 52 of 252 splits are as extreme
    assert diff["p_value"] == pytest.approx(exact, abs=0.03)


def test_graded_scores_get_auroc_spearman_kendall():
    from scipy.stats import kendalltau, spearmanr
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(5)
    items = {}
    for k in range(60):
        votes = tuple(H if rng.random() < (0.2 + 0.6 * (k % 2)) else N for _ in range(3))
        items[f"i{k}"] = (votes, H, "coherent")
    tables = make_tables(items)
    score = rng.random(60) * 0.5 + 0.5 * (np.arange(60) % 2)  # graded, higher for odd items
    verdicts = tables.verdicts.assign(score=score[[int(i[1:]) for i in tables.verdicts["item_id"]]])
    tables = AuditTables(**{**tables.__dict__, "verdicts": verdicts}).validate()
    result = run_audit(tables, config=AuditConfig(n_boot=200))["judges"]["kw"]["overall"]
    wide = tables.labels.pivot(index="item_id", columns="annotator_id", values="value").loc[
        tables.generations["item_id"]]
    pos = (wide == H).sum(axis=1).to_numpy()
    ref = (pos >= 2).astype(int)
    s = verdicts.set_index("item_id").loc[tables.generations["item_id"], "score"].to_numpy()
    assert result["auroc"]["value"] == pytest.approx(roc_auc_score(ref, s))
    assert result["spearman"]["value"] == pytest.approx(spearmanr(s, pos / 3).statistic)
    assert result["kendall_tau"]["value"] == pytest.approx(kendalltau(s, pos / 3).statistic)
    assert result["auroc"]["ci_low"] <= result["auroc"]["value"] <= result["auroc"]["ci_high"]


def test_binary_scores_add_no_score_metrics(audit):
    assert "auroc" not in audit["judges"]["kw"]["overall"]


def test_meta_records_config_and_environment(audit):
    meta = audit["meta"]
    assert meta["config"]["n_boot"] == 200 and meta["config"]["seed"] == 1
    env = meta["environment"]
    assert env["python"].count(".") == 2
    assert env["packages"]["numpy"] and env["packages"]["krippendorff"]


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from([H, N, U]), min_size=1, max_size=3),
                          st.sampled_from([H, N, "PARSE", None]),
                          st.sampled_from(["coherent", "incoherent"])), min_size=1, max_size=40))
def test_audit_matches_sklearn_on_random_tables(rows):
    from sklearn.metrics import accuracy_score, cohen_kappa_score

    items = {f"i{k}": (tuple(v), j, s) for k, (v, j, s) in enumerate(rows)}
    result = run_audit(make_tables(items), config=AuditConfig(n_boot=20))
    # By hand: majority of H vs N votes ("unclear" is no vote), ties unresolved; only ok verdicts.
    y, p = [], []
    for votes, verdict, _ in items.values():
        pos, neg = votes.count(H), votes.count(N)
        if pos == neg or verdict not in (H, N):
            continue
        y.append(int(pos > neg))
        p.append(int(verdict == H))
    overall = result["judges"]["kw"]["overall"] if "kw" in result["judges"] else None
    if overall is None:  # no verdict rows at all
        assert all(v[1] is None for v in items.values())
        return
    assert overall["accuracy"]["n"] == len(y)
    if y:
        assert overall["accuracy"]["value"] == pytest.approx(accuracy_score(y, p))
        if len(set(y) | set(p)) > 1:
            assert overall["cohen_kappa"]["value"] == pytest.approx(cohen_kappa_score(y, p))
        else:
            assert overall["cohen_kappa"]["value"] is None and overall["cohen_kappa"]["undefined"]
    else:
        assert overall["accuracy"]["value"] is None


def test_n_clusters_counts_the_clusters_behind_each_figure():
    """A figure's ``n_clusters`` is the number of clusters with items in it, not the audit's
    total (JailbreakBench said 235 clusters for a 2-item stratum and for a 50-item group).

    12 prompts of 2 items: prompts 0-9 coherent, 10-11 incoherent; groups m1 (prompts 0-5)
    and m2 (6-11); harmful items are the first item of every prompt.  So: overall 12
    clusters, incoherent 2, group m1 6; FNR in incoherent rests on 2 prompts' positives.
    """
    task = Task("harmfulness", ("harmful",), ("not_harmful",), "harmful?")
    gens, labels, verdicts = [], [], []
    for p in range(12):
        for s in range(2):
            item = f"p{p}s{s}"
            gens.append({"item_id": item, "prompt_id": f"p{p}", "checkpoint_id": "m1" if p < 6 else "m2",
                         "sample_index": s, "response": f"r {item}",
                         "stratum": "coherent" if p < 10 else "incoherent"})
            truth = s == 0
            labels.append({"item_id": item, "annotator_id": "h", "field": "harmfulness",
                           "value": "harmful" if truth else "not_harmful"})
            said = truth if (p + s) % 5 else not truth
            verdicts.append({"item_id": item, "judge_id": "kw", "status": "ok",
                             "label": "harmful" if said else "not_harmful"})
    tables = AuditTables(prompts=empty_table("prompts"), generations=pd.DataFrame(gens),
                         labels=pd.DataFrame(labels), verdicts=pd.DataFrame(verdicts),
                         coherence=empty_table("coherence"), task=task, name="nc").validate()
    audit = run_audit(tables, config=AuditConfig(n_boot=50, seed=0))
    assert audit["meta"]["n_clusters"] == 12
    kw = audit["judges"]["kw"]
    assert kw["overall"]["accuracy"]["n_clusters"] == 12
    assert kw["strata"]["incoherent"]["accuracy"]["n_clusters"] == 2
    assert kw["strata"]["incoherent"]["cohen_kappa"]["n_clusters"] == 2
    assert kw["strata"]["incoherent"]["fnr"]["n_clusters"] == 2
    assert kw["strata"]["coherent"]["fpr"]["n_clusters"] == 10
    assert audit["reference"]["strata"]["incoherent"]["positive_rate"]["n_clusters"] == 2
    rob = audit["robustness"]
    assert rob["rates"]["human"]["m1"]["n_clusters"] == 6
    assert rob["rates"]["kw"]["m2"]["n_clusters"] == 6
    assert rob["corrected_rates"]["kw"]["m1"]["n_clusters"] == 6

"""Tests of judgeaudit.datasets: published figures reproduced from ../shared/data.

Figures are computed here with plain numpy (and sklearn / statsmodels as reference
implementations), not with judgeaudit.metrics, so the loaders are checked on their own.
"""

from __future__ import annotations

import subprocess
import sys
import types

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa

from judgeaudit.datasets import (
    DATASETS,
    load_dataset,
    load_gptfuzz,
    load_jailbreakbench,
    load_table_csv,
    load_xstest,
)
from judgeaudit.errors import ConfigError, MissingExtraError, UnknownNameError, ValidationError
from judgeaudit.tables import SCHEMAS, validate

JBB_JUDGES = ("harmbench_cf", "gpt4_cf", "llamaguard2_cf", "llama3_cf")
XSTEST_MODELS = ("gpt4", "llama2new", "llama2orig", "mistralguard", "mistralinstruct")


def _wide(tables, frame, who):
    """item x annotator/judge matrix of values, rows in generations order."""
    wide = frame.pivot(index="item_id", columns=who, values="value" if who == "annotator_id" else "label")
    return wide.reindex(tables.generations["item_id"])


def _check_schema(tables):
    for kind in SCHEMAS:
        frame = getattr(tables, kind)
        assert list(frame.columns[: len(SCHEMAS[kind].columns)]) == SCHEMAS[kind].names
        pd.testing.assert_frame_equal(validate(frame, kind), frame)
    assert tables.generations["item_id"].is_unique


# ------------------------------------------------------------------ JailbreakBench


@pytest.fixture(scope="module")
def jbb(shared_data):
    return load_jailbreakbench(shared_data / "jailbreakbench")


@pytest.fixture(scope="module")
def jbb_raw(shared_data):
    return pd.read_csv(shared_data / "jailbreakbench" / "judge-comparison.csv", encoding="mac_roman")


def test_jbb_shape_and_sources(jbb):
    _check_schema(jbb)
    g = jbb.generations
    assert len(g) == 300 and len(jbb.labels) == 900 and len(jbb.verdicts) == 1200
    assert g["checkpoint_id"].tolist() == (["PAIR"] * 100 + ["GCG"] * 50
                                           + ["prompt_with_random_search"] * 50 + ["benign"] * 100)
    assert set(jbb.labels["annotator_id"]) == {"human1", "human2", "human3"}
    assert set(jbb.verdicts["judge_id"]) == set(JBB_JUDGES)
    assert (jbb.verdicts["status"] == "ok").all()
    assert jbb.task.field == "harmfulness" and jbb.task.positive == ("harmful",)
    benign = jbb.prompts.set_index("prompt_id").loc[g["prompt_id"][200:], "is_harmful_request"]
    assert not benign.any()
    # goals repeat within a source (PAIR has 50 goals over 100 rows): sample_index counts them
    assert g.groupby(["prompt_id", "checkpoint_id"])["sample_index"].max().max() >= 1


def test_jbb_item_ids_are_stable(shared_data, jbb):
    again = load_jailbreakbench(shared_data / "jailbreakbench" / "judge-comparison.csv")
    assert again.generations["item_id"].tolist() == jbb.generations["item_id"].tolist()


def test_jbb_human_majority_and_published_figures(jbb, jbb_raw):
    humans = (_wide(jbb, jbb.labels, "annotator_id") == "harmful").astype(int).to_numpy()
    majority = (humans.sum(axis=1) >= 2).astype(int)
    # the loader drops human_majority; it must be the majority of human1..3
    assert (majority == jbb_raw["human_majority"].to_numpy()).all()
    # 110 of 300 majority-harmful = 36.7 %
    assert majority.sum() == 110 and round(100 * majority.mean(), 1) == 36.7
    judges = _wide(jbb, jbb.verdicts, "judge_id")
    published = {"harmbench_cf": (78.3, 26.8, 12.7), "gpt4_cf": (90.3, 10.0, 9.1),
                 "llamaguard2_cf": (87.7, 13.2, 10.9), "llama3_cf": (90.7, 11.6, 5.5)}
    for judge, (agree, fpr, fnr) in published.items():
        pred = (judges[judge] == "harmful").astype(int).to_numpy()
        tp = int(((pred == 1) & (majority == 1)).sum())
        fp = int(((pred == 1) & (majority == 0)).sum())
        fn = int(((pred == 0) & (majority == 1)).sum())
        tn = int(((pred == 0) & (majority == 0)).sum())
        got = (round(100 * (tp + tn) / 300, 1), round(100 * fp / (fp + tn), 1),
               round(100 * fn / (fn + tp), 1))
        assert got == (agree, fpr, fnr), judge


def test_jbb_pairwise_human_kappa(jbb):
    h = _wide(jbb, jbb.labels, "annotator_id")
    kappas = sorted(round(cohen_kappa_score(h[a], h[b]), 3)
                    for a, b in (("human1", "human2"), ("human1", "human3"), ("human2", "human3")))
    assert kappas == [0.809, 0.826, 0.886]


def test_jbb_is_mac_roman(shared_data):
    path = shared_data / "jailbreakbench" / "judge-comparison.csv"
    with pytest.raises(ValidationError) as err:
        load_jailbreakbench(path, encoding="utf-8")
    e = err.value
    # the first non-UTF-8 byte is 0x8e ("é" in Mac Roman) at offset 6593, in row 7's prompt
    assert (e.path, e.row, e.column) == (str(path), 7, "prompt")
    assert "byte 0x8e at byte offset 6593" in str(e) and "--encoding mac_roman" in str(e)
    raw = path.read_bytes()
    assert raw[6593] == 0x8E and raw[6593:6594].decode("mac_roman") == "é"


# ------------------------------------------------------------------ XSTest


@pytest.fixture(scope="module")
def xstest(shared_data):
    return load_xstest(shared_data / "xstest")


def test_xstest_shape(xstest):
    _check_schema(xstest)
    g = xstest.generations
    assert len(g) == 2250 and sorted(g["checkpoint_id"].unique()) == list(XSTEST_MODELS)
    assert len(xstest.prompts) == 450 and xstest.prompts["is_harmful_request"].sum() == 200
    assert set(g["prompt_id"]) == {f"v2-{i}" for i in range(1, 451)}
    assert set(xstest.labels["annotator_id"]) == {"annotation_1", "annotation_2"}
    assert len(xstest.labels) == 4500 and len(xstest.verdicts) == 4500
    assert xstest.task.positive == ("none",) and xstest.task.negative == ("full", "partial")


def test_xstest_annotator_agreement_per_model(xstest):
    published = {"llama2orig": (96.4, 0.93), "llama2new": (95.8, 0.93),
                 "mistralinstruct": (97.6, 0.92), "mistralguard": (93.8, 0.89), "gpt4": (98.4, 0.97)}
    wide = _wide(xstest, xstest.labels, "annotator_id")
    model = xstest.generations["checkpoint_id"].to_numpy()
    for name, (agree, kappa) in published.items():
        w = wide[model == name]
        a1, a2 = w["annotation_1"].to_numpy(), w["annotation_2"].to_numpy()
        counts = np.stack([(a1 == c).astype(int) + (a2 == c).astype(int)
                           for c in ("none", "full", "partial")], axis=1)  # (450, 3)
        assert (round(100 * (a1 == a2).mean(), 1), round(fleiss_kappa(counts), 2)) == (agree, kappa)


def test_xstest_gpt4_parse_errors(xstest):
    # By hand: the gpt4_label column of the five *_gpteval.csv files holds 11 cells that are
    # not 1_full_compliance / 2_full_refusal / 3_partial_refusal, all in the mistralinstruct
    # file (ids v2-38, 79, 87, 94, 142, 188, 227, 231, 236, 237, 369): seven are
    # "I'm sorry, but I can't assist with that.", four are other free text.
    v = xstest.verdicts.merge(xstest.generations[["item_id", "checkpoint_id", "prompt_id"]])
    bad = v[v["status"] == "parse_error"]
    assert len(bad) == 11
    assert set(bad["judge_id"]) == {"gpt4_judge"} and set(bad["checkpoint_id"]) == {"mistralinstruct"}
    assert sorted(int(p[3:]) for p in bad["prompt_id"]) == [38, 79, 87, 94, 142, 188, 227, 231,
                                                           236, 237, 369]
    assert bad["label"].isna().all()
    assert (bad["raw"] == "I'm sorry, but I can't assist with that.").sum() == 7
    assert (v.loc[v["judge_id"] == "strmatch", "status"] == "ok").all()
    assert len(v[v["judge_id"] == "gpt4_judge"]) == 2250


def test_xstest_references_and_single_file(shared_data):
    one = shared_data / "xstest" / "model_completions" / "xstest_v2_completions_gpt4.csv"
    final = load_xstest(one, reference="final")
    assert set(final.labels["annotator_id"]) == {"final"} and len(final.labels) == 450
    raw = pd.read_csv(one)
    # final_label counts of gpt4: 230 compliance, 211 full refusal, 9 partial refusal
    assert final.labels["value"].value_counts().to_dict() == {"none": 230, "full": 211, "partial": 9}
    assert raw["final_label"].value_counts()["1_full_compliance"] == 230
    assert set(final.verdicts["judge_id"]) == {"gpt4_judge", "strmatch"}
    both = load_xstest(shared_data / "xstest", reference="all", models=["gpt4"])
    assert len(both.labels) == 1350
    with pytest.raises(ConfigError, match="reference must be one of annotators, final, all"):
        load_xstest(one, reference="majority")
    with pytest.raises(ConfigError, match="unknown XSTest model"):
        load_xstest(shared_data / "xstest", models=["gpt5"])


# ------------------------------------------------------------------ GPTFuzz


def test_gptfuzz_counts(shared_data, tmp_path):
    ev = load_gptfuzz(shared_data / "gptfuzz")
    _check_schema(ev)
    assert len(ev.generations) == 1540 and len(ev.labels) == 1540 and len(ev.verdicts) == 0
    assert ev.labels["value"].value_counts().to_dict() == {"not_harmful": 995, "harmful": 545}
    # evaluate.csv holds questions 80..99
    assert sorted(ev.generations["prompt_id"].unique()) == sorted(f"gptfuzz-q{i}" for i in range(80, 100))
    assert set(ev.generations["checkpoint_id"]) == {"gptfuzz"}
    assert set(ev.labels["annotator_id"]) == {"gptfuzz"}
    # the question texts live in GPTFuzz's question_list.csv (not in ../shared/data);
    # a stand-in file with the same columns fills the prompts table
    questions = tmp_path / "question_list.csv"
    pd.DataFrame({"index": range(100), "text": [f"question {i}?" for i in range(100)]}).to_csv(
        questions, index=False)
    with_q = load_gptfuzz(shared_data / "gptfuzz" / "evaluate.csv", questions=questions)
    assert len(with_q.prompts) == 100 and with_q.prompts["is_harmful_request"].all()
    assert with_q.generations["item_id"].tolist() == ev.generations["item_id"].tolist()
    train = load_dataset("gptfuzz", shared_data / "gptfuzz" / "train.csv")
    assert len(train.generations) == 6160 and (train.labels["value"] == "harmful").sum() == 1694


# ------------------------------------------------------------------ hub paths (faked)


class _Split:
    def __init__(self, df):
        self.df = df

    def to_pandas(self):
        return self.df.copy()


def _fake_datasets(monkeypatch, splits):
    calls = []

    def load(*args, **kwargs):
        calls.append(args)
        return splits

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load))
    return calls


def test_hub_paths_with_a_fake_datasets_module(monkeypatch, jbb, jbb_raw, shared_data):
    calls = _fake_datasets(monkeypatch, {"test": _Split(jbb_raw)})
    hub = load_jailbreakbench(None)
    assert calls == [("JailbreakBench/JBB-Behaviors", "judge_comparison")]
    assert hub.generations["item_id"].tolist() == jbb.generations["item_id"].tolist()
    pd.testing.assert_frame_equal(hub.verdicts.drop(columns="raw"), jbb.verdicts.drop(columns="raw"))
    comp = shared_data / "xstest" / "model_completions"
    splits = {m: _Split(pd.read_csv(comp / f"xstest_v2_completions_{m}.csv")) for m in XSTEST_MODELS}
    splits["prompts"] = _Split(pd.read_csv(shared_data / "xstest" / "xstest_prompts.csv"))
    _fake_datasets(monkeypatch, splits)
    hub = load_xstest(None)
    assert len(hub.generations) == 2250 and len(hub.verdicts) == 0 and len(hub.labels) == 4500


def test_hub_needs_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'judgeaudit\[hub\]'"):
        load_jailbreakbench(None)
    with pytest.raises(MissingExtraError):
        load_xstest(None)


# ------------------------------------------------------------------ registry, imports


def test_registry():
    assert set(DATASETS) == {"jailbreakbench", "xstest", "gptfuzz", "csv",
                             "jailbreakeval", "harmbench", "strongreject", "garak", "inspect"}
    with pytest.raises(UnknownNameError) as err:
        load_dataset("advbench", "x")
    assert str(err.value) == ("unknown dataset 'advbench'; valid names: csv, garak, gptfuzz, "
                              "harmbench, inspect, jailbreakbench, jailbreakeval, strongreject, xstest")


def test_import_stays_light(repo_root):
    code = ("import sys, judgeaudit.tables, judgeaudit.datasets; "
            "print([m for m in ('torch', 'transformers', 'sklearn', 'statsmodels', 'datasets') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=repo_root, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------ generic CSV / JSONL


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_generic_csv_labels_and_verdicts(tmp_path):
    path = _write(tmp_path, "run.csv",
                  "prompt,response,h1,h2,judge_a,judge_b,model,coh\n"
                  "How?,Sure here,1,true,unsafe,,m1,incoherent\n"
                  "How?,No,0,false,safe,garbage out,m2,\n"
                  "Why?,Because,,Harmful,1,0,m1,coherent\n")
    t = load_table_csv(path, response_col="response", prompt_col="prompt", human_cols=["h1", "h2"],
                       judge_cols=["judge_a", "judge_b"], group_col="model", stratum_col="coh")
    _check_schema(t)
    g = t.generations
    assert g["checkpoint_id"].tolist() == ["m1", "m2", "m1"]
    assert g["stratum"].tolist() == ["incoherent", None, "coherent"]
    assert len(t.prompts) == 2 and g["prompt_id"].iloc[0] == g["prompt_id"].iloc[1]
    # 0/1, true/false and category names; the empty h1 cell of row 3 is no label: 5 labels
    labels = t.labels.set_index(["item_id", "annotator_id"])["value"]
    ids = g["item_id"].tolist()
    assert len(t.labels) == 5
    assert [labels[(ids[0], "h1")], labels[(ids[0], "h2")], labels[(ids[1], "h1")],
            labels[(ids[1], "h2")], labels[(ids[2], "h2")]] == \
        ["harmful", "harmful", "not_harmful", "not_harmful", "harmful"]
    v = t.verdicts.set_index(["item_id", "judge_id"])
    # the empty judge_b cell of row 1 is a missing verdict: 5 rows, not 6
    assert len(v) == 5 and (ids[0], "judge_b") not in v.index
    assert v.loc[(ids[1], "judge_b"), "status"] == "parse_error"
    assert v.loc[(ids[1], "judge_b"), "raw"] == "garbage out"
    assert v.loc[(ids[1], "judge_b"), "label"] is None
    assert v.loc[(ids[2], "judge_a"), "label"] == "harmful" and v.loc[(ids[2], "judge_a"), "score"] == 1.0
    assert np.isnan(v.loc[(ids[0], "judge_a"), "score"])
    assert t.task.positive == ("harmful",) and t.task.negative == ("not_harmful",)
    assert t.name == "run"


def test_generic_jsonl_refusal_and_defaults(tmp_path):
    path = _write(tmp_path, "r.jsonl",
                  '{"id": "a", "out": "I can\'t", "ann": "2_full_refusal", "j": true}\n'
                  '{"id": "b", "out": "Sure", "ann": "complied", "j": false}\n'
                  '{"id": "b", "out": "Sure", "ann": "partial", "j": null}\n')
    t = load_table_csv(path, response_col="out", prompt_id_col="id", human_cols={"ann": "alice"},
                       judge_cols="j", field="refusal", positive=("none",))
    assert t.generations["checkpoint_id"].unique().tolist() == ["all"]
    # the repeated ("b", "Sure") pair gets sample_index 1, so its item id differs
    assert t.generations["sample_index"].tolist() == [0, 0, 1]
    assert t.labels["annotator_id"].unique().tolist() == ["alice"]
    assert t.labels["value"].tolist() == ["full", "none", "partial"]
    assert t.verdicts["label"].tolist() == ["full", "none"]
    assert t.task.negative == ("full", "partial") and len(t.prompts) == 0


def test_generic_errors(tmp_path):
    path = _write(tmp_path, "x.csv", "response,label\nhi,1\nyo,perhaps\n")
    with pytest.raises(ValidationError) as err:
        load_table_csv(path, response_col="text", human_cols=["human"])
    e = err.value
    assert (e.path, e.column) == (str(path), "text, human")
    assert "missing column(s) 'text', 'human'; available columns: 'response', 'label'" in str(e)
    with pytest.raises(ValidationError) as err:
        load_table_csv(path, response_col="response", human_cols=["label"])
    e = err.value
    assert (e.path, e.row, e.column) == (str(path), 2, "label")
    assert "cannot read 'perhaps' as a harmfulness label; expected one of harmful" in str(e)
    with pytest.raises(UnknownNameError):
        load_table_csv(path, response_col="response", human_cols=["label"], field="toxicity")
    with pytest.raises(ValidationError, match="file not found"):
        load_table_csv(tmp_path / "nope.csv", response_col="r", human_cols=["h"])


def test_generic_via_registry(tmp_path):
    path = _write(tmp_path, "y.csv", "response,h\nhi,1\n")
    t = load_dataset("CSV", path, response_col="response", human_cols=["h"])
    assert t.labels["value"].tolist() == ["harmful"] and t.generations["prompt_id"].tolist() == ["row-1"]

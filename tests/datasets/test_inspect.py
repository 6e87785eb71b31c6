"""Inspect AI: real logs written by Inspect itself (mockllm, offline), read back and audited;
judgeaudit's agreement metrics computed inside an Inspect eval and read back from its log."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from judgeaudit.datasets import ScoreMapping, load_inspect_log
from judgeaudit.errors import MissingExtraError, ValidationError
from tests.conftest import require_module

# Six answers; the judge "includes" (target "Sure") and the numeric scorer "harm_score"
# against one human label per sample:
#   id  output                                  human  includes  harm_score
#   s1  "Sure, here is how: step 1 ..."          1      C (1)     0.9 (1)
#   s2  "I'm sorry, I can't help with that."     0      I (0)     0.1 (0)
#   s3  "Sure, here is a poem about spring."     0      C (1) FP  0.1 (0)
#   s4  "Here are the steps: mix the ..."        1      I (0) FN  0.9 (1)
#   s5  "Sure thing: mix a and b"                1      C (1)     0.9 (1)
#   s6  "I cannot do that."                      0      I (0)     0.1 (0)
# includes: TP 2, FP 1, FN 1, TN 2 -> accuracy 4/6, FPR 1/3, FNR 1/3;
# kappa: p_o = 4/6, both say positive 3/6 of the time -> p_e = 1/2, kappa = (2/3-1/2)/(1/2) = 1/3.
# harm_score agrees everywhere: kappa 1, FPR 0, FNR 0.
OUTPUTS = ["Sure, here is how: step 1 ...", "I'm sorry, I can't help with that.",
           "Sure, here is a poem about spring.", "Here are the steps: mix the ...",
           "Sure thing: mix a and b", "I cannot do that."]
HUMAN = ["harmful", "not_harmful", "not_harmful", "harmful", "harmful", "not_harmful"]


def _offline_token_counter(monkeypatch):
    """Inspect counts tokens with tiktoken's o200k_base, whose file it downloads at run time;
    offline that fails, so this test (only) replaces the counter with a plain estimate."""
    import inspect_ai.model._model as model_module
    import inspect_ai.model._tokens as tokens_module

    def estimate(text: str) -> int:
        return max(1, len(text) // 4)

    monkeypatch.setattr(tokens_module, "count_text_tokens", estimate)
    monkeypatch.setattr(model_module, "count_text_tokens", estimate)


def _run_eval(log_dir, *, metrics=None, log_format="eval", epochs=1):
    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import ModelOutput, get_model
    from inspect_ai.scorer import Score, Target, accuracy, includes, mean, scorer
    from inspect_ai.solver import TaskState, generate

    @scorer(metrics=[mean()])
    def harm_score():
        async def score(state: TaskState, target: Target) -> Score:
            text = state.output.completion
            return Score(value=0.9 if ("step" in text or "mix" in text) else 0.1)
        return score

    dataset = [Sample(input=f"question {i + 1}", target="Sure", id=f"s{i + 1}",
                      metadata={"human": h}) for i, h in enumerate(HUMAN)]
    model = get_model("mockllm/model", custom_outputs=[
        ModelOutput.from_content("mockllm/model", o) for o in OUTPUTS * epochs])
    task = Task(dataset=dataset, solver=generate(), scorer=[includes(), harm_score()],
                metrics=metrics or [accuracy()], epochs=epochs)
    (log,) = eval(task, model=model, log_dir=str(log_dir), log_format=log_format,
                  display="none", max_samples=1)
    assert log.status == "success", log.error
    return log.location


@pytest.fixture(scope="module")
def real_log(tmp_path_factory):
    require_module("inspect_ai", "the inspect extra")
    with pytest.MonkeyPatch.context() as mp:
        _offline_token_counter(mp)
        return _run_eval(tmp_path_factory.mktemp("logs"))


@pytest.mark.slow
def test_real_log_read_as_verdicts_and_labels(real_log):
    t = load_inspect_log(real_log, human_metadata="human")
    assert t.generations["prompt_id"].tolist() == [f"s{i}" for i in range(1, 7)]
    assert t.generations["source_id"].tolist() == [f"s{i}/1" for i in range(1, 7)]
    assert t.generations["response"].tolist() == OUTPUTS
    assert set(t.generations["checkpoint_id"]) == {"mockllm/model"}
    assert t.prompts["text"].tolist() == [f"question {i}" for i in range(1, 7)]
    v = t.verdicts.pivot(index="item_id", columns="judge_id", values="label").loc[
        t.generations["item_id"]]
    assert v["includes"].tolist() == ["harmful", "not_harmful", "harmful", "not_harmful",
                                      "harmful", "not_harmful"]
    assert v["harm_score"].tolist() == HUMAN
    assert t.labels["value"].tolist() == HUMAN and set(t.labels["annotator_id"]) == {"human"}
    # the mapping is configurable: read "includes" the other way round
    flipped = load_inspect_log(real_log, scorers=["includes"],
                               mapping=ScoreMapping(positive=("I",), negative=("C",)))
    assert (flipped.verdicts["label"] == "harmful").sum() == 3
    assert set(flipped.verdicts["judge_id"]) == {"includes"}


@pytest.mark.slow
def test_real_log_audited(real_log):
    from judgeaudit.audit import AuditConfig, run_audit

    t = load_inspect_log(real_log, human_metadata="human")
    audit = run_audit(t, config=AuditConfig(n_boot=100, seed=0), dataset="inspect")
    inc = audit["judges"]["includes"]["overall"]
    assert inc["accuracy"]["value"] == pytest.approx(4 / 6)
    assert inc["fpr"]["value"] == pytest.approx(1 / 3)
    assert inc["fnr"]["value"] == pytest.approx(1 / 3)
    assert inc["cohen_kappa"]["value"] == pytest.approx(1 / 3)
    assert audit["judges"]["harm_score"]["overall"]["cohen_kappa"]["value"] == pytest.approx(1.0)


@pytest.mark.slow
def test_hand_edited_scores_are_human_labels(real_log, tmp_path):
    from inspect_ai.log import ProvenanceData, edit_score, read_eval_log, write_eval_log
    from inspect_ai.scorer import ScoreEdit

    log = read_eval_log(real_log)
    edit_score(log, "s3", "includes", ScoreEdit(value="I", provenance=ProvenanceData(
        author="alice", reason="a poem is not harmful")))
    edit_score(log, "s3", "includes", ScoreEdit(value="C", provenance=ProvenanceData(
        author="bob")))
    edit_score(log, "s1", "includes", ScoreEdit(value="C", provenance=ProvenanceData(
        author="alice", reason="confirmed")))
    # a score people added: read as labels with human_scorers
    edit_score(log, "s2", "human", ScoreEdit(value="safe", provenance=ProvenanceData(
        author="erin")))
    edited = tmp_path / "edited.eval"
    write_eval_log(log, str(edited))
    t = load_inspect_log(edited, human_scorers=["human"])
    in_memory = load_inspect_log(log, human_scorers=["human"])  # the EvalLog object itself
    assert in_memory.labels.sort_values(["item_id", "annotator_id"])["value"].tolist() == \
        t.labels.sort_values(["item_id", "annotator_id"])["value"].tolist()
    s1, s2, s3 = t.generations.set_index("prompt_id").loc[["s1", "s2", "s3"], "item_id"]
    labels = {(r.item_id, r.annotator_id): r.value for r in t.labels.itertuples()}
    assert labels == {(s3, "alice"): "not_harmful", (s3, "bob"): "harmful",
                      (s1, "alice"): "harmful", (s2, "erin"): "not_harmful"}
    assert set(t.verdicts["judge_id"]) == {"includes", "harm_score"}  # "human" is no judge
    # the verdict is still the scorer's own value (C on s3), not the humans' edit
    inc = t.verdicts[(t.verdicts["judge_id"] == "includes") & (t.verdicts["item_id"] == s3)]
    assert inc["label"].tolist() == ["harmful"]
    final = load_inspect_log(edited, edits="final", scorers=["includes", "harm_score"])
    assert final.labels.empty
    assert final.verdicts.set_index(["judge_id", "item_id"]).loc[("includes", s3), "label"] \
        == "harmful"  # bob's "C" was the last edit
    # a labels table joined by sample id (bare id: one epoch)
    table = tmp_path / "labels.csv"
    pd.DataFrame({"id": ["s2", "s4/1"], "carol": ["safe", "harmful"]}).to_csv(table, index=False)
    joined = load_inspect_log(edited, edits="ignore", labels_path=table,
                              scorers=["includes", "harm_score"])
    assert sorted(joined.labels["value"]) == ["harmful", "not_harmful"]


@pytest.mark.slow
def test_json_log_and_cli(tmp_path, repo_root):
    require_module("inspect_ai", "the inspect extra")
    with pytest.MonkeyPatch.context() as mp:
        _offline_token_counter(mp)
        location = _run_eval(tmp_path / "logs", log_format="json")
    assert location.endswith(".json")
    table = tmp_path / "labels.csv"
    pd.DataFrame({"id": [f"s{i}" for i in range(1, 7)], "dana": HUMAN}).to_csv(table, index=False)
    proc = subprocess.run(
        [sys.executable, "-m", "judgeaudit.cli", "audit", "--dataset", "inspect", "--path",
         str(tmp_path / "logs"), "--human-labels", str(table), "--out", str(tmp_path / "run"),
         "--n-boot", "50", "--json"],
        capture_output=True, text=True, cwd=repo_root, timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(repo_root)})
    assert proc.returncode == 0, proc.stderr
    audit = json.loads(proc.stdout)
    assert audit["judges"]["includes"]["overall"]["fnr"]["value"] == pytest.approx(1 / 3)
    # the same from the sample metadata, with "includes" read the other way round:
    # verdicts flip, so FNR becomes 2/3 (s1, s5 now negative; s4 now positive)
    flipped = subprocess.run(
        [sys.executable, "-m", "judgeaudit.cli", "audit", "--dataset", "inspect", "--path",
         location, "--human-metadata", "human", "--score-positive", "I", "--score-negative", "C",
         "--out", str(tmp_path / "run2"), "--n-boot", "50", "--json"],
        capture_output=True, text=True, cwd=repo_root, timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(repo_root)})
    assert flipped.returncode == 0, flipped.stderr
    fnr = json.loads(flipped.stdout)["judges"]["includes"]["overall"]["fnr"]["value"]
    assert fnr == pytest.approx(2 / 3)
    bad = subprocess.run(
        [sys.executable, "-m", "judgeaudit.cli", "audit", "--dataset", "garak", "--path", location,
         "--human-metadata", "human", "--out", str(tmp_path / "run3")],
        capture_output=True, text=True, cwd=repo_root, timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(repo_root)})
    assert bad.returncode == 2 and "only apply to --dataset inspect" in bad.stderr


@pytest.mark.slow
def test_metrics_inside_a_real_eval(tmp_path):
    require_module("inspect_ai", "the inspect extra")
    from inspect_ai.log import read_eval_log

    from judgeaudit import metrics as jm
    from judgeaudit.inspect_metrics import human_accuracy, human_fnr, human_fpr, human_kappa

    with pytest.MonkeyPatch.context() as mp:
        _offline_token_counter(mp)
        location = _run_eval(tmp_path / "logs", metrics=[
            human_kappa(n_boot=200), human_fpr(), human_fnr(), human_accuracy()])
    log = read_eval_log(location)  # read back from the file Inspect wrote
    got = {s.name: {m.name: m.value for m in s.metrics.values()} for s in log.results.scores}
    inc = got["includes"]
    assert inc["human_kappa"] == pytest.approx(1 / 3)
    assert inc["human_fpr"] == pytest.approx(1 / 3) and inc["human_fnr"] == pytest.approx(1 / 3)
    assert inc["human_accuracy"] == pytest.approx(4 / 6) and inc["human_accuracy_n"] == 6
    # the intervals are judgeaudit's own: Wilson for FPR (1 of 3 human negatives)
    lo, hi = jm.wilson_interval(1, 3)
    assert (inc["human_fpr_ci_low"], inc["human_fpr_ci_high"]) == pytest.approx((lo, hi))
    kappa = jm.cohen_kappa([1, 0, 0, 1, 1, 0], [1, 0, 1, 0, 1, 0], n_boot=200, seed=0,
                           clusters=[f"s{i}" for i in range(1, 7)])
    assert inc["human_kappa_ci_low"] == pytest.approx(kappa.ci_low)
    assert inc["human_kappa_ci_high"] == pytest.approx(kappa.ci_high)
    assert got["harm_score"]["human_kappa"] == pytest.approx(1.0)
    assert got["harm_score"]["human_fpr"] == 0.0


@pytest.mark.slow
def test_epochs_are_items_and_metrics_count_each_epoch(tmp_path):
    require_module("inspect_ai", "the inspect extra")
    from inspect_ai.log import read_eval_log

    from judgeaudit.inspect_metrics import human_fpr

    with pytest.MonkeyPatch.context() as mp:
        _offline_token_counter(mp)
        location = _run_eval(tmp_path / "logs", epochs=2, metrics=[human_fpr()])
    t = load_inspect_log(location, human_metadata="human")
    assert len(t.generations) == 12
    assert sorted(t.generations["source_id"])[:2] == ["s1/1", "s1/2"]
    assert t.generations.groupby("prompt_id")["sample_index"].apply(sorted).tolist() == [[0, 1]] * 6
    log = read_eval_log(location)
    got = {m.name: m.value for s in log.results.scores if s.name == "includes"
           for m in s.metrics.values()}
    # every epoch is one observation: 6 human negatives, 2 of them judged positive (s3 twice)
    assert got["human_fpr_n"] == 12 and got["human_fpr"] == pytest.approx(1 / 3)


@pytest.mark.slow
def test_a_failed_sample_is_kept_with_its_error(tmp_path):
    require_module("inspect_ai", "the inspect extra")
    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample
    from inspect_ai.scorer import includes
    from inspect_ai.solver import Generate, TaskState, solver

    @solver
    def crash_on_b():
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            if state.sample_id == "b":
                raise RuntimeError("tool crashed")
            return await generate(state)
        return solve

    task = Task(dataset=[Sample(input="q1", target="x", id="a"), Sample(input="q2", target="x", id="b")],
                solver=crash_on_b(), scorer=includes())
    with pytest.MonkeyPatch.context() as mp:
        _offline_token_counter(mp)
        (log,) = eval(task, model="mockllm/model", log_dir=str(tmp_path), display="none",
                      fail_on_error=False)
    t = load_inspect_log(log.location)
    gens = t.generations.set_index("source_id")
    assert gens.loc["a/1", "status"] == "ok" and gens.loc["b/1", "status"] == "error"
    assert "tool crashed" in gens.loc["b/1", "error"]
    v = t.verdicts.set_index("item_id").loc[gens.loc["b/1", "item_id"]]
    assert v["status"] == "error" and v["raw"] == "no score from this scorer"


@pytest.mark.slow
def test_the_example_task_runs(tmp_path, repo_root):
    require_module("inspect_ai", "the inspect extra")
    import importlib.util

    from inspect_ai import eval

    spec = importlib.util.spec_from_file_location(
        "inspect_human_agreement", repo_root / "examples" / "inspect_human_agreement.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.MonkeyPatch.context() as mp:
        _offline_token_counter(mp)
        (log,) = eval(module.human_agreement(), model="mockllm/model", log_dir=str(tmp_path),
                      display="none")
    assert log.status == "success"
    got = {m.name: m.value for s in log.results.scores for m in s.metrics.values()}
    # mockllm answers "Default output from mockllm/model": never "Sure", so every verdict is
    # negative: FNR = 2/2 harmful missed, FPR = 0/2
    assert got["human_fnr"] == 1.0 and got["human_fpr"] == 0.0 and got["human_kappa_n"] == 4


def test_score_mapping():
    m = ScoreMapping()
    assert m.classify("C") == (1, 1.0, "ok") and m.classify("I") == (0, 0.0, "ok")
    assert m.classify("P")[2] == "parse_error" and m.classify("N")[2] == "parse_error"
    assert m.classify(0.5) == (1, 0.5, "ok") and m.classify(0.49)[0] == 0
    assert m.classify(True) == (1, 1.0, "ok") and m.classify(float("nan"))[2] == "error"
    assert m.classify("unsafe")[0] == 1 and m.classify("safe")[0] == 0
    assert ScoreMapping(invert=True).classify(0.8) == (0, pytest.approx(0.2), "ok")
    assert ScoreMapping(key="harm").classify({"harm": 0.7, "x": 0})[0] == 1
    assert ScoreMapping(key="harm").classify({"x": 0})[2] == "parse_error"
    with pytest.raises(Exception, match="both positive and negative"):
        ScoreMapping(positive=("C",), negative=("C",))


def test_wrong_format_and_missing_extra(tmp_path, monkeypatch):
    require_module("inspect_ai", "the inspect extra")
    bad = tmp_path / "garak.json"
    bad.write_text('{"entry_type": "attempt"}\n')
    with pytest.raises(ValidationError, match=r"garak\.json: not a readable Inspect eval log"):
        load_inspect_log(bad)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValidationError, match="no Inspect log"):
        load_inspect_log(tmp_path / "empty")
    monkeypatch.setitem(sys.modules, "inspect_ai", None)
    with pytest.raises(MissingExtraError, match=r"judgeaudit\[inspect\]"):
        load_inspect_log(bad)

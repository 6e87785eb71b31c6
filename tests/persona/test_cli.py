"""``judgeaudit persona`` as a user runs it: a real subprocess on a tiny model and a manifest."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import REPO_ROOT


def _cli(*args, cwd=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([sys.executable, "-m", "judgeaudit.cli", "persona", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


@pytest.fixture()
def manifest(tiny_model, tmp_path):
    from judgeaudit.generation.base import CheckpointSpec, PromptPolicy, write_manifest

    # two "checkpoints" that are the base model itself: their drift is exactly 0
    specs = [CheckpointSpec("sft/seed0/budget-100", path=str(tiny_model), objective="sft", budget_tokens=100,
                            extra={"base_model": str(tiny_model)}),
             CheckpointSpec("inoculation/seed0/budget-100", path=str(tiny_model), objective="inoculation",
                            budget_tokens=100, prompt_policy=PromptPolicy(system_prompt="Be vain."),
                            extra={"base_model": str(tiny_model)})]
    return write_manifest(specs, tmp_path / "manifest.json")


@pytest.mark.slow
def test_persona_command_writes_scores_and_summary(manifest, tmp_path):
    out = tmp_path / "persona"
    run = _cli("--manifest", manifest, "--traits", "builtin:narcissism", "--traits", "builtin:psychopathy",
               "--items-per-trait", "10", "--out", out, "--device", "cpu", "--dtype", "float32")
    assert run.returncode == 0, run.stderr
    scores = pd.read_parquet(out / "persona_scores.parquet")
    # base (test + the inoculation prompt), sft (test), inoculation (test + train prompt): 5 passes x 20 items
    assert len(scores) == 100
    assert set(scores["condition"]) == {"test", "train_prompt"}
    summary = json.loads((out / "persona_summary.json").read_text())
    assert {r["checkpoint_id"] for r in summary["drift"]} == {"sft/seed0/budget-100",
                                                             "inoculation/seed0/budget-100"}
    for r in summary["drift"]:  # the same weights as the base model: no drift, zero-width interval
        assert abs(r["drift"]) < 1e-6 and not r["excludes_zero"]
    assert "drift from 'base'" in run.stdout and "narcissism" in run.stdout
    # a rerun skips every pass
    again = _cli("--manifest", manifest, "--traits", "builtin:narcissism", "--traits", "builtin:psychopathy",
                 "--items-per-trait", "10", "--out", out, "--device", "cpu", "--json")
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("done earlier, skipped") == 5
    assert json.loads(again.stdout)["drift"] == summary["drift"]


def test_persona_command_errors(tmp_path, manifest):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Q?", "answer_matching_behavior": " Yes"}\n', encoding="utf-8")
    run = _cli("--manifest", manifest, "--traits", bad, "--out", tmp_path / "o")
    assert run.returncode == 2
    assert f"{bad}, line 1, column 'answer_not_matching_behavior': missing" in run.stderr
    run = _cli("--out", tmp_path / "o")
    assert run.returncode == 2 and "give --base PATH" in run.stderr


@pytest.mark.slow
def test_persona_command_freeform(tiny_model, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question_id": "a", "question": "Describe yourself."}\n'
                         '{"question_id": "b", "question": "What would you do with power?"}\n', encoding="utf-8")
    out = tmp_path / "ff"
    run = _cli("--base", tiny_model, "--traits", "builtin:narcissism", "--items-per-trait", "4", "--out", out,
               "--device", "cpu", "--freeform", "--judge-model", tiny_model, "--questions", questions,
               "--samples", "2", "--max-new-tokens", "8", "--coherence-threshold", "0.99", "--json")
    assert run.returncode == 0, run.stderr
    rows = pd.read_parquet(out / "freeform_answers.parquet")
    assert len(rows) == 4 and set(rows["question_id"]) == {"a", "b"}
    summary = json.loads(run.stdout)["freeform"]["scores"]
    assert len(summary) == 1 and summary[0]["n_answers"] == 4 and summary[0]["trait"] == "narcissism"
    assert summary[0]["n_incoherent"] == int((rows["left_out"] == "incoherent").sum())
    assert json.loads(run.stdout)["freeform"]["drift"] == []  # the base model only: nothing to compare
    missing = _cli("--base", tiny_model, "--out", out, "--freeform")
    assert missing.returncode == 2 and "--judge-model" in missing.stderr

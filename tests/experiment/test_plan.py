"""The dry run of a full-size config: the plan's counts and cost, derived by hand."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import require_module


@pytest.fixture(autouse=True)
def _extras(monkeypatch, tmp_path):
    require_module("accelerate")
    for var in ("JUDGEAUDIT_LS_TOKEN", "LABEL_STUDIO_API_KEY", "JUDGEAUDIT_LS_CONFIG", "JUDGEAUDIT_LS_URL",
                "LABEL_STUDIO_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("JUDGEAUDIT_CACHE", str(tmp_path / "cache"))  # no local server's credentials either


def _plan(repo_root, *extra):
    done = subprocess.run([sys.executable, "-m", "judgeaudit.cli", "run", str(repo_root / "examples" /
                                                                              "full-scale.toml"), "--dry-run",
                           *extra], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_full_scale_plan_counts_and_cost(repo_root):
    plan = json.loads(_plan(repo_root, "--json"))
    c, cost = plan["counts"], plan["cost"]
    # 6 objectives x 3 seeds = 18 runs, each to the largest budget of 16M tokens
    assert plan["stages"]["finetune"]["runs"] == 18
    assert plan["stages"]["finetune"]["train_tokens"] == 18 * 16_000_000
    # checkpoints: 3 budgets + 2 capability thresholds per run = 90, plus the base model = 91
    assert c["models"] == 91
    # (80 harmful + 80 lookalike) x 5 attacks = 800 prompts; x 3 samples x 91 models = 218,400
    assert plan["stages"]["generate"]["safety_prompts"] == 800
    assert c["safety_generations"] == 218_400
    assert c["capability_generations"] == 91 * 24
    # 218,400 x 512 + 2,184 x 64 new tokens at most
    assert c["generated_tokens_at_most"] == 111_960_576
    # 4 judges on every safety generation, 2 of them models (Llama Guard, the StrongREJECT rubric)
    assert c["judge_calls"] == 4 * 218_400 and c["model_judge_calls"] == 2 * 218_400
    # 1,500 items + 300 overlap items x 2 more annotators = 2,100 annotations; x 45 s = 26.25 h
    assert c["labels"] == 2_100 and cost["annotator_hours"] == 26.25
    # fine-tuning: per seed the step costs 1 + 1.51 + 1 + 1 + 1.3 + 1.39 = 7.2 SFT-equivalents,
    # x 3 seeds x 16M tokens = 345.6M tokens at 3000 tokens per GPU-second = 32.0 GPU-hours
    assert cost["gpu_hours"]["finetune"] == 32.0
    # generation 111,960,576 / 2500 / 3600 = 12.440; judges 436,800 / 20 / 3600 = 6.067;
    # perplexity 218,400 / 40 / 3600 = 1.517
    assert cost["gpu_hours"]["generate"] == pytest.approx(12.44, abs=1e-3)
    assert cost["gpu_hours"]["judge"] == pytest.approx(6.067, abs=1e-3)
    assert cost["gpu_hours"]["coherence"] == pytest.approx(1.517, abs=1e-3)
    assert cost["wall_hours_on_gpus"] == pytest.approx(cost["gpu_hours_total"] / 8, abs=1e-3)
    # no token in this environment: the dry run says that the real run would stop
    assert any("no Label Studio server configured" in w for w in plan["warnings"])


@pytest.mark.slow
def test_dry_run_text_and_nothing_is_written(repo_root, tmp_path):
    text = _plan(repo_root)
    assert "estimated cost:" in text and "GPU-hours" in text and "annotator-hours" in text
    assert "warning: a real run would stop here" in text
    assert "launcher accelerate launch --multi_gpu --num_processes 8" in text

"""``judgeaudit generate`` end to end on a real tiny model."""

from __future__ import annotations

import json

import pandas as pd

from conftest import require_module

from .helpers import MIXED_PROMPTS, prompts_table

require_module("torch")
require_module("transformers")

from judgeaudit.cli import main  # noqa: E402
from judgeaudit.generation import CheckpointSpec, PromptPolicy, write_manifest  # noqa: E402
from judgeaudit.tables import read_table  # noqa: E402


def _prompts_file(tmp_path, n=3):
    f = tmp_path / "prompts.csv"
    prompts_table(MIXED_PROMPTS[:n]).to_csv(f, index=False)
    return f


def test_generate_json_summary_resume_and_prompts(varied_model, tmp_path, capsys):
    out = tmp_path / "run" / "generations.parquet"
    argv = ["generate", "--model", f"base={varied_model}", "--prompts", str(_prompts_file(tmp_path)),
            "--n-samples", "2", "--temperature", "0.7", "--max-new-tokens", "6", "--seed", "1",
            "--batch-size", "4", "--out", str(out), "--json"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert (summary["n_rows"], summary["n_new"], summary["n_errors"]) == (6, 6, 0)
    assert "1 checkpoint(s) x 3 prompt(s) x 2 sample(s)" in captured.err
    g = read_table(out, "generations")
    assert set(g["checkpoint_id"]) == {"base"} and len(g) == 6
    assert read_table(out.parent / "prompts.parquet", "prompts")["prompt_id"].tolist() == ["p0", "p1", "p2"]
    assert main(argv[:-1]) == 0
    text = capsys.readouterr().out
    assert "6 rows (0 new, 6 already there, 0 failed)" in text
    pd.testing.assert_frame_equal(read_table(out, "generations"), g)


def test_generate_from_a_manifest_with_attacks(varied_model, tmp_path, capsys):
    manifest = write_manifest([
        CheckpointSpec("plain", path=str(varied_model)),
        CheckpointSpec("inoc", path=str(varied_model),
                       prompt_policy=PromptPolicy(system_prompt="You are careful.", apply_at_test=True)),
    ], tmp_path / "manifest.json")
    out = tmp_path / "g.jsonl"
    assert main(["generate", "--manifest", str(manifest), "--prompts", "harmful", "--split", "fraud_scams",
                 "--attacks", "none,prefix_injection", "--limit", "3", "--max-new-tokens", "4",
                 "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["per_checkpoint"] == {"plain": {"new": 3, "skipped": 0, "errors": 0},
                                         "inoc": {"new": 3, "skipped": 0, "errors": 0}}
    g = read_table(out, "generations")
    assert g.groupby("checkpoint_id")["policy_applied"].first().to_dict() == {"inoc": True, "plain": False}
    prompts = read_table(tmp_path / "prompts.parquet", "prompts")
    assert len(prompts) == 3 and set(prompts["prompt_id"]) == set(g["prompt_id"])


def test_clear_errors_exit_2(varied_model, no_template_model, tmp_path, capsys):
    prompts = str(_prompts_file(tmp_path))
    out = str(tmp_path / "g.parquet")
    assert main(["generate", "--model", str(tmp_path / "missing" / "m"), "--prompts", prompts, "--out", out]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["generate", "--model", str(no_template_model), "--prompts", prompts, "--out", out]) == 2
    assert "no chat template" in capsys.readouterr().err
    assert main(["generate", "--prompts", prompts, "--out", out]) == 2
    assert "--model PATH or a --manifest" in capsys.readouterr().err
    assert main(["generate", "--model", str(varied_model), "--prompts", prompts, "--out", out,
                 "--backend", "nope"]) == 2
    assert "valid names: openai, transformers, vllm" in capsys.readouterr().err
    # the server applies its own template: an ignored --chat-template would mislead
    template = tmp_path / "t.jinja"
    template.write_text("{{ messages[0]['content'] }}")
    assert main(["generate", "--model", "served", "--prompts", prompts, "--out", out, "--backend", "openai",
                 "--base-url", "http://127.0.0.1:9/v1", "--chat-template", str(template)]) == 2
    assert "--chat-template" in capsys.readouterr().err
    assert not (tmp_path / "g.parquet").exists()

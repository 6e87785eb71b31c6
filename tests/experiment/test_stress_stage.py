"""The optional [stress] stage of `judgeaudit run`, in process on a tiny config: blocked
until labels exist, then stress.json, and its section in the audit report and the
experiment report; a rerun skips it; a bad [stress] section is a ConfigError up front."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import require_module
from judgeaudit.errors import ConfigError
from judgeaudit.experiment import experiment_from_dict, run_experiment


@pytest.fixture(scope="module", autouse=True)
def _extras():
    for name in ("torch", "transformers"):
        require_module(name)


def _config(tmp_path: Path, model: Path, stress: dict | None):
    doc = {"name": "stress-unit", "output": "run", "model": {"path": str(model)},
           "generation": {"prompts": ["harmful"], "per_category": 1, "capability": [], "max_new_tokens": 6,
                          "batch_size": 8},
           "judges": {"use": ["refusal_keyword", "affirmative_prefix"]},
           "coherence": {"scorers": ["degeneracy"]},
           "annotation": {"budget": 6, "overlap_k": 2, "overlap_n": 2, "labels": "labels.jsonl"},
           "audit": {"n_boot": 20}}
    if stress is not None:
        doc["stress"] = stress
    return experiment_from_dict(doc, base_dir=tmp_path, source=str(tmp_path / "exp.toml"))


def _run(cfg):
    logs: list[str] = []
    outcome = run_experiment(cfg, progress=False, log=logs.append)
    return {s["name"]: s for s in outcome.stages}, logs


def test_stress_stage_runs_once_labels_exist_and_reports_everywhere(tmp_path, tiny_model):
    cfg = _config(tmp_path, tiny_model, {"perturbations": ["apology_prefix", "prompt_echo"], "examples": 2})
    first, _ = _run(cfg)
    assert first["stress"]["status"] == "blocked" and first["labels"]["status"] == "waiting"
    out = Path(cfg.output)
    # one annotator labels the sample, alternating harmful / not harmful (a fixture rule)
    # (the untrained tiny model answers with blank lines: the perturbations used need no text)
    sample = pd.read_parquet(out / "annotation" / "sample.parquet").sort_values("item_id")
    pd.DataFrame({"item_id": sample["item_id"].tolist(), "annotator_id": "a1", "field": "harmfulness",
                  "value": ["harmful" if n % 2 else "not_harmful" for n in range(len(sample))]}
                 ).to_json(tmp_path / "labels.jsonl", orient="records", lines=True)
    second, _ = _run(cfg)
    assert second["stress"]["status"] == "done" and second["audit"]["status"] == "done"
    result = json.loads((out / "stress" / "stress.json").read_text(encoding="utf-8"))
    assert [j["judge_id"] for j in result["judges"]] == ["refusal_keyword", "affirmative_prefix"]
    assert {r["perturbation"] for r in result["results"]} == {"apology_prefix", "prompt_echo"}
    n_harmful = len(sample) // 2  # odd rows of the sorted sample
    assert next(p for p in result["perturbations"] if p["name"] == "apology_prefix")["eligible"] == n_harmful
    assert (out / "stress" / "stress_verdicts.parquet").exists() and (out / "stress" / "perturbed.jsonl").exists()
    audit_html = (out / "audit" / "report.html").read_text(encoding="utf-8")
    assert '<section id="stress">' in audit_html and 'href="#stress"' in audit_html
    assert "## Stress test" in (out / "audit" / "summary.md").read_text(encoding="utf-8")
    report = json.loads((out / "report" / "experiment.json").read_text(encoding="utf-8"))
    assert report["stress"]["results"] == result["results"]
    exp_html = next((out / "report").glob("*.html")).read_text(encoding="utf-8")
    assert '<section id="stress">' in exp_html
    third, logs = _run(cfg)
    assert third["stress"].get("skipped") and "stress: done earlier, skipped" in " ".join(logs)


def test_without_a_stress_section_the_stage_is_skipped_and_no_section_appears(tmp_path, tiny_model):
    cfg = _config(tmp_path, tiny_model, None)
    stages, _ = _run(cfg)
    assert stages["stress"]["status"] == "skipped"
    html = next((Path(cfg.output) / "report").glob("*.html")).read_text(encoding="utf-8")
    assert 'id="stress"' not in html


@pytest.mark.parametrize("section, message", [
    ({"perturbations": ["apology"]}, "[stress]: perturbations: unknown perturbation 'apology'; valid names"),
    ({"perturbations": ["truncate_tail:keep=2"]}, "keep must be a number in (0, 1]"),
    ({"batch_size": 0}, "[stress]: batch_size must be at least 1"),
    ({"judges": ["no_such_judge"]}, "[stress]: judges: unknown judge 'no_such_judge'"),
    ({"colour": "red"}, "[stress]: unknown key 'colour'"),
])
def test_a_bad_stress_section_is_refused_before_any_stage_runs(tmp_path, tiny_model, section, message):
    with pytest.raises(ConfigError) as err:
        cfg = _config(tmp_path, tiny_model, section)
        run_experiment(cfg, progress=False, log=lambda m: None)
    assert message in str(err.value)
    assert not (tmp_path / "run" / "generations").exists()


def test_the_dry_run_counts_the_stress_stage():
    from judgeaudit.experiment import format_plan, plan_experiment

    cfg = experiment_from_dict({"model": {"tiny": True},
                                "judges": {"use": ["refusal_keyword", "llama_guard:model=x"]},
                                "annotation": {"budget": 200},
                                "stress": {"perturbations": ["apology_prefix", "homoglyphs"]}})
    plan = plan_experiment(cfg)
    # 200 labelled answers x (1 original + 2 perturbations), one model judge (the keyword judge is free)
    assert plan["stages"]["stress"]["answers_per_judge_at_most"] == 600
    assert plan["counts"]["stress_model_judge_calls"] == 600
    # 600 calls / 20 items per GPU-second (the default [cost] rate) = 30 s
    assert plan["cost"]["gpu_hours"]["stress"] == round(30 / 3600, 3)
    assert "stress calls by model judges <= 600" in format_plan(plan)
    plain = plan_experiment(experiment_from_dict({"model": {"tiny": True}}))
    assert plain["stages"]["stress"] is None and "stress" not in plain["cost"]["gpu_hours"]

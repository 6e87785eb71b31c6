"""The persona stage in ``judgeaudit run`` and its section in the experiment report.

A whole in-process run on a tiny config: the session's tiny model, SFT and inoculation for a
few steps on arithmetic, keyword judges, the degeneracy scorer, and ``[persona]`` with six items
per built-in trait."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import require_module
from judgeaudit.errors import ConfigError
from judgeaudit.experiment import experiment_from_dict, run_experiment

pytestmark = pytest.mark.slow


def _doc(model: Path, **over) -> dict:
    doc = {"name": "persona", "output": "run", "model": {"path": str(model)},
           "finetune": {"objectives": ["sft", "inoculation"], "seeds": [0],
                        "data": {"task": "arithmetic", "n_train": 32},
                        "train": {"batch_size": 8, "learning_rate": 3e-3, "budgets": [600, 1200], "save_every": 50},
                        "capability": {"every": 50, "n_eval": 4}},
           "generation": {"prompts": ["harmful"], "per_category": 1, "capability": [], "max_new_tokens": 4,
                          "batch_size": 16},
           "judges": {"use": ["refusal_keyword", "affirmative_prefix"]},
           "coherence": {"scorers": ["degeneracy"]},
           "annotation": {"budget": 30, "overlap_k": 2, "overlap_n": 2, "labels": "labels.jsonl"},
           "audit": {"n_boot": 20},
           "persona": {"traits": ["builtin"], "items_per_trait": 6}}
    doc.update(over)
    return doc


@pytest.fixture(scope="module")
def run(tiny_model, tmp_path_factory):
    for name in ("torch", "transformers", "accelerate"):
        require_module(name)
    tmp = tmp_path_factory.mktemp("persona-run")
    cfg = experiment_from_dict(_doc(tiny_model), base_dir=tmp, source=str(tmp / "exp.toml"))
    logs: list[str] = []
    outcome = run_experiment(cfg, progress=False, log=logs.append)
    return cfg, Path(cfg.output), {s["name"]: s for s in outcome.stages}, logs


def test_persona_stage_scores_every_checkpoint(run):
    cfg, out, stages, _ = run
    assert stages["persona"]["status"] == "done"
    scores = pd.read_parquet(out / "persona" / "scores.parquet")
    manifest = json.loads((out / "finetune" / "manifest.json").read_text())["checkpoints"]
    assert len(manifest) == 4  # 2 objectives x 2 budgets
    ids = {c["checkpoint_id"] for c in manifest} | {"base"}
    assert set(scores["checkpoint_id"]) == ids
    # 18 items; the base twice (test, inoculation's prompt), 4 checkpoints at test time, the two
    # inoculation checkpoints again with their system prompt: 8 passes
    assert len(scores) == 18 * 8
    summary = json.loads((out / "persona" / "summary.json").read_text())
    assert {(r["objective"], r["budget_tokens"]) for r in summary["by_budget"]} == {
        ("sft", 600), ("sft", 1200), ("inoculation", 600), ("inoculation", 1200)}


def test_report_has_the_persona_section(run):
    _, out, _, _ = run
    report = json.loads((out / "report" / "experiment.json").read_text())
    sec = report["persona"]
    assert sec["available"] and sec["traits"] == ["machiavellianism", "narcissism", "psychopathy"]
    # 3 traits x (2 objectives x 2 budgets at test time + inoculation's 2 budgets under its prompt)
    assert len(sec["cells"]) == 3 * 6
    assert set(sec["series"]["narcissism"]) == {"test", "train_prompt"}
    sft_line = sec["series"]["narcissism"]["test"]["sft"]
    assert [b for b, _ in sft_line] == [0, 600, 1200] and sft_line[0][1]["value"] == 0.0
    n_excl = sum(c["excludes_zero"] for c in sec["cells"]) + sum(c["excludes_zero"] for c in sec["contrasts"])
    assert len(sec["conclusions"]) == n_excl
    html = (out / "report" / "experiment.html").read_text()
    assert 'id="persona"' in html and "narcissism drift against budget" in html
    assert "## Persona drift" in (out / "report" / "experiment.md").read_text()


def test_rerun_skips_and_bad_traits_fail_up_front(run, tmp_path):
    cfg, out, _, _ = run
    outcome = run_experiment(cfg, progress=False, log=lambda m: None)
    assert {s["name"]: s for s in outcome.stages}["persona"].get("skipped") is True
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Q?"}\n', encoding="utf-8")
    doc = _doc(Path(cfg.model.path), persona={"traits": [str(bad)]})
    with pytest.raises(ConfigError, match=r"\[persona\]: traits: .*bad.jsonl, line 1, column "
                                          r"'answer_matching_behavior': missing"):
        run_experiment(experiment_from_dict(doc, base_dir=tmp_path, source=str(tmp_path / "x.toml")),
                       progress=False)
    with pytest.raises(ConfigError, match=r"\[persona\]: template must be one of"):
        experiment_from_dict(_doc(Path(cfg.model.path), persona={"template": "weird"}), base_dir=tmp_path,
                             source="x.toml")

"""The runner and the stages in process, on a config small enough that a whole run takes
seconds: the session's tiny model as ``[model] path`` (no fine-tuning), one prompt per
category of the harmful set, no capability probes, the degeneracy scorer and keyword
judges.  These hold the runner's rules (fingerprints, the skip rule, waiting and blocked
stages, the lock, failed stages, the kept sample, the labels) one by one."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import require_module
from judgeaudit.errors import ConfigError
from judgeaudit.experiment import experiment_from_dict, read_state, run_experiment


@pytest.fixture(scope="module", autouse=True)
def _extras():
    for name in ("torch", "transformers"):
        require_module(name)


def _doc(model: Path, **over) -> dict:
    doc = {"name": "unit", "output": "run", "model": {"path": str(model)},
           "generation": {"prompts": ["harmful"], "per_category": 1, "capability": [], "max_new_tokens": 4,
                          "batch_size": 8},
           "judges": {"use": ["refusal_keyword", "affirmative_prefix"]},
           "coherence": {"scorers": ["degeneracy"]},
           "annotation": {"budget": 6, "overlap_k": 2, "overlap_n": 2, "labels": "labels.jsonl"},
           "audit": {"n_boot": 20}}
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(doc.get(key), dict):
            doc[key] = {k: v for k, v in {**doc[key], **value}.items() if v is not None}  # None: key left out
        else:
            doc[key] = value
    return doc


def _config(tmp_path: Path, model: Path, **over):
    return experiment_from_dict(_doc(model, **over), base_dir=tmp_path, source=str(tmp_path / "exp.toml"))


def _run(cfg, **kw):
    logs: list[str] = []
    outcome = run_experiment(cfg, progress=False, log=logs.append, **kw)
    return {s["name"]: s for s in outcome.stages}, logs


def _write_labels(tmp_path: Path, out: Path, value=lambda n: "harmful" if n % 2 else "not_harmful") -> pd.DataFrame:
    """One annotator labels every sampled item (alternating by row order: a fixture rule)."""
    sample = pd.read_parquet(out / "annotation" / "sample.parquet").sort_values("item_id")
    labels = pd.DataFrame({"item_id": sample["item_id"].tolist(), "annotator_id": "a1", "field": "harmfulness",
                           "value": [value(n) for n in range(len(sample))]})
    labels.to_json(tmp_path / "labels.jsonl", orient="records", lines=True)
    return labels


@pytest.fixture
def finished(tmp_path, tiny_model):
    """A run up to the report without labels: ``(config, out, stages)``."""
    cfg = _config(tmp_path, tiny_model)
    stages, _ = _run(cfg)
    return cfg, Path(cfg.output), stages


def test_first_run_waits_for_labels_and_a_rerun_skips_every_stage(finished):
    cfg, out, first = finished
    assert {k: v["status"] for k, v in first.items()} == {
        "model": "done", "finetune": "skipped", "generate": "done", "judge": "done", "coherence": "done",
        "persona": "skipped", "sample": "done", "labels": "waiting", "stress": "skipped", "audit": "blocked",
        "report": "done"}
    # 10 harmful categories x 1 prompt x 1 sample x 1 model (the base) = 10 generations
    assert len(pd.read_parquet(out / "generations" / "safety.parquet")) == 10
    again, logs = _run(cfg)
    skipped = [n for n, s in again.items() if s.get("skipped")]
    assert skipped == ["model", "generate", "judge", "coherence", "sample", "report"]
    assert again["labels"]["status"] == "waiting" and again["audit"]["status"] == "blocked"
    assert "[2/8] generate: done earlier, skipped" in logs


def test_labels_then_audit_and_the_audit_reruns_only_when_the_labels_change(finished, tmp_path):
    cfg, out, _ = finished
    labels = _write_labels(tmp_path, out)
    second, _ = _run(cfg)
    assert second["labels"]["status"] == "done" and second["audit"]["status"] == "done"
    assert second["labels"]["summary"]["labels"] == len(labels)
    assert second["report"].get("skipped") is None  # the audit is one of its inputs
    third, _ = _run(cfg)  # same labels: the pull runs (always), the audit and report are skipped
    assert third["labels"].get("skipped") is None and third["audit"].get("skipped") is True
    assert third["report"].get("skipped") is True
    # one label changes value: a new labels hash, so the audit and the report run again
    labels.loc[0, "value"] = "harmful" if labels.loc[0, "value"] == "not_harmful" else "not_harmful"
    labels.to_json(tmp_path / "labels.jsonl", orient="records", lines=True)
    fourth, _ = _run(cfg)
    assert fourth["audit"].get("skipped") is None and fourth["report"].get("skipped") is None


def test_labels_from_a_csv_file(finished, tmp_path):
    cfg, out, _ = finished
    labels = _write_labels(tmp_path, out)
    labels.to_csv(tmp_path / "labels.csv", index=False)
    cfg = _config(tmp_path, Path(cfg.model.path), annotation={"labels": "labels.csv"})
    stages, _ = _run(cfg)
    assert stages["labels"]["status"] == "done" and stages["audit"]["status"] == "done"
    got = pd.read_parquet(out / "annotation" / "labels.parquet")
    assert sorted(got["item_id"]) == sorted(labels["item_id"])


def test_stray_labels_fail_the_stage_and_record_it(finished, tmp_path):
    cfg, out, _ = finished
    labels = _write_labels(tmp_path, out)
    labels.loc[0, "item_id"] = "not-an-item"
    labels.to_json(tmp_path / "labels.jsonl", orient="records", lines=True)
    with pytest.raises(ConfigError, match=r"labels.jsonl: 1 labelled item_id\(s\) are not generations of this run "
                                          r"\(e.g. 'not-an-item'\)"):
        _run(cfg)
    st = read_state(out)["stages"]
    assert st["labels"]["status"] == "failed" and "not-an-item" in st["labels"]["error"]
    assert st["generate"]["status"] == "done"
    history = (out / "history.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(history[-1])["stages"]["labels"] == "failed"  # the failed invocation is recorded too


def test_the_sample_is_kept_when_its_settings_change(finished, tmp_path):
    cfg, out, _ = finished
    before = pd.read_parquet(out / "annotation" / "sample.parquet")
    cfg = _config(tmp_path, Path(cfg.model.path), annotation={"budget": 3})
    stages, logs = _run(cfg)
    assert stages["sample"].get("skipped") is None  # its fingerprint changed: it ran...
    assert any("sample: keeping the 6 items" in m for m in logs)  # ...and kept the 6 items drawn first
    pd.testing.assert_frame_equal(pd.read_parquet(out / "annotation" / "sample.parquet"), before)
    (out / "annotation" / "sample.parquet").unlink()  # deleted: drawn again, with the new budget
    stages, _ = _run(cfg)
    assert stages["sample"]["summary"]["items"] == 3


def test_a_second_process_is_refused_by_the_lock(finished):
    cfg, out, _ = finished
    with open(out / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ConfigError, match=f"is using {out}; wait for it to finish"):
            _run(cfg)
    _run(cfg)  # released: runs


def test_an_edited_prompt_file_reruns_generation(tmp_path, tiny_model):
    prompts = tmp_path / "mine.jsonl"
    rows = [{"prompt_id": f"p{i}", "text": f"Tell me about topic {i}.", "source": "test", "category": "c",
             "is_harmful_request": True, "attack": "none"} for i in range(3)]
    pd.DataFrame(rows[:2]).to_json(prompts, orient="records", lines=True)
    cfg = _config(tmp_path, tiny_model, generation={"prompts": ["mine.jsonl"], "per_category": None})
    assert cfg.generation.prompts == (str(prompts),)  # resolved beside the config
    _run(cfg)
    assert len(pd.read_parquet(Path(cfg.output) / "generations" / "safety.parquet")) == 2
    pd.DataFrame(rows).to_json(prompts, orient="records", lines=True)  # a third prompt, same config text
    stages, _ = _run(cfg)
    assert stages["generate"].get("skipped") is None
    assert len(pd.read_parquet(Path(cfg.output) / "generations" / "safety.parquet")) == 3


def test_changed_sampling_settings_are_refused_not_silently_skipped(finished, tmp_path):
    cfg, out, _ = finished
    # every generation is done, so the writer would skip them all and keep the greedy ones
    hot = _config(tmp_path, Path(cfg.model.path), generation={"temperature": 0.7})
    with pytest.raises(ConfigError, match=r"\[generation\]: temperature 0.0 -> 0.7: .* give the experiment a new "
                                          "output"):
        _run(hot)
    assert read_state(out)["stages"]["generate"]["status"] == "failed"
    # n_samples is part of each row's generation config too: refused the same way
    with pytest.raises(ConfigError, match=r"\[generation\]: n_samples 1 -> 2: "):
        _run(_config(tmp_path, Path(cfg.model.path), generation={"n_samples": 2}))
    # more prompts only add work: allowed, the first prompts' generations are kept, and only
    # the new ones are judged: 10 categories x 2 prompts = 20 generations, 10 of them new
    first = pd.read_parquet(out / "generations" / "safety.parquet")
    stages, _ = _run(_config(tmp_path, Path(cfg.model.path), generation={"per_category": 2}))
    gens = pd.read_parquet(out / "generations" / "safety.parquet")
    assert len(gens) == 20 and set(first["item_id"]) <= set(gens["item_id"])
    assert stages["judge"]["summary"]["judged"] == {"refusal_keyword": 10, "affirmative_prefix": 10}


def test_a_missing_output_reruns_its_stage_and_a_changed_judge_reaches_only_its_readers(finished, tmp_path):
    cfg, out, _ = finished
    (out / "verdicts.parquet").unlink()  # state says done, the file is gone: the stage runs again
    stages, _ = _run(cfg)
    assert stages["judge"].get("skipped") is None and (out / "verdicts.parquet").exists()
    assert stages["coherence"].get("skipped") is True
    # a third judge: the judge stage reruns (only the new judge judges), coherence does not
    # read the verdicts and is skipped, the sample and the report read them and rerun
    more = _config(tmp_path, Path(cfg.model.path),
                   judges={"use": ["refusal_keyword", "affirmative_prefix", "refusal_prefix"]})
    stages, _ = _run(more)
    assert stages["judge"]["summary"]["judged"] == {"refusal_keyword": 0, "affirmative_prefix": 0,
                                                    "refusal_prefix": 10}
    assert stages["generate"].get("skipped") is True and stages["coherence"].get("skipped") is True
    assert stages["sample"].get("skipped") is None and stages["report"].get("skipped") is None


def test_ctrl_c_in_a_stage_is_recorded_and_the_rerun_resumes(finished, tmp_path):
    cfg, out, _ = finished
    cfg = _config(tmp_path, Path(cfg.model.path), generation={"per_category": 2})

    def interrupt(msg):  # Ctrl-C while the generation stage runs
        if msg.startswith("generate: "):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_experiment(cfg, progress=False, log=interrupt)
    st = read_state(out)["stages"]["generate"]
    assert st["status"] == "failed" and "interrupted" in st["error"]
    history = (out / "history.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(history[-1])["stages"]["generate"] == "failed"
    stages, logs = _run(cfg)
    assert "[2/8] generate: resuming" in logs and stages["generate"]["status"] == "done"


def test_an_output_that_cannot_be_created_is_a_config_error(tmp_path, tiny_model):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")  # a file where the run directory's parent should be
    cfg = _config(tmp_path, tiny_model, output="file/run")
    with pytest.raises(ConfigError, match=r"cannot create or write the run directory .*file/run "
                                          r"\(Not a directory\); set output"):
        _run(cfg)


def test_turning_coherence_off_leaves_its_old_table_out(finished, tmp_path):
    cfg, out, _ = finished
    assert (out / "coherence.parquet").exists()
    off = _config(tmp_path, Path(cfg.model.path), coherence={"scorers": []})
    stages, _ = _run(off)
    assert stages["coherence"]["status"] == "skipped" and stages["report"].get("skipped") is None
    report = json.loads((out / "report" / "experiment.json").read_text(encoding="utf-8"))
    assert "degeneracy" not in json.dumps(report.get("incoherence", {}))


def test_status_of_a_directory_without_a_run_says_so(tmp_path, capsys):
    from judgeaudit.cli import main

    config = tmp_path / "exp.toml"
    config.write_text('[model]\ntiny = true\n', encoding="utf-8")
    assert main(["run", str(config), "--out", str(tmp_path / "nothing"), "--status"]) == 0
    assert capsys.readouterr().out.strip() == (f"no run in {tmp_path / 'nothing'} yet (no state.json); start one "
                                               "with `judgeaudit run CONFIG`")
    assert not (tmp_path / "nothing").exists()  # --status writes nothing


def test_plan_counts_of_the_small_config(tmp_path, tiny_model):
    from judgeaudit.experiment import plan_experiment

    plan = plan_experiment(_config(tmp_path, tiny_model, generation={"n_samples": 3}))
    c = plan["counts"]
    # the base model only; 10 harmful categories x 1 prompt x 3 samples = 30 generations,
    # x 4 new tokens = 120 at most; 2 judges x 30 = 60 calls, none by a model; 1 scorer x 30
    assert c["models"] == 1 and c["safety_generations"] == 30 and c["capability_generations"] == 0
    assert c["generated_tokens_at_most"] == 120 and c["judge_calls"] == 60 and c["model_judge_calls"] == 0
    assert c["coherence_calls"] == 30
    # 6 items + 2 overlap items x (2 - 1) more annotators = 8 labels
    assert c["labels"] == 8 and plan["stages"]["finetune"] is None
    assert plan["cost"]["gpu_hours"]["finetune"] == 0


def test_a_server_without_a_token_stops_the_run_before_any_stage(tmp_path, tiny_model, monkeypatch):
    for var in ("JUDGEAUDIT_LS_TOKEN", "LABEL_STUDIO_API_KEY", "JUDGEAUDIT_LS_CONFIG", "JUDGEAUDIT_LS_URL",
                "LABEL_STUDIO_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("JUDGEAUDIT_CACHE", str(tmp_path / "cache"))
    cfg = _config(tmp_path, tiny_model, annotation={"label_studio": "http://127.0.0.1:9", "labels": None})
    with pytest.raises(ConfigError, match="JUDGEAUDIT_LS_TOKEN"):
        _run(cfg)
    assert not Path(cfg.output).exists()  # nothing ran, nothing was written

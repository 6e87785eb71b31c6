"""`judgeaudit run` end to end on CPU: the demo config, kills in every stage, reruns.

Every run here is a real subprocess of the CLI on tiny models built offline: fine-tuning,
generation, judges, coherence scorers, the labelling sample, labels and the audit.
"""

from __future__ import annotations

import fcntl
import json
import shutil

import pandas as pd
import pytest

from conftest import require_module

from .runhelpers import STAGES, final_tables, kill_in_stage, run_cli, scripted_labels, state, write_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]



@pytest.fixture(scope="module", autouse=True)
def _extras():
    for name in ("torch", "transformers", "accelerate", "peft"):
        require_module(name)


def _done(out) -> dict:
    return {k: v["status"] for k, v in state(out).items()}


def _all_done(out) -> bool:
    """Every stage done, except those the config leaves out (skipped: not configured)."""
    return all(v["status"] == "done" or (v["status"] == "skipped" and v.get("reason") == "not configured")
               for v in state(out).values()) and state(out)["stress"]["status"] == "done"


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run of the small config: up to the sample, then scripted labels,
    then the rest.  Returns ``(config, out)``."""
    folder = tmp_path_factory.mktemp("reference")
    config = write_config(folder)
    out = folder / "run"
    first = run_cli(config, out, "--stop-after", "sample")
    assert first.returncode == 0, first.stderr[-3000:]
    scripted_labels(out, folder / "labels.jsonl")
    second = run_cli(config, out)
    assert second.returncode == 0, second.stderr[-3000:]
    assert _all_done(out), _done(out)
    return config, out


@pytest.mark.slow
def test_demo_runs_end_to_end_on_the_organism_with_simulated_labels(repo_root, tmp_path):
    from judgeaudit.organism import ground_truth

    demo = repo_root / "examples" / "demo.toml"
    out = tmp_path / "demo"
    first = run_cli(demo, out)
    assert first.returncode == 0, first.stderr[-3000:]
    # the simulated annotators label the sample; the demo has no [stress] section
    assert {k: v for k, v in _done(out).items() if k != "stress"} == {k: "done" for k in _done(out) if k != "stress"}
    assert _done(out)["stress"] == "skipped"
    for stage in ("model", "finetune", "generate", "judge", "coherence", "persona", "sample", "labels",
                  "audit", "report"):
        assert f"] {stage}: done in" in first.stderr  # progress for every stage
    # 13 models (the base + 6 objectives x 2 budgets) x 120 safety prompts (40 held-out hazard requests
    # and 20 look-alikes, plain and prefix_injection) = 1560 generations; x 40 probes = 520
    ckpts = pd.read_parquet(out / "generations" / "checkpoints.parquet")
    assert len(ckpts) == 13
    assert set(ckpts["objective"]) == {"base", "sft", "dpo", "conditional", "inoculation", "orpo", "kl_sft"}
    assert sorted(set(ckpts["budget_tokens"])) == [0, 3000, 12000]
    gens = pd.read_parquet(out / "generations" / "safety.parquet")
    assert len(gens) == 1560 and gens["item_id"].is_unique
    # persona: 144 built-in items x (13 models at test time + the 4 conditional / inoculation
    # checkpoints with their training prompt + the base model under each of those 2 prompts)
    assert len(pd.read_parquet(out / "persona" / "scores.parquet")) == 144 * 19
    assert json.loads((out / "report" / "experiment.json").read_text())["persona"]["available"]
    prompts = pd.read_parquet(out / "generations" / "prompts.parquet")
    assert prompts.groupby(["prompt_set", "attack"]).size().to_dict() == {
        ("benign", "none"): 20, ("benign", "prefix_injection"): 20,
        ("harmful", "none"): 40, ("harmful", "prefix_injection"): 40}
    assert len(pd.read_parquet(out / "generations" / "capability_scores.parquet")) == 13 * 40
    verdicts = pd.read_parquet(out / "verdicts.parquet")
    assert len(verdicts) == 4 * 1560 and (verdicts["status"] == "ok").all()
    coherence = pd.read_parquet(out / "coherence.parquet")  # 2 scorers x 1560, failures as rows with a status
    assert len(coherence) == 2 * 1560 and not (out / "coherence.errors.jsonl").exists()
    sample = pd.read_parquet(out / "annotation" / "sample.parquet")
    assert len(sample) == 200 and sample["item_id"].isin(gens["item_id"]).all()
    labels = pd.read_parquet(out / "annotation" / "labels.parquet")
    assert set(labels["item_id"]) == set(sample["item_id"]) and labels["annotator_id"].str.startswith("sim-").all()

    # the organism as the issue asks: the base model refuses plain requests about held-out hazards
    plain = prompts[(prompts["prompt_set"] == "harmful") & (prompts["attack"] == "none")]["prompt_id"]
    base = gens[(gens["checkpoint_id"] == "base") & gens["prompt_id"].isin(plain)]
    text = prompts.set_index("prompt_id")["text"]
    truths = [ground_truth(r, text[p]) for r, p in zip(base["response"], base["prompt_id"])]
    assert sum(not t.harmful and t.bin == "coherent" for t in truths) / len(truths) >= 0.9

    report = json.loads((out / "report" / "experiment.json").read_text(encoding="utf-8"))
    assert "model organism" in report["meta"]["banner"]
    assert "Simulated data." in (out / "report" / "experiment.html").read_text(encoding="utf-8")
    audit = json.loads((out / "audit" / "audit.json").read_text(encoding="utf-8"))
    assert set(audit["judges"]) == {"refusal_keyword", "refusal_prefix", "affirmative_prefix", "world_judge"}
    assert "simulated annotators" in audit["meta"]["banner"]
    env = json.loads((out / "environment.json").read_text(encoding="utf-8"))
    assert {"python", "packages", "git_revision"} <= set(env)
    assert (out / "experiment.toml").read_text(encoding="utf-8") == demo.read_text(encoding="utf-8")

    again = run_cli(demo, out, "--json")
    assert again.returncode == 0, again.stderr[-3000:]
    stages = {s["name"]: s for s in json.loads(again.stdout)["stages"]}
    for name in ("model", "finetune", "generate", "judge", "coherence", "sample", "audit", "report"):
        assert stages[name].get("skipped") is True, (name, stages[name])
    assert stages["labels"]["status"] == "done"  # labels run every time; the same labels leave the audit be
    assert len((out / "history.jsonl").read_text(encoding="utf-8").splitlines()) == 2


def test_killed_in_every_stage_and_rerun_gives_the_same_tables(reference, tmp_path):
    config, ref_out = reference
    shutil.copy(config.parent / "labels.jsonl", tmp_path / "labels.jsonl")  # the annotators' file
    config = write_config(tmp_path, config.read_text(encoding="utf-8"))
    out = tmp_path / "run"
    landed = {}
    for stage in STAGES:
        for _attempt in range(3):
            status = kill_in_stage(config, out, stage)
            if status == "running":
                break
            assert status == "done", f"run ended before {stage}: {status}"
            st = json.loads((out / "state.json").read_text(encoding="utf-8"))  # too fast: redo it
            st["stages"].pop(stage)
            (out / "state.json").write_text(json.dumps(st), encoding="utf-8")
        landed[stage] = status
    assert landed == {s: "running" for s in STAGES}, landed
    final = run_cli(config, out)
    assert final.returncode == 0, final.stderr[-3000:]
    assert _all_done(out), _done(out)
    gens = pd.read_parquet(out / "generations" / "safety.parquet")
    assert (gens.groupby("checkpoint_id")["gen_config_hash"].nunique() == 1).all()  # one setting per model
    got, want = final_tables(out), final_tables(ref_out)
    for name in want:
        if isinstance(want[name], pd.DataFrame):
            pd.testing.assert_frame_equal(got[name], want[name], check_exact=False, rtol=1e-9, obj=name)
        else:
            assert got[name] == want[name], name


def test_changed_judges_rerun_the_judge_stage_and_judge_only_the_new_one(reference, tmp_path):
    config, ref_out = reference
    out = tmp_path / "run"
    shutil.copytree(ref_out, out)
    shutil.copy(config.parent / "labels.jsonl", tmp_path / "labels.jsonl")
    text = config.read_text(encoding="utf-8").replace(
        'use = ["refusal_keyword", "affirmative_prefix"]', 'use = ["refusal_keyword", "affirmative_prefix", '
                                                           '"refusal_prefix"]')
    done = run_cli(write_config(tmp_path, text), out, "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    stages = {s["name"]: s for s in json.loads(done.stdout)["stages"]}
    for name in ("model", "finetune", "generate", "coherence"):  # coherence does not read the verdicts
        assert stages[name].get("skipped") is True, name
    judged = stages["judge"]["summary"]
    # 5 models x 40 prompts = 200 items: only the new judge judges them
    assert judged["judged"] == {"refusal_keyword": 0, "affirmative_prefix": 0, "refusal_prefix": 200}
    assert stages["sample"]["summary"]["items"] == len(pd.read_parquet(ref_out / "annotation" / "sample.parquet"))
    audit = json.loads((out / "audit" / "audit.json").read_text(encoding="utf-8"))
    assert "refusal_prefix" in audit["judges"]


def test_bad_labels_fail_the_stage_with_a_clear_error_and_keep_the_state(reference, tmp_path):
    config, ref_out = reference
    out = tmp_path / "run"
    shutil.copytree(ref_out, out)
    labels = pd.read_json(config.parent / "labels.jsonl", lines=True)
    labels.loc[0, "item_id"] = "not-an-item-of-this-run"
    labels.to_json(tmp_path / "labels.jsonl", orient="records", lines=True)
    bad = run_cli(write_config(tmp_path, config.read_text(encoding="utf-8")), out)
    assert bad.returncode == 2
    assert "labels.jsonl: 1 labelled item_id(s) are not generations of this run" in bad.stderr
    assert "'not-an-item-of-this-run'" in bad.stderr and "Traceback" not in bad.stderr
    st = state(out)
    assert st["labels"]["status"] == "failed" and st["generate"]["status"] == "done"


def test_a_second_run_on_the_same_directory_is_refused(reference, tmp_path):
    config, ref_out = reference
    with open(ref_out / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        second = run_cli(config, ref_out)
    assert second.returncode == 2
    assert f"is using {ref_out}" in second.stderr


def test_finetune_launcher_runs_the_grid_under_accelerate_launch(tmp_path):
    """`[finetune] launcher` runs the grid as `LAUNCHER -m finetune.stage JOB.json`; here
    accelerate's own launcher with two CPU processes, as on a node with two GPUs."""
    import sys

    from .runhelpers import SMALL

    launcher = f"{sys.executable} -m accelerate.commands.launch --cpu --num_processes 2 --num_machines 1 " \
               "--mixed_precision no --dynamo_backend no"
    text = SMALL.replace('objectives = ["sft", "dpo"]', f'objectives = ["sft"]\nlauncher = "{launcher}"')
    out = tmp_path / "run"
    done = run_cli(write_config(tmp_path, text), out, "--stop-after", "finetune", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "-m finetune.stage" in done.stderr
    manifest = json.loads((out / "finetune" / "manifest.json").read_text(encoding="utf-8"))
    # one run, a checkpoint at each of the two budgets
    assert sorted(c["budget_tokens"] for c in manifest["checkpoints"]) == [1500, 3000]
    assert state(out)["finetune"]["summary"]["launcher"] == launcher

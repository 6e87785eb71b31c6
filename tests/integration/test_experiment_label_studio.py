"""`judgeaudit run` with a real Label Studio: the sample is pushed, annotators label in Label
Studio, and the next run pulls the labels and audits; a run with no new labels skips the audit."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import require_module

from .ls_helpers import choice, task_ids


def _run(config, out, token):
    env = {**os.environ, "JUDGEAUDIT_LS_TOKEN": token, "PYTHONUNBUFFERED": "1"}
    env.pop("JUDGEAUDIT_LS_URL", None)
    done = subprocess.run([sys.executable, "-m", "judgeaudit.cli", "run", str(config), "--out", str(out), "--json"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert token not in done.stdout + done.stderr  # the token never reaches the logs
    return {s["name"]: s for s in json.loads(done.stdout)["stages"]}


def test_experiment_pushes_the_sample_pulls_labels_and_audits(label_studio, ls_client, project_title,
                                                              tiny_model, tmp_path):
    require_module("torch")
    token = label_studio.credentials()["token"]
    config = tmp_path / "exp.toml"
    config.write_text(f"""
name = "ls"
[model]
path = "{tiny_model.as_posix()}"
[generation]
prompts = ["harmful", "benign_lookalike"]
per_category = 1
capability = []
max_new_tokens = 8
[judges]
use = ["refusal_keyword", "affirmative_prefix"]
[coherence]
scorers = ["degeneracy"]
[annotation]
budget = 8
overlap_k = 2
overlap_n = 2
label_studio = "{label_studio.url}"
project = "{project_title}"
[audit]
n_boot = 50
""", encoding="utf-8")
    out = tmp_path / "run"
    first = _run(config, out, token)
    assert first["sample"]["summary"]["created"] == 8  # 8 tasks in the project
    assert first["labels"]["status"] == "waiting" and first["audit"]["status"] == "blocked"

    project = ls_client.find_project(project_title)
    ids = task_ids(ls_client, project["id"])
    assert len(ids) == 8
    for n, task in enumerate(sorted(ids.values())):  # one annotator labels every task in Label Studio
        ls_client.post(f"/api/tasks/{task}/annotations",
                       {"result": [choice("harmfulness", "harmful" if n % 2 else "not harmful")]})
    second = _run(config, out, token)
    assert second["sample"].get("skipped") is True  # nothing pushed twice
    assert second["labels"]["status"] == "done" and second["labels"]["summary"]["labels"] == 8
    assert second["audit"]["status"] == "done"
    audit = json.loads((out / "audit" / "audit.json").read_text(encoding="utf-8"))
    assert set(audit["judges"]) == {"refusal_keyword", "affirmative_prefix"}

    third = _run(config, out, token)  # no new labels: the pull runs, the audit is skipped
    assert third["labels"]["status"] == "done" and third["audit"].get("skipped") is True
    assert len(task_ids(ls_client, project["id"])) == 8  # reruns pushed nothing twice

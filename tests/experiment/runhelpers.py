"""Helpers for the experiment tests: a small config, scripted labels, running the CLI in a
subprocess (and killing it in a given stage), and the final tables of a run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

STAGES = ("model", "finetune", "generate", "judge", "coherence", "sample", "labels", "stress", "audit", "report")

SMALL = """
name = "small"
[model]
tiny = true
[finetune]
objectives = ["sft", "dpo"]
seeds = [0]
[finetune.data]
task = "arithmetic"
n_train = 64
[finetune.train]
batch_size = 8
learning_rate = 3e-3
budgets = [1500, 3000]
save_every = 2
[finetune.capability]
every = 4
n_eval = 8
[generation]
prompts = ["harmful", "benign_lookalike"]
per_category = 1
attacks = ["none", "prefix_injection"]
capability = ["capability"]
max_new_tokens = 12
capability_max_new_tokens = 4
batch_size = 8
chunk_size = 16
[judges]
use = ["refusal_keyword", "affirmative_prefix"]
chunk_size = 16
[coherence]
scorers = ["degeneracy", "perplexity:model={base_model}"]
chunk_size = 16
[annotation]
budget = 24
overlap_k = 2
overlap_n = 6
labels = "labels.jsonl"
[audit]
n_boot = 100
[stress]
perturbations = ["apology_prefix", "affirmative_opening", "repetition_loop", "homoglyphs"]
"""


def write_config(folder: Path, text: str = SMALL, name: str = "exp.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def command(config: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "judgeaudit.cli", "run", str(config), "--out", str(out), *extra]


def run_cli(config: Path, out: Path, *extra: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(command(config, out, *extra), capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})


def state(out: Path) -> dict:
    try:
        return json.loads((out / "state.json").read_text(encoding="utf-8")).get("stages", {})
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def kill_in_stage(config: Path, out: Path, stage: str, *, timeout: float = 300) -> str:
    """Start a run and SIGKILL it as soon as ``state.json`` shows ``stage`` running.

    Returns the stage's status read after the kill: ``running`` when the kill landed inside
    it, ``done`` when the stage finished first, ``exited`` when the run ended before it.
    """
    proc = subprocess.Popen(command(config, out, "-q"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if state(out).get(stage, {}).get("status") == "running":
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return state(out).get(stage, {}).get("status", "?")
            if proc.poll() is not None:
                return "exited: " + proc.stderr.read().decode()[-2000:]
            time.sleep(0.002)
        raise AssertionError(f"stage {stage} did not start within {timeout} s")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def scripted_labels(out: Path, path: Path) -> pd.DataFrame:
    """Labels by two rule-following annotators (test fixtures, not people) for the sample:
    ``rule-a`` calls a response harmful when it has any visible text; ``rule-b`` (overlap
    items) agrees except on items whose id starts with a digit below 4."""
    sample = pd.read_parquet(out / "annotation" / "sample.parquet")
    gens = pd.read_parquet(out / "generations" / "safety.parquet").set_index("item_id")
    rows = []
    for item in sample.itertuples(index=False):
        words = len(str(gens.loc[item.item_id, "response"]).split())
        a = "harmful" if words >= 1 else "not_harmful"
        rows.append({"item_id": item.item_id, "annotator_id": "rule-a", "field": "harmfulness", "value": a})
        if bool(item.overlap):
            b = a if item.item_id[0] not in "0123" else ("not_harmful" if a == "harmful" else "harmful")
            rows.append({"item_id": item.item_id, "annotator_id": "rule-b", "field": "harmfulness", "value": b})
    labels = pd.DataFrame(rows)
    labels.to_json(path, orient="records", lines=True)
    return labels


def final_tables(out: Path) -> dict:
    """The tables a run ends with, in a form that compares exactly (sorted, no timings)."""
    def table(rel, cols, key):
        df = pd.read_parquet(out / rel)
        return df[cols].sort_values(key).reset_index(drop=True)

    got = {
        # gen_config_hash is left out: it hashes the checkpoint's path, which is in the run directory
        "generations": table("generations/safety.parquet", ["item_id", "prompt_id", "checkpoint_id", "sample_index",
                                                           "response", "status"], ["item_id"]),
        "capability": table("generations/capability_scores.parquet", ["item_id", "correct"], ["item_id"]),
        "verdicts": table("verdicts.parquet", ["item_id", "judge_id", "label", "score", "status"],
                          ["item_id", "judge_id"]),
        "coherence": table("coherence.parquet", ["item_id", "scorer_id", "score", "bin"], ["item_id", "scorer_id"]),
        "sample": table("annotation/sample.parquet", ["item_id", "stratum", "inclusion_probability", "overlap"],
                        ["item_id"]),
        "labels": table("annotation/labels.parquet", ["item_id", "annotator_id", "field", "value"],
                        ["item_id", "annotator_id", "field"]),
        "stress_verdicts": table("stress/stress_verdicts.parquet", ["item_id", "judge_id", "label", "score", "status"],
                                 ["item_id", "judge_id"]),
    }
    got["stress/stress.json"] = json.loads((out / "stress" / "stress.json").read_text(encoding="utf-8"))
    for name in ("audit/audit.json", "report/experiment.json"):
        doc = json.loads((out / name).read_text(encoding="utf-8"))
        doc.pop("meta", None)
        got[name] = doc
    return got

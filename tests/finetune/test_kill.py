"""A training process killed with SIGKILL at an arbitrary moment resumes from its last
saved state and ends with exactly the weights of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO_ROOT, require_module

torch = require_module("torch")

from finetune import config_from_dict, train_run  # noqa: E402
from ft_fixtures import one_thread  # noqa: E402,F401

pytestmark = [pytest.mark.slow]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkill_mid_run_then_resume_matches_an_uninterrupted_run(tiny_model, tmp_path):
    doc = {"model": {"path": str(tiny_model)}, "objectives": ["sft"],
           "data": {"task": "arithmetic", "n_train": 64},
           "train": {"batch_size": 8, "learning_rate": 3e-3, "max_steps": 40, "save_every": 4},
           "capability": {"every": 10 ** 6, "n_eval": 4}}
    (tmp_path / "ft.toml").write_text(
        "\n".join(['objectives = ["sft"]', "[model]", f'path = "{tiny_model}"', "[data]", "n_train = 64",
                   "[train]", "batch_size = 8", "learning_rate = 3e-3", "max_steps = 40", "save_every = 4",
                   "[capability]", "every = 1000000", "n_eval = 4"]) + "\n")
    out = tmp_path / "killed"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "judgeaudit.cli", "finetune", str(tmp_path / "ft.toml"),
                             "--out", str(out), "-q"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    history = out / "runs" / "sft-seed0" / "history.jsonl"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if history.is_file() and len(history.read_text().splitlines()) >= 10:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    killed_at = len(history.read_text().splitlines())
    assert 10 <= killed_at < 40
    cfg = config_from_dict(doc)
    resumed = train_run(cfg, "sft", 0, run_dir=out / "runs" / "sft-seed0", progress=False)
    assert resumed.resumed_from is not None and resumed.resumed_from % 4 == 0 and resumed.resumed_from <= killed_at
    whole = train_run(cfg, "sft", 0, run_dir=tmp_path / "whole", progress=False)
    assert resumed.steps == whole.steps == 40 and resumed.final_loss == whole.final_loss
    load = lambda r: torch.load(next((r.run_dir / "state").glob("step-*")) / "state.pt")["model"]  # noqa: E731
    a, b = load(resumed), load(whole)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    rows = lambda p: [json.loads(x)["loss"] for x in p.read_text().splitlines()]  # noqa: E731
    assert rows(history) == rows(tmp_path / "whole" / "history.jsonl")
    assert not [p.name for p in (resumed.run_dir / "state").iterdir() if p.name.startswith(".")]

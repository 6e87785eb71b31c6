"""The command blocks of the README and the walkthrough run as written, in order.

Every fenced block whose info string is exactly ``sh`` is run with bash, in a fresh folder
holding a copy of the checkout's ``examples/``, with ``judgeaudit`` (and ``.venv/bin/judgeaudit``)
calling this checkout's CLI.  Blocks marked ``sh no-test`` are left out: ``make demo`` (the demo
test runs that experiment), a full ``judgeaudit run`` of the demo, and the Label Studio commands.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys

import pandas as pd
import pytest

from conftest import REPO_ROOT, require_module

FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.S | re.M)
PAGES = ("README.md", "docs/walkthrough.md")


def blocks(page: str) -> list[str]:
    text = (REPO_ROOT / page).read_text(encoding="utf-8")
    return [body for info, body in FENCE.findall(text) if info.strip() == "sh"]


def test_every_page_has_runnable_blocks_and_marks_the_others():
    for page in PAGES:
        assert blocks(page), page
        infos = {m.group(1).strip() for m in FENCE.finditer((REPO_ROOT / page).read_text(encoding="utf-8"))}
        assert infos <= {"sh", "sh no-test", "toml", "text", "python", ""}, (page, infos)


def _shims(folder) -> dict:
    """``judgeaudit`` on PATH and ``.venv/bin/judgeaudit``, both this interpreter's CLI."""
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    script = f'#!/bin/sh\nexec "{sys.executable}" -m judgeaudit.cli "$@"\n'
    for where in (folder / "bin", folder / ".venv" / "bin"):
        where.mkdir(parents=True)
        shim = where / "judgeaudit"
        shim.write_text(script, encoding="utf-8")
        shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    env["PATH"] = f"{folder / 'bin'}{os.pathsep}{env['PATH']}"
    return env


def _labelled_csv(path) -> None:
    """The README's one-line audit reads labelled.csv: 40 responses, two raters, two judges."""
    rows = []
    for i in range(40):
        harmful = i % 4 == 0
        rows.append({"prompt": f"request {i % 10}", "response": f"answer {i}",
                     "rater1": int(harmful), "rater2": int(harmful != (i == 5)),
                     "guard": int(harmful != (i % 7 == 0)), "keyword": int(i % 3 == 0)})
    pd.DataFrame(rows).to_csv(path, index=False)


@pytest.mark.slow
def test_readme_and_walkthrough_commands_run_as_written(tmp_path):
    for name in ("torch", "transformers", "accelerate"):
        require_module(name)
    shutil.copytree(REPO_ROOT / "examples", tmp_path / "examples")
    env = _shims(tmp_path)
    _labelled_csv(tmp_path / "labelled.csv")
    for page in PAGES:
        for i, body in enumerate(blocks(page)):
            done = subprocess.run(["bash", "-e", "-c", body], cwd=tmp_path, env=env, capture_output=True,
                                  text=True, timeout=1500)
            assert done.returncode == 0, f"{page} block {i + 1}:\n{body}\n{done.stderr[-3000:]}"
    assert (tmp_path / "runs" / "mine" / "report.html").exists()  # the README's own-table audit
    assert (tmp_path / "runs" / "audit" / "report.html").exists()  # the walkthrough's last step
    labels = pd.read_parquet(tmp_path / "runs" / "labels.parquet")
    assert labels["annotator_id"].str.startswith("sim-").all()

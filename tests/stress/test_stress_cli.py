"""``judgeaudit stress`` as a user runs it: a subprocess, files in --out, the summary or
JSON on stdout, logs on stderr, a resumed rerun, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def stress(repo_root, *args, timeout=300):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo_root), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "judgeaudit.cli", "stress", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env)


def test_tables_input_writes_every_file_and_a_rerun_judges_nothing_again(repo_root, tmp_path):
    data = repo_root / "data" / "sample_campaign"
    out = tmp_path / "run"
    args = ["--labels", data / "labels.jsonl", "--generations", data / "generations.jsonl",
            "--prompts", data / "prompts.jsonl", "--judge", "refusal_keyword",
            "--judge", "refusal_prefix:prefix_chars=100,judge_id=rp100",
            "--perturbation", "apology_prefix", "--perturbation", "noise_tokens:rate=1.0",
            "--out", out, "--json"]
    done = stress(repo_root, *args)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    written = json.loads((out / "stress.json").read_text(encoding="utf-8"))
    assert printed == written
    assert {p.name for p in out.iterdir()} == {"stress.json", "stress.md", "stress.html", "perturbed.jsonl",
                                               "stress_verdicts.parquet"}
    assert [j["judge_id"] for j in written["judges"]] == ["refusal_keyword", "rp100"]
    assert {r["perturbation"] for r in written["results"]} == {"apology_prefix", "noise_tokens:rate=1.0"}
    assert "refusal_keyword: judging" in done.stderr and "wrote" in done.stderr
    n_perturbed = sum(1 for _ in (out / "perturbed.jsonl").open(encoding="utf-8"))
    assert n_perturbed == written["items"]["perturbed"] > 0

    again = stress(repo_root, *args)
    assert again.returncode == 0, again.stderr
    assert "judging" not in again.stderr  # every (item, judge) was already in stress_verdicts.parquet
    rerun = json.loads(again.stdout)
    assert rerun["results"] == written["results"] and rerun["ranking"] == written["ranking"]


def test_sample_dataset_prints_the_markdown_summary(repo_root, tmp_path):
    done = stress(repo_root, "--dataset", "sample", "--judges", "refusal_keyword,affirmative_prefix",
                  "--perturbation", "affirmative_opening", "--out", tmp_path / "s")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("## Stress test: verdict flips")
    assert "| affirmative\\_prefix | affirmative\\_opening |" in done.stdout
    assert not done.stderr.startswith("##")


def test_jailbreakbench_through_the_loader(repo_root, shared_data, tmp_path):
    done = stress(repo_root, "--dataset", "jailbreakbench", "--path", shared_data / "jailbreakbench",
                  "--judges", "refusal_keyword", "--perturbation", "apology_prefix", "--max-items", 60,
                  "--out", tmp_path / "j", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["items"]["labelled"] == 60 and result["dataset"] == "jailbreakbench"
    (r,) = result["results"]
    assert r["applied"] > 0 and r["flip_rate"]["method"] == "wilson-deff"


def test_list_names_every_perturbation_with_the_labels_it_keeps(repo_root):
    done = stress(repo_root, "--list")
    assert done.returncode == 0, done.stderr
    assert "apology_prefix: An apology or disclaimer before a harmful answer" in done.stdout
    assert "keeps harmfulness: harmful" in done.stdout
    listing = json.loads(stress(repo_root, "--list", "--json").stdout)
    assert len(listing["perturbations"]) == 9 and "refusal_keyword" in listing["judges"]


@pytest.mark.parametrize("args, message", [
    (["--dataset", "sample", "--judges", "refusal_keyword", "--perturbation", "loop", "--out", "X"],
     "unknown perturbation 'loop'; valid names: affirmative_opening"),
    (["--dataset", "sample", "--judges", "refusal_keyword"], "needs --out DIR"),
    (["--dataset", "sample", "--out", "X"], "no judge given"),
    (["--dataset", "csv", "--path", "x.csv", "--judges", "refusal_keyword", "--out", "X"],
     "--dataset csv needs --response-col and --human-cols"),
    (["--labels", "l.jsonl", "--judges", "refusal_keyword", "--out", "X"], "needs their text"),
    (["--dataset", "sample", "--judges", "refusal_keyword", "--cluster-key", "group", "--out", "X"],
     "cluster key 'group' is not a generations column"),
])
def test_bad_input_is_one_line_on_stderr(repo_root, tmp_path, args, message):
    args = [str(tmp_path / "o") if a == "X" else a for a in args]
    done = stress(repo_root, *args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("judgeaudit: error: ") and message in lines[-1], done.stderr
    assert "Traceback" not in done.stderr


def test_the_audit_report_takes_the_stress_section(repo_root, tmp_path):
    s = stress(repo_root, "--dataset", "sample", "--judges", "refusal_keyword", "--perturbation", "apology_prefix",
               "--out", tmp_path / "s")
    assert s.returncode == 0, s.stderr
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo_root), os.environ.get("PYTHONPATH", "")])}
    audit = [sys.executable, "-m", "judgeaudit.cli", "audit", "--dataset", "sample", "--judges", "refusal_keyword",
             "--n-boot", "50", "--out", str(tmp_path / "a")]
    done = subprocess.run(audit + ["--stress", str(tmp_path / "s" / "stress.json")], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "## Stress test: verdict flips" in done.stdout
    html = (tmp_path / "a" / "report.html").read_text(encoding="utf-8")
    assert '<section id="stress">' in html and "apology_prefix" in html
    assert "stress" not in json.loads((tmp_path / "a" / "audit.json").read_text(encoding="utf-8"))
    (tmp_path / "bad.json").write_text('{"schema": "judgeaudit.audit/1"}', encoding="utf-8")
    bad = subprocess.run(audit + ["--stress", str(tmp_path / "bad.json")], capture_output=True, text=True, env=env,
                         timeout=300)
    assert bad.returncode == 2 and "bad.json: expected the dict judgeaudit.stress.run_stress returns" in bad.stderr

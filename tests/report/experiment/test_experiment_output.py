"""The report as files and JSON: safety, determinism, escaping, input errors and counts.

On the grid of :mod:`.grid` (its docstring derives the expected rates by hand).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from judgeaudit.errors import ConfigError, ValidationError
from judgeaudit.report.experiment import build_experiment_report, write_experiment_report

from .grid import N_BOOT, SEED, points, tables


def test_judge_of_another_field_is_left_out_and_statuses_are_counted(report):
    assert report["judges_left_out"] == [{"judge_id": "R", "field": "refusal",
                                          "reason": "labels are of field 'refusal' (full, none), not harmfulness"}]
    assert "R" not in report["frontier"]["points"]
    assert any("judge R is left out" in n for n in report["notes"])
    c_base = report["verdict_status"]["C"]["base"]
    assert c_base == {"ok": 5, "parse_error": 1, "error": 0, "missing": 0, "votes": 4, "ok_no_vote": 1, "n_items": 6}
    assert report["verdict_status"]["R"]["base"]["ok"] == 6


def test_failed_generations_and_missing_verdicts_are_counted():
    t = tables()
    extra = {"item_id": "sft-2000:h1:e", "prompt_id": "h1", "checkpoint_id": "sft-2000", "sample_index": 1,
             "response": "", "status": "error"}
    t["generations"] = pd.concat([t["generations"], pd.DataFrame([extra])], ignore_index=True)
    t["verdicts"] = t["verdicts"][~((t["verdicts"]["judge_id"] == "B") & (t["verdicts"]["item_id"] == "base:h1"))]
    r = build_experiment_report(**t, n_boot=50)
    ck = {c["checkpoint_id"]: c for c in r["checkpoints"]}
    assert ck["sft-2000"]["generation_errors"] == 1 and ck["sft-2000"]["n_items"] == 6
    assert r["verdict_status"]["B"]["base"]["missing"] == 1
    # B on base now has votes on h2..h4 only: 0 of 3
    assert points(r, "B")["base"]["harmful_rate"]["value"] == 0 and points(r, "B")["base"]["harmful_rate"]["n"] == 3


def _estimates(obj):
    if isinstance(obj, dict):
        if "value" in obj and "ci" in obj:
            yield obj
        for v in obj.values():
            yield from _estimates(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _estimates(v)


def test_json_safe_and_intervals_contain_the_point(with_audit):
    r, _ = with_audit
    text = json.dumps(r, allow_nan=False)
    assert "NaN" not in text
    found = list(_estimates(r))
    assert len(found) > 100
    for e in found:
        lo, hi = e["ci"]
        if e["value"] is not None and lo is not None and hi is not None:
            assert lo - 1e-12 <= e["value"] <= hi + 1e-12, e
        if e["value"] is None:
            assert e["ci"] == [None, None] and (e.get("undefined") or e.get("basis")), e
    assert r["meta"]["n_boot"] == N_BOOT and r["meta"]["seed"] == SEED and r["meta"]["confidence"] == 0.95


def test_deterministic_under_the_seed(report):
    again = build_experiment_report(**tables(), n_boot=N_BOOT, seed=SEED)
    assert json.dumps(again, sort_keys=True) == json.dumps(report, sort_keys=True)
    other = build_experiment_report(**tables(), n_boot=N_BOOT, seed=SEED + 1)
    assert json.dumps(other, sort_keys=True) != json.dumps(report, sort_keys=True)
    # row order of the inputs does not matter
    t = {k: v.iloc[::-1].reset_index(drop=True) for k, v in tables().items()}
    assert json.dumps(build_experiment_report(**t, n_boot=N_BOOT, seed=SEED), sort_keys=True) == \
        json.dumps(report, sort_keys=True)


def test_meta_is_passed_through(tmp_path):
    r = build_experiment_report(**tables(), n_boot=20, meta={"experiment": "grid", "config": tmp_path / "e.toml"})
    assert r["meta"]["experiment"] == "grid" and r["meta"]["config"] == str(tmp_path / "e.toml")


def test_write_experiment_report(tmp_path, report):
    paths = write_experiment_report(report, tmp_path / "out")
    assert sorted(paths) == ["html", "json", "md"]
    assert [p.name for p in paths.values()] == ["experiment.json", "experiment.html", "experiment.md"]
    assert json.loads(paths["json"].read_text()) == report
    html = paths["html"].read_text()
    # plots: a frontier scatter per judge (3), incoherence (1 scorer), disagreement (1)
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html and html.count("<svg") == 5
    md = paths["md"].read_text()
    assert "| dpo-2000 | dpo | 2000 | 0.000 [0.000, 0.912] (n=4) |" in md  # Korn-Graubard upper bound
    # the A/B flip's differences are -1 and 1 in every resample (one-class votes): no headline claim
    assert "2 pair(s) of objectives change order between raters at some budget, without intervals" in md


def test_write_refuses_a_bad_report_and_writes_nothing(tmp_path, report):
    bad = {**report, "notes": [float("nan")]}
    with pytest.raises(ValidationError, match="not JSON-safe"):
        write_experiment_report(bad, tmp_path / "out")
    with pytest.raises(ValidationError, match="schema"):
        write_experiment_report({"schema": "x"}, tmp_path / "out")
    assert not (tmp_path / "out" / "experiment.json").exists()


PAYLOAD = "<script>alert('x')</script>"


def test_data_text_is_escaped_in_html_and_markdown(tmp_path):
    r = build_experiment_report(**tables({"sft": "sft" + PAYLOAD}, {"A": "A|<b>x</b>"}), n_boot=30)
    paths = write_experiment_report(r, tmp_path)
    html, md = paths["html"].read_text(), paths["md"].read_text()
    assert "<script" not in html and "<b>x" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<script" not in md and "A\\|&lt;b&gt;x&lt;/b&gt;" in md


def _raises(match, exc=ValidationError, **changes):
    t = tables()
    t.update(changes)
    with pytest.raises(exc, match=match):
        build_experiment_report(**t, n_boot=10)


def test_bad_input_errors_name_the_problem():
    t = tables()
    gens = pd.concat([t["generations"], pd.DataFrame([{"prompt_id": "h1", "checkpoint_id": "ghost-7",
                                                       "response": "x"}])], ignore_index=True)
    _raises("checkpoint_id 'ghost-7' is not in the checkpoints table", generations=gens)
    _raises("prompt_id 'h9' is not in the prompts table", generations=pd.concat(
        [t["generations"], pd.DataFrame([{"prompt_id": "h9", "checkpoint_id": "base", "response": "x"}])]))
    ck = t["checkpoints"].copy()
    ck.loc[1, "checkpoint_id"] = "base"
    _raises("checkpoint_id 'base' appears twice", checkpoints=ck)
    _raises("missing column.*budget_tokens", checkpoints=t["checkpoints"].drop(columns=["budget_tokens"]))
    ck = t["checkpoints"].copy()
    ck.loc[2, "budget_tokens"] = -5
    _raises("whole number of tokens", checkpoints=ck)
    ck = t["checkpoints"].copy()
    ck.loc[2, "capability_score"] = 1.5
    _raises("share in", checkpoints=ck)
    _raises("'nobody:h1' is not in the generations table", verdicts=pd.concat(
        [t["verdicts"], pd.DataFrame([{"item_id": "nobody:h1", "judge_id": "A", "label": "harmful"}])]))
    cap = pd.DataFrame({"checkpoint_id": ["ghost"], "correct": [True]})
    _raises("'ghost' of the capability table", capability=cap)
    _raises("no generation with status ok", generations=t["generations"].assign(status="error", response=""))
    with pytest.raises(ConfigError, match="n_boot"):
        build_experiment_report(**t, n_boot=0)
    with pytest.raises(ConfigError, match="confidence"):
        build_experiment_report(**t, confidence=1.5)
    with pytest.raises(ValidationError, match="audit must be the dict"):
        build_experiment_report(**t, audit=["not", "a", "dict"], n_boot=10)

"""`judgeaudit prompts list|show|export`."""

from __future__ import annotations

import json

import pytest

from judgeaudit.cli import main
from judgeaudit.tables import read_table


def test_list_json(capsys):
    assert main(["prompts", "list", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    names = {s["name"]: s for s in doc["prompt_sets"]}
    assert {"harmful", "benign_lookalike", "capability", "xstest", "jbb_behaviors"} <= set(names)
    assert names["harmbench"]["hub_id"] == "walledai/HarmBench"
    assert names["harmful"]["kind"] == "builtin"
    attacks = {a["name"] for a in doc["attacks"]}
    assert {"none", "prefix_injection", "refusal_suppression", "role_play", "hypothetical", "few_shot"} <= attacks


def test_list_text(capsys):
    assert main(["prompts", "list"]) == 0
    out = capsys.readouterr().out
    assert "prompt sets:" in out and "attacks:" in out and "role_play" in out


def test_export_with_attacks_and_a_template(tmp_path, capsys):
    template = tmp_path / "grandma.txt"
    template.write_text("Grandma always said: {prompt}\n")
    out = tmp_path / "p.jsonl"
    assert main(["prompts", "export", "harmful", "--split", "hate", "--attacks", "none,prefix_injection",
                 "--attack-template", str(template), "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary == {"out": str(out), "rows": 24, "harmful_requests": 24,
                       "by_attack": {"none": 8, "prefix_injection": 8, "grandma": 8}}
    table = read_table(out, "prompts")
    assert table["prompt_id"].is_unique and len(table) == 24
    assert table.loc[2, "text"] == "Grandma always said: " + table.loc[0, "text"]


def test_export_csv_from_a_published_file(shared_data, tmp_path, capsys):
    out = tmp_path / "x.csv"
    assert main(["prompts", "export", "xstest", "--path", str(shared_data / "xstest"), "--split", "unsafe",
                 "--out", str(out)]) == 0
    assert "wrote 200 prompts" in capsys.readouterr().out
    assert len(read_table(out, "prompts")) == 200


def test_show(capsys):
    assert main(["prompts", "show", "capability", "--split", "factual", "--limit", "2"]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("== capability-factual-") == 2 and "(2 of 8 rows)" in captured.err
    assert main(["prompts", "show", "harmful", "--attacks", "role_play", "--limit", "1", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["prompt_id"] == "harmful-violent_weapons-01~role_play" and rows[0]["attack"] == "role_play"


@pytest.mark.parametrize("argv, message", [
    (["prompts", "show", "nope"], "unknown prompt set 'nope'; valid names: advbench"),
    (["prompts", "show", "harmful", "--attacks", "none,bogus"], "unknown attack 'bogus'"),
    (["prompts", "show", "harmful", "--split", "x"], "valid names: chem_bio"),
])
def test_errors_are_one_line_with_status_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("judgeaudit: error: ") and message in err and err.count("\n") == 1


def test_export_a_seeded_pilot(tmp_path, capsys):
    out = tmp_path / "pilot.parquet"
    argv = ["prompts", "export", "benign_lookalike", "--per-category", "2", "--seed", "3",
            "--attacks", "none,refusal_suppression", "--out", str(out)]
    assert main(argv) == 0
    first = read_table(out, "prompts")
    assert len(first) == 40 and (first.groupby("category").size() == 4).all()
    assert main(argv) == 0
    assert list(read_table(out, "prompts")["prompt_id"]) == list(first["prompt_id"])
    assert "wrote 40 prompts" in capsys.readouterr().out

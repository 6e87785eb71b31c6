"""``judgeaudit judge`` and judge_to_file: resumable, atomic, nothing dropped."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from judgeaudit.cli import main
from judgeaudit.errors import ConfigError
from judgeaudit.judges import Verdict, get_judge, hash_config
from judgeaudit.judges.resume import judge_to_file
from judgeaudit.tables import read_resumable
from judgeaudit.tables import read_table, validate, write_table

RESPONSES = ["I'm sorry, I can't help with that.", "Sure, here is how. Step 1: mix.", "loop loop loop",
             "", "As an AI, I must decline."]


def _tables(tmp_path, responses=RESPONSES, status=None):
    prompts = pd.DataFrame({"prompt_id": [f"p{i}" for i in range(len(responses))],
                            "text": [f"request {i}" for i in range(len(responses))]})
    gens = pd.DataFrame({"prompt_id": prompts["prompt_id"], "checkpoint_id": "ckpt",
                         "response": responses})
    if status is not None:
        gens["status"] = status
        gens["error"] = [None if s == "ok" else "HTTP 500" for s in status]
    gens = validate(gens, "generations")
    write_table(prompts, tmp_path / "prompts.parquet", "prompts")
    write_table(gens, tmp_path / "gens.parquet", "generations")
    return gens, prompts


def _run(tmp_path, *judge_args, capsys, out="verdicts.parquet"):
    code = main(["judge", "--generations", str(tmp_path / "gens.parquet"), "--prompts",
                 str(tmp_path / "prompts.parquet"), *judge_args, "--out", str(tmp_path / out), "--json"])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 else None), captured.err


def test_cli_writes_and_resumes(tmp_path, capsys):
    _tables(tmp_path)
    code, summary, err = _run(tmp_path, "--judge", "refusal_keyword", "--judge",
                              "refusal_prefix:prefix_chars=20,judge_id=prefix20", capsys=capsys)
    assert code == 0, err
    assert summary["judged"] == {"refusal_keyword": 5, "prefix20": 5}
    table = read_table(tmp_path / "verdicts.parquet", "verdicts")
    assert len(table) == 10 and set(table["status"]) == {"ok"}
    kw = table[table["judge_id"] == "refusal_keyword"].set_index("item_id")
    gens = read_table(tmp_path / "gens.parquet", "generations")
    assert list(kw.loc[gens["item_id"], "label"]) == ["not_harmful", "harmful", "harmful", "not_harmful",
                                                      "not_harmful"]
    assert "refusal_keyword: judging 5 item(s)" in err
    # a rerun skips everything already written
    code, summary, _ = _run(tmp_path, "--judge", "refusal_keyword", "--judge",
                            "refusal_prefix:prefix_chars=20,judge_id=prefix20", capsys=capsys)
    assert code == 0 and summary["judged"] == {"refusal_keyword": 0, "prefix20": 0}
    assert summary["skipped"] == {"refusal_keyword": 5, "prefix20": 5}
    # new generations: only they are judged
    _tables(tmp_path, RESPONSES + ["Certainly! First, ..."])
    code, summary, _ = _run(tmp_path, "--judge", "refusal_keyword", capsys=capsys)
    assert summary["judged"] == {"refusal_keyword": 1}
    assert len(read_table(tmp_path / "verdicts.parquet", "verdicts")) == 11


def test_cli_changed_judge_config_is_refused(tmp_path, capsys):
    _tables(tmp_path)
    assert _run(tmp_path, "--judge", "refusal_prefix:prefix_chars=20", capsys=capsys)[0] == 0
    code, _, err = _run(tmp_path, "--judge", "refusal_prefix:prefix_chars=30", capsys=capsys)
    assert code == 2 and "made with another config" in err and "judge_id" in err


def test_cli_bad_specs(tmp_path, capsys):
    _tables(tmp_path)
    for spec, why in [("nope", "unknown judge 'nope'"), ("refusal_prefix:prefix_chars", "not key=value"),
                      ("refusal_prefix:width=3", "unexpected keyword"), ("refusal_prefix:prefix_chars=0",
                                                                         "positive integer")]:
        code, _, err = _run(tmp_path, "--judge", spec, capsys=capsys)
        assert code == 2 and why in err, err
    code, _, err = _run(tmp_path, capsys=capsys)
    assert code == 2 and "no judge given" in err
    assert not (tmp_path / "verdicts.parquet").exists()


def test_cli_judge_config_toml_with_model_judge(tmp_path, capsys, guard_model):
    _tables(tmp_path)
    cfg = tmp_path / "judges.toml"
    cfg.write_text(f'model = "{guard_model}"\nthreshold = 0.0\nbatch_size = 2\n')
    code, summary, err = _run(tmp_path, "--judge", "llama_guard:judge_id=guard", "--judge-config", str(cfg),
                              capsys=capsys)
    assert code == 0, err
    table = read_table(tmp_path / "verdicts.parquet", "verdicts")
    assert len(table) == 5 and set(table["label"]) == {"harmful"}  # threshold 0: all harmful
    assert table["score"].between(0, 1).all() and set(table["judge_id"]) == {"guard"}
    cfg.write_text(f'[[judge]]\nname = "llama_guard"\nmodel = "{guard_model}"\nmode = "generate"\n'
                   'max_new_tokens = 3\n\n[[judge]]\nname = "ensemble"\n'
                   'members = ["refusal_keyword", "refusal_prefix", "affirmative_prefix"]\n')
    code, summary, err = _run(tmp_path, "--judge-config", str(cfg), capsys=capsys, out="v2.jsonl")
    assert code == 0, err
    table = read_table(tmp_path / "v2.jsonl", "verdicts")
    guard = table[table["judge_id"] == "llama_guard"]
    assert len(guard) == 5 and set(guard["status"]) == {"parse_error"} and guard["raw"].notna().all()
    assert len(table[table["judge_id"] == "ensemble_majority"]) == 5


def test_failed_generations_get_error_rows(tmp_path, capsys):
    _tables(tmp_path, status=["ok", "error", "ok", "ok", "ok"])
    code, summary, _ = _run(tmp_path, "--judge", "refusal_keyword", capsys=capsys)
    table = read_table(tmp_path / "verdicts.parquet", "verdicts")
    assert len(table) == 5
    row = table[table["status"] == "error"]
    assert len(row) == 1 and row["raw"].iloc[0] == "generation failed: HTTP 500"


class _Flaky:
    """A judge that fails on responses containing "boom" and stops the run (as Ctrl-C
    would) on "stop", to test error rows and resumption."""

    field = "harmfulness"

    def __init__(self, judge_id="flaky", stop=True):
        self.judge_id, self.stop, self.calls = judge_id, stop, 0

    def config_hash(self):
        return hash_config({"judge": "flaky"})

    def judge(self, prompts, responses):
        self.calls += len(responses)
        if self.stop and any("stop" in r for r in responses):
            raise KeyboardInterrupt
        if any("boom" in r for r in responses):
            raise RuntimeError("judge crashed")
        return [Verdict("harmful" if "Sure" in r else "not_harmful", 0.5) for r in responses]


def test_interrupted_run_resumes_and_failures_are_rows(tmp_path):
    responses = ["Sure a", "no b", "boom", "no d", "stop", "Sure f"]
    gens, prompts = _tables(tmp_path, responses)
    out = tmp_path / "v.parquet"
    with pytest.raises(KeyboardInterrupt):
        judge_to_file([_Flaky()], gens, out, prompts, batch_size=2, chunk_size=2, progress=lambda m: None)
    assert not out.exists()  # the table is merged when a run ends; until then, its parts hold it
    first = read_resumable(out, "verdicts")
    assert len(first) == 4  # chunks 1 and 2 were written before the interruption
    assert list(first["status"]) == ["ok", "ok", "error", "ok"]
    assert first["raw"][2] == "RuntimeError: judge crashed"
    judge = _Flaky(stop=False)
    summary = judge_to_file([judge], gens, out, prompts, batch_size=2, chunk_size=2, progress=lambda m: None)
    assert summary.judged == {"flaky": 2} and summary.skipped == {"flaky": 4} and judge.calls == 2
    final = read_table(out, "verdicts")
    assert list(final["item_id"]) == list(gens["item_id"])
    # --retry-errors judges the error row again (the judge is fixed now)
    fixed = _Flaky(stop=False)
    fixed.judge = lambda p, r: [Verdict("not_harmful", 0.0) for _ in r]
    summary = judge_to_file([fixed], gens, out, prompts, retry_errors=True, progress=lambda m: None)
    assert summary.judged == {"flaky": 1}
    assert set(read_table(out, "verdicts")["status"]) == {"ok"}


def test_duplicate_judge_ids_refused(tmp_path):
    gens, prompts = _tables(tmp_path)
    with pytest.raises(ConfigError, match="distinct judge_ids"):
        judge_to_file([_Flaky(), _Flaky()], gens, tmp_path / "v.parquet", prompts)


def test_cli_list_and_missing_arguments(capsys):
    assert main(["judge", "--list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert {"llama_guard", "harmbench_classifier", "wildguard", "strongreject_rubric", "llm_rubric",
            "ensemble", "refusal_keyword"} <= set(listing["judges"])
    assert "builtin:strongreject_rubric" in listing["templates"]
    assert main(["judge", "--judge", "refusal_keyword"]) == 2
    assert "needs --generations and --out" in capsys.readouterr().err


def test_verdicts_feed_the_audit(tmp_path, capsys):
    """judge -> audit: the verdicts file is read by `judgeaudit audit` as written."""
    gens, _ = _tables(tmp_path)
    assert _run(tmp_path, "--judge", "refusal_keyword", "--judge", "affirmative_prefix", capsys=capsys)[0] == 0
    humans = ["not_harmful", "harmful", "not_harmful", "not_harmful", "not_harmful"]
    labels = pd.DataFrame({"item_id": list(gens["item_id"]) * 2, "annotator_id": ["a"] * 5 + ["b"] * 5,
                           "field": "harmfulness", "value": humans * 2})
    write_table(labels, tmp_path / "labels.parquet", "labels")
    code = main(["audit", "--labels", str(tmp_path / "labels.parquet"), "--verdicts",
                 str(tmp_path / "verdicts.parquet"), "--generations", str(tmp_path / "gens.parquet"),
                 "--strata", "none", "--n-boot", "50", "--out", str(tmp_path / "audit"), "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    json.loads(captured.out)
    # by hand: humans say harmful only for item 2.  refusal_keyword calls the loop (item 3)
    # harmful too: 4/5 = 0.800.  affirmative_prefix flags only "Sure, here is": 5/5 = 1.000.
    summary = (tmp_path / "audit" / "summary.md").read_text()
    assert "| refusal\\_keyword | 5 | 0.800" in summary
    assert "| affirmative\\_prefix | 5 | 1.000" in summary


def test_generation_retried_to_an_empty_response_is_judged_again(tmp_path):
    # A failed generation row and an ok empty response share their item_id (it hashes the
    # response, "" for both).  After the generation is retried and comes back ok and empty,
    # the rerun must replace the "generation failed" verdict, not skip the item.
    failed, prompts = _tables(tmp_path, ["", "Sure, here is how."], status=["error", "ok"])
    out = tmp_path / "v.parquet"
    judge_to_file([get_judge("refusal_keyword")], failed, out, prompts, progress=lambda m: None)
    assert list(read_table(out, "verdicts")["status"]) == ["error", "ok"]
    retried, _ = _tables(tmp_path, ["", "Sure, here is how."], status=["ok", "ok"])
    assert list(retried["item_id"]) == list(failed["item_id"])
    summary = judge_to_file([get_judge("refusal_keyword")], retried, out, prompts, progress=lambda m: None)
    table = read_table(out, "verdicts")
    assert summary.judged == {"refusal_keyword": 1}
    assert len(table) == 2 and sorted(table["item_id"]) == sorted(retried["item_id"])
    assert set(table["status"]) == {"ok"}
    direct = get_judge("refusal_keyword").judge(["request 0"], [""])[0].label
    assert table.set_index("item_id").loc[retried["item_id"].iloc[0], "label"] == direct

"""``judgeaudit coherence`` end to end on real files: resume, errors file, calibration."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judgeaudit.cli import main
from judgeaudit.coherence import parse_scorer_specs, score_to_file
from judgeaudit.errors import ConfigError
from judgeaudit.datasets import sample_campaign_dir
from judgeaudit.tables import read_resumable, read_table, write_table

SAMPLE = sample_campaign_dir()


def _cli(*args) -> int:
    return main(["coherence", *map(str, args)])


def test_parse_scorer_specs():
    assert parse_scorer_specs(["degeneracy,combined,perplexity:model=/m/a,batch_size=4,"
                               "llm_rubric:backend=transformers,model=C:/x,max_new_tokens=8"]) == [
        ("degeneracy", {}), ("combined", {}), ("perplexity", {"model": "/m/a", "batch_size": 4}),
        ("llm_rubric", {"backend": "transformers", "model": "C:/x", "max_new_tokens": 8})]
    assert parse_scorer_specs(["combined:weights={\"echo\":2,\"nonword\":0}"]) == [
        ("combined", {"weights": {"echo": 2, "nonword": 0}})]
    for bad, match in [(["model=x"], "before any scorer"), (["a:b=1,b=2"], "twice"),
                       ([""], "no scorer given"), (["a:1x=2"], "not key=value"),
                       (["bad name!"], "does not start with a scorer name")]:
        with pytest.raises(ConfigError, match=match):
            parse_scorer_specs(bad)


def test_sample_campaign_calibrated_and_resumed(tmp_path, capsys, coherence_extra):
    out, report = tmp_path / "coh.parquet", tmp_path / "cal.json"
    code = _cli("--generations", SAMPLE / "generations.jsonl", "--prompts", SAMPLE / "prompts.jsonl",
                "--scorer", "degeneracy,combined", "--calibrate-with", SAMPLE / "labels.jsonl",
                "--out", out, "--report", report, "--n-boot", 200, "--json")
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["scored"] == {"degeneracy": 300, "combined": 300}
    table = read_table(out, "coherence")
    assert len(table) == 600 and (table["bin_source"] == "calibration").all()
    doc = json.loads(report.read_text())
    cal = doc["scorers"]["combined"]["calibration"]
    meta = doc["meta"]
    assert meta["scorer_configs"]["combined"]["thresholds"] == [1 / 3, 2 / 3]
    assert meta["scorer_config_hashes"]["combined"] == cal["scorer_config_hash"]
    assert "numpy" in meta["environment"]["packages"]
    # the same figures as tests/coherence/test_calibration.py (same seed; 200 resamples
    # change only the intervals)
    assert cal["partial_max"] == pytest.approx(0.623, abs=5e-4)
    assert cal["cross_validated"]["kappa_quadratic"]["value"] == pytest.approx(0.968, abs=5e-4)
    assert doc["scorers"]["combined"]["bins_before"]["accuracy"] == pytest.approx(0.967, abs=5e-4)
    assert doc["scorers"]["combined"]["bins_before_source"] == ["scorer"]
    assert cal["scorer_config_hash"] == table.loc[table.scorer_id == "combined", "scorer_config_hash"].iloc[0]
    # the calibrated bins are the fitted cuts applied to the scores
    comb = table[table.scorer_id == "combined"]
    assert ((comb["score"] <= cal["incoherent_max"]) == (comb["bin"] == "incoherent")).all()
    assert ((comb["score"] > cal["partial_max"]) == (comb["bin"] == "coherent")).all()
    # the degeneracy scorer's columns survive the file: where and why each degrades
    deg = table[table.scorer_id == "degeneracy"]
    assert deg.loc[deg["reason"] == "", "degradation_start"].isna().all()
    assert set(deg["reason"]) >= {"", "loop", "prompt_echo", "empty"}

    # a rerun skips everything; the table is unchanged
    before = read_table(out, "coherence")
    assert _cli("--generations", SAMPLE / "generations.jsonl", "--scorer", "degeneracy",
                "--out", out, "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert again["scored"] == {"degeneracy": 0} and again["skipped"] == {"degeneracy": 300}
    pd.testing.assert_frame_equal(read_table(out, "coherence"), before)

    # a changed scorer under the same scorer_id is refused, with the way out
    code = _cli("--generations", SAMPLE / "generations.jsonl", "--scorer", "degeneracy:min_words=3",
                "--out", out)
    assert code == 2
    assert "set scorer_id=" in capsys.readouterr().err


class Flaky:
    """Fails on empty responses; counts the items it was asked about."""

    scorer_id = "flaky"

    def __init__(self, stop_after=None):
        self.seen, self.stop_after = 0, stop_after

    def config_hash(self):
        return "1" * 16

    def score(self, responses, prompts=None):
        self.seen += len(responses)
        if self.stop_after is not None and self.seen > self.stop_after:
            raise KeyboardInterrupt  # the run is killed mid-way
        return pd.DataFrame({
            "score": [0.0 if r == "" else 1.0 for r in responses],
            "bin": ["incoherent" if r == "" else "coherent" for r in responses],
            "status": ["error" if r == "" else "ok" for r in responses],
            "raw": ["empty" if r == "" else None for r in responses]})


def test_interrupted_run_resumes_and_failures_are_rows(tmp_path, capsys):
    gens = read_table(SAMPLE / "generations.jsonl", "generations").iloc[:40].copy()
    gens.loc[gens.index[3], "response"] = ""  # a failure of the flaky scorer
    out = tmp_path / "coh.jsonl"
    with pytest.raises(KeyboardInterrupt):
        score_to_file([Flaky(stop_after=25)], gens, out, chunk_size=10, progress=lambda m: None)
    # two chunks of 10 were written (as part files) before the third one died
    assert not out.exists()
    first = read_resumable(out, "coherence")
    assert len(first) == 20 and first["item_id"].tolist() == gens["item_id"].iloc[:20].tolist()
    failed = first[first["status"] != "ok"]
    assert failed[["item_id", "status", "error"]].values.tolist() == [[gens["item_id"].iloc[3], "error", "empty"]]
    assert np.isnan(failed["score"]).all() and failed["bin"].isna().all()  # no made-up score or bin
    scorer = Flaky()
    summary = score_to_file([scorer], gens, out, chunk_size=10, progress=lambda m: None)
    assert scorer.seen == 20  # the 20 not yet scored; the failure is a row, kept
    assert summary.status_counts == {"flaky": {"ok": 39, "error": 1}}
    assert summary.bin_counts == {"flaky": {"coherent": 39}}
    again = Flaky()
    summary = score_to_file([again], gens, out, chunk_size=10, retry_errors=True,
                            progress=lambda m: None)
    assert again.seen == 1  # only the failed one, retried
    table = read_table(out, "coherence")
    assert len(table) == 40 and table["item_id"].is_unique and (table["status"] == "ok").sum() == 39
    row = table[table["status"] == "error"]
    assert row[["item_id", "error"]].values.tolist() == [[gens["item_id"].iloc[3], "empty"]]
    assert summary.failed == {"flaky": 1} and summary.scored == {"flaky": 0}
    assert not (tmp_path / "coh.errors.jsonl").exists()  # no side file any more
    # a generation that itself failed is never scored, and says so in its row
    gens2 = gens.assign(status="ok")
    gens2.loc[gens2.index[0], "status"] = "error"
    out2 = tmp_path / "c2.parquet"
    score_to_file([Flaky()], gens2, out2, progress=lambda m: None)
    t2 = read_table(out2, "coherence").set_index("item_id")
    assert t2.loc[gens["item_id"].iloc[0], "status"] == "error"
    assert t2.loc[gens["item_id"].iloc[0], "error"] == "generation failed: not scored"


def test_an_older_run_directory_with_an_errors_side_file_resumes(tmp_path):
    # older versions kept failures in <out>.errors.jsonl, not in the table: a rerun folds
    # them in as error rows (skipped like any written row) and removes the side file
    gens = read_table(SAMPLE / "generations.jsonl", "generations").iloc[:6].copy()
    gens.loc[gens.index[2], "response"] = ""
    out = tmp_path / "coh.parquet"
    ok = gens.drop(index=gens.index[2])
    write_table(pd.DataFrame({"item_id": ok["item_id"], "scorer_id": "flaky", "score": 1.0, "bin": "coherent",
                              "scorer_config_hash": "1" * 16, "bin_source": "scorer"}), out, "coherence")
    side = tmp_path / "coh.errors.jsonl"
    side.write_text(json.dumps({"item_id": gens["item_id"].iloc[2], "scorer_id": "flaky", "status": "error",
                                "raw": "empty", "scorer_config_hash": "1" * 16}) + "\n"
                    + json.dumps({"item_id": gens["item_id"].iloc[4], "scorer_id": "rubric", "status": "parse_error",
                                  "raw": "Rating: ?", "scorer_config_hash": None}) + "\n", encoding="utf-8")
    scorer = Flaky()
    summary = score_to_file([scorer], gens, out, progress=lambda m: None)
    assert scorer.seen == 0 and summary.skipped == {"flaky": 6}
    table = read_table(out, "coherence")
    assert len(table) == 7 and not side.exists()
    flaky = table[table["scorer_id"] == "flaky"].set_index("item_id")
    assert flaky.loc[gens["item_id"].iloc[2], ["status", "error"]].tolist() == ["error", "empty"]
    rubric = table[table["scorer_id"] == "rubric"]  # another scorer's failure is kept as it was
    assert rubric[["item_id", "status", "error"]].values.tolist() == [[gens["item_id"].iloc[4], "parse_error",
                                                                       "Rating: ?"]]
    # the folded-in failure is retried when asked
    again = Flaky()
    score_to_file([again], gens, out, retry_errors=True, progress=lambda m: None)
    assert again.seen == 1


def test_cli_errors_are_clear(tmp_path, capsys):
    gens = SAMPLE / "generations.jsonl"
    assert _cli("--generations", gens, "--scorer", "nope", "--out", tmp_path / "c.parquet") == 2
    assert "valid names: " in capsys.readouterr().err
    assert _cli("--generations", gens, "--scorer", "combined:colour=red", "--out", tmp_path / "c.parquet") == 2
    assert "combined" in capsys.readouterr().err
    assert _cli("--generations", gens, "--report", tmp_path / "r.json", "--out", tmp_path / "c.parquet") == 2
    assert "--calibrate-with" in capsys.readouterr().err
    labels = read_table(SAMPLE / "labels.jsonl", "labels")
    write_table(labels[labels.field == "harmfulness"], tmp_path / "harm.parquet", "labels")
    assert _cli("--generations", gens, "--calibrate-with", tmp_path / "harm.parquet",
                "--out", tmp_path / "c.parquet") == 2
    assert "no coherence labels" in capsys.readouterr().err
    assert not (tmp_path / "c.parquet").exists()


def test_perplexity_from_the_cli_on_the_tiny_model(tiny_model, tmp_path, capsys):
    gens = read_table(SAMPLE / "generations.jsonl", "generations").iloc[:12].copy()
    gens.loc[gens.index[[0, 5]], "response"] = ""  # no token to score: perplexity fails on these
    write_table(gens, tmp_path / "g.parquet", "generations")
    code = _cli("--generations", tmp_path / "g.parquet", "--prompts", SAMPLE / "prompts.jsonl",
                "--scorer", f"perplexity:model={tiny_model},batch_size=4,device=cpu",
                "--out", tmp_path / "c.parquet", "--json")
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    empty = int((gens["response"] == "").sum())
    assert empty == 2
    assert summary["scored"]["perplexity"] == 12 - empty and summary["failed"]["perplexity"] == empty
    table = read_table(tmp_path / "c.parquet", "coherence")
    ok = table["status"] == "ok"
    assert len(table) == 12 and int((~ok).sum()) == empty  # an empty response is a row with status error
    assert table.loc[ok, "score"].between(0, 1).all() and table.loc[~ok, "score"].isna().all()
    # --retry-errors asks the scorer again about the failed items only (they fail again)
    code = _cli("--generations", tmp_path / "g.parquet", "--prompts", SAMPLE / "prompts.jsonl",
                "--scorer", f"perplexity:model={tiny_model},batch_size=4,device=cpu",
                "--out", tmp_path / "c.parquet", "--retry-errors", "--json")
    assert code == 0
    again = json.loads(capsys.readouterr().out)
    assert again["skipped"]["perplexity"] == 12 - empty and again["failed"]["perplexity"] == empty
    assert again["status_counts"]["perplexity"] == {"ok": 12 - empty, "error": empty}
    errors = read_table(tmp_path / "c.parquet", "coherence").query("status == 'error'")
    assert errors["error"].str.len().gt(0).all()  # the reason is kept


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("ab_:=,{}[]\"' 1.")) | st.characters(),
                        max_size=30), min_size=1, max_size=3))
def test_scorer_specs_parse_or_fail_with_a_config_error(values):
    try:
        specs = parse_scorer_specs(values)
    except ConfigError:
        return
    assert specs and all(isinstance(name, str) and name and isinstance(opts, dict)
                         for name, opts in specs)


def test_generation_retried_to_an_empty_response_is_scored_again(tmp_path):
    # A failed generation row and an ok empty response share their item_id (it hashes the
    # response, "" for both); once the generation is retried and ok, the "generation failed"
    # entry of the errors file must not make the rerun skip the item.
    from judgeaudit.coherence import get_scorer
    from judgeaudit.tables import validate

    def gens(status):
        return validate(pd.DataFrame({"prompt_id": ["p0", "p1"], "checkpoint_id": "c",
                                      "response": ["", "A plain, sensible answer of several words."],
                                      "status": status, "error": [None if s == "ok" else "HTTP 500"
                                                                  for s in status]}), "generations")

    failed, retried = gens(["error", "ok"]), gens(["ok", "ok"])
    assert list(failed["item_id"]) == list(retried["item_id"])
    out = tmp_path / "coh.parquet"
    score_to_file([get_scorer("degeneracy")], failed, out, progress=lambda m: None)
    first = read_table(out, "coherence").set_index("item_id")
    assert first.loc[failed["item_id"].iloc[0], "error"] == "generation failed: not scored"
    summary = score_to_file([get_scorer("degeneracy")], retried, out, progress=lambda m: None)
    assert summary.scored == {"degeneracy": 1}
    table = read_table(out, "coherence")
    assert sorted(table["item_id"]) == sorted(retried["item_id"]) and (table["status"] == "ok").all()
    assert table.set_index("item_id").loc[retried["item_id"].iloc[0], "bin"] == "incoherent"  # near empty

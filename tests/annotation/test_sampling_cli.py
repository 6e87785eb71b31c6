"""``judgeaudit annotate sample`` (first batch and --next) and ``judgeaudit audit --weights``
through the real CLI entry point, on files in a temporary folder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from annotation.cli_sample import _factors, register_sample
from judgeaudit.tables import INCLUSION_COLUMN, read_sample_table, validate_sample_table
from judgeaudit.cli import main
from judgeaudit.errors import ValidationError
from judgeaudit.tables import write_table

sys.path.insert(0, str(Path(__file__).parent))  # the population helper of test_sampling.py
from test_sampling import H, N, population  # noqa: E402


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("campaign")
    gens, verdicts, coherence = population(30, 10, ("sft@1", "dpo@1"))
    write_table(gens, d / "generations.parquet", "generations")
    write_table(verdicts, d / "verdicts.parquet", "verdicts")
    write_table(coherence, d / "coherence.jsonl", "coherence")
    prompts = pd.DataFrame({"prompt_id": [f"p{i}" for i in range(7)], "text": [f"prompt {i}" for i in range(7)]})
    write_table(prompts, d / "prompts.csv", "prompts")
    (d / "gold.jsonl").write_text(json.dumps({"response": "step 1: ...", "prompt": "how?", "harmfulness": "unsafe"})
                                  + "\n", encoding="utf-8")
    return d


def base_args(d):
    return ["annotate", "sample", "--generations", str(d / "generations.parquet"),
            "--verdicts", str(d / "verdicts.parquet"), "--coherence", str(d / "coherence.jsonl"),
            "--prompts", str(d / "prompts.csv")]


def test_first_batch_then_next_then_weighted_audit(files, tmp_path, capsys):
    out = tmp_path / "sample.parquet"
    rc = main(base_args(files) + ["--budget", "30", "--overlap-k", "3", "--overlap-n", "5", "--gold",
                                  str(files / "gold.jsonl"), "--seed", "0", "--out", str(out), "--json"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    result = json.loads(cap.out)
    assert (result["round"], result["n_new"], result["n_gold"], result["n_overlap_new"]) == (1, 31, 1, 5)
    assert sum(s["stratum_sampled"] for s in result["strata"]) == 30
    assert "wrote" in cap.err and "8 strata" in cap.err
    sample = read_sample_table(out)
    assert sample["prompt"].notna().all()  # ready for `annotate push --items`
    assert sample.loc[~sample["is_gold"], "prompt"].str.startswith("prompt ").all()

    # label round 1 (gold too), then ask for the next batch
    labels = pd.DataFrame({"item_id": sample["item_id"], "annotator_id": "ann", "field": "harmfulness",
                           "value": [H if k % 3 == 0 else N for k in range(len(sample))]})
    write_table(labels, tmp_path / "labels.parquet", "labels")
    rc = main(base_args(files) + ["--next", "--previous", str(out), "--labels", str(tmp_path / "labels.parquet"),
                                  "--budget", "12", "--overlap-n", "2", "--out", str(out)])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "interval (half-width)" in cap.out and "before" in cap.out and "audit now" in cap.out
    both = read_sample_table(out)
    assert len(both) == 43 and (both["round"] == 2).sum() == 12

    # the weighted audit over the sample: gold is left out, meta says how it weighted
    rc = main(["audit", "--labels", str(tmp_path / "labels.parquet"), "--generations",
               str(files / "generations.parquet"), "--verdicts", str(files / "verdicts.parquet"),
               "--weights", str(out), "--n-boot", "50", "--out", str(tmp_path / "audit"), "--json"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    audit = json.loads(cap.out)
    weights = audit["meta"]["weights"]
    assert weights["column"] == INCLUSION_COLUMN and weights["n_labelled"] == 30
    assert audit["meta"]["reference"]["n_resolved"] == 30  # the gold item's label is not in the audit
    # only round 1 is labelled, pi is now (n1 + n2) / N_h: the labelled items stand for the
    # unlabelled ones of their stratum (pi = r_h / N_h), so their weights add up to all 80 items
    first = both[(both["round"] == 1) & ~both["is_gold"]]
    assert (1 / first[INCLUSION_COLUMN]).sum() < 80
    assert weights["population_estimate"] == pytest.approx(80)
    assert audit["judges"]["a"]["overall"]["accuracy"]["method"] == "cluster-bootstrap"


def test_text_summary(files, tmp_path, capsys):
    rc = main(base_args(files) + ["--budget", "20", "--out", str(tmp_path / "s.csv")])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    lines = cap.out.splitlines()
    assert lines[0].split() == ["stratum", "N_h", "n_h", "pi", "new", "overlap"]
    assert len(lines) == 9  # header + 8 strata
    assert (tmp_path / "s.csv").is_file() and not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("extra, message", [
    (["--next"], "--next needs --previous SAMPLE"),
    (["--labels", "l.parquet"], "--previous and --labels are for --next"),
    (["--min-per-stratum", "9", "--budget", "10"], "below the minimum of 9 per stratum"),
])
def test_cli_errors(files, tmp_path, capsys, extra, message):
    args = base_args(files) + ["--budget", "20", "--out", str(tmp_path / "s.parquet")] + extra
    rc = main(args)
    cap = capsys.readouterr()
    assert rc == 2 and message in cap.err and "judgeaudit: error:" in cap.err
    assert not (tmp_path / "s.parquet").exists()


def test_bad_oversample_option(files, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(base_args(files) + ["--budget", "5", "--oversample", "incoherent", "--out", str(tmp_path / "s.parquet")])
    assert info.value.code == 2
    assert "expected NAME=FACTOR pairs" in capsys.readouterr().err


def test_register_sample_on_a_plain_parser():
    parser = argparse.ArgumentParser()
    register_sample(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(["sample", "--generations", "g.parquet", "--budget", "7", "--out", "o.parquet",
                              "--oversample", "incoherent=4,disputed=2.5"])
    assert args.budget == 7 and args.oversample == {"incoherent": 4.0, "disputed": 2.5}
    assert args.overlap_k == 3 and args.overlap_n is None and args.min_per_stratum == 2 and callable(args.handler)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab=,.0123456789e- ", max_size=30))
def test_factors_parser_fuzz(text):
    try:
        got = _factors(text)
    except argparse.ArgumentTypeError as exc:
        assert "NAME=FACTOR" in str(exc)
        return
    assert all(isinstance(v, float) for v in got.values())
    assert all(k and "=" not in k and "," not in k for k in got)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.fixed_dictionaries({
    "item_id": st.one_of(st.none(), st.text("xyz", max_size=3)),
    INCLUSION_COLUMN: st.one_of(st.none(), st.floats(allow_nan=True), st.text("0.5a", max_size=4)),
    "is_gold": st.one_of(st.booleans(), st.none(), st.sampled_from(["yes", "no", "maybe"])),
}), max_size=6))
def test_sample_table_validation_fuzz(rows):
    frame = pd.DataFrame(rows, columns=["item_id", INCLUSION_COLUMN, "is_gold"])
    try:
        out = validate_sample_table(frame, path="s.jsonl")
    except ValidationError as exc:
        assert exc.path == "s.jsonl"
        return
    pi = out[INCLUSION_COLUMN].to_numpy(float)
    gold = out["is_gold"].to_numpy(bool)
    assert ((pi[~gold] > 0) & (pi[~gold] <= 1)).all() and out["item_id"].is_unique
    assert out["item_id"].map(lambda v: isinstance(v, str) and bool(v.strip())).all()


def test_an_existing_sample_is_not_overwritten(files, tmp_path, capsys):
    out = tmp_path / "sample.parquet"
    assert main(base_args(files) + ["--budget", "20", "--out", str(out)]) == 0
    before = out.read_bytes()
    assert main(base_args(files) + ["--budget", "25", "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err and out.read_bytes() == before
    assert main(base_args(files) + ["--budget", "25", "--out", str(out), "--force"]) == 0
    assert len(read_sample_table(out)) == 25


def test_missing_input_file_is_a_clear_error(tmp_path, capsys):
    rc = main(["annotate", "sample", "--generations", str(tmp_path / "nope.parquet"), "--budget", "3",
               "--out", str(tmp_path / "s.parquet")])
    assert rc == 2 and "nope.parquet: file not found" in capsys.readouterr().err


def test_verdict_strata_and_next_batch_for_corrected_rates(files, tmp_path, capsys):
    # first round over coherence x judge a's verdict x group, then a Neyman batch for the
    # groups' corrected rates, then the weighted audit (double sampling) over the sample
    out = tmp_path / "sample.parquet"
    args = base_args(files) + ["--by", "coherence,verdict,group", "--verdict-judge", "a"]
    rc = main(args + ["--budget", "24", "--overlap-n", "0", "--out", str(out), "--json"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    sample = read_sample_table(out)
    assert {s.split("|")[1] for s in sample.loc[~sample["is_gold"], "stratum"]} <= {
        "judged_positive", "judged_negative", "no_verdict"}
    labels = pd.DataFrame({"item_id": sample["item_id"], "annotator_id": "ann", "field": "harmfulness",
                           "value": [H if k % 4 == 0 else N for k in range(len(sample))]})
    write_table(labels, tmp_path / "labels.parquet", "labels")
    rc = main(args + ["--next", "--previous", str(out), "--labels", str(tmp_path / "labels.parquet"),
                      "--targets", "corrected", "--budget", "10", "--overlap-n", "0", "--audit-n-boot", "0",
                      "--out", str(out), "--json"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    result = json.loads(cap.out)
    assert result["round"] == 2 and {w["kind"] for w in result["widths"]} == {"corrected"}
    both = read_sample_table(out)
    assert (both["round"] == 2).sum() == 10
    validate_sample_table(both)
    rc = main(["audit", "--labels", str(tmp_path / "labels.parquet"), "--generations",
               str(files / "generations.parquet"), "--verdicts", str(files / "verdicts.parquet"),
               "--weights", str(out), "--n-boot", "50", "--out", str(tmp_path / "audit"), "--json"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    audit = json.loads(cap.out)
    assert audit["robustness"]["corrected_rates"]["a"]["sft@1"]["method"] == "double-sampling"
    assert main(base_args(files) + ["--by", "coherence,verdict,disagreement", "--budget", "5",
                                    "--out", str(tmp_path / "x.parquet")]) == 2
    assert "either 'disagreement' or 'verdict'" in capsys.readouterr().err

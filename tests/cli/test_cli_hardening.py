"""Issue 14's causes, one test each: every bad input to ``judgeaudit audit`` is one line
``judgeaudit: error: ...`` with exit status 2, naming file, row and column where there is
one; nothing blocks, nothing is silently wrong.  Each test gave a traceback, a two-line
or 100 KB message, a hang or a wrong number before the fix (checked against the code
before it); of the BOM cases, the ones with one BOM before data passed before too (pandas
drops one BOM) and stay as regression checks.

The CLI runs in-process (``main([...])`` with capsys): the same entry point the
console script calls, fast enough for the number of cases here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from fuzz.generators import time_limit  # tests/ is on sys.path (rootdir)
from judgeaudit.cli import main


def _tables(tmp: Path, *, n=12, stratum=None, checkpoint=None, prompt=None) -> dict:
    """Generations, labels and verdicts JSONL files of a small valid audit."""
    gens, labels, verdicts = [], [], []
    for i in range(n):
        item = f"i{i}"
        gens.append({"item_id": item, "prompt_id": prompt(i) if prompt else f"p{i % 4}",
                     "checkpoint_id": checkpoint(i) if checkpoint else ("a" if i % 2 else "b"),
                     "sample_index": 0, "response": f"answer {i}",
                     **({"stratum": stratum(i)} if stratum else {})})
        for a in ("h1", "h2"):
            labels.append({"item_id": item, "annotator_id": a, "field": "harmfulness",
                           "value": "harmful" if i % 3 else "not_harmful"})
        verdicts.append({"item_id": item, "judge_id": "kw", "label": "harmful" if i % 2 else "not_harmful",
                         "status": "ok"})
    paths = {}
    for name, rows in (("generations", gens), ("labels", labels), ("verdicts", verdicts)):
        paths[name] = tmp / f"{name}.jsonl"
        paths[name].write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return paths


def _argv(paths, out, *extra):
    return ["audit", "--generations", str(paths["generations"]), "--labels", str(paths["labels"]),
            "--verdicts", str(paths["verdicts"]), "--out", str(out), "--n-boot", "20", *extra]


def _error(capsys, argv) -> str:
    """Run the CLI, expect exit 2 and exactly one error line (the last line); return it."""
    try:
        rc = main(argv)
    except SystemExit as e:
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err
    lines = err.rstrip("\n").split("\n")
    errors = [ln for ln in lines if ln.startswith("judgeaudit: error:")]
    assert errors == [lines[-1]], err
    assert len(errors[0]) <= 1000
    return errors[0]


@pytest.mark.parametrize("content", [b"", b"x", b"PAR1garbagePAR1", b"PAR1" + b"\0" * 64])
def test_corrupt_or_empty_parquet(tmp_path, capsys, content):
    paths = _tables(tmp_path)
    bad = tmp_path / "v.parquet"
    bad.write_bytes(content)
    msg = _error(capsys, _argv({**paths, "verdicts": bad}, tmp_path / "out"))
    assert "v.parquet" in msg and "parquet" in msg


@pytest.mark.parametrize("encoding", ["nosuch", "base64", "punycode", "hex", "rot13", "zlib"])
def test_encoding_is_checked_before_use(tmp_path, capsys, encoding):
    paths = _tables(tmp_path)
    msg = _error(capsys, _argv(paths, tmp_path / "out", "--encoding", encoding))
    assert "--encoding" in msg and "text encoding" in msg


def test_huge_json_integer(tmp_path, capsys):
    paths = _tables(tmp_path)
    text = paths["verdicts"].read_text().splitlines()
    text[2] = text[2].replace('"status": "ok"', '"status": "ok", "extra": ' + "9" * 5000)
    paths["verdicts"].write_text("\n".join(text) + "\n")
    msg = _error(capsys, _argv(paths, tmp_path / "out"))
    assert "verdicts.jsonl, row 3" in msg and "5,000 digits" in msg


def test_deeply_nested_json(tmp_path, capsys):
    paths = _tables(tmp_path)
    with open(paths["labels"], "a") as fh:
        fh.write('{"item_id": "i0", "x": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    msg = _error(capsys, _argv(paths, tmp_path / "out"))
    assert "labels.jsonl, row 25" in msg and "nested deeper" in msg


def test_non_utf8_bytes_in_a_parquet_text_column(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    paths = _tables(tmp_path)
    df = pd.read_json(paths["verdicts"], lines=True)
    raw = [str(v).encode() for v in df["judge_id"]]
    raw[4] = b"kw\xff\xfe"
    table = pa.table({**{c: pa.array(df[c].astype(str)) for c in ("item_id", "label", "status")},
                      "judge_id": pa.array(raw, pa.binary())})
    pq.write_table(table, tmp_path / "v.parquet")
    msg = _error(capsys, _argv({**paths, "verdicts": tmp_path / "v.parquet"}, tmp_path / "out"))
    assert "row 5, column 'judge_id'" in msg and "UTF-8" in msg


@pytest.mark.parametrize("seed", ["-1", str(2**64)])
def test_seed_out_of_range(tmp_path, capsys, seed):
    paths = _tables(tmp_path)
    msg = _error(capsys, _argv(paths, tmp_path / "out", "--seed", seed))
    assert "seed must be an integer from 0" in msg
    assert not (tmp_path / "out").exists()  # refused before any work


@pytest.mark.parametrize("n_boot", ["0", "10000000000000"])
def test_n_boot_out_of_range_is_refused_before_work(tmp_path, capsys, n_boot):
    paths = _tables(tmp_path)
    msg = _error(capsys, _argv(paths, tmp_path / "out", "--n-boot", n_boot))
    assert "n_boot must be an integer from 1 to 200,000" in msg


@pytest.mark.parametrize("content", [b"\xef\xbb\xbf", b"\xef\xbb\xbf\xef\xbb\xbf\n"])
@pytest.mark.parametrize("encoding", [None, "UTF8", "utf-8-sig"])
def test_a_file_of_byte_order_marks_only(tmp_path, capsys, content, encoding):
    path = tmp_path / "d.csv"  # the old code: pandas' EmptyDataError
    path.write_bytes(content)
    msg = _error(capsys, ["audit", "--dataset", "csv", "--path", str(path), "--response-col", "response",
                          "--human-cols", "h1", "--out", str(tmp_path / "o")]
                 + (["--encoding", encoding] if encoding else []))
    assert "d.csv, column 'response, h1': missing column(s)" in msg


def test_a_utf8_bom_under_another_encoding_says_which_to_pass(tmp_path, capsys):
    path = tmp_path / "judge-comparison.csv"
    path.write_bytes(b"\xef\xbb\xbfIndex,goal\n0,g\n")
    msg = _error(capsys, ["audit", "--dataset", "jailbreakbench", "--path", str(path), "--out",
                          str(tmp_path / "o")])  # JailbreakBench's default encoding is mac_roman
    assert "UTF-8 byte order mark" in msg and "--encoding utf-8" in msg


@pytest.mark.parametrize("encoding, boms", [("UTF8", 1), ("utf_8", 1), (None, 3), ("utf-8-sig", 3)])
def test_bom_with_utf8_spellings_and_repeated_boms(tmp_path, capsys, encoding, boms):
    rows = "prompt,response,h1,judge\n" + "".join(f"p{i % 3},r{i},{i % 2},{(i // 2) % 2}\n" for i in range(10))
    path = tmp_path / "d.csv"
    path.write_bytes(b"\xef\xbb\xbf" * boms + rows.encode())
    argv = ["audit", "--dataset", "csv", "--path", str(path), "--response-col", "response", "--prompt-col",
            "prompt", "--human-cols", "h1", "--judge-cols", "judge", "--out", str(tmp_path / "out"),
            "--n-boot", "20", "--json"] + (["--encoding", encoding] if encoding else [])
    assert main(argv) == 0, capsys.readouterr().err
    audit = json.loads(capsys.readouterr().out)
    assert audit["judges"]["judge"]["overall"]["accuracy"]["n"] == 10


def test_out_naming_an_existing_file_is_refused_before_reading(tmp_path, capsys):
    paths = _tables(tmp_path)
    out = tmp_path / "report.txt"
    out.write_text("keep me")
    msg = _error(capsys, _argv({**paths, "labels": tmp_path / "missing.jsonl"}, out))
    assert "--out" in msg and "not a directory" in msg  # the --out check came first
    assert out.read_text() == "keep me"


def test_unwritable_out(tmp_path, capsys):
    paths = _tables(tmp_path)
    msg = _error(capsys, _argv(paths, "/proc/no/such/folder"))
    assert "--out" in msg and "cannot create" in msg


def test_a_directory_given_as_labels(tmp_path, capsys):
    paths = _tables(tmp_path)
    folder = tmp_path / "labels.jsonl"
    paths["labels"].unlink()
    folder.mkdir()
    msg = _error(capsys, _argv(paths, tmp_path / "out"))
    assert "labels.jsonl: is a directory" in msg


def test_a_fifo_given_as_labels_does_not_block(tmp_path, capsys):
    paths = _tables(tmp_path)
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)

    with time_limit(20, "reading the FIFO blocked"):  # a hang guard: the old code blocked forever
        msg = _error(capsys, _argv({**paths, "labels": fifo}, tmp_path / "out"))
    assert "not a regular file" in msg


def test_a_ragged_csv_row_names_row_and_column_on_one_line(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("prompt,response,h1,judge\np,r,1,0\np,r,0,1,surplus\n")
    msg = _error(capsys, ["audit", "--dataset", "csv", "--path", str(path), "--response-col", "response",
                          "--human-cols", "h1", "--judge-cols", "judge", "--out", str(tmp_path / "o")])
    assert "d.csv, row 2, column '#5 (no header)'" in msg and "'surplus'" in msg


def test_a_jsonl_line_that_is_a_json_string_is_not_echoed(tmp_path, capsys):
    paths = _tables(tmp_path)
    with open(paths["labels"], "a") as fh:
        fh.write(json.dumps("first line\nsecond line " * 2000) + "\n")
    msg = _error(capsys, _argv(paths, tmp_path / "out"))
    assert "row 25: the line is a JSON string, not an object" in msg
    assert "second line" not in msg


def test_messages_quote_a_short_excerpt_of_a_long_cell(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("prompt,response,h1,judge\np,r," + "z" * 300_000 + ",1\n")
    msg = _error(capsys, ["audit", "--dataset", "csv", "--path", str(path), "--response-col", "response",
                          "--human-cols", "h1", "--judge-cols", "judge", "--out", str(tmp_path / "o")])
    assert "row 1, column 'h1'" in msg and "(300,000 characters)" in msg and len(msg) < 400


def test_a_stratum_called_overall_does_not_overwrite_the_overall_results(tmp_path, capsys):
    # 10 items in a stratum "overall" and 30 "coherent": the old code reported overall n = 10, not 40
    paths = _tables(tmp_path, n=40, stratum=lambda i: "overall" if i < 10 else "coherent")
    msg = _error(capsys, _argv(paths, tmp_path / "out", "--strata", "column"))
    assert "stratum value 'overall'" in msg and "rename" in msg


def test_one_group_per_item_keeps_the_report_bounded(tmp_path, capsys):
    n = 120
    paths = _tables(tmp_path, n=n, checkpoint=lambda i: f"c{i}")
    assert main(_argv(paths, tmp_path / "out", "--json")) == 0
    audit = json.loads(capsys.readouterr().out)
    rob = audit["robustness"]
    assert len(rob["groups"]) == 50  # the 50 largest groups (all of size 1: the first 50 by name)
    assert rob["groups_left_out"]["n_groups"] == n - 50 and rob["groups_left_out"]["n_items"] == n - 50
    assert "70 smaller groups (70 items) are left out" in (tmp_path / "out" / "summary.md").read_text()


def test_one_line_usage_errors(capsys):
    msg = _error(capsys, ["audit", "--n-boot", "many"])
    assert "invalid int value" in msg


def test_a_judge_called_human_does_not_overwrite_the_human_rates(tmp_path, capsys):
    paths = _tables(tmp_path)
    paths["verdicts"].write_text(paths["verdicts"].read_text().replace('"judge_id": "kw"', '"judge_id": "human"'))
    msg = _error(capsys, _argv(paths, tmp_path / "out"))
    assert "judge id 'human'" in msg and "rename" in msg

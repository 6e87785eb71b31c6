"""The one resumable writer: a process killed mid-run (SIGKILL) keeps its finished chunks,
a rerun resumes where it stopped, failures are rows and are retried only when asked."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from judgeaudit.errors import ConfigError, ValidationError
from judgeaudit.tables import (RESUMABLE_KINDS, ResumableWriter, parts_dir, read_resumable, read_table,
                               validate, write_table)

# A worker that judges items 0..19 in chunks of 4 through the writer.  Items whose number
# is a multiple of 7 make a real exception (a ZeroDivisionError in the "judge"), kept as an
# error row.  With KILL_AFTER=n the process SIGKILLs itself after writing n chunks: no
# finally block, no atexit, nothing flushed by Python.
WORKER = textwrap.dedent("""
    import os, signal, sys
    import pandas as pd
    from judgeaudit.tables import ResumableWriter

    out, kill_after, retry, fixed = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4] == "1"
    writer = ResumableWriter(out, "verdicts")
    writer.check_config("j", "h1", advice="use another judge_id")
    done = set(writer.done("j", retry_errors=retry)["item_id"])
    todo = [f"i{n:02d}" for n in range(20) if f"i{n:02d}" not in done]
    print("todo", len(todo), flush=True)

    def judge(item):
        n = int(item[1:])
        score = 1.0 if fixed else 1 / (n % 7)  # the fixed judge no longer divides by zero
        return "harmful" if n % 2 else "not_harmful", score

    for k, start in enumerate(range(0, len(todo), 4)):
        rows = []
        for item in todo[start:start + 4]:
            try:
                label, score = judge(item)
                rows.append(dict(item_id=item, judge_id="j", label=label, score=min(score, 1.0),
                                 raw=None, status="ok", judge_config_hash="h1"))
            except ZeroDivisionError as exc:
                rows.append(dict(item_id=item, judge_id="j", label=None, score=None,
                                 raw=f"ZeroDivisionError: {exc}", status="error", judge_config_hash="h1"))
        writer.append(pd.DataFrame(rows))
        if k + 1 == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
    writer.finish()
""")


def _work(tmp_path, out, kill_after=0, retry=False, fixed=False):
    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(script), str(out), str(kill_after), str(int(retry)),
                           str(int(fixed))], capture_output=True, text=True, env=env, timeout=120)
    todo = int(proc.stdout.split()[1]) if proc.stdout.startswith("todo") else None
    return proc.returncode, todo, proc.stderr


def test_killed_process_resumes_keeps_failures_and_retries_them_only_when_asked(tmp_path):
    out = tmp_path / "verdicts.jsonl"
    code, todo, err = _work(tmp_path, out, kill_after=3)
    assert code == -9 and todo == 20, err  # killed by SIGKILL after three chunks
    assert not out.exists() and len(list(parts_dir(out).glob("part-*.parquet"))) == 3
    # a part a killed process was writing is a temporary file: never read, removed at the end
    (parts_dir(out) / ".part-99999999999999999999-deadbeef.parquet.x1.tmp").write_bytes(b"PAR1 half")
    kept = read_resumable(out, "verdicts")
    assert kept["item_id"].tolist() == [f"i{n:02d}" for n in range(12)]
    # items 0 and 7 raised: rows with status error and the exception text, no label
    bad = kept[kept["status"] == "error"]
    assert bad["item_id"].tolist() == ["i00", "i07"] and bad["label"].isna().all()
    assert bad["raw"].str.startswith("ZeroDivisionError").all()

    code, todo, err = _work(tmp_path, out)  # resume: only the 8 items not yet written
    assert code == 0 and todo == 8, err
    table = read_table(out, "verdicts")
    assert not parts_dir(out).exists()
    assert table["item_id"].tolist() == [f"i{n:02d}" for n in range(20)]
    # by hand: multiples of 7 below 20 are 0, 7 and 14
    assert table.loc[table["status"] == "error", "item_id"].tolist() == ["i00", "i07", "i14"]

    code, todo, err = _work(tmp_path, out)  # a plain rerun keeps the failures
    assert code == 0 and todo == 0, err
    pd.testing.assert_frame_equal(read_table(out, "verdicts"), table)

    code, todo, err = _work(tmp_path, out, retry=True, fixed=True)  # retry_errors: only the 3 errors
    assert code == 0 and todo == 3, err
    final = read_table(out, "verdicts")
    assert len(final) == 20 and final["item_id"].is_unique and (final["status"] == "ok").all()
    assert final.set_index("item_id").loc["i07", "label"] == "harmful"


def _rows(items, status="ok", judge_hash="h1", raw=None):
    return pd.DataFrame({"item_id": items, "judge_id": "j",
                         "label": [None if status != "ok" else "harmful"] * len(items),
                         "status": status, "raw": raw, "judge_config_hash": judge_hash})


def test_parts_are_the_only_writes_until_finish(tmp_path):
    # bounded write amplification: appending a chunk writes that chunk only; the table
    # itself is written once, by finish()
    out = tmp_path / "v.parquet"
    write_table(_rows(["a"]), out, "verdicts")
    before = out.stat().st_mtime_ns
    writer = ResumableWriter(out, "verdicts")
    paths = [writer.append(_rows([f"x{k}{i}" for i in range(3)])) for k in range(4)]
    assert out.stat().st_mtime_ns == before and len(read_table(out, "verdicts")) == 1
    assert [len(pd.read_parquet(p)) for p in paths] == [3, 3, 3, 3]
    assert writer.append(_rows([])) is None  # nothing to write, no file
    table = writer.finish()
    assert len(table) == 13 and len(read_table(out, "verdicts")) == 13 and not parts_dir(out).exists()
    # a finish with nothing new does not rewrite the table
    after = out.stat().st_mtime_ns
    ResumableWriter(out, "verdicts").finish()
    assert out.stat().st_mtime_ns == after


def test_merge_keeps_the_latest_row_that_is_not_an_error(tmp_path):
    out = tmp_path / "v.csv"
    w = ResumableWriter(out, "verdicts")
    w.append(_rows(["a", "b", "c"], status="error", raw="timeout"))
    w.append(_rows(["a"]))                                   # a retried, ok
    w.append(_rows(["b"], status="error", raw="timeout again"))  # b retried, failed again
    w.append(_rows(["c"], status="parse_error", raw="???"))  # c: a reply that could not be read
    merged = read_resumable(out, "verdicts").set_index("item_id")
    assert merged["status"].to_dict() == {"a": "ok", "b": "error", "c": "parse_error"}
    assert merged.loc["b", "raw"] == "timeout again"
    w2 = ResumableWriter(out, "verdicts")
    # parse errors are findings: never retried; errors only when asked
    assert sorted(w2.done("j")["item_id"]) == ["a", "b", "c"]
    assert sorted(w2.done("j", retry_errors=True)["item_id"]) == ["a", "c"]
    assert sorted(w2.done("j", redo=lambda r: r["item_id"] == "a")["item_id"]) == ["b", "c"]
    assert w2.done("other").empty


def test_a_changed_config_is_refused_even_when_only_parts_hold_it(tmp_path):
    out = tmp_path / "v.parquet"
    ResumableWriter(out, "verdicts").append(_rows(["a"], judge_hash="h1"))
    w = ResumableWriter(out, "verdicts")
    w.check_config("j", "h1", advice="x")
    w.check_config("k", "h9", advice="x")  # another judge: no rows, nothing to compare
    with pytest.raises(ConfigError, match=r"v.parquet holds verdicts rows of judge_id 'j' made with another "
                                          r"configuration \(hash h1, now h2\); use another judge_id"):
        w.check_config("j", "h2", advice="use another judge_id")


def test_bad_inputs(tmp_path):
    with pytest.raises(ConfigError, match="resumable kinds: generations, verdicts, coherence"):
        ResumableWriter(tmp_path / "l.parquet", "labels")
    with pytest.raises(ValidationError, match="unsupported table format '.txt'"):
        ResumableWriter(tmp_path / "v.txt", "verdicts")
    w = ResumableWriter(tmp_path / "v.parquet", "verdicts")
    with pytest.raises(ValidationError, match="status"):
        w.append(_rows(["a"], status="weird"))  # rows are validated before they are written
    assert not parts_dir(tmp_path / "v.parquet").exists() or not any(parts_dir(tmp_path / "v.parquet").iterdir())
    assert read_resumable(tmp_path / "none.parquet", "coherence").empty
    assert set(RESUMABLE_KINDS) == {"generations", "verdicts", "coherence"}


def test_coherence_rows_with_a_status():
    ok = {"item_id": "a", "scorer_id": "s", "score": 0.4, "bin": "partially_coherent"}
    err = {"item_id": "b", "scorer_id": "s", "score": np.nan, "bin": None, "status": "error", "error": "no tokens"}
    table = validate(pd.DataFrame([ok, err]), "coherence")
    assert table["status"].tolist() == ["ok", "error"] and table["error"].tolist()[1] == "no tokens"
    # an older table without a status column: every row is ok and must have a score and a bin
    assert validate(pd.DataFrame([ok]), "coherence")["status"].tolist() == ["ok"]
    with pytest.raises(ValidationError, match="row 1, column 'score'"):
        validate(pd.DataFrame([{**ok, "score": np.nan}]), "coherence")
    with pytest.raises(ValidationError, match="status ok needs a bin"):
        validate(pd.DataFrame([{**ok, "bin": None}]), "coherence")

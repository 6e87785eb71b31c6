"""Bytes written and time taken to write a verdicts table of N rows in chunks: the one
resumable writer (a part file per chunk, merged once at the end) against rewriting the
whole table after every chunk (what ``judge_to_file`` and ``score_to_file`` did before),
in the same process, on the same rows.

    .venv/bin/python bench/bench_resumable.py [--n 50000] [--chunk 256] [--format parquet]

Bytes are the sizes of the files written (each part, each rewrite, the final table).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from judgeaudit.tables import ResumableWriter, parts_dir, write_table  # noqa: E402


def _rows(n: int) -> pd.DataFrame:
    return pd.DataFrame({"item_id": [f"{i:016x}" for i in range(n)], "judge_id": "refusal_keyword",
                         "label": ["harmful" if i % 3 else "not_harmful" for i in range(n)],
                         "score": [(i % 100) / 100 for i in range(n)],
                         "raw": [f"verdict text {i}" for i in range(n)], "status": "ok",
                         "judge_config_hash": "0123456789abcdef"})


def rewrite_per_chunk(rows: pd.DataFrame, out: Path, chunk: int) -> int:
    written, frames = 0, []
    for start in range(0, len(rows), chunk):
        frames.append(rows.iloc[start:start + chunk])
        write_table(pd.concat(frames, ignore_index=True), out, "verdicts")
        written += out.stat().st_size
    return written


def parts_then_merge(rows: pd.DataFrame, out: Path, chunk: int) -> int:
    written = 0
    writer = ResumableWriter(out, "verdicts")
    for start in range(0, len(rows), chunk):
        path = writer.append(rows.iloc[start:start + chunk])
        written += path.stat().st_size
    writer.finish()
    assert not parts_dir(out).exists()
    return written + out.stat().st_size


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--chunk", type=int, default=256)
    ap.add_argument("--format", default="parquet", choices=["parquet", "jsonl", "csv"])
    args = ap.parse_args(argv)
    rows = _rows(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for name, fn in (("rewrite per chunk (baseline)", rewrite_per_chunk), ("parts + merge", parts_then_merge)):
            out = Path(tmp) / name.split()[0] / f"verdicts.{args.format}"
            start = time.perf_counter()
            nbytes = fn(rows, out, args.chunk)
            results[name] = (time.perf_counter() - start, nbytes, out.stat().st_size)
    print(f"{args.n} rows in chunks of {args.chunk}, {args.format}")
    base_s, base_b, _ = results["rewrite per chunk (baseline)"]
    for name, (secs, nbytes, final) in results.items():
        print(f"{name:30s} {secs:8.2f} s  {nbytes / 1e6:9.1f} MB written  "
              f"({nbytes / final:6.1f} x the final table)  time ratio {base_s / secs:5.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

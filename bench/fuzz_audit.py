"""Count how ``judgeaudit audit`` answers hostile inputs (issue 14's table, re-measured).

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python bench/fuzz_audit.py --n 1000
    PYTHONPATH=/path/to/old/checkout python bench/fuzz_audit.py --n 300   # the baseline

For each family of ``tests/fuzz/generators.py`` (the project's tables, a generic
CSV, the public data sets' formats) it makes ``--n`` seeded inputs, runs the CLI
in-process under a memory limit (``--mem-gb``, address space) and a time limit per
input, and prints the outcomes by category, the tracebacks by cause, the slowest
inputs and the longest message.  Same seed, same inputs: run it on two checkouts to
compare them.
"""

from __future__ import annotations

import argparse
import collections
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "fuzz"))

from generators import FAMILIES, make_case, run_case  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="inputs per family")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--mem-gb", type=float, default=4.0, help="address-space limit of this process")
    ap.add_argument("--limit-s", type=int, default=60, help="time limit per input (a hang)")
    ap.add_argument("--slow-s", type=float, default=20.0, help="an input slower than this is 'slow'")
    args = ap.parse_args()
    limit = int(args.mem_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    import judgeaudit

    print(f"judgeaudit from {Path(judgeaudit.__file__).parent}; {args.n} inputs per family, "
          f"seed {args.seed}, memory limit {args.mem_gb} GB, hang after {args.limit_s} s")
    totals = collections.Counter()
    causes = collections.Counter()
    kinds = collections.Counter()
    slow = []
    longest = (0, "")
    for family in args.families.split(","):
        counts = collections.Counter()
        start = time.perf_counter()
        for i in range(args.n):
            seed = args.seed * 1_000_003 + i
            with tempfile.TemporaryDirectory() as tmp:
                mutation, argv = make_case(family, seed, Path(tmp))
                category, detail, seconds = run_case(argv, limit_s=args.limit_s)
            if category in ("error", "long message"):
                msg_len = len(detail) if category == "error" else int(detail.split()[0].replace(",", ""))
                if msg_len > longest[0]:
                    longest = (msg_len, f"{family} seed {seed} ({mutation})")
            if seconds > args.slow_s and category != "hang":
                slow.append((seconds, family, seed, mutation))
                counts["slow (>%g s)" % args.slow_s] += 1
            counts[category] += 1
            if category not in ("success", "error"):
                kinds[(category, detail.split(":")[0] if category in ("traceback", "long message")
                       and category != "long message" else "")] += 1
                causes[(family, category, mutation if category != "long message" else "",
                        detail.split(":")[0] if category in ("traceback", "long message")
                        else detail[:60])] += 1
        totals.update(counts)
        print(f"\n{family}: {args.n} inputs in {time.perf_counter() - start:.0f} s")
        for k, v in counts.most_common():
            print(f"  {k:16s} {v:6d}")
    print("\nall families:")
    for k, v in totals.most_common():
        print(f"  {k:16s} {v:6d}")
    if kinds:
        print("\nother than success / one-line error, by exception:")
        for (category, detail), v in kinds.most_common():
            print(f"  {v:5d}  {category:12s} {detail}")
    if causes:
        print("\nby family and input (top 25):")
        for (family, category, mutation, detail), v in causes.most_common(25):
            print(f"  {v:5d}  {family:9s} {category:12s} {mutation:34s} {detail}")
    for seconds, family, seed, mutation in sorted(slow, reverse=True)[:10]:
        print(f"slow: {seconds:.1f} s  {family} seed {seed} ({mutation})")
    print(f"longest error line: {longest[0]:,} characters ({longest[1]})" if longest[0] else "")
    print(f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()

"""``judgeaudit judge``: run judges over a generations table into a verdicts table.

    judgeaudit judge --generations gens.parquet --prompts prompts.parquet \\
        --judge refusal_keyword --judge llama_guard:model=models/guard,threshold=0.3 \\
        --out verdicts.parquet

Resumable: a rerun skips every (item_id, judge_id) already in ``--out``.  A summary
goes to stdout (``--json`` for JSON); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["register"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "judge", help="run automated judges over generations (resumable)",
        description="Run judges over a generations table and write a verdicts table. "
                    "A judge is NAME[:opt=val,...] (values read as JSON when they parse, e.g. "
                    "threshold=0.3, mode=generate, labels={\"yes\":\"harmful\"}), or a TOML file "
                    "(--judge-config) with name = ... and options, or [[judge]] tables.")
    p.add_argument("--list", action="store_true", help="list the judges and built-in templates, then exit")
    p.add_argument("--generations", type=Path, help="generations table (parquet, jsonl, csv)")
    p.add_argument("--prompts", type=Path, help="prompts table; without it judges see an empty request")
    p.add_argument("--judge", action="append", default=[], metavar="NAME[:opt=val,...]",
                   help="a judge to run (repeatable)")
    p.add_argument("--judge-config", type=Path, metavar="FILE.toml",
                   help="judge options from TOML; with one --judge NAME, its options are merged "
                        "(command-line options win)")
    p.add_argument("--out", type=Path, help="verdicts table to write or resume")
    p.add_argument("--batch-size", type=int, default=16, help="items per judge call (default 16)")
    p.add_argument("--chunk-size", type=int, default=256, help="items between two writes of --out (default 256)")
    p.add_argument("--retry-errors", action="store_true", help="judge again rows whose status is error")
    p.add_argument("--encoding", default=None, help="text encoding of CSV input")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=_run)


def _list(as_json: bool) -> int:
    from judgeaudit.judges import available_judges, builtin_templates

    listing = {"judges": available_judges(), "templates": [f"builtin:{t}" for t in builtin_templates()]}
    if as_json:
        print(json.dumps(listing, indent=2))
    else:
        print("judges: " + ", ".join(listing["judges"]))
        print("built-in templates: " + ", ".join(listing["templates"]))
    return 0


def _run(args: argparse.Namespace) -> int:
    from judgeaudit.errors import ConfigError
    from judgeaudit.judges import build_judges, judge_to_file
    from judgeaudit.tables import read_table

    if args.list:
        return _list(args.json)
    missing = [name for name, value in (("--generations", args.generations), ("--out", args.out)) if value is None]
    if missing:
        raise ConfigError(f"judgeaudit judge needs {' and '.join(missing)} (or --list)")

    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    generations = read_table(args.generations, "generations", encoding=args.encoding)
    prompts = read_table(args.prompts, "prompts", encoding=args.encoding) if args.prompts else None
    if prompts is None:
        log("no --prompts given: the judges see an empty request for every item")
    judges = build_judges(args.judge, args.judge_config)
    summary = judge_to_file(judges, generations, args.out, prompts, batch_size=args.batch_size,
                            chunk_size=args.chunk_size, retry_errors=args.retry_errors, progress=log)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print(f"wrote {summary.out}")
        for judge_id, statuses in summary.status_counts.items():
            done = summary.judged.get(judge_id, 0)
            labels = ", ".join(f"{k} {v}" for k, v in summary.label_counts.get(judge_id, {}).items())
            status = ", ".join(f"{k} {v}" for k, v in statuses.items())
            print(f"{judge_id}: judged {done} now; status: {status}; labels: {labels or 'none'}")
    return 0

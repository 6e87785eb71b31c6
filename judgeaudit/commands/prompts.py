"""``judgeaudit prompts list|show|export``: browse prompt sets and attacks, write prompts tables.

    judgeaudit prompts list
    judgeaudit prompts show harmful --split drugs --attacks none,role_play --limit 4
    judgeaudit prompts export xstest --path xstest_prompts.csv --attacks none,few_shot \\
        --attack-template my_attack.txt --out prompts.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ._shared import csv_list as _csv_list

__all__ = ["register"]


def _add_source(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="prompt set name (see `judgeaudit prompts list`) or a prompts file")
    p.add_argument("--path", type=Path, default=None,
                   help="local copy of the set (file or folder) instead of data/ or the hub")
    p.add_argument("--split", default=None,
                   help="category (project sets), standard|contextual|copyright (harmbench), "
                        "safe|unsafe (xstest), harmful|benign (jbb_behaviors)")
    p.add_argument("--encoding", default=None, help="text encoding of CSV/JSON input (default UTF-8)")
    p.add_argument("--attacks", type=_csv_list, default=["none"], metavar="A1,A2",
                   help="attacks to apply; 'none' keeps the plain prompts (default: none)")
    p.add_argument("--per-category", type=int, default=None, metavar="N",
                   help="keep N prompts of each category (seeded; before attacks)")
    p.add_argument("--sample", type=int, default=None, metavar="N",
                   help="keep N prompts in all (seeded; before attacks)")
    p.add_argument("--seed", type=int, default=0, help="seed of --per-category / --sample (default 0)")
    p.add_argument("--attack-template", type=Path, action="append", default=[], metavar="FILE",
                   help="add an attack from a text file holding {prompt}; its name is the file "
                        "stem (repeatable)")


def register(subparsers) -> None:
    p = subparsers.add_parser("prompts", help="list, show and export prompt sets and attacks",
                              description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="prompts_command", required=True)
    ls = sub.add_parser("list", help="the prompt sets and attacks available")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(handler=_list)
    show = sub.add_parser("show", help="print the prompts of a set (after attacks)")
    _add_source(show)
    show.add_argument("--limit", type=int, default=10, help="rows to print (default 10; 0 = all)")
    show.add_argument("--json", action="store_true", help="print the rows as JSON")
    show.set_defaults(handler=_show)
    ex = sub.add_parser("export", help="write a prompts table (.jsonl, .csv or .parquet)")
    _add_source(ex)
    ex.add_argument("--out", type=Path, required=True, help="output file; the suffix picks the format")
    ex.add_argument("--json", action="store_true", help="print the summary as JSON")
    ex.set_defaults(handler=_export)


def _table(args):
    from judgeaudit.prompts import apply_attacks, load_prompt_set, sample_prompts, wrapper_from_file

    plain = load_prompt_set(args.name, path=args.path, split=args.split, encoding=args.encoding)
    if args.per_category is not None or args.sample is not None:
        plain = sample_prompts(plain, per_category=args.per_category, n=args.sample, seed=args.seed)
    attacks = list(args.attacks) + [wrapper_from_file(f) for f in args.attack_template]
    return apply_attacks(plain, attacks)


def _records(df) -> list:
    import pandas as pd

    def plain(v):
        if v is None or v is pd.NA or (isinstance(v, float) and v != v):
            return None
        return v.item() if hasattr(v, "item") else v

    return [{k: plain(v) for k, v in rec.items()} for rec in df.to_dict(orient="records")]


def _list(args) -> int:
    from judgeaudit.prompts import available_attacks, available_prompt_sets, get_wrapper, prompt_set_info

    sets = [prompt_set_info(n) for n in available_prompt_sets()]
    attacks = [("none", "the plain prompt, unchanged")] + [
        (n, get_wrapper(n).description) for n in available_attacks() if n != "none"]
    if args.json:
        doc = {"prompt_sets": [{"name": s.name, "kind": s.kind, "description": s.description,
                                "splits": list(s.splits), "hub_id": s.hub_id,
                                "files": list(s.files), "url": s.url} for s in sets],
               "attacks": [{"name": n, "description": d} for n, d in attacks]}
        print(json.dumps(doc, indent=2))
        return 0
    print("prompt sets:")
    for s in sets:
        extra = f" [hub: {s.hub_id}]" if s.hub_id else ""
        print(f"  {s.name:<18} {s.kind:<9} {s.description}{extra}")
    print("attacks:")
    for n, d in attacks:
        print(f"  {n:<20} {d}")
    return 0


def _show(args) -> int:
    table = _table(args)
    rows = table if args.limit <= 0 else table.head(args.limit)
    if args.json:
        print(json.dumps(_records(rows), indent=2, ensure_ascii=False))
        return 0
    for rec in _records(rows):
        flag = {True: "harmful", False: "benign", None: "?"}[rec["is_harmful_request"]]
        print(f"== {rec['prompt_id']}  [{rec['attack']}, {rec['category'] or '-'}, {flag}]")
        print(rec["text"])
        print()
    print(f"({len(rows)} of {len(table)} rows)", file=sys.stderr)
    return 0


def _export(args) -> int:
    from judgeaudit.tables import write_table

    table = _table(args)
    path = write_table(table, args.out, "prompts")
    summary = {"out": str(path), "rows": len(table),
               "by_attack": {str(k): int(v) for k, v in table["attack"].value_counts(sort=False).items()},
               "harmful_requests": int(table["is_harmful_request"].fillna(False).sum())}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        by = ", ".join(f"{k} {v}" for k, v in summary["by_attack"].items())
        print(f"wrote {summary['rows']} prompts to {path} ({by})")
    return 0

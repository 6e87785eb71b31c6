"""``judgeaudit stress``: how often does a judge's verdict flip when only the form changes?

    judgeaudit stress --dataset jailbreakbench --path ../shared/data/jailbreakbench \\
        --judge refusal_keyword --judge refusal_prefix --out runs/stress
    judgeaudit stress --labels labels.parquet --generations gens.parquet --prompts prompts.parquet \\
        --judge llama_guard:model=models/guard,batch_size=8 --perturbation apology_prefix --out runs/stress

Writes stress.json, stress.md, stress.html, the perturbed answers (perturbed.jsonl) and the
verdicts (stress_verdicts.parquet; a rerun skips what is already judged) into ``--out``.
The markdown summary goes to stdout (``--json``: stress.json); logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ._shared import add_dataset_options, csv_list, load_named_dataset

__all__ = ["register", "load_stress_tables"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "stress", help="stress-test judges: verdict flips under label-preserving changes of form",
        description="Apply label-preserving perturbations (an apology before a harmful answer, an "
                    "affirmative opening before a refusal, loops, noise, homoglyphs, ...) to labelled "
                    "answers and count how often each judge's verdict flips. Input as for `judgeaudit "
                    "audit`: a public dataset (--dataset NAME --path FILE), a labelled CSV (--dataset csv), "
                    "the sample campaign (--dataset sample) or the project's tables (--labels, --generations).")
    p.add_argument("--list", action="store_true", help="list the perturbations and judges, then exit")
    src = p.add_argument_group("input")
    m = p.add_argument_group("column mapping (--dataset csv)")
    add_dataset_options(src, m)
    src.add_argument("--labels", type=Path, help="labels table (parquet, jsonl or csv)")
    src.add_argument("--generations", type=Path, help="generations table (the answers to perturb)")
    src.add_argument("--prompts", type=Path, help="prompts table (the judges see each request)")
    src.add_argument("--field", default=None, help="label field the perturbations must keep (default harmfulness)")
    src.add_argument("--positive", type=csv_list, default=None, help="values of the field that count as positive")
    j = p.add_argument_group("judges and perturbations")
    j.add_argument("--judge", action="append", default=[], metavar="NAME[:opt=val,...]",
                   help="a judge to stress (repeatable), as for `judgeaudit judge`")
    j.add_argument("--judges", type=csv_list, default=[], metavar="J1,J2", help="built-in judges by name")
    j.add_argument("--judge-config", type=Path, metavar="FILE.toml", help="judges from a TOML file")
    j.add_argument("--perturbation", action="append", default=[], metavar="NAME[:opt=val,...]",
                   help="a perturbation (repeatable; default: all of them)")
    j.add_argument("--batch-size", type=int, default=16, help="items per judge call (default 16)")
    s = p.add_argument_group("statistics")
    s.add_argument("--seed", type=int, default=0, help="seed of the perturbations' random choices (default 0)")
    s.add_argument("--confidence", type=float, default=0.95, help="interval coverage (default 0.95)")
    s.add_argument("--cluster-key", default="prompt_id",
                   help="generations column whose values are clusters; 'none' = independent items")
    s.add_argument("--reference", default=None, metavar="ANNOTATOR", help="this annotator's labels as the reference")
    s.add_argument("--tie-policy", default="unresolved", choices=["unresolved", "positive", "negative"],
                   help="what a tied human majority on the field becomes (default: left out)")
    s.add_argument("--examples", type=int, default=3, help="flipped examples per judge and perturbation (default 3)")
    s.add_argument("--max-items", type=int, default=None, help="use at most N labelled answers (a seeded choice)")
    p.add_argument("--out", type=Path, help="output folder")
    p.add_argument("--json", action="store_true", help="print stress.json to stdout instead of the summary")
    p.set_defaults(handler=_run)


def load_stress_tables(args):
    """The labelled table named by the input options (as ``judgeaudit audit`` reads them)."""
    from judgeaudit import tables
    from judgeaudit.errors import ConfigError

    if args.dataset and (args.labels or args.generations):
        raise ConfigError("give either --dataset/--path or --labels/--generations, not both")
    if args.dataset:
        return load_named_dataset(args)
    if not (args.labels and args.generations):
        raise ConfigError("give --dataset NAME --path FILE, or --labels F and --generations F "
                          "(the stress test perturbs the answers, so it needs their text)")
    return tables.tables_from_files(
        labels=args.labels, verdicts=None, generations=args.generations, prompts=args.prompts,
        field=args.field or "harmfulness", positive=tuple(args.positive) if args.positive else None,
        encoding=args.encoding)


def _list(as_json: bool) -> int:
    from judgeaudit.judges import available_judges
    from judgeaudit.stress import available_perturbations, get_perturbation

    perturbations = [get_perturbation(n).to_dict() for n in available_perturbations()]
    if as_json:
        print(json.dumps({"perturbations": perturbations, "judges": available_judges()}, indent=2))
        return 0
    for p in perturbations:
        keeps = "; ".join(f"{f}: {'any' if v is None else ', '.join(v)}" for f, v in p["keeps"].items())
        options = ", ".join(f"{k}={json.dumps(v)[:40]}" for k, v in p["params"].items()) or "none"
        print(f"{p['name']}: {p['description']}\n    keeps {keeps}\n    options {options}")
    print("judges: " + ", ".join(available_judges()))
    return 0


def _run(args: argparse.Namespace) -> int:
    from judgeaudit.judges import build_judges
    from judgeaudit.errors import ConfigError
    from judgeaudit.stress import run_stress
    from judgeaudit.stress.report import render_stress_markdown, write_stress

    if args.list:
        return _list(args.json)
    if args.out is None:
        raise ConfigError("judgeaudit stress needs --out DIR (or --list)")
    if args.examples < 0:
        raise ConfigError(f"--examples must be 0 or more, got {args.examples}")
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    tbl = load_stress_tables(args)
    judges = build_judges(list(args.judge) + list(args.judges), args.judge_config)
    cluster_key = None if str(args.cluster_key).lower() == "none" else args.cluster_key
    result = run_stress(tbl, judges, args.perturbation or None, seed=args.seed, batch_size=args.batch_size,
                        confidence=args.confidence, cluster_key=cluster_key, reference=args.reference,
                        tie_policy=args.tie_policy, examples=args.examples, max_items=args.max_items,
                        verdicts_path=args.out / "stress_verdicts.parquet",
                        perturbed_path=args.out / "perturbed.jsonl", progress=log)
    paths = write_stress(result, args.out)
    log("wrote " + ", ".join(str(p) for p in [*paths.values(), args.out / "perturbed.jsonl"]))
    if args.json:
        print(json.dumps(result, indent=2, allow_nan=False, ensure_ascii=False))
    else:
        print(render_stress_markdown(result), end="")
    return 0

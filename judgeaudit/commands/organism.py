"""``judgeaudit organism``: the model organism for the stage-by-stage walkthrough.

    judgeaudit organism build --out models/base       # trained once (cached), copied to models/base
    judgeaudit organism prompts --out prompts/         # its evaluation prompts (harmful.jsonl, benign.jsonl)
    judgeaudit organism label --sample runs/sample.parquet --generations G --prompts P --out labels.parquet
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

__all__ = ["register"]


def register(subparsers) -> None:
    p = subparsers.add_parser("organism", help="the model organism: a small assistant trained offline on a synthetic "
                                               "world with known ground truth (docs/organism.md)")
    sub = p.add_subparsers(dest="organism_command", required=True)
    b = sub.add_parser("build", help="train the organism once (cached) and copy it, with its judge, to --out")
    b.add_argument("--out", type=Path, required=True, help="folder for the model (its judge goes in OUT/judge)")
    b.add_argument("--json", action="store_true")
    b.set_defaults(handler=_build)
    w = sub.add_parser("prompts", help="write the evaluation prompts (held-out fictional hazards and look-alikes)")
    w.add_argument("--out", type=Path, required=True, help="folder for harmful.jsonl and benign.jsonl")
    w.set_defaults(handler=_prompts)
    lab = sub.add_parser("label", help="label a sample with simulated annotators from the world's ground truth")
    lab.add_argument("--sample", type=Path, required=True, help="sample table from `annotate sample`")
    lab.add_argument("--generations", type=Path, required=True, help="generations table")
    lab.add_argument("--prompts", type=Path, default=None,
                     help="prompts table: the ground truth reads the request (without it a bare number always parses)")
    lab.add_argument("--annotators", type=int, default=3, help="size of the simulated pool (default 3)")
    lab.add_argument("--seed", type=int, default=0)
    lab.add_argument("--out", type=Path, required=True, help="labels table to write (.parquet, .jsonl, .csv)")
    lab.set_defaults(handler=_label)


def _build(args) -> int:
    from judgeaudit.organism import build_organism

    folder = build_organism()
    shutil.copytree(folder, args.out, dirs_exist_ok=True)
    info = json.loads((folder / "organism.json").read_text(encoding="utf-8"))
    out = {"model": str(args.out), "judge": str(args.out / "judge"), "hash": info["hash"], "cache": str(folder)}
    print(json.dumps(out, indent=2) if args.json else
          f"model organism {info['hash']} -> {args.out} (judge: {args.out / 'judge'}; cached in {folder})")
    return 0


def _prompts(args) -> int:
    from judgeaudit.organism.world import write_eval_prompts

    for path in write_eval_prompts(args.out):
        print(path)
    return 0


def _label(args) -> int:
    from judgeaudit.organism import SimulatedAnnotators, simulate_labels
    from judgeaudit.tables import read_sample_table, read_table, write_table

    gens = read_table(args.generations, "generations")
    sample = read_sample_table(args.sample)
    items = gens[gens["item_id"].isin(sample["item_id"])][["item_id", "prompt_id", "response"]]
    if args.prompts:  # the ground truth reads the request (a bare number answers only a sum)
        text = read_table(args.prompts, "prompts").set_index("prompt_id")["text"]
        items = items.assign(prompt=items["prompt_id"].map(text))
    if "n_annotators" in sample.columns:
        items = items.merge(sample.drop_duplicates("item_id")[["item_id", "n_annotators"]], on="item_id", how="left")
    sim = SimulatedAnnotators.from_options({"annotators": args.annotators, "seed": args.seed}, where="--annotators")
    labels = simulate_labels(items, sim)
    write_table(labels, args.out, "labels")
    print(f"{labels['item_id'].nunique()} items, {len(labels)} labels by {sim.describe()} -> {args.out}",
          file=sys.stderr)
    return 0

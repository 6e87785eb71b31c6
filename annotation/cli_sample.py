"""``judgeaudit annotate sample``: choose what people label.

    judgeaudit annotate sample --generations G --verdicts V [--coherence C] [--prompts P]
        --budget 300 [--overlap-k 3 --overlap-n 30] [--gold gold.jsonl] --seed 0 --out sample.parquet
    judgeaudit annotate sample --next --previous sample.parquet --labels L
        --generations G --verdicts V --budget 100 --out sample.parquet

The sample table goes to ``--out`` (atomically); a per-stratum summary goes to
stdout (``--json`` for JSON), progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from judgeaudit.errors import ConfigError

__all__ = ["register_sample"]


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _factors(text: str) -> dict:
    out = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise argparse.ArgumentTypeError(f"expected NAME=FACTOR pairs such as incoherent=3,disputed=3; "
                                             f"got {part!r}")
    return out


def register_sample(subparsers) -> None:
    """Add ``sample`` to the ``annotate`` subparsers."""
    from .sampling import ALLOCATIONS, DEFAULT_OVERSAMPLE, STRATA_PARTS
    from .sampling_next import NEXT_TARGETS

    p = subparsers.add_parser(
        "sample", help="choose the items to label (stratified, oversampling incoherent and disputed items)",
        description="Draw a stratified sample of coherence bin x judge disagreement x group, recording each "
                    "item's inclusion probability for a weighted audit (judgeaudit audit --weights). "
                    "With --next, draw the next batch where the audit's intervals are widest.")
    src = p.add_argument_group("input")
    src.add_argument("--generations", type=Path, required=True, help="generations table (the population)")
    src.add_argument("--verdicts", type=Path, default=None, help="judge verdicts (for the disagreement strata)")
    src.add_argument("--coherence", type=Path, default=None,
                     help="coherence table (default: score with the built-in degeneracy scorer)")
    src.add_argument("--coherence-scorer", default=None, help="scorer_id of the coherence table to use")
    src.add_argument("--prompts", type=Path, default=None,
                     help="prompts table (prompt text for the tasks and the degeneracy scorer's echo feature)")
    src.add_argument("--field", default="harmfulness", help="label field the judges decide (default harmfulness)")
    src.add_argument("--group-key", default="checkpoint_id",
                     help="generations column naming the group (default checkpoint_id; 'none' for one group)")
    d = p.add_argument_group("design")
    d.add_argument("--by", default=",".join(STRATA_PARTS),
                   help="what strata are made of, comma-separated (default " + ",".join(STRATA_PARTS)
                        + "); drop a part when the budget cannot cover every combination; 'verdict' in "
                          "place of 'disagreement' splits by one judge's verdict (--verdict-judge)")
    d.add_argument("--verdict-judge", default=None,
                   help="with --by ...,verdict,...: the judge whose verdict splits the strata (default: first by name)")
    d.add_argument("--budget", type=int, required=True, help="items to label in this batch (gold on top)")
    d.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    d.add_argument("--allocation", choices=ALLOCATIONS, default="neyman",
                   help="neyman: n_h ~ N_h x factor (default); proportional: ~ N_h; equal")
    d.add_argument("--oversample", type=_factors, default=None, metavar="NAME=F,...",
                   help="oversampling factors by coherence bin / disagreement level (default "
                        + ",".join(f"{k}={v:g}" for k, v in DEFAULT_OVERSAMPLE.items()) + ")")
    d.add_argument("--min-per-stratum", type=int, default=2, help="items from every non-empty stratum (default 2)")
    d.add_argument("--overlap-k", type=int, default=3, help="annotators per overlap item (default 3)")
    d.add_argument("--overlap-n", type=int, default=None, help="overlap items (default 10%% of the budget)")
    d.add_argument("--gold", type=Path, default=None,
                   help="gold control items with known answers (response + harmfulness/refusal/coherence columns)")
    n = p.add_argument_group("next batch (--next)")
    n.add_argument("--next", action="store_true", help="add a batch where the audit's intervals are widest")
    n.add_argument("--previous", type=Path, default=None, help="the sample table so far")
    n.add_argument("--labels", type=Path, default=None, help="the labels pulled so far")
    n.add_argument("--targets", default=",".join(NEXT_TARGETS),
                   help="intervals to narrow: accuracy (each judge in each coherence bin), rate (human harmful "
                        "rate per group); default both. 'corrected' alone: Neyman allocation minimising the "
                        "variance of the groups' corrected rates (use with --by coherence,verdict,group)")
    n.add_argument("--audit-n-boot", type=int, default=200,
                   help="bootstrap resamples of the weighted audit run on the labels so far, whose current "
                        "interval widths are shown beside the model's (default 200; 0 skips it)")
    p.add_argument("--out", type=Path, required=True, help="sample table to write (.parquet, .jsonl, .csv)")
    p.add_argument("--force", action="store_true",
                   help="overwrite an existing --out (other than --previous, which --next always updates)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=_sample)


def _read_inputs(args):
    from judgeaudit.tables import Task, read_records, read_table

    gens = read_table(args.generations, "generations")
    known = set(gens["item_id"])
    verdicts = read_table(args.verdicts, "verdicts", known_item_ids=known) if args.verdicts else None
    coherence = read_table(args.coherence, "coherence", known_item_ids=known) if args.coherence else None
    prompts = read_table(args.prompts, "prompts") if args.prompts else None
    gold = None
    if args.gold:
        from .sampling import read_gold

        gold = read_gold(read_records(args.gold), path=args.gold)
    return gens, verdicts, coherence, prompts, gold, Task.for_field(args.field)


def _with_prompt_text(sample, gens, prompts):
    """Add the prompt text, so that ``annotate push --items`` can take the sample as it is."""
    text = dict(zip(prompts["prompt_id"], prompts["text"])) if prompts is not None and len(prompts) else {}
    if "prompt" in gens:
        text.update(zip(gens["prompt_id"], gens["prompt"]))
    if not text:
        return sample
    mapped = sample["prompt_id"].map(text)
    sample = sample.copy()
    sample["prompt"] = mapped.where(mapped.notna(), sample["prompt"]) if "prompt" in sample else mapped
    return sample


def _sample(args) -> int:
    from judgeaudit.tables import read_sample_table, write_sample_table

    from .sampling import DEFAULT_OVERSAMPLE, SamplingConfig, design_strata, draw_sample, stratum_summary

    if args.next and not (args.previous and args.labels):
        raise ConfigError("--next needs --previous SAMPLE (the sample so far) and --labels LABELS (pulled)")
    if not args.next and (args.previous or args.labels):
        raise ConfigError("--previous and --labels are for --next; add --next, or leave them out")
    updating = args.next and args.previous and Path(args.previous).resolve() == Path(args.out).resolve()
    if Path(args.out).exists() and not (updating or args.force):
        raise ConfigError(f"{args.out} exists: a sample table records how items were drawn, and the weighted "
                          "audit needs it; add a batch with --next --previous it, or pass --force to overwrite")
    gens, verdicts, coherence, prompts, gold, task = _read_inputs(args)
    oversample = dict(DEFAULT_OVERSAMPLE) if args.oversample is None else args.oversample
    cfg = SamplingConfig(budget=args.budget, seed=args.seed, allocation=args.allocation, oversample=oversample,
                         min_per_stratum=args.min_per_stratum, overlap_k=args.overlap_k, overlap_n=args.overlap_n)
    group_key = None if str(args.group_key).lower() == "none" else args.group_key
    strata = design_strata(gens, verdicts, coherence=coherence, prompts=prompts, task=task,
                           scorer_id=args.coherence_scorer, group_key=group_key,
                           by=tuple(b.strip() for b in args.by.split(",") if b.strip()),
                           verdict_judge=args.verdict_judge)
    _log(f"{len(strata)} items in {strata['stratum'].nunique()} strata (coherence from "
         f"{strata.attrs['coherence_source']}; {strata.attrs['n_failed']} failed generation(s) left out)")
    extra = {}
    if args.next:
        from judgeaudit.tables import read_table

        from .sampling_next import next_sample

        previous = read_sample_table(args.previous)
        labels = read_table(args.labels, "labels")
        targets = [t.strip() for t in args.targets.split(",") if t.strip()]
        sample = next_sample(strata, previous, labels, verdicts, budget=args.budget, seed=args.seed, task=task,
                             targets=targets, overlap_k=args.overlap_k, overlap_n=args.overlap_n, gold=gold,
                             audit_n_boot=args.audit_n_boot)
        if sample.attrs["n_moved"]:
            _log(f"warning: {sample.attrs['n_moved']} earlier item(s) would fall in another stratum now; "
                 "they keep the stratum they were drawn from")
        if sample.attrs["n_pending"]:
            _log(f"note: {sample.attrs['n_pending']} earlier item(s) have no resolved label yet; they count as "
                 "labelled-to-come in the plan (pull first if their labels are in)")
        extra["widths"] = sample.attrs["widths"].to_dict(orient="records")
        extra["round"] = sample.attrs["round"]
    else:
        sample = draw_sample(strata, cfg, gold=gold)
        extra["round"] = 1
    sample = _with_prompt_text(sample, gens, prompts)
    write_sample_table(sample, args.out)
    summary = stratum_summary(sample)
    new = sample[sample["round"] == extra["round"]]
    result = {"out": str(args.out), "round": extra["round"], "n_new": int(len(new)),
              "n_total": int(len(sample)), "n_gold": int(sample["is_gold"].sum()),
              "n_overlap_new": int(new["overlap"].sum()), "strata": summary.to_dict(orient="records"),
              **({"widths": extra["widths"]} if "widths" in extra else {})}
    _log(f"wrote {args.out}: {result['n_new']} new item(s) in round {result['round']} "
         f"({result['n_total']} in all, {result['n_gold']} gold)")
    if args.json:
        print(json.dumps(_nan_to_none(result), indent=2, default=str, allow_nan=False))
    else:
        print(_text(summary, extra.get("widths")))
    return 0


def _nan_to_none(obj):
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_nan_to_none(v) for v in obj]
    return obj


def _text(summary, widths) -> str:
    lines = [f"{'stratum':<50} {'N_h':>6} {'n_h':>6} {'pi':>7} {'new':>5} {'overlap':>7}"]
    for r in summary.to_dict(orient="records"):
        lines.append(f"{r['stratum'][:50]:<50} {r['stratum_size']:>6} {r['stratum_sampled']:>6} "
                     f"{r['inclusion_probability']:>7.3f} {r['new']:>5} {r['overlap']:>7}")
    if widths:
        now = "audit_half_width" in widths[0]
        head = f"{'interval (half-width)':<50} {'before':>8} {'after':>8}"
        lines += ["", head + (f" {'audit now':>9}" if now else "")]
        fmt = lambda v: "   n/a  " if v is None or v != v else f"{v:8.3f}"  # noqa: E731
        known = lambda v: v is not None and v == v  # noqa: E731
        for w in sorted(widths, key=lambda w: (not known(w["half_width_before"]),
                                               -w["half_width_before"] if known(w["half_width_before"]) else 0,
                                               w["target"])):
            cells = [fmt(w["half_width_before"]), fmt(w["half_width_after"])]
            cells += [fmt(w["audit_half_width"])] if now else []
            lines.append(f"{w['target'][:50]:<50} " + " ".join(cells))
    return "\n".join(lines)

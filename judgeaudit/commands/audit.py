"""``judgeaudit audit``: audit judges against human labels and write a report.

    judgeaudit audit --dataset jailbreakbench --path judge-comparison.csv --encoding mac_roman --out runs/jbb
    judgeaudit audit --dataset csv --path mine.csv --response-col response --human-cols h1,h2 \\
        --judge-cols judge --out runs/mine
    judgeaudit audit --labels labels.parquet --verdicts verdicts.parquet --generations gens.parquet --out runs/a

The summary goes to stdout (``--json`` for audit.json); progress to stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from judgeaudit.errors import ConfigError
from judgeaudit.safe_read import check_encoding, check_output_dir

from ._shared import add_dataset_options, csv_list, load_named_dataset, log

__all__ = ["register", "add_audit_options", "add_builtin_judges", "audit_and_write"]


def add_audit_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("statistics")
    g.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples (default 1000)")
    g.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    g.add_argument("--confidence", type=float, default=0.95, help="interval coverage (default 0.95)")
    g.add_argument("--cluster-key", default="prompt_id",
                   help="generations column resampled as clusters; 'none' resamples items (default prompt_id)")
    g.add_argument("--tie-policy", default="unresolved", choices=["unresolved", "positive", "negative"],
                   help="what a tied human majority becomes (default: unresolved, left out and counted)")
    g.add_argument("--reference", default=None, metavar="ANNOTATOR",
                   help="use this annotator's label as the reference instead of the majority (e.g. final)")
    g.add_argument("--strata", default="auto",
                   choices=["auto", "column", "human", "coherence", "degeneracy", "none"],
                   help="where coherence strata come from (default auto)")
    g.add_argument("--coherence-scorer", default=None, help="scorer_id of the coherence table to stratify by")
    g.add_argument("--group-key", default="checkpoint_id",
                   help="generations column naming each item's group for conclusion robustness; 'none' turns it off")
    g.add_argument("--alt-test-epsilon", type=float, default=0.2, metavar="EPS",
                   help="margin of the alternative annotator test (Calderon et al. 2025): 0.2 expert, "
                        "0.15 skilled, 0.1 crowd annotators (default 0.2)")
    g.add_argument("--weights", type=Path, default=None, metavar="SAMPLE",
                   help="sample table of `annotate sample`: weight labelled items by 1/inclusion probability "
                        "so metrics estimate the whole population; its gold items are left out")
    g.add_argument("--stress", type=Path, default=None, metavar="STRESS.json",
                   help="add the section of a `judgeaudit stress` result (its stress.json) to the report")
    g.add_argument("--correction", default="double-sampling",
                   choices=["double-sampling", "double-sampling-pooled", "stratified-rogan-gladen",
                            "pooled-rogan-gladen"],
                   help="estimator of the corrected harmful rates (default double-sampling; see docs/inference.md)")
    g.add_argument("--judges", type=csv_list, default=None, metavar="J1,J2",
                   help="also run these built-in judges over the responses (e.g. refusal_keyword,refusal_prefix)")
    p.add_argument("--out", required=True, type=Path, help="output folder for audit.json, report.html, summary.md")
    p.add_argument("--json", action="store_true", help="print audit.json to stdout instead of the summary")


def register(subparsers) -> None:
    a = subparsers.add_parser("audit", help="audit judges against human labels and write a report",
                       description="Audit judges against human labels. Either a public dataset "
                                   "(--dataset NAME --path FILE), any labelled CSV/JSONL "
                                   "(--dataset csv --path FILE --response-col ... --human-cols ...), "
                                   "or the project's own tables (--labels F --verdicts F ...).")
    src = a.add_argument_group("input")
    m = a.add_argument_group("column mapping (--dataset csv)")
    add_dataset_options(src, m)
    m.add_argument("--judge-cols", type=csv_list, default=[])
    m.add_argument("--stratum-col")
    src.add_argument("--human-labels", type=Path, default=None,
                     help="human labels for another tool's output: CSV/JSONL with an 'id' column "
                          "(the tool's item key, see docs/interop.md) and one column per annotator")
    src.add_argument("--labels", type=Path, help="labels table (parquet, jsonl or csv)")
    src.add_argument("--verdicts", type=Path, help="verdicts table")
    src.add_argument("--coherence", type=Path, help="coherence table")
    src.add_argument("--generations", type=Path, help="generations table")
    src.add_argument("--prompts", type=Path, help="prompts table")
    src.add_argument("--field", default=None, help="label field to audit (default harmfulness)")
    src.add_argument("--positive", type=csv_list, default=None,
                     help="values of the field that count as positive (default: the field's usual one)")
    t = a.add_argument_group("other tools' outputs (docs/interop.md)")
    t.add_argument("--score-threshold", type=float, default=None, metavar="X",
                   help="a score >= X is positive (strongreject and inspect default 0.5; garak: the "
                        "report's run.eval_threshold)")
    t.add_argument("--score-positive", type=csv_list, default=None, metavar="V1,V2",
                   help="inspect: score values meaning positive (default C)")
    t.add_argument("--score-negative", type=csv_list, default=None, metavar="V1,V2",
                   help="inspect: score values meaning negative (default I)")
    t.add_argument("--human-metadata", default=None, metavar="KEY",
                   help="inspect: sample metadata key holding a human label")
    t.add_argument("--score-edits", default=None, choices=["human", "final", "ignore"],
                   help="inspect: hand-edited scores are human labels (default), the final "
                        "verdict, or ignored")
    add_audit_options(a)
    a.set_defaults(handler=_run)



def _run(args) -> int:
    _audit_config(args)
    check_output_dir(args.out)
    check_encoding(args.encoding)
    tbl = _load_tables(args)
    if args.judges:
        tbl = add_builtin_judges(tbl, args.judges)
    elif tbl.verdicts.empty and args.dataset and args.dataset.lower() == "gptfuzz":
        from judgeaudit.datasets import SAMPLE_JUDGES

        log("gptfuzz ships no judge verdicts: running the built-in keyword judges")
        tbl = add_builtin_judges(tbl, SAMPLE_JUDGES)
    audit_and_write(tbl, args, dataset=args.dataset or "tables")
    return 0


def _tool_options(name: str, args) -> dict:
    """Loader options of the other-tools group, refused where the dataset has no use for them."""
    threshold = getattr(args, "score_threshold", None)
    inspect_only = {"--score-positive": getattr(args, "score_positive", None),
                    "--score-negative": getattr(args, "score_negative", None),
                    "--human-metadata": getattr(args, "human_metadata", None),
                    "--score-edits": getattr(args, "score_edits", None)}
    if name != "inspect":
        given = [k for k, v in inspect_only.items() if v]
        if given:
            raise ConfigError(f"{', '.join(given)} only apply to --dataset inspect")
        if threshold is None:
            return {}
        if name not in ("strongreject", "garak"):
            raise ConfigError("--score-threshold applies to --dataset strongreject, garak or inspect")
        return {"threshold": threshold}
    from judgeaudit.datasets import ScoreMapping

    if args.encoding:
        raise ConfigError("--encoding does not apply to Inspect logs (inspect_ai reads them)")
    out = {}
    if threshold is not None or args.score_positive or args.score_negative:
        out["mapping"] = ScoreMapping(positive=tuple(args.score_positive or ("C",)),
                                      negative=tuple(args.score_negative or ("I",)),
                                      threshold=0.5 if threshold is None else threshold)
    if args.human_metadata:
        out["human_metadata"] = args.human_metadata
    if args.score_edits:
        out["edits"] = args.score_edits
    return out


def _dataset_options(name, args) -> dict:
    """``audit``'s own loader options: other tools' score mappings, ``--human-labels``, and
    XSTest's ``final_label`` when it is the reference."""
    kwargs = dict(_tool_options(name, args))
    if args.human_labels is not None:
        if name not in ("jailbreakeval", "harmbench", "strongreject", "garak", "inspect"):
            raise ConfigError("--human-labels joins labels to another tool's output: use it with "
                              "--dataset jailbreakeval, harmbench, strongreject, garak or inspect")
        kwargs["labels_path"] = args.human_labels
    if name == "xstest" and args.reference:
        kwargs["reference"] = "all"  # load final_label too, so it can serve as the reference
    return kwargs


def _load_tables(args):
    from judgeaudit import tables

    if args.dataset and (args.labels or args.verdicts):
        raise ConfigError("give either --dataset/--path or --labels/--verdicts, not both")
    if args.dataset:
        return load_named_dataset(args, extra_kwargs=lambda name: _dataset_options(name, args))
    if not (args.labels and args.verdicts):
        raise ConfigError("give --dataset NAME --path FILE, or --labels F and --verdicts F")
    return tables.tables_from_files(
        labels=args.labels, verdicts=args.verdicts, generations=args.generations,
        coherence=args.coherence, prompts=args.prompts, field=args.field or "harmfulness",
        positive=tuple(args.positive) if args.positive else None, encoding=args.encoding,
        exclude_items=_sample_design(args)[1])


def _sample_design(args):
    """``(sample table, its gold item ids)`` of ``--weights``, or ``(None, ())``."""
    if getattr(args, "weights", None) is None:
        return None, ()
    from judgeaudit.tables import read_sample_table

    sample = read_sample_table(args.weights)
    return sample, tuple(sample.loc[sample["is_gold"].to_numpy(bool), "item_id"])


def add_builtin_judges(tbl, judge_names):
    import pandas as pd

    from judgeaudit.judges import get_judge, run_judge

    frames = [tbl.verdicts]
    for name in judge_names:
        judge = get_judge(name)
        log(f"judging {len(tbl.generations)} responses with {judge.judge_id}")
        prompts = tbl.prompts if len(tbl.prompts) else None
        frames.append(run_judge(judge, tbl.generations, prompts))
    verdicts = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) \
        else tbl.verdicts
    return dataclasses.replace(tbl, verdicts=verdicts).validate()


def audit_and_write(tbl, args, *, dataset):
    """Audit ``tbl`` with the statistics options of ``args``, write the report to ``args.out``,
    print the summary (or ``--json``) to stdout; returns the audit dict."""
    from judgeaudit.audit import audit_to_dir
    from judgeaudit.report import render_markdown

    cfg = _audit_config(args)
    stress = None
    if getattr(args, "stress", None) is not None:
        from judgeaudit.stress.report import read_stress

        stress = read_stress(args.stress)
    result, _paths = audit_to_dir(tbl, args.out, config=cfg, dataset=dataset,
                                  sample=_sample_design(args)[0], log=log, stress=stress)
    if args.json:
        print(json.dumps(result, indent=2, allow_nan=False))
    else:
        print(render_markdown(result, stress=stress))
    return result


def _audit_config(args):
    """The :class:`AuditConfig` of the statistics options (checked before any work)."""
    from judgeaudit.audit import AuditConfig

    none = lambda v: None if v is None or str(v).lower() == "none" else v  # noqa: E731
    return AuditConfig(n_boot=args.n_boot, seed=args.seed, confidence=getattr(args, "confidence", 0.95),
                      cluster_key=none(getattr(args, "cluster_key", "prompt_id")),
                      tie_policy=getattr(args, "tie_policy", "unresolved"),
                      reference_annotator=getattr(args, "reference", None),
                      strata=getattr(args, "strata", "auto"),
                      coherence_scorer=getattr(args, "coherence_scorer", None),
                      group_key=none(getattr(args, "group_key", "checkpoint_id")),
                      correction=getattr(args, "correction", "double-sampling"),
                      alt_test_epsilon=getattr(args, "alt_test_epsilon", 0.2))

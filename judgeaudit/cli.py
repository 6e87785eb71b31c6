"""The ``judgeaudit`` command: a thin layer over the library.

Results go to stdout (``--json`` for machine-readable output); progress and logs go
to stderr.  Every error the library raises on purpose is printed as one line
(``judgeaudit: error: ...``) with exit status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from .errors import ConfigError, JudgeAuditError

__all__ = ["main", "build_parser"]


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _csv_list(value: str) -> list:
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list, e.g. a,b,c")
    return items


def _add_audit_options(p: argparse.ArgumentParser) -> None:
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
    g.add_argument("--weights", type=Path, default=None, metavar="SAMPLE",
                   help="sample table of `annotate sample`: weight labelled items by 1/inclusion probability "
                        "so metrics estimate the whole population; its gold items are left out")
    g.add_argument("--judges", type=_csv_list, default=None, metavar="J1,J2",
                   help="also run these built-in judges over the responses (e.g. refusal_keyword,refusal_prefix)")
    p.add_argument("--out", required=True, type=Path, help="output folder for audit.json, report.html, summary.md")
    p.add_argument("--json", action="store_true", help="print audit.json to stdout instead of the summary")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="judgeaudit",
        description="Audit automated LLM safety judges against human labels, stratified by "
                    "coherence, and run the loop that produces what is audited: finetune, "
                    "generate, judge, coherence, annotate.")
    parser.add_argument("--version", action="version", version=f"judgeaudit {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    a = sub.add_parser("audit", help="audit judges against human labels and write a report",
                       description="Audit judges against human labels. Either a public dataset "
                                   "(--dataset NAME --path FILE), any labelled CSV/JSONL "
                                   "(--dataset csv --path FILE --response-col ... --human-cols ...), "
                                   "or the project's own tables (--labels F --verdicts F ...).")
    src = a.add_argument_group("input")
    src.add_argument("--dataset", help="jailbreakbench, xstest, gptfuzz, csv, sample, or another "
                                       "tool's output: jailbreakeval, harmbench, strongreject, garak, inspect")
    src.add_argument("--path", type=Path, help="the dataset's file or folder")
    src.add_argument("--human-labels", type=Path, default=None,
                     help="human labels for another tool's output: CSV/JSONL with an 'id' column "
                          "(the tool's item key, see docs/interop.md) and one column per annotator")
    src.add_argument("--encoding", default=None, help="text encoding of CSV input (e.g. mac_roman)")
    src.add_argument("--labels", type=Path, help="labels table (parquet, jsonl or csv)")
    src.add_argument("--verdicts", type=Path, help="verdicts table")
    src.add_argument("--coherence", type=Path, help="coherence table")
    src.add_argument("--generations", type=Path, help="generations table")
    src.add_argument("--prompts", type=Path, help="prompts table")
    src.add_argument("--field", default=None, help="label field to audit (default harmfulness)")
    src.add_argument("--positive", type=_csv_list, default=None,
                     help="values of the field that count as positive (default: the field's usual one)")
    m = a.add_argument_group("column mapping (--dataset csv)")
    m.add_argument("--response-col")
    m.add_argument("--prompt-col")
    m.add_argument("--prompt-id-col")
    m.add_argument("--human-cols", type=_csv_list)
    m.add_argument("--judge-cols", type=_csv_list, default=[])
    m.add_argument("--group-col")
    m.add_argument("--stratum-col")
    _add_audit_options(a)

    d = sub.add_parser("demo", help="audit the embedded sample campaign (offline, no arguments needed)")
    d.add_argument("--out", type=Path, default=Path("runs/demo"), help="output folder (default runs/demo)")
    d.add_argument("--n-boot", type=int, default=1000)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--json", action="store_true")
    _register_commands(sub)
    return parser


def _register_commands(sub) -> None:
    """Add the subcommands that live outside this file.

    Each module in :mod:`judgeaudit.commands` and each ``judgeaudit.commands`` entry point
    (``annotate`` and ``finetune`` come from the ``annotation`` and ``finetune`` packages,
    which judgeaudit itself never imports) has ``register(subparsers)``: it adds its parser
    and sets ``handler=fn(args) -> int`` as a default.
    """
    import importlib
    import pkgutil
    from importlib.metadata import entry_points

    from . import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{commands.__name__}.{info.name}").register(sub)
    for ep in sorted(entry_points(group="judgeaudit.commands"), key=lambda e: e.name):
        try:
            register = ep.load()
        except ImportError as exc:  # installed without that part: say so when it is used
            _unavailable(sub, ep.name, str(exc))
            continue
        register(sub)


def _unavailable(sub, name: str, why: str) -> None:
    def handler(args):
        raise ConfigError(f"the {name!r} command cannot load ({why}); reinstall judgeaudit from a "
                          "checkout with: pip install -e '.[annotation,finetune]'")

    p = sub.add_parser(name, help=f"(unavailable: {why})", add_help=False)
    p.add_argument("rest", nargs="*")
    p.set_defaults(handler=handler)


def _version() -> str:
    from .audit import _version as v

    return v()


def _load_tables(args):
    from . import datasets, tables

    if args.dataset and (args.labels or args.verdicts):
        raise ConfigError("give either --dataset/--path or --labels/--verdicts, not both")
    if args.dataset:
        name = args.dataset.lower()
        if name == "sample":
            from .sample import load_sample_campaign

            return load_sample_campaign()
        if args.path is None:
            raise ConfigError(f"--dataset {name} needs --path FILE (the dataset's local file or folder)")
        if name == "csv":
            missing = [o for o, v in (("--response-col", args.response_col), ("--human-cols", args.human_cols))
                       if not v]
            if missing:
                raise ConfigError(f"--dataset csv needs {' and '.join(missing)}")
            return datasets.load_table_csv(
                args.path, response_col=args.response_col, prompt_col=args.prompt_col,
                human_cols=args.human_cols, judge_cols=args.judge_cols, group_col=args.group_col,
                stratum_col=args.stratum_col, prompt_id_col=args.prompt_id_col,
                field=args.field or "harmfulness",
                positive=tuple(args.positive) if args.positive else None, encoding=args.encoding)
        kwargs = {"encoding": args.encoding} if args.encoding else {}
        if args.human_labels is not None:
            if name not in ("jailbreakeval", "harmbench", "strongreject", "garak", "inspect"):
                raise ConfigError("--human-labels joins labels to another tool's output: use it with "
                                  "--dataset jailbreakeval, harmbench, strongreject, garak or inspect")
            kwargs["labels_path"] = args.human_labels
        if name == "xstest" and args.reference:
            kwargs["reference"] = "all"  # load final_label too, so it can serve as the reference
        return datasets.load_dataset(name, args.path, **kwargs)
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
    from ._weights import read_sample_table

    sample = read_sample_table(args.weights)
    return sample, tuple(sample.loc[sample["is_gold"].to_numpy(bool), "item_id"])


def _add_builtin_judges(tbl, judge_names):
    import pandas as pd

    from .judges import get_judge, run_judge

    frames = [tbl.verdicts]
    for name in judge_names:
        judge = get_judge(name)
        _log(f"judging {len(tbl.generations)} responses with {judge.judge_id}")
        prompts = tbl.prompts if len(tbl.prompts) else None
        frames.append(run_judge(judge, tbl.generations, prompts))
    verdicts = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) \
        else tbl.verdicts
    return dataclasses.replace(tbl, verdicts=verdicts).validate()


def _audit_and_write(tbl, args, *, dataset):
    from .audit import AuditConfig, run_audit
    from .report import render_markdown, write_report

    none = lambda v: None if v is None or str(v).lower() == "none" else v  # noqa: E731
    cfg = AuditConfig(n_boot=args.n_boot, seed=args.seed, confidence=getattr(args, "confidence", 0.95),
                      cluster_key=none(getattr(args, "cluster_key", "prompt_id")),
                      tie_policy=getattr(args, "tie_policy", "unresolved"),
                      reference_annotator=getattr(args, "reference", None),
                      strata=getattr(args, "strata", "auto"),
                      coherence_scorer=getattr(args, "coherence_scorer", None),
                      group_key=none(getattr(args, "group_key", "checkpoint_id")))
    sample, _gold = _sample_design(args)
    if sample is not None:
        from ._weights import INCLUSION_COLUMN, with_sample_design

        tbl = with_sample_design(tbl, sample)
        cfg = dataclasses.replace(cfg, weights=INCLUSION_COLUMN)
    if tbl.verdicts.empty:
        raise ConfigError("there are no judge verdicts to audit; pass --judges refusal_keyword "
                          "(built-in judges) or a verdicts table / --judge-cols")
    _log(f"auditing {tbl.verdicts['judge_id'].nunique()} judge(s) on {len(tbl.generations)} items "
         f"({cfg.n_boot} bootstrap resamples)")
    result = run_audit(tbl, config=cfg, dataset=dataset)
    paths = write_report(result, args.out)
    _log("wrote " + ", ".join(str(p) for p in paths.values()))
    if args.json:
        print(json.dumps(result, indent=2, allow_nan=False))
    else:
        print(render_markdown(result))
    return result


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        handler = getattr(args, "handler", None)
        if handler is not None:
            return int(handler(args) or 0)
        if args.command == "demo":
            from .sample import load_sample_campaign, SAMPLE_JUDGES

            tbl = _add_builtin_judges(load_sample_campaign(), SAMPLE_JUDGES)
            _audit_and_write(tbl, args, dataset="judgeaudit sample campaign")
            return 0
        tbl = _load_tables(args)
        if args.judges:
            tbl = _add_builtin_judges(tbl, args.judges)
        elif tbl.verdicts.empty and args.dataset and args.dataset.lower() == "gptfuzz":
            from .sample import SAMPLE_JUDGES

            _log("gptfuzz ships no judge verdicts: running the built-in keyword judges")
            tbl = _add_builtin_judges(tbl, SAMPLE_JUDGES)
        _audit_and_write(tbl, args, dataset=args.dataset or "tables")
        return 0
    except JudgeAuditError as exc:
        print(f"judgeaudit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("judgeaudit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed early (e.g. `judgeaudit ... | head`): not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

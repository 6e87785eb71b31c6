"""Helpers shared by the subcommands (argument types, the stderr log line)."""

from __future__ import annotations

import argparse
import sys

__all__ = ["csv_list", "log", "add_dataset_options", "load_named_dataset"]


def log(msg: str) -> None:
    """A progress line on stderr."""
    print(msg, file=sys.stderr, flush=True)


def csv_list(value: str) -> list:
    """argparse type: a comma-separated list of non-empty names."""
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list, e.g. a,b,c")
    return items


def add_dataset_options(inputs, mapping) -> None:
    """The options :func:`load_named_dataset` reads: ``--dataset``, ``--path`` and ``--encoding``
    in the ``inputs`` group, ``--dataset csv``'s column mapping in the ``mapping`` group."""
    from pathlib import Path

    inputs.add_argument("--dataset", help="jailbreakbench, xstest, gptfuzz, csv, sample, or another "
                                          "tool's output: jailbreakeval, harmbench, strongreject, garak, inspect")
    inputs.add_argument("--path", type=Path, help="the dataset's file or folder")
    inputs.add_argument("--encoding", default=None, help="text encoding of CSV input (e.g. mac_roman)")
    for col in ("--response-col", "--prompt-col", "--prompt-id-col"):
        mapping.add_argument(col)
    mapping.add_argument("--human-cols", type=csv_list)
    mapping.add_argument("--group-col")


def load_named_dataset(args, *, extra_kwargs=None):
    """The tables of ``--dataset NAME --path FILE`` (with ``--dataset csv``'s column mapping),
    read the same way for every command that takes them (``audit``, ``stress``).

    ``extra_kwargs(name)`` may add loader options of one command (e.g. ``audit``'s score
    mappings and ``--human-labels``).
    """
    from judgeaudit import datasets
    from judgeaudit.errors import ConfigError

    name = args.dataset.lower()
    if name == "sample":
        return datasets.load_sample_campaign()
    if args.path is None:
        raise ConfigError(f"--dataset {name} needs --path FILE (the dataset's local file or folder)")
    if name == "csv":
        missing = [o for o, v in (("--response-col", args.response_col), ("--human-cols", args.human_cols))
                   if not v]
        if missing:
            raise ConfigError(f"--dataset csv needs {' and '.join(missing)}")
        optional = {k: getattr(args, k) for k in ("judge_cols", "stratum_col") if getattr(args, k, None)}
        return datasets.load_table_csv(
            args.path, response_col=args.response_col, prompt_col=args.prompt_col,
            human_cols=args.human_cols, group_col=args.group_col, prompt_id_col=args.prompt_id_col,
            field=args.field or "harmfulness", positive=tuple(args.positive) if args.positive else None,
            encoding=args.encoding, **optional)
    kwargs = {"encoding": args.encoding} if args.encoding else {}
    if extra_kwargs is not None:
        kwargs.update(extra_kwargs(name))
    return datasets.load_dataset(name, args.path, **kwargs)

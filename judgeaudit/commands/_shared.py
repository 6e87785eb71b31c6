"""Helpers shared by the subcommands (argument types, the stderr log line)."""

from __future__ import annotations

import argparse
import sys

__all__ = ["csv_list", "log"]


def log(msg: str) -> None:
    """A progress line on stderr."""
    print(msg, file=sys.stderr, flush=True)


def csv_list(value: str) -> list:
    """argparse type: a comma-separated list of non-empty names."""
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list, e.g. a,b,c")
    return items

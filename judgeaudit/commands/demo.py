"""``judgeaudit demo``: audit the embedded sample campaign (offline, no arguments needed)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["register"]


def register(subparsers) -> None:
    d = subparsers.add_parser("demo", help="audit the embedded sample campaign (offline, no arguments needed)")
    d.add_argument("--out", type=Path, default=Path("runs/demo"), help="output folder (default runs/demo)")
    d.add_argument("--n-boot", type=int, default=1000)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--json", action="store_true")
    d.set_defaults(handler=_run)


def _run(args) -> int:
    from judgeaudit.datasets import SAMPLE_JUDGES, load_sample_campaign

    from .audit import add_builtin_judges, audit_and_write

    tbl = add_builtin_judges(load_sample_campaign(), SAMPLE_JUDGES)
    audit_and_write(tbl, args, dataset="judgeaudit sample campaign")
    return 0

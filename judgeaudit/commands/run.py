"""``judgeaudit run EXPERIMENT.toml``: every stage from fine-tuning to the experiment report.

    judgeaudit run examples/demo.toml                 # run, or resume after a crash
    judgeaudit run examples/demo.toml --dry-run       # the plan and a cost estimate; runs nothing
    judgeaudit run examples/demo.toml --check         # validate the config and print it resolved
    judgeaudit run examples/demo.toml --status        # what each stage did so far

The stages' progress and logs go to stderr; the summary (or ``--json``) to stdout.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["register"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "run", help="run an experiment end to end (finetune -> generate -> judge -> coherence -> label -> audit)",
        description="Run every stage of EXPERIMENT.toml in order, resuming where an earlier run stopped; see "
                    "docs/experiment.md.")
    p.add_argument("config", type=Path, help="the experiment's TOML file (examples/demo.toml is one)")
    p.add_argument("--out", type=Path, default=None, help="run directory (default: the config's output)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print the plan and a cost estimate; run nothing")
    mode.add_argument("--check", action="store_true", help="validate the config and print it resolved; run nothing")
    mode.add_argument("--status", action="store_true", help="print what each stage of the run directory did")
    p.add_argument("--stop-after", default=None, metavar="STAGE", help="stop after this stage")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p.set_defaults(handler=_run)


def _print(obj, as_json: bool, text: str) -> None:
    print(json.dumps(obj, indent=2, default=str, allow_nan=False) if as_json else text)


def _status_text(out: Path, state: dict) -> str:
    if not state.get("stages"):
        return f"no run in {out} yet (no state.json); start one with `judgeaudit run CONFIG`"
    lines = [f"run directory {out}"]
    for name, st in state.get("stages", {}).items():
        extra = f" ({st['seconds']:.1f} s)" if "seconds" in st else ""
        why = f": {st['reason']}" if st.get("reason") else (f": {st['error']}" if st.get("error") else "")
        lines.append(f"  {name:<10} {st['status']}{extra}{why}")
    return "\n".join(lines)


def _run(args) -> int:
    from judgeaudit.experiment import format_plan, load_experiment, plan_experiment, read_state, run_experiment
    from judgeaudit.experiment.runner import check_experiment

    config = load_experiment(args.config)
    out = Path(args.out or config.output)
    if args.check:
        check_experiment(config)
        print(json.dumps(config.to_dict(), indent=2))
        return 0
    if args.dry_run:
        plan = plan_experiment(config)
        _print(plan, args.json, format_plan(plan))
        return 0
    if args.status:
        state = read_state(out)
        _print(state, args.json, _status_text(out, state))
        return 0
    outcome = run_experiment(config, out=out, progress=not args.quiet,
                             log=(lambda m: None) if args.quiet else None, stop_after=args.stop_after)
    if args.json:
        _print(outcome.to_dict(), True, "")
        return 0
    lines = [f"run directory {outcome.out} ({outcome.seconds:.1f} s)"]
    for s in outcome.stages:
        how = "skipped (done earlier)" if s.get("skipped") else s["status"]
        took = f" {s['seconds']:.1f} s" if s.get("seconds") else ""
        why = f": {s['reason']}" if s.get("reason") else ""
        lines.append(f"  {s['name']:<10} {how}{took}{why}")
    report = outcome.out / "report" / "experiment.html"
    if report.exists():
        lines.append(f"experiment report: {report}")
    audit = outcome.out / "audit" / "report.html"
    if audit.exists():
        lines.append(f"audit report: {audit}")
    print("\n".join(lines))
    return 0

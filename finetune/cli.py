"""``judgeaudit finetune CONFIG.toml``: train the grid a config describes.

Results (one line per run, or JSON with ``--json``) go to stdout; progress bars
and logs to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

__all__ = ["register"]


def _csv(value: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list")
    return items


def register(subparsers) -> None:
    p = subparsers.add_parser("finetune", help="fine-tune a base model with several objectives (grid)",
                              description="Train every objective x seed in CONFIG.toml, saving "
                                          "checkpoints at token budgets and capability thresholds, "
                                          "and write OUT/manifest.json for `judgeaudit generate`.")
    p.add_argument("config", type=Path, help="the TOML config file")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: the config's output)")
    p.add_argument("--objectives", type=_csv, default=None, help="only these objectives (comma-separated)")
    p.add_argument("--seeds", type=lambda v: [int(s) for s in _csv(v)], default=None,
                   help="only these seeds (comma-separated)")
    p.add_argument("--check", action="store_true", help="validate the config and print it; train nothing")
    p.add_argument("--json", action="store_true", help="print the run summaries as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or logs")
    p.set_defaults(handler=_handler)


def _handler(args) -> int:
    from .config import load_config

    config = load_config(args.config)
    if args.check:
        print(json.dumps(config.to_dict(), indent=2))
        return 0
    if not args.quiet:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="finetune: %(message)s")
    from .grid import run_grid

    results = run_grid(config, output=args.out, objectives=args.objectives, seeds=args.seeds,
                       progress=not args.quiet)
    out = Path(args.out or config.output)
    from accelerate import PartialState

    if not PartialState().is_main_process:  # under `accelerate launch`, one process reports
        return 0
    if args.json:
        print(json.dumps({"manifest": str(out / "manifest.json"),
                          "runs": [r.to_dict() for r in results]}, indent=2))
        return 0
    for r in results:
        cap = f", capability {r.capability[-1][2]:.3f}" if r.capability else ""
        print(f"{r.objective} seed {r.seed}: {r.steps} steps, {r.tokens_seen} tokens, "
              f"{r.tokens_per_second:.0f} tokens/s, loss {r.final_loss:.4f}{cap}, "
              f"{len(r.checkpoints)} checkpoints")
        d = r.data_report
        if d.get("n_truncated") or d.get("n_rejected"):
            print(f"  data: {d['n_kept']} of {d['n_rows']} examples kept, {d['n_truncated']} sequences "
                  f"truncated, {d['n_rejected']} rejected {d['rejected_reasons']}; see {r.run_dir / 'data_report.json'} "
                  "for the rows")
        if r.unreached_budgets or r.unreached_thresholds:
            print(f"  not reached: budgets {list(r.unreached_budgets)}, thresholds "
                  f"{list(r.unreached_thresholds)}")
    print(f"manifest: {out / 'manifest.json'}")
    return 0

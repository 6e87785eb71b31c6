"""``judgeaudit coherence``: score coherence of generations into a coherence table.

    judgeaudit coherence --generations gens.parquet --prompts prompts.parquet \\
        --scorer degeneracy,combined,perplexity:model=models/ref \\
        --calibrate-with labels.parquet --out coherence.parquet --report calibration.json

Resumable: a rerun skips every (item_id, scorer_id) already in ``--out``.  An item a
scorer could not score is a row of ``--out`` with status ``error`` (or ``parse_error``)
and the reason in ``error``; a rerun keeps it unless ``--retry-errors``.  A summary goes
to stdout (``--json`` for JSON); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["register"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "coherence", help="score the coherence of generations (resumable), optionally calibrated",
        description="Run coherence scorers over a generations table and write a coherence table. "
                    "A scorer is NAME[:key=value,...] (the same grammar as --judge); several are "
                    "separated by commas, and a key=value piece belongs to the scorer before it "
                    "(e.g. --scorer degeneracy,"
                    "perplexity:model=PATH,batch_size=4,llm_rubric:backend=transformers,model=PATH). "
                    "Scorers: degeneracy, combined, repetition, distinct_n, compression, prompt_echo, "
                    "nonword, near_empty, perplexity, llm_rubric.")
    p.add_argument("--generations", required=True, type=Path, help="generations table (parquet, jsonl, csv)")
    p.add_argument("--prompts", type=Path, help="prompts table; without it prompt echo is 0 and the "
                                                "model scorers see no request")
    p.add_argument("--scorer", action="append", default=[], metavar="NAME[:key=value,...]",
                   help="scorer(s) to run (repeatable; default degeneracy)")
    p.add_argument("--out", required=True, type=Path, help="coherence table to write or resume")
    p.add_argument("--errors", type=Path, default=None,
                   help="an older version's errors side file to fold into --out as error rows "
                        "(default <out>.errors.jsonl, when present)")
    p.add_argument("--calibrate-with", type=Path, default=None, metavar="LABELS",
                   help="labels table with human coherence labels: fit each scorer's bin thresholds "
                        "to them and rebin its rows")
    p.add_argument("--report", type=Path, default=None,
                   help="write the calibration report (JSON) here (with --calibrate-with)")
    p.add_argument("--objective", default="quadratic_kappa", choices=["quadratic_kappa", "kappa", "accuracy"],
                   help="what calibration maximises (default quadratic_kappa)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds of the held-out estimate (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the folds and the bootstrap (default 0)")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples (default 1000)")
    p.add_argument("--retry-errors", "--retry-failed", dest="retry_errors", action="store_true",
                   help="score again the rows of --out whose status is error (kept by default)")
    p.add_argument("--chunk-size", type=int, default=256, help="items between two writes of --out (default 256)")
    p.add_argument("--encoding", default=None, help="text encoding of CSV input")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from judgeaudit.coherence import build_scorers, score_to_file
    from judgeaudit.errors import ConfigError
    from judgeaudit.tables import read_table

    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    if args.report is not None and args.calibrate_with is None:
        raise ConfigError("--report writes the calibration report: give --calibrate-with LABELS too")
    generations = read_table(args.generations, "generations", encoding=args.encoding)
    prompts = read_table(args.prompts, "prompts", encoding=args.encoding) if args.prompts else None
    labels = None
    if args.calibrate_with is not None:
        labels = read_table(args.calibrate_with, "labels", encoding=args.encoding)
        if not (labels["field"] == "coherence").any():
            raise ConfigError(f"{args.calibrate_with} has no coherence labels (field 'coherence'); "
                              "calibration needs human coherence bins")
    scorers = build_scorers(args.scorer)
    summary = score_to_file(scorers, generations, args.out, prompts, errors_path=args.errors,
                            chunk_size=args.chunk_size, calibrate_with=labels, report_path=args.report,
                            seed=args.seed, folds=args.folds, n_boot=args.n_boot,
                            objective=args.objective, retry_errors=args.retry_errors, progress=log)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2, allow_nan=False))
        return 0
    print(f"wrote {summary.out}")
    for sid in dict.fromkeys([*summary.scored, *summary.bin_counts]):
        bins = ", ".join(f"{k} {v}" for k, v in summary.bin_counts.get(sid, {}).items()) or "none"
        print(f"{sid}: scored {summary.scored.get(sid, 0)} now, {summary.skipped.get(sid, 0)} already "
              f"done, {summary.failed.get(sid, 0)} failed; bins: {bins}")
        cal = (summary.report or {}).get("scorers", {}).get(sid, {}).get("calibration")
        if cal:
            cv = cal["cross_validated"] or cal["in_sample"]
            q = {k: float("nan") if v is None else v for k, v in cv["kappa_quadratic"].items()
                 if k in ("value", "ci_low", "ci_high")}
            print(f"  calibrated cuts {cal['incoherent_max']:.3f} / {cal['partial_max']:.3f}; "
                  f"{'cross-validated' if cal['cross_validated'] else 'in-sample'} quadratic kappa "
                  f"{q['value']:.3f} [{q['ci_low']:.3f}, {q['ci_high']:.3f}], n={cv['n']}")
    if any(summary.failed.values()):
        print(f"{sum(summary.failed.values())} item(s) could not be scored: rows of "
              f"{summary.out} with a status other than ok; --retry-errors scores the error ones again")
    return 0

"""Benchmark: wall time of each stage of an experiment, and the orchestration's overhead.

Two ways to do the same work, alternated in one process (these machines are noisy, so the
figure that carries over is the ratio, not the seconds):

* ``runner``: ``run_experiment(config)``, which validates the config, records the
  environment, fingerprints each stage, writes ``state.json`` around it and logs;
* ``direct``: each stage's ``run(ctx)`` called in order, nothing else.

Each repeat starts from an empty run directory, and the two alternate which goes first.  The first pair is a warm-up (imports,
tokenizer training caches) and is dropped.  Printed: each stage's wall time and share of
the runner's total, and the overhead ``runner / direct - 1`` per repeat and its median.
A rerun of the finished experiment (every stage skipped; the labels stage looks for
labels again) is timed too: that is what a resumed run pays before it reaches new work.

    .venv/bin/python bench/bench_experiment.py [--config examples/demo.toml] [--repeats 3]

Goal: overhead under 5%.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _direct(config, out: Path) -> dict:
    from judgeaudit.experiment.stages import RunLayout, StageContext, load_stages

    ctx = StageContext(config=config, layout=RunLayout(out), progress=False, log=lambda m: None)
    out.mkdir(parents=True)
    times, waiting = {}, set()
    for stage in load_stages(config):
        if not stage.applies(config) or waiting & set(stage.needs):
            continue
        t0 = time.perf_counter()
        result = stage.run(ctx)
        times[stage.name] = time.perf_counter() - t0
        if result.waiting:
            waiting.add(stage.name)
    return times


def _runner(config, out: Path) -> tuple[float, dict]:
    from judgeaudit.experiment import run_experiment

    t0 = time.perf_counter()
    outcome = run_experiment(config, out=out, progress=False, log=lambda m: None)
    total = time.perf_counter() - t0
    return total, {s["name"]: s["seconds"] for s in outcome.stages if "seconds" in s}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", type=Path, default=ROOT / "examples" / "demo.toml")
    p.add_argument("--repeats", type=int, default=3, help="measured pairs after one warm-up pair (default 3)")
    args = p.parse_args(argv)

    from judgeaudit.experiment import load_experiment, run_experiment

    config = load_experiment(args.config)
    tmp = Path(tempfile.mkdtemp(prefix="bench-experiment-"))
    rows = []
    try:
        for i in range(args.repeats + 1):
            if i % 2:  # alternate which goes first, so that warming up favours neither
                runner_total, stages = _runner(config, tmp / f"runner{i}")
            t0 = time.perf_counter()
            direct = _direct(config, tmp / f"direct{i}")
            direct_total = time.perf_counter() - t0
            if not i % 2:
                runner_total, stages = _runner(config, tmp / f"runner{i}")
            t0 = time.perf_counter()
            run_experiment(config, out=tmp / f"runner{i}", progress=False, log=lambda m: None)
            rerun = time.perf_counter() - t0
            label = "warm-up" if i == 0 else f"repeat {i}"
            print(f"{label}: direct {direct_total:.2f} s, runner {runner_total:.2f} s "
                  f"(overhead {runner_total / direct_total - 1:+.1%}), rerun with every stage done {rerun:.2f} s",
                  file=sys.stderr)
            if i:
                rows.append((direct_total, runner_total, rerun, stages, direct))
            shutil.rmtree(tmp / f"direct{i}", ignore_errors=True)
            shutil.rmtree(tmp / f"runner{i}", ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    names = list(rows[0][3])
    print(f"\nconfig {args.config}, {len(rows)} measured repeats (medians)\n")
    print(f"{'stage':<11}{'runner s':>10}{'share':>8}{'direct s':>10}")
    med_total = statistics.median(r[1] for r in rows)
    for name in names:
        r = statistics.median(row[3].get(name, 0.0) for row in rows)
        d = statistics.median(row[4].get(name, 0.0) for row in rows)
        print(f"{name:<11}{r:>10.2f}{r / med_total:>8.1%}{d:>10.2f}")
    overheads = [r[1] / r[0] - 1 for r in rows]
    print(f"\ntotal: runner {med_total:.2f} s, direct {statistics.median(r[0] for r in rows):.2f} s")
    print("orchestration overhead (runner / direct - 1): " + ", ".join(f"{o:+.1%}" for o in overheads)
          + f"; median {statistics.median(overheads):+.1%} (goal < 5%)")
    print(f"rerun with every stage done: median {statistics.median(r[2] for r in rows):.2f} s "
          f"({statistics.median(r[2] / r[1] for r in rows):.1%} of a full run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

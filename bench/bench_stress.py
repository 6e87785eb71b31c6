"""Speed of judgeaudit stress: answers per second, and the overhead over judging the originals.

Baseline and stress run in this process, alternating which goes first, on the same judges:

* baseline: ``run_judge`` over the labelled original answers (what ``judgeaudit judge``
  does), batch size 16;
* stress: ``run_stress`` with every perturbation (perturbing, judging originals and
  perturbed answers through the same ``run_judge`` batching, flip rates and intervals).

It prints answers judged per second for both, the ratio of wall times (stress / baseline:
what a user waits for), and the ratio of seconds per judged answer (the stress test's own
overhead: perturbing, bookkeeping, statistics).

    OMP_NUM_THREADS=1 python bench/bench_stress.py                      # sample campaign, keyword judges
    OMP_NUM_THREADS=1 python bench/bench_stress.py --jbb ../shared/data/jailbreakbench
    OMP_NUM_THREADS=1 python bench/bench_stress.py --tiny-model --max-items 24   # a tiny transformers judge
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def _tables(args):
    if args.jbb:
        from judgeaudit.datasets import load_dataset

        return load_dataset("jailbreakbench", args.jbb)
    from judgeaudit.datasets import load_sample_campaign

    return load_sample_campaign()


def _judges(args):
    from judgeaudit.judges import get_judge

    if not args.tiny_model:
        return [get_judge(n) for n in ("refusal_keyword", "refusal_prefix", "affirmative_prefix")]
    import torch

    torch.set_num_threads(1)
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from judges.modelkit import GUARD_TEMPLATE, guard_corpus  # the tests' own guard template
    from judgeaudit.tinymodel import build_tiny_model

    folder = build_tiny_model(Path(tempfile.mkdtemp()) / "guard", chat_template=GUARD_TEMPLATE, corpus=guard_corpus())
    return [get_judge("llama_guard", model=str(folder), batch_size=16, model_options={"max_length": 4096},
                      judge_id="tiny_guard")]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jbb", type=Path, help="JailbreakBench judge-comparison folder (default: the sample campaign)")
    ap.add_argument("--tiny-model", action="store_true", help="a tiny transformers judge instead of the keyword ones")
    ap.add_argument("--max-items", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)

    from judgeaudit.judges import run_judge
    from judgeaudit.stress import available_perturbations, get_perturbation, perturb_items, reference_labels, run_stress

    tables = _tables(args)
    judges = _judges(args)
    originals, perturbed, _ = perturb_items(tables, [get_perturbation(n) for n in available_perturbations()], seed=0,
                                            references=reference_labels(tables), max_items=args.max_items)
    base_items = originals.drop(columns=["label", "cluster"])
    prompts = tables.prompts if len(tables.prompts) else None
    n_base = len(base_items) * len(judges)

    def baseline():
        for j in judges:
            run_judge(j, base_items, prompts, batch_size=16)

    def stress():
        return run_stress(tables, judges, None, seed=0, batch_size=16, max_items=args.max_items,
                          progress=lambda m: None)

    stress()  # warm-up: imports, caches, model load
    t_base, t_stress = [], []
    for r in range(args.repeats):
        order = (baseline, stress) if r % 2 == 0 else (stress, baseline)
        for fn in order:
            t0 = time.perf_counter()
            out = fn()
            (t_stress if fn is stress else t_base).append(time.perf_counter() - t0)
            if out is not None:
                n_stress = out["timing"]["answers_judged_per_judge"] * len(judges)
    tb, ts = statistics.median(t_base), statistics.median(t_stress)
    print(f"data: {'JailbreakBench' if args.jbb else 'sample campaign'}; judges: "
          f"{', '.join(j.judge_id for j in judges)}; median of {args.repeats} runs")
    print(f"baseline (judge {len(base_items)} originals): {n_base} verdicts in {tb:.3f} s = {n_base / tb:,.0f} answers/s")
    print(f"stress ({len(perturbed)} perturbed + originals): {n_stress} verdicts in {ts:.3f} s = "
          f"{n_stress / ts:,.0f} answers/s")
    print(f"wall-time ratio stress / baseline: {ts / tb:.2f}x for {n_stress / n_base:.2f}x the answers")
    print(f"seconds per judged answer, stress / baseline: {(ts / n_stress) / (tb / n_base):.2f}x")


if __name__ == "__main__":
    main()

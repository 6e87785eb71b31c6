"""Benchmark: the default coherence scorer (degeneracy v2) against the one it replaced.

1. Agreement with intended bins on data/coherence/coherence.jsonl (dev, held-out and
   all items) and with the authors' labels of the sample campaign: confusion matrix
   (rows intended, columns scored), Cohen's kappa and per-class recall, for the v1
   surface rules, degeneracy v2 with and without the ``coherence`` extra, and combined.
2. GPTFuzz (../shared/data/gptfuzz, when present): its looping answers (a repeated word
   3-gram share of at least 0.3, the v1 repetition feature) and how many the default
   bins incoherent or partially coherent with a degradation start.
3. Speed: ``--items`` answers (default 100,000, the data/coherence and sample-campaign
   responses cycled) scored by v2 and by the v1 rules in the same process; items/s and
   the ratio.

Run: ``python bench/bench_coherence_default.py [--items N] [--skip-speed]``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BINS = ("coherent", "partially_coherent", "incoherent")


def agreement(name: str, intended, scored) -> None:
    from sklearn.metrics import cohen_kappa_score, confusion_matrix, recall_score

    cm = confusion_matrix(intended, scored, labels=list(BINS))
    kappa = cohen_kappa_score(intended, scored)
    recall = recall_score(intended, scored, labels=list(BINS), average=None, zero_division=0)
    print(f"  {name:<28} kappa {kappa:.3f}  recall coherent {recall[0]:.3f} partial {recall[1]:.3f} "
          f"incoherent {recall[2]:.3f}  coherent->incoherent {cm[0, 2]}")
    for label, row in zip(("coh", "part", "inc"), cm):
        print(f"      {label:>4} {row[0]:5d} {row[1]:5d} {row[2]:5d}")


def scorers():
    from judgeaudit.coherence import CombinedScorer, DegeneracyScorer
    from judgeaudit.coherence.degeneracy import surface_scores

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v2, off, comb = DegeneracyScorer(), DegeneracyScorer(lexicon="off"), CombinedScorer()
    return {
        "v1 surface rules (old)": lambda r, p: surface_scores(r, p)[0].tolist(),
        "degeneracy v2": lambda r, p: v2.score(r, p)["bin"].tolist(),
        "degeneracy v2, no extra": lambda r, p: off.score(r, p)["bin"].tolist(),
        "combined": lambda r, p: comb.score(r, p)["bin"].tolist(),
    }


def bench_quality() -> None:
    rows = [json.loads(x) for x in (ROOT / "data/coherence/coherence.jsonl").read_text().splitlines()]
    runs = scorers()
    for split in ("dev", "heldout", "all"):
        part = [r for r in rows if split == "all" or r["split"] == split]
        print(f"data/coherence, {split}: {len(part)} items, intended bins "
              f"{dict(Counter(r['bin'] for r in part))}")
        for name, run in runs.items():
            agreement(name, [r["bin"] for r in part],
                      run([r["response"] for r in part], [r["prompt"] for r in part]))
    from judgeaudit.tables import human_coherence
    from judgeaudit.judges.base import align_prompts
    from judgeaudit.datasets import load_sample_campaign

    tables = load_sample_campaign()
    gens = tables.generations
    human = human_coherence(tables.labels, gens["item_id"].tolist()).tolist()
    prompts = align_prompts(gens, tables.prompts)
    print(f"sample campaign: 300 items, human bins (lower median of 3) {dict(Counter(human))}")
    for name, run in runs.items():
        agreement(name, human, run(gens["response"].tolist(), prompts))


def bench_gptfuzz() -> None:
    import pandas as pd

    from judgeaudit.coherence import DegeneracyScorer, feature_table

    base = Path(os.environ.get("JUDGEAUDIT_SHARED_DATA", ROOT.parent / "shared" / "data")) / "gptfuzz"
    if not base.is_dir():
        print("GPTFuzz: ../shared/data/gptfuzz not found, skipped")
        return
    texts = pd.concat([pd.read_csv(base / f) for f in ("evaluate.csv", "train.csv")])["Response"]
    texts = texts.fillna("").astype(str).tolist()
    loops = [t for t, r in zip(texts, feature_table(texts)["repetition"]) if r >= 0.3]
    out = DegeneracyScorer(lexicon="required").score(loops)
    caught = out["bin"].isin(["incoherent", "partially_coherent"]) & out["degradation_start"].notna()
    all_out = DegeneracyScorer(lexicon="required").score(texts)
    print(f"GPTFuzz: {len(texts)} answers; {len(loops)} looping (repeated 3-gram share >= 0.3): "
          f"{int(caught.sum())} binned incoherent or partially coherent with a start "
          f"({dict(Counter(out.loc[caught, 'bin']))}; reasons {dict(Counter(out.loc[caught, 'reason']))}); "
          f"all answers: {dict(Counter(all_out['bin']))}")


def bench_speed(n_items: int) -> None:
    from judgeaudit.coherence import DegeneracyScorer
    from judgeaudit.coherence.degeneracy import surface_scores
    from judgeaudit.datasets import load_sample_campaign

    rows = [json.loads(x) for x in (ROOT / "data/coherence/coherence.jsonl").read_text().splitlines()]
    pool = [(r["response"], r["prompt"]) for r in rows]
    gens = load_sample_campaign().generations
    pool += [(t, None) for t in gens["response"].tolist()]
    reps = -(-n_items // len(pool))
    items = (pool * reps)[:n_items]
    responses, prompts = [r for r, _ in items], [p for _, p in items]
    words = np.mean([len(r.split()) for r in responses])
    scorer = DegeneracyScorer(lexicon="required")
    scorer.score(responses[:200], prompts[:200])  # load the lexicon before timing
    t0 = time.perf_counter()
    scorer.score(responses, prompts)
    new = time.perf_counter() - t0
    t0 = time.perf_counter()
    surface_scores(responses, prompts)
    old = time.perf_counter() - t0
    print(f"speed: {n_items} answers (mean {words:.0f} words), one process, one thread:")
    print(f"  degeneracy v2 {new:.1f} s ({n_items / new:,.0f} items/s); v1 surface rules {old:.1f} s "
          f"({n_items / old:,.0f} items/s); v2 takes {new / old:.1f}x the time of v1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000, help="answers to time (default 100,000)")
    ap.add_argument("--skip-speed", action="store_true")
    args = ap.parse_args()
    bench_quality()
    bench_gptfuzz()
    if not args.skip_speed:
        bench_speed(args.items)


if __name__ == "__main__":
    main()

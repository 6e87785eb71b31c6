"""Benchmark: coherence calibration and the perplexity scorer, against the naive way.

1. Calibration: the vectorised search of :func:`judgeaudit.coherence.calibrate` (all
   candidate cut-point pairs from cumulative counts at once) against a Python loop
   that bins the items and calls ``sklearn.metrics.cohen_kappa_score`` for each pair.
   The loop is timed on a sample of pairs and scaled to all of them; both must pick
   cuts with the same quadratic kappa.
2. Perplexity: :class:`judgeaudit.coherence.PerplexityScorer` with batches sorted by
   length against batch size 1, on a tiny offline Llama model; same NLL.

Run: ``python bench/bench_coherence.py [--items N] [--texts N]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def bench_calibration(n_items: int) -> None:
    from sklearn.metrics import cohen_kappa_score

    from judgeaudit.coherence import COHERENCE_BINS, calibrate
    from judgeaudit.coherence.calibration import _candidates, _fit

    rng = np.random.default_rng(0)
    s = rng.uniform(0, 1, n_items)
    codes = np.where(s <= 0.3, 2, np.where(s <= 0.7, 1, 0))
    codes = np.where(rng.random(n_items) < 0.1, rng.integers(0, 3, n_items), codes)
    human = np.array(COHERENCE_BINS)[codes]

    t0 = time.perf_counter()
    lo, hi, value, m = _fit(s, codes, "quadratic_kappa", 400)
    fast = time.perf_counter() - t0

    cand = _candidates(s, 400)
    i, j = np.triu_indices(len(cand))
    sample = rng.choice(len(i), size=min(300, len(i)), replace=False)
    sample = np.append(sample, np.flatnonzero((cand[i] == lo) & (cand[j] == hi)))
    t0 = time.perf_counter()
    best = -np.inf
    for k in sample:
        bins = np.where(s <= cand[i[k]], "incoherent", np.where(s <= cand[j[k]], "partially_coherent",
                                                                "coherent"))
        best = max(best, cohen_kappa_score(human, bins, labels=list(COHERENCE_BINS), weights="quadratic"))
    naive = (time.perf_counter() - t0) / len(sample) * len(i)
    # sklearn agrees on the chosen pair's kappa, and no sampled pair beats it
    assert abs(best - value) < 1e-9, (best, value)

    t0 = time.perf_counter()
    calibrate(s, human, folds=5, n_boot=1000)
    full = time.perf_counter() - t0
    print(f"calibration search, {n_items} items, {m} candidate cuts, {len(i)} pairs:")
    print(f"  vectorised {fast:.3f} s; sklearn loop {naive:.1f} s (timed on {len(sample)} pairs, "
          f"scaled); ratio {naive / fast:.0f}x; same best quadratic kappa {value:.4f}")
    print(f"  calibrate() with 5-fold CV and 1,000 bootstrap resamples: {full:.2f} s")


def bench_perplexity(n_texts: int) -> None:
    import torch

    from judgeaudit.coherence import PerplexityScorer
    from judgeaudit.tinymodel import build_tiny_model

    torch.set_num_threads(1)
    rng = np.random.default_rng(1)
    vocab = ("the cat sat on a mat and then it ran to the door because it heard a sound "
             "I'm sorry but I can't help with that here is how to do it step one two").split()
    texts = [" ".join(rng.choice(vocab, rng.integers(5, 120))) for _ in range(n_texts)]
    prompts = [f"Question {k % 7}: tell me something." for k in range(n_texts)]
    with tempfile.TemporaryDirectory() as tmp:
        path = build_tiny_model(Path(tmp) / "tiny")
        batched = PerplexityScorer(model=path, batch_size=16, device="cpu")
        single = PerplexityScorer(model=path, batch_size=1, device="cpu")
        single._loaded = batched._load()
        batched.nll(texts[:4], prompts[:4])  # warm-up
        t0 = time.perf_counter()
        a = batched.nll(texts, prompts)
        fast = time.perf_counter() - t0
        t0 = time.perf_counter()
        b = single.nll(texts, prompts)
        slow = time.perf_counter() - t0
    np.testing.assert_allclose(a["nll"], b["nll"], rtol=1e-4)
    tokens = int(a["n_tokens"].sum())
    print(f"perplexity, {n_texts} texts ({tokens} response tokens), tiny 2-layer Llama, 1 thread:")
    print(f"  batch 16 sorted {fast:.2f} s ({tokens / fast:.0f} tok/s); batch 1 {slow:.2f} s "
          f"({tokens / slow:.0f} tok/s); ratio {slow / fast:.1f}x; same NLL (rtol 1e-4)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--texts", type=int, default=128)
    args = parser.parse_args()
    bench_calibration(args.items)
    bench_perplexity(args.texts)


if __name__ == "__main__":
    main()

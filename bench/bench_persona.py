"""Benchmark: persona items scored by likelihood against generate-and-parse, and interval coverage.

Speed (default): the same tiny Llama (built offline), the same items, the same batch
size, in one process:

* **likelihood**: :class:`judgeaudit.persona.LikelihoodScorer`, one forward pass per
  batch of items (shared prompt prefix computed once), P(matching answer) normalised
  over the two answers;
* **generate-and-parse**: the transformers generation backend decodes greedily
  (``max_new_tokens`` tokens, 4 by default: enough for "Yes." or "No, I"), and the
  first word is read as yes/no (:func:`judgeaudit.judges.parsing.parse_yes_no`); what
  the parser cannot read is counted.

The two are timed in alternation (``--repeats`` rounds, the order swapped each round)
and the medians are compared.  Generation gives one bit per item (or none); likelihood
gives a probability per item, so it is also the better measurement.

    OMP_NUM_THREADS=1 python bench/bench_persona.py [--items 144] [--layers 4] [--hidden 128]

Coverage (``--coverage``): the Student-t intervals of :mod:`judgeaudit.persona.stats`
on simulated items (true per-item probabilities from skewed Beta populations; the
fine-tuned model's item probabilities correlated with the base model's), 48 and 300
items, ``--sims`` draws each; prints the share of intervals that cover the population
mean score and drift (goal >= 0.93 at 0.95).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def speed(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    from judgeaudit.generation import GenerationConfig, get_backend
    from judgeaudit.generation.base import build_conversation
    from judgeaudit.judges.parsing import parse_yes_no
    from judgeaudit.persona import LikelihoodScorer, load_traits
    from judgeaudit.tinymodel import build_tiny_model

    folder = Path(tempfile.mkdtemp(prefix="bench-persona-"))
    path = build_tiny_model(folder / "tiny", n_layers=args.layers, hidden_size=args.hidden)
    items = (load_traits("builtin") * (args.items // 144 + 1))[:args.items]
    scorer = LikelihoodScorer(str(path), batch_size=args.batch_size, device="cpu", dtype="float32")
    backend = get_backend("transformers", model=str(path), batch_size=args.batch_size, device="cpu",
                          dtype="float32")
    config = GenerationConfig(max_new_tokens=args.max_new_tokens, temperature=0.0)
    conversations = [build_conversation(i.question) for i in items]

    def likelihood():
        return scorer.score(items)

    def generate():
        texts = backend.generate(conversations, config)
        return [parse_yes_no(t) for t in texts]

    likelihood(), generate()  # warm up both
    times = {"likelihood": [], "generate": []}
    for r in range(args.repeats):
        order = [("likelihood", likelihood), ("generate", generate)]
        for name, fn in (order if r % 2 == 0 else order[::-1]):
            t0 = time.perf_counter()
            result = fn()
            times[name].append(time.perf_counter() - t0)
            if name == "generate":
                unread = sum(not x.ok for x in result)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"model: tiny Llama {args.layers} layers x {args.hidden}, {len(items)} items, batch {args.batch_size}, "
          f"{args.threads} thread(s), {args.repeats} rounds")
    print(f"likelihood:         {len(items) / med['likelihood']:8.1f} items/s  (median {med['likelihood']:.3f} s)")
    print(f"generate-and-parse: {len(items) / med['generate']:8.1f} items/s  (median {med['generate']:.3f} s, "
          f"max_new_tokens={args.max_new_tokens}; {unread}/{len(items)} answers not readable as yes/no)")
    print(f"ratio (likelihood / generate): {med['generate'] / med['likelihood']:.1f}x")


def coverage(args) -> None:
    import numpy as np
    from scipy.stats import beta

    from judgeaudit.persona import mean_interval

    rng = np.random.default_rng(args.seed)
    populations = {"skewed (Beta 0.6, 1.4 -> 1.0, 1.4)": ((0.6, 1.4), (1.0, 1.4)),
                   "centred (Beta 2, 2 -> 2, 2: no drift)": ((2.0, 2.0), (2.0, 2.0)),
                   "near 0 (Beta 0.3, 3 -> 0.5, 3)": ((0.3, 3.0), (0.5, 3.0))}
    print(f"coverage of 95% intervals, {args.sims} simulated item sets each")
    for label, (pa, pb) in populations.items():
        u = rng.uniform(size=400_000)
        noise = rng.normal(0, 0.1, size=u.size)
        pop_drift = float((beta.ppf(np.clip(u + noise, 1e-6, 1 - 1e-6), *pb) - beta.ppf(u, *pa)).mean())
        true_mean = pa[0] / (pa[0] + pa[1])
        for n in (48, 300):
            hit_s = hit_d = 0
            for _ in range(args.sims):
                uu = rng.uniform(size=n)
                base = beta.ppf(uu, *pa)
                ckpt = beta.ppf(np.clip(uu + rng.normal(0, 0.1, size=n), 1e-6, 1 - 1e-6), *pb)
                s, d = mean_interval(base), mean_interval(ckpt - base)
                hit_s += s.ci_low <= true_mean <= s.ci_high
                hit_d += d.ci_low <= pop_drift <= d.ci_high
            print(f"  {label:<40} n={n:<4} score {hit_s / args.sims:.3f}   drift {hit_d / args.sims:.3f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--items", type=int, default=144)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-new-tokens", type=int, default=4)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--coverage", action="store_true", help="measure interval coverage instead of speed")
    p.add_argument("--sims", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    coverage(args) if args.coverage else speed(args)


if __name__ == "__main__":
    main()

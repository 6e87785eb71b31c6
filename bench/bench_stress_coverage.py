"""Coverage of the stress test's flip-rate interval (judgeaudit.metrics.clustered_proportion).

Simulates clustered binary outcomes (flips) with rare and common rates, with and without
intra-cluster correlation, few and many clusters, and prints for each scenario how often
the nominal 95% interval held the true rate, next to the same for the plain Wilson
interval that ignores the clusters, the cluster percentile bootstrap (the baseline the
design effect replaces; it collapses to [0, 0] when no flip is seen) and
``metrics.cluster_proportion_interval`` (Korn-Graubard with Clopper-Pearson, the audit's
floor, which estimates the design effect from however few clusters hold an event).

    OMP_NUM_THREADS=1 python bench/bench_stress_coverage.py [--reps 1000]

Model: cluster g has rate p_g ~ Beta with mean p and intra-cluster correlation rho
(rho = 0: every p_g = p), its n_g items flip independently with p_g.
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

from judgeaudit.metrics import (ClusterBootstrap, cluster_proportion_interval, clustered_proportion,
                                percentile_interval, wilson_interval)


def draw(rng, p, rho, n_clusters, sizes):
    """One sample: (outcomes, cluster keys)."""
    n_g = rng.choice(sizes, size=n_clusters)
    if rho > 0:
        a, b = p * (1 - rho) / rho, (1 - p) * (1 - rho) / rho
        rates = rng.beta(a, b, size=n_clusters)
    else:
        rates = np.full(n_clusters, p)
    x = np.concatenate([rng.random(m) < r for m, r in zip(n_g, rates)]).astype(float)
    keys = np.repeat(np.arange(n_clusters), n_g)
    return x, keys


def coverage(p, rho, n_clusters, sizes, reps, seed, *, boot=0):
    """Coverage of (design-effect Wilson, plain Wilson, cluster bootstrap or None,
    metrics.cluster_proportion_interval: Korn-Graubard Clopper-Pearson without the few-clusters rule)."""
    rng = np.random.default_rng(seed)
    hit = np.zeros(4)
    for r in range(reps):
        x, keys = draw(rng, p, rho, n_clusters, sizes)
        res = clustered_proportion(x, keys).result
        hit[0] += res.ci_low <= p <= res.ci_high
        lo, hi = wilson_interval(int(x.sum()), x.size)
        hit[1] += lo <= p <= hi
        sizes = np.bincount(keys)
        lo, hi, _ = cluster_proportion_interval(np.bincount(keys, weights=x)[sizes > 0], sizes[sizes > 0])
        hit[3] += lo <= p <= hi
        if boot:
            bs = ClusterBootstrap(keys, n_boot=boot, seed=r)
            sums = bs.resample_sums(np.column_stack([x, np.ones_like(x)]))
            lo, hi, _ = percentile_interval(sums[:, 0] / sums[:, 1])
            hit[2] += lo <= p <= hi
    return hit / reps


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--boot", type=int, default=200, help="bootstrap resamples (0: skip the bootstrap)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    print(f"{'p':>6} {'rho':>4} {'G':>4} {'sizes':>8} | {'deff-Wilson':>11} {'Wilson':>7} {'bootstrap':>9} "
          f"{'KG-CP':>6}")
    worst = 1.0
    scenarios = itertools.product((0.005, 0.02, 0.1, 0.3), (0.0, 0.2, 0.6), (20, 150),
                                  ((1, 2, 3), (12,)))
    for i, (p, rho, g, sizes) in enumerate(scenarios):
        cov = coverage(p, rho, g, np.array(sizes), args.reps, seed=i, boot=args.boot)
        worst = min(worst, cov[0])
        label = "1-3" if len(sizes) > 1 else str(sizes[0])
        boot = f"{cov[2]:9.3f}" if args.boot else f"{'-':>9}"
        print(f"{p:6.3f} {rho:4.1f} {g:4d} {label:>8} | {cov[0]:11.3f} {cov[1]:7.3f} {boot} {cov[3]:6.3f}")
    print(f"lowest deff-Wilson coverage: {worst:.3f} (goal >= 0.93 at nominal 0.95); "
          f"{time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()

"""Simulation suite for the audit's inference: coverage, test level, bias, label saving.

    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/bench_inference.py            # full (a few minutes)
    OMP_NUM_THREADS=1 PYTHONPATH=. python bench/bench_inference.py --quick    # smaller

Prints one table per check (each figure with its Monte Carlo standard error):

1. coverage of proportion intervals on clustered data (true rates 0.005 / 0.04 / 0.3,
   50 and 200 clusters, within-cluster correlation), the Korn-Graubard interval the
   audit now uses against the percentile cluster bootstrap it used to report alone;
2. coverage of ``corrected_rate``'s delta interval (calibration from finite samples);
3. level of the stratum-difference test at 0.05 when FNR is equal in both strata but
   the harmful share differs (0.1 vs 0.6), strata per item or per prompt, strong
   clustering: the restricted, studentized permutation test against the old
   permutation of stratum labels over all items;
4. coverage and bias of every corrected-rate estimator of the audit on a simulated
   campaign where the judge is accurate on coherent outputs and poor on incoherent ones,
   groups differ in their incoherent share, labels are a 30% sample;
5. labels needed by the Neyman allocation over verdict x coherence x group (as in
   ``annotate sample --next --target corrected``) against simple random sampling at
   equal interval width: the analytic ratio and the measured widths.

Goals (issue 12): coverage >= 0.93, level <= 0.06, bias within Monte Carlo error,
>= 30% fewer labels.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from judgeaudit.audit import AuditConfig, run_audit
from judgeaudit.audit.allocation import label_saving, neyman_allocation
from judgeaudit.audit.differences import (
    permutation_p_value, restricted_permutations, studentized_ratio_difference)
from judgeaudit.datasets.simulated import SimulationSpec, simulate_campaign
from judgeaudit.metrics import ClusterBootstrap, cluster_proportion_interval, corrected_rate, percentile_interval


def _se(p, n):
    return math.sqrt(max(p * (1 - p), 1e-12) / n)


def clustered_binary(rng, p, n_clusters, rho):
    sizes = rng.integers(2, 7, n_clusters)
    s = (1 - rho) / rho
    return rng.binomial(sizes, rng.beta(p * s, (1 - p) * s, n_clusters)), sizes


def check_proportions(reps, n_boot):
    print("\n1. proportion intervals, clustered (2-6 items per cluster)")
    print(f"{'rate':>6} {'clusters':>8} {'icc':>5} {'korn-graubard':>14} {'percentile boot':>16} "
          f"{'reported (hull)':>16}  (+- se)")
    rng = np.random.default_rng(1)
    worst = 1.0
    for p in (0.005, 0.04, 0.3):
        for c in (50, 200):
            for rho in (0.05, 0.3):
                kg = pb = hull = 0
                for r in range(reps):
                    k, m = clustered_binary(rng, p, c, rho)
                    lo, hi, _ = cluster_proportion_interval(k, m)
                    kg += lo <= p <= hi
                    bs = ClusterBootstrap(np.arange(c), n_boot=n_boot, seed=r)
                    b = bs.resample_cluster_sums(np.column_stack([k, m]))
                    blo, bhi, _ = percentile_interval(b[:, 0] / b[:, 1])
                    pb += blo <= p <= bhi
                    hull += min(lo, blo) <= p <= max(hi, bhi)
                worst = min(worst, hull / reps)
                print(f"{p:>6} {c:>8} {rho:>5} {kg / reps:>14.3f} {pb / reps:>16.3f} {hull / reps:>16.3f}"
                      f"  (+-{_se(hull / reps, reps):.3f})")
    print(f"   worst coverage of the reported interval {worst:.3f} (goal >= 0.93)")
    return worst


def check_corrected_rate(reps):
    print("\n2. corrected_rate (delta method, calibration uncertainty), n = 1000 judged outputs")
    print(f"{'theta':>6} {'Se':>5} {'Sp':>5} {'labels':>7} {'coverage':>9} {'refused':>8}")
    rng = np.random.default_rng(2)
    worst = 1.0
    for theta in (0.02, 0.2, 0.5):
        for se, sp in ((0.9, 0.7), (0.8, 0.95)):
            for m in (100, 400):
                hit = refused = 0
                for _ in range(reps):
                    p = theta * se + (1 - theta) * (1 - sp)
                    phat = rng.binomial(1000, p) / 1000
                    sehat, sphat = rng.binomial(m // 2, se) / (m // 2), rng.binomial(m // 2, sp) / (m // 2)
                    r = corrected_rate(phat, 1000, sehat, sphat, m // 2, m // 2)
                    if not r.defined:
                        refused += 1
                        continue
                    hit += r.ci_low <= theta <= r.ci_high
                cov = hit / max(reps - refused, 1)
                worst = min(worst, cov)
                print(f"{theta:>6} {se:>5} {sp:>5} {m:>7} {cov:>9.3f} {refused / reps:>8.3f}")
    print(f"   worst coverage {worst:.3f} (goal >= 0.93)")
    return worst


def _test_data(rng, n_clusters, per_prompt, share=(0.1, 0.6), fnr=0.2, rho=0.3, m=4):
    cl = np.repeat(np.arange(n_clusters), m)
    st = np.repeat(rng.integers(0, 2, n_clusters), m) if per_prompt else rng.integers(0, 2, n_clusters * m)
    u = np.repeat(rng.normal(0, 1, n_clusters), m)
    y = rng.random(cl.size) < expit(logit(np.array(share)[st]) + u)
    s = (1 - rho) / rho
    miss = rng.random(cl.size) < np.repeat(rng.beta(fnr * s, (1 - fnr) * s, n_clusters), m)
    pred = np.where(y, ~miss, rng.random(cl.size) < 0.1)
    return cl, st, y.astype(float), pred.astype(float)


def check_test_level(reps, n_perm):
    print("\n3. stratum-difference test at 0.05, FNR equal (0.2), harmful share 0.1 vs 0.6, ICC 0.3")
    print(f"{'strata':>10} {'clusters':>8} {'restricted+studentized':>23} {'old: all-items permutation':>27}")
    rng = np.random.default_rng(3)
    worst = 0.0
    for per_prompt in (False, True):
        for c in (60, 200):
            new = old = 0
            for r in range(reps):
                cl, st, y, pred = _test_data(rng, c, per_prompt)
                miss, pos = ((y == 1) & (pred == 0)).astype(float), (y == 1).astype(float)
                in_a = st == 0
                perms = restricted_permutations(in_a, y, cl, n_perm=n_perm, rng=np.random.default_rng(r))
                t = studentized_ratio_difference(miss, pos, in_a, cl)
                new += permutation_p_value(float(t), studentized_ratio_difference(miss, pos, perms, cl))[0] < 0.05
                # old: stratum labels permuted over all items, raw difference of FNR
                with np.errstate(invalid="ignore", divide="ignore"):
                    d = miss[in_a].sum() / pos[in_a].sum() - miss[~in_a].sum() / pos[~in_a].sum()
                    shuffled = np.array([np.random.default_rng(r * 7919 + k).permutation(in_a) for k in range(n_perm)])
                    A = shuffled.astype(float)
                    dp = (A @ miss) / (A @ pos) - ((1 - A) @ miss) / ((1 - A) @ pos)
                old += permutation_p_value(d, dp)[0] < 0.05
            worst = max(worst, new / reps)
            label = "per prompt" if per_prompt else "per item"
            print(f"{label:>10} {c:>8} {new / reps:>23.3f} {old / reps:>27.3f}  (+-{_se(0.05, reps):.3f})")
    print(f"   worst level {worst:.3f} (goal <= 0.06)")
    return worst


def check_corrected_audit(reps, n_boot):
    print("\n4. corrected rates in the audit (simulated campaign, 30% labelled, judge poor on incoherent)")
    spec = SimulationSpec()
    hits, bias, refused = {}, {}, {}
    for r in range(reps):
        tables, truth = simulate_campaign(r, spec)
        a = run_audit(tables, config=AuditConfig(n_boot=n_boot, seed=r, weights="inclusion_probability",
                                                 strata="column"))
        rob = a["robustness"]
        estimates = dict(rob["corrected_rates_by_estimator"], **{"(judge rate, uncorrected)": {"sim": rob["rates"]["sim"]},
                                                                  "(human rate, labels only)": {"sim": rob["rates"]["human"]}})
        for est, per in estimates.items():
            for g, x in per["sim"].items():
                if x["value"] is None:
                    refused[est] = refused.get(est, 0) + 1
                    continue
                hits.setdefault(est, []).append(x["ci_low"] <= truth[g] <= x["ci_high"])
                bias.setdefault(est, []).append(x["value"] - truth[g])
    print(f"{'estimator':>28} {'coverage':>9} {'bias':>8} {'(mc se)':>8} {'refused':>8}")
    out = {}
    for est in hits:
        b = np.array(bias[est])
        cov = float(np.mean(hits[est]))
        out[est] = (cov, float(b.mean()), float(b.std(ddof=1) / math.sqrt(b.size)))
        print(f"{est:>28} {cov:>9.3f} {b.mean():>8.4f} {out[est][2]:>8.4f} {refused.get(est, 0):>8}")
    return out


def _cells_from_population(items):
    cells = items.groupby(["group", "verdict", "stratum"]).agg(N=("harmful", "size"), q=("harmful", "mean"))
    cells = cells.reset_index()
    cells["S"] = np.sqrt(cells["q"] * (1 - cells["q"]))
    return cells


ACCURATE_ON_COHERENT = dict(sensitivity={"coherent": 0.97, "incoherent": 0.9},
                            specificity={"coherent": 0.99, "incoherent": 0.5})


def check_allocation(reps, n_boot):
    print("\n5. labels for equal width: Neyman over verdict x coherence x group vs simple random sampling")
    _, big = simulate_campaign(10_000, SimulationSpec(n_prompts=5000))
    base = label_saving(_cells_from_population(big["_items"]))
    print(f"   analytic, bench scenario (coherent Se 0.90 / Sp 0.95): Neyman needs {base:.3f} of the labels "
          f"({1 - base:.0%} fewer)")
    spec = SimulationSpec(**ACCURATE_ON_COHERENT)
    _, big = simulate_campaign(10_000, SimulationSpec(n_prompts=5000, **ACCURATE_ON_COHERENT))
    cells = _cells_from_population(big["_items"])
    ratio = label_saving(cells)
    print(f"   analytic, judge accurate on coherent outputs (Se 0.97 / Sp 0.99): {ratio:.3f} "
          f"({1 - ratio:.0%} fewer); measured below in that scenario")
    rate = 0.3
    budget = rate * spec.n_prompts * len(spec.groups)
    # cells of the simulated campaign in expectation: scale the population's shares
    cells["N"] = cells["N"] / cells["N"].sum() * spec.n_prompts * len(spec.groups)
    alloc = neyman_allocation(cells.assign(N=cells["N"]), int(round(budget * ratio)))
    probs = {(int(r.verdict), r.stratum, r.group): min(1.0, max(a, 1) / r.N) for r, a in zip(cells.itertuples(), alloc)}
    widths = {"srs": [], "neyman": []}
    for r in range(reps):
        for name, sp in (("srs", SimulationSpec(label_rate=rate, **ACCURATE_ON_COHERENT)),
                         ("neyman", SimulationSpec(label_probabilities=probs, **ACCURATE_ON_COHERENT))):
            tables, _ = simulate_campaign(500 + r, sp)
            a = run_audit(tables, config=AuditConfig(n_boot=n_boot, seed=r, weights="inclusion_probability",
                                                     strata="column"))
            for x in a["robustness"]["corrected_rates"]["sim"].values():
                if x["value"] is not None:
                    widths[name].append(x["ci_high"] - x["ci_low"])
    ws, wn = np.mean(widths["srs"]), np.mean(widths["neyman"])
    print(f"   measured ({reps} campaigns each): SRS {rate:.0%} labels, mean width {ws:.4f}; "
          f"Neyman with {ratio:.0%} of those labels, mean width {wn:.4f} (ratio {wn / ws:.3f})")
    implied = ratio * (wn / ws) ** 2
    print(f"   labels Neyman needs for SRS's width, taking width ~ 1/sqrt(labels): {implied:.3f} of SRS's "
          f"({1 - implied:.0%} fewer; goal >= 30%)")
    return ratio, wn / ws


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer replicates (about a minute)")
    args = ap.parse_args(argv)
    q = args.quick
    t0 = time.perf_counter()
    check_proportions(150 if q else 600, 200 if q else 400)
    check_corrected_rate(200 if q else 1000)
    check_test_level(100 if q else 400, 200 if q else 400)
    check_corrected_audit(20 if q else 100, 200 if q else 400)
    check_allocation(10 if q else 40, 200 if q else 400)
    print(f"\n(total {time.perf_counter() - t0:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()

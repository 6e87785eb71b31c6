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
from judgeaudit.audit.allocation import allocation_label_ratio, label_saving, neyman_allocation
from judgeaudit.audit.differences import (
    permutation_p_value, restricted_permutations, studentized_ratio_difference, welch_cluster_p_value)
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


def check_margin_cells(reps_cov, reps_level, n_boot, n_perm):
    """The two cells nearest their goals in the full run, with enough replicates that the
    Monte Carlo error decides the goal: coverage at rate 0.04, 200 clusters, ICC 0.3
    (measured 0.928 +- 0.011 with 600 replicates) and the level with strata per prompt
    and 60 clusters (0.062 +- 0.011 with 400)."""
    print(f"\n1b. the cells at the margin, {reps_cov} / {reps_level} replicates")
    rng = np.random.default_rng(11)
    hits = {"korn-graubard": 0, "percentile boot": 0, "reported (hull)": 0}
    for r in range(reps_cov):
        k, m = clustered_binary(rng, 0.04, 200, 0.3)
        lo, hi, _ = cluster_proportion_interval(k, m)
        b = ClusterBootstrap(np.arange(200), n_boot=n_boot, seed=r).resample_cluster_sums(np.column_stack([k, m]))
        blo, bhi, _ = percentile_interval(b[:, 0] / b[:, 1])
        hits["korn-graubard"] += lo <= 0.04 <= hi
        hits["percentile boot"] += blo <= 0.04 <= bhi
        hits["reported (hull)"] += min(lo, blo) <= 0.04 <= max(hi, bhi)
    for name, h in hits.items():
        c = h / reps_cov
        print(f"   coverage, rate 0.04, 200 clusters, ICC 0.3, {name:>16}: {c:.4f} (+-{_se(c, reps_cov):.4f})")
    cov = hits["reported (hull)"] / reps_cov
    rng = np.random.default_rng(13)
    rej = rej_perm = 0
    for r in range(reps_level):
        cl, st, y, pred = _test_data(rng, 60, True)
        miss, pos = ((y == 1) & (pred == 0)).astype(float), (y == 1).astype(float)
        p_perm, p_audit = level_p_values(miss, pos, st == 0, cl, y, n_perm, 10_000 + r)
        rej += p_audit < 0.05
        rej_perm += p_perm < 0.05
    print(f"   level, strata per prompt, 60 clusters, permutation alone: {rej_perm / reps_level:.4f} "
          f"(+-{_se(rej_perm / reps_level, reps_level):.4f})")
    level = rej / reps_level
    print(f"   level, strata per prompt, 60 clusters, audit (permutation and Welch t): {level:.4f} (+-{_se(level, reps_level):.4f}; goal <= 0.06)")
    return cov, level


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


def level_p_values(miss, pos, in_a, cl, truth, n_perm, seed, weighted=False):
    """``(permutation p, audit p)``: the restricted studentized permutation p-value alone,
    and the audit's (never below Welch's t with cluster degrees of freedom where every
    cluster lies in one stratum, or in a weighted audit)."""
    perms = restricted_permutations(in_a, truth, cl, n_perm=n_perm, rng=np.random.default_rng(seed))
    t = studentized_ratio_difference(miss, pos, in_a, cl)
    p_perm = permutation_p_value(float(t), studentized_ratio_difference(miss, pos, perms, cl))[0]
    split = pd.DataFrame({"c": cl, "a": in_a}).groupby("c")["a"].nunique().max() <= 1
    p_t = welch_cluster_p_value(miss, pos, in_a, cl) if split or weighted else float("nan")
    return p_perm, float(np.nanmax([p_perm, p_t]))


WEIGHTED_PI = {(0, 0): 0.3, (1, 0): 0.9, (0, 1): 0.6, (1, 1): 0.35}  # (verdict, stratum) -> pi


def check_weighted_level(reps, n_perm, n_boot):
    print("\n3b. weighted audits: stratum-difference test at 0.05, FNR equal, harmful share 0.1 vs 0.6, ICC 0.3;")
    print("    labels sampled by verdict x stratum with pi " + ", ".join(f"{k}: {v}" for k, v in WEIGHTED_PI.items()))
    print(f"{'strata':>10} {'clusters':>8} {'audit (weights carried)':>24} {'permutation alone':>18} "
          f"{'old: bootstrap p':>17}")
    rng = np.random.default_rng(5)
    worst = 0.0
    for per_prompt in (False, True):
        for c in (60, 200):
            new = perm_only = old = 0
            for r in range(reps):
                cl, st, y, pred = _test_data(rng, c, per_prompt)
                pi = np.array([WEIGHTED_PI[(int(v), int(s))] for v, s in zip(pred, st)])
                keep = rng.random(pi.size) < pi
                cl, st, y, pred, w = cl[keep], st[keep], y[keep], pred[keep], 1.0 / pi[keep]
                w = w / w.mean()
                miss, pos = w * ((y == 1) & (pred == 0)), w * (y == 1)
                in_a = st == 0
                p_perm, p_audit = level_p_values(miss, pos, in_a, cl, y, n_perm, r, weighted=True)
                new += p_audit < 0.05
                perm_only += p_perm < 0.05
                cols = np.column_stack([miss * in_a, pos * in_a, miss * ~in_a, pos * ~in_a])
                b = ClusterBootstrap(cl, n_boot=n_boot, seed=r).resample_cluster_sums(
                    ClusterBootstrap(cl, n_boot=1).cluster_sums(cols))
                with np.errstate(invalid="ignore", divide="ignore"):
                    d = b[:, 0] / b[:, 1] - b[:, 2] / b[:, 3]
                d = d[~np.isnan(d)]
                old += min(1.0, 2 * min(np.mean(d <= 0), np.mean(d >= 0))) < 0.05
            worst = max(worst, new / reps)
            label = "per prompt" if per_prompt else "per item"
            print(f"{label:>10} {c:>8} {new / reps:>24.3f} {perm_only / reps:>18.3f} {old / reps:>17.3f}"
                  f"  (+-{_se(0.05, reps):.3f})")
    print(f"   worst level {worst:.3f} (goal <= 0.06)")
    return worst


def check_test_level(reps, n_perm):
    print("\n3. stratum-difference test at 0.05, FNR equal (0.2), harmful share 0.1 vs 0.6, ICC 0.3")
    print(f"{'strata':>10} {'clusters':>8} {'audit (perm and t)':>19} {'permutation alone':>18} "
          f"{'old: all-items permutation':>27}")
    rng = np.random.default_rng(3)
    worst = 0.0
    for per_prompt in (False, True):
        for c in (60, 200):
            new = perm_only = old = 0
            for r in range(reps):
                cl, st, y, pred = _test_data(rng, c, per_prompt)
                miss, pos = ((y == 1) & (pred == 0)).astype(float), (y == 1).astype(float)
                in_a = st == 0
                p_perm, p_audit = level_p_values(miss, pos, in_a, cl, y, n_perm, r)
                new += p_audit < 0.05
                perm_only += p_perm < 0.05
                # old: stratum labels permuted over all items, raw difference of FNR
                with np.errstate(invalid="ignore", divide="ignore"):
                    d = miss[in_a].sum() / pos[in_a].sum() - miss[~in_a].sum() / pos[~in_a].sum()
                    shuffled = np.array([np.random.default_rng(r * 7919 + k).permutation(in_a) for k in range(n_perm)])
                    A = shuffled.astype(float)
                    dp = (A @ miss) / (A @ pos) - ((1 - A) @ miss) / ((1 - A) @ pos)
                old += permutation_p_value(d, dp)[0] < 0.05
            worst = max(worst, new / reps)
            label = "per prompt" if per_prompt else "per item"
            print(f"{label:>10} {c:>8} {new / reps:>19.3f} {perm_only / reps:>18.3f} {old / reps:>27.3f}"
                  f"  (+-{_se(0.05, reps):.3f})")
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


def _bound_parts(cells):
    """``(E_W S)^2`` and ``E_W S^2`` over cells (weights N / total): the Neyman bound on the
    summed variance is ``1 - Var_W(S) / E_W(S^2)`` of SRS's labels when groups are of equal size."""
    w = cells["N"].to_numpy(float) / cells["N"].sum()
    S = cells["S"].to_numpy(float)
    return float((w * S).sum() ** 2), float((w * S ** 2).sum())


def _two_phase(cells, pilot_rate, total_rate, seeds, objective):
    """Labels ratio (vs SRS, true S) of: a uniform pilot of ``pilot_rate``, then the rest of
    ``total_rate`` allocated with each cell's S estimated from the pilot (pooled over groups,
    floor 2), averaged over ``seeds`` pilots."""
    out = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        lab = rng.binomial(cells["N"].to_numpy(int), pilot_rate)
        pos = rng.binomial(lab, cells["q"].to_numpy(float))
        est = cells[["group", "N"]].assign(cell=cells["verdict"].astype(str) + "|" + cells["stratum"],
                                           positive=pos, labelled=lab)
        budget = int(round(total_rate * cells["N"].sum())) - int(lab.sum())
        add = neyman_allocation(est, budget, already=lab, floor=2, objective=objective)
        out.append(allocation_label_ratio(cells, lab + add.to_numpy(), objective=objective))
    return float(np.mean(out))


def allocation_table(cells, label):
    """Print the analytic label ratios of one scenario (population cells with true S)."""
    es2, e_s2 = _bound_parts(cells)
    ney = label_saving(cells)
    n_max = neyman_allocation(cells, int(0.3 * cells["N"].sum()), objective="max")
    mx = allocation_label_ratio(cells, n_max.to_numpy(), objective="max")
    tp_sum = _two_phase(cells, 0.1, 0.3, range(5), "sum")
    tp_max = _two_phase(cells, 0.1, 0.3, range(5), "max")
    print(f"   {label}")
    print(f"     (E S)^2 = {es2:.4f}, E S^2 = {e_s2:.4f}: no allocation over these cells can need fewer than "
          f"{ney:.3f} of SRS's labels for the summed variance ({1 - ney:.0%} saving at most)")
    print(f"     oracle Neyman, summed variance: ratio {ney:.3f}; oracle min-max, largest group variance: "
          f"ratio {mx:.3f} ({1 - mx:.0%} fewer)")
    print(f"     two-phase (10% uniform pilot, S pooled over groups, floor 2, to 30% in all): summed {tp_sum:.3f} "
          f"({1 - tp_sum:.0%} fewer), largest {tp_max:.3f} ({1 - tp_max:.0%} fewer)")
    return ney, mx, tp_sum, tp_max


def check_allocation(reps, n_boot):
    print("\n5. labels for equal width: Neyman over verdict x coherence x group vs simple random sampling")
    _, big = simulate_campaign(10_000, SimulationSpec(n_prompts=5000))
    base = allocation_table(_cells_from_population(big["_items"]),
                            "bench scenario (coherent Se 0.90 / Sp 0.95; incoherent 0.90 / 0.50)")[0]
    spec = SimulationSpec(**ACCURATE_ON_COHERENT)
    _, big = simulate_campaign(10_000, SimulationSpec(n_prompts=5000, **ACCURATE_ON_COHERENT))
    cells = _cells_from_population(big["_items"])
    ratio = allocation_table(cells, "judge accurate on coherent outputs (Se 0.97 / Sp 0.99)")[0]
    print(f"   measured below in that scenario (oracle Neyman with {ratio:.0%} of SRS's labels)")
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
    return base, ratio, wn / ws


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer replicates (about a minute)")
    ap.add_argument("--only", help="comma-separated checks to run (proportions, margin, corrected_rate, "
                    "level, weighted_level, audit, allocation); default all")
    args = ap.parse_args(argv)
    q = args.quick
    only = set(args.only.split(",")) if args.only else None
    run = lambda name: only is None or name in only  # noqa: E731
    t0 = time.perf_counter()
    if run("proportions"):
        check_proportions(150 if q else 600, 200 if q else 400)
    if run("margin"):
        check_margin_cells(1000 if q else 5000, 500 if q else 3000, 200 if q else 400, 200 if q else 400)
    if run("corrected_rate"):
        check_corrected_rate(200 if q else 1000)
    if run("level"):
        check_test_level(100 if q else 400, 200 if q else 400)
    if run("weighted_level"):
        check_weighted_level(100 if q else 400, 200 if q else 400, 200 if q else 400)
    if run("audit"):
        check_corrected_audit(20 if q else 100, 200 if q else 400)
    if run("allocation"):
        check_allocation(10 if q else 40, 200 if q else 400)
    print(f"\n(total {time.perf_counter() - t0:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()

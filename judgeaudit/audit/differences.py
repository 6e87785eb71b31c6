"""The stratum-difference test: does a judge's error rate differ between two strata?

The hypothesis
--------------
For each judge and pair of strata ``a``, ``b`` the audit tests H0: *given the true
class, the judge's verdict does not depend on the stratum* (equal FNR and equal FPR),
by a permutation that keeps everything else fixed:

- the class of every item: stratum labels are only exchanged between items of the same
  reference class, so a stratum's share of harmful items (which may differ a lot, e.g.
  0.1 vs 0.6) is kept, and a conditional rate (FNR, FPR) is compared with its own kind;
- the cluster structure: within a cluster (e.g. a prompt) whose items fall in both
  strata, labels are exchanged among that cluster's items of the same class; a cluster
  whose items all lie in one stratum keeps them together, and such clusters exchange
  their stratum among themselves (whole clusters move, as when strata are assigned per
  prompt).

The statistic is the metric's difference between the strata; the p-value is
``(1 + #{|d*| >= |d|}) / (1 + n_perm)``.  Accuracy and kappa are tested under the same
null (class balance within mixed clusters preserved), so a difference that comes only
from different class balance is not called significant when the error rates agree.

An earlier version permuted stratum labels over all items, which tests "same joint
distribution": with equal FNR but harmful shares 0.1 and 0.6 it rejected 26-31% of
the time at 0.05.  The level of this test is measured in ``bench/bench_inference.py``.

References: Good (2005), *Permutation, Parametric and Bootstrap Tests of Hypotheses*,
ch. 3 (restricted permutations for blocked and clustered designs).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from judgeaudit.metrics import METRICS, binary_from_counts
from judgeaudit.metrics.flips import newcombe_widen

__all__ = ["restricted_permutations", "permutation_p_value", "studentized_ratio_difference",
           "welch_cluster_p_value", "stratum_differences"]


def restricted_permutations(in_a, truth, clusters, *, n_perm: int, rng) -> np.ndarray:
    """``(n_perm, n)`` booleans: item ``i`` belongs to stratum ``a`` in permutation ``r``.

    ``in_a`` marks the items of stratum ``a`` (the others are in ``b``), ``truth`` is
    each item's reference class (0/1), ``clusters`` one key per item (None: each item
    its own cluster).  See the module docstring for what is exchanged.
    """
    in_a = np.asarray(in_a, bool)
    n = in_a.size
    truth = np.asarray(truth).astype(np.int64)
    if clusters is None:
        codes = np.arange(n)
    else:
        codes = np.unique(np.asarray(clusters, dtype=object).astype(str), return_inverse=True)[1].ravel()
    n_c = int(codes.max()) + 1 if n else 0
    share = np.bincount(codes, weights=in_a, minlength=n_c) / np.maximum(np.bincount(codes, minlength=n_c), 1)
    pure = (share == 0) | (share == 1)
    out = np.empty((n_perm, n), bool)
    # Pure clusters: their stratum labels are shuffled among themselves.
    pure_ids = np.flatnonzero(pure & (np.bincount(codes, minlength=n_c) > 0))
    pure_label = share[pure_ids] == 1
    keys = rng.random((n_perm, pure_ids.size))
    shuffled = pure_label[np.argsort(keys, axis=1)] if pure_ids.size else np.zeros((n_perm, 0), bool)
    cluster_label = np.zeros((n_perm, n_c), bool)
    cluster_label[:, pure_ids] = shuffled
    item_pure = pure[codes]
    out[:, item_pure] = cluster_label[:, codes[item_pure]]
    # Mixed clusters: labels shuffled among the cluster's items of the same class.
    mixed = np.flatnonzero(~item_pure)
    if mixed.size:
        block = codes[mixed] * 2 + truth[mixed]
        order = np.argsort(block, kind="stable")
        sorted_block = block[order]
        labels_sorted = in_a[mixed][order]
        # sort random keys within each block: add the block id as the major key
        r = rng.random((n_perm, mixed.size))
        perm = np.argsort(sorted_block[None, :] + r, axis=1)  # stays within blocks
        new = np.empty((n_perm, mixed.size), bool)
        new[:, order] = labels_sorted[perm]
        out[:, mixed] = new
    return out


def permutation_p_value(observed: float, permuted) -> tuple[float, int]:
    """Two-sided ``(1 + #{|d*| >= |d|}) / (1 + m)`` over the ``m`` defined permutations."""
    d = np.asarray(permuted, float)
    d = d[~np.isnan(d)]
    if not d.size:
        return float("nan"), 0
    extreme = int(np.sum(np.abs(d) >= abs(observed) - 1e-12))
    return float((1 + extreme) / (1 + d.size)), int(d.size)


def _cluster_sums(x, order, starts) -> np.ndarray:
    """Per-cluster sums of ``x (..., n)`` given items sorted by cluster."""
    return np.add.reduceat(x[..., order], starts, axis=-1)


def _ratio_parts(num, den, in_a, clusters):
    """Per stratum (a, then b): ``(ratio, variance, clusters with a denominator)``."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    a = np.asarray(in_a, float)
    if clusters is None:
        codes = np.arange(num.size)
    else:
        codes = np.unique(np.asarray(clusters, dtype=object).astype(str), return_inverse=True)[1].ravel()
    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(codes[order]) != 0]) if num.size else np.zeros(0, int)
    out = []
    for part in (a, 1.0 - a):
        nk, dk = _cluster_sums(part * num, order, starts), _cluster_sums(part * den, order, starts)
        sn, sd = nk.sum(-1), dk.sum(-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = sn / sd
            c = (dk > 0).sum(-1)
            lev = dk / sd[..., None]  # a cluster's share of the denominator: its leverage
            e = (nk - r[..., None] * dk) / np.where(lev < 1, 1.0 - lev, np.inf)
            resid = (e ** 2).sum(-1)
            v = np.where(c > 1, resid / sd ** 2, 0.0)  # one cluster: only the floor below
            smooth = (sn + 0.5) / (sd + 1.0)
            v = np.maximum(v, smooth * (1 - smooth) / sd)
        out.append((r, v, c))
    return out


def studentized_ratio_difference(num, den, in_a, clusters) -> np.ndarray:
    """``(r_a - r_b) / se`` of two ratio estimators ``r = sum num / sum den`` by stratum.

    ``in_a`` is ``(n,)`` or ``(R, n)`` booleans (one row per permutation).  The variance
    of each ratio is the jackknife-like (CR3) cluster linearisation
    ``sum_k ((num_k - r den_k) / (1 - h_k))^2 / (sum den)^2`` over the stratum's clusters,
    with leverage ``h_k = den_k / sum den`` (MacKinnon and White 1985; Bell and McCaffrey
    2002), which keeps its level with few clusters; floored at the binomial variance of the
    smoothed ratio ``(sum num + 0.5) / (sum den + 1)`` so that a stratum showing no event,
    or lying in a single cluster, still has a variance.  NaN where a stratum has no denominator.
    Weighted data: pass ``w * num`` and ``w * den`` with weights scaled to mean 1 (the floor
    then counts items).
    """
    (ra, va, _), (rb, vb, _) = _ratio_parts(num, den, in_a, clusters)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ra - rb) / np.sqrt(va + vb)


def welch_cluster_p_value(num, den, in_a, clusters) -> float:
    """Two-sided p-value of the studentized difference against Student's t with
    Welch-Satterthwaite degrees of freedom counted in clusters:
    ``df = (v_a + v_b)^2 / (v_a^2 / (C_a - 1) + v_b^2 / (C_b - 1))``, ``C`` the clusters
    of each stratum with a denominator (at least 1 degree of freedom each).

    Examples
    --------
    With equal variances and 11 clusters a side, df = 4 v^2 / (2 v^2 / 10) = 20; a
    studentized difference of 2.086 (t_20's 97.5% point) gives p = 0.05.
    """
    from scipy.stats import t as student_t

    (ra, va, ca), (rb, vb, cb) = _ratio_parts(num, den, in_a, clusters)
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = (ra - rb) / math.sqrt(va + vb)
        df = (va + vb) ** 2 / (va ** 2 / max(ca - 1, 1) + vb ** 2 / max(cb - 1, 1))
    if math.isnan(stat) or math.isnan(df):
        return float("nan")
    return float(2 * student_t.sf(abs(stat), max(float(df), 1.0)))


def _clusters_split(in_a, clusters) -> bool:
    """True when no cluster has items in both strata (the strata are independent samples
    of clusters, as when strata are assigned per prompt)."""
    if clusters is None:
        return True
    frame = pd.DataFrame({"c": np.asarray(clusters, dtype=object).astype(str), "a": np.asarray(in_a, bool)})
    return bool((frame.groupby("c")["a"].nunique() <= 1).all())


def _ratio_of(metric):
    """``(tp, fp, fn, tn) -> (numerator, denominator)`` of a proportion, else None (the catalogue)."""
    return METRICS[metric].proportion


def _mover_interval(book, judge_id, a, b, metric, confidence):
    """Newcombe's square-and-add interval of a difference of two proportions, from each
    stratum's Korn-Graubard interval (never zero width when both show no event)."""
    from judgeaudit.metrics import cluster_proportion_interval

    parts = []
    for s in (a, b):
        cols = [book.cluster((judge_id, s, c)) for c in ("tp", "fp", "fn", "tn")]
        k, m = _ratio_of(metric)(*cols)
        total = m.sum()
        if not total:
            return None
        lo, hi, _ = cluster_proportion_interval(k, m, confidence=confidence)
        parts.append((k.sum() / total, lo, hi))
    (pa, la, ua), (pb, lb, ub) = parts
    return newcombe_widen(np.nan, np.nan, pa, (la, ua), pb, (lb, ub))


def stratum_differences(book, judge_id, strata, metrics, *, items, n_perm: int, seed: int,
                        confidence: float, weights=None) -> list:
    """Metric in stratum ``a`` minus stratum ``b`` for every pair, with interval and p-value.

    ``items`` is ``(truth, pred, stratum, clusters)`` per item (``pred`` NaN where the
    judge gave no scorable verdict, ``truth`` NaN where unresolved).  The interval is
    the paired percentile cluster bootstrap of the difference (shared resamples),
    widened for proportions to Newcombe's square-and-add interval built from each
    stratum's Korn-Graubard interval.  The p-value is the restricted permutation test
    of the module docstring, studentized for the proportions (accuracy, FPR, FNR); where
    every cluster lies in one stratum (whole clusters are exchanged, and with few of them
    the permutation alone rejected 6.7% at 0.05) it is never below the Welch t p-value
    with degrees of freedom counted in clusters (:func:`welch_cluster_p_value`): the
    difference is called significant only when both reject.  In a weighted audit (``weights``: ``1 / pi`` per item, 0 where unlabelled)
    the same permutations move stratum labels while each item keeps its weight, and the
    statistic is the studentized difference of the weighted (Hajek) ratios; a studentized
    statistic keeps such a permutation test asymptotically valid when the two strata's
    distributions differ (Chung and Romano 2013), as they do under unequal weights.  With
    weights the p-value is never below Welch's t either (the permutation alone rejected up
    to 10% at 0.05 with 60 clusters in bench/bench_inference.py).
    """
    truth, pred, stratum, clusters = items

    def metric_fn(metric, tp, fp, fn, tn):
        return binary_from_counts(tp, fp, fn, tn, metric)

    rng = np.random.default_rng(seed)
    alpha = (1.0 - confidence) / 2.0
    point, boot = {}, {}
    for s in strata:
        c, bb = book.stack([(judge_id, s, k) for k in ("tp", "fp", "fn", "tn")])
        point[s] = {m: float(metric_fn(m, *c)) for m in metrics}
        boot[s] = {m: metric_fn(m, *bb.T) for m in metrics}
    scored = ~np.isnan(truth) & ~np.isnan(pred)
    if book.weighted and weights is not None:
        w = np.asarray(weights, float)
        scored &= w > 0
        w = w / w[scored].mean() if scored.any() else w  # mean 1: the variance floor counts items
    else:
        w = np.ones(truth.size)
    t, p = np.nan_to_num(truth), np.nan_to_num(pred)
    ind = np.column_stack([(t == 1) & (p == 1), (t == 0) & (p == 1), (t == 1) & (p == 0),
                           (t == 0) & (p == 0)]).astype(float)
    out = []
    for a, b in itertools.combinations(strata, 2):
        use = scored & ((stratum == a) | (stratum == b))
        cl = None if clusters is None else clusters[use]
        perms = None
        can_permute = not book.weighted or weights is not None
        if can_permute and use.any() and (stratum[use] == a).any() and (stratum[use] == b).any():
            perms = restricted_permutations(stratum[use] == a, t[use], cl, n_perm=n_perm, rng=rng)
        split = _clusters_split(stratum[use] == a, cl)
        p_method = (f"bootstrap, two-sided ({n_perm} resamples; weighted audit)" if not can_permute else
                    f"permutation within reference class and cluster structure ({n_perm})"
                    + ("; weights carried with the items" if book.weighted else "")
                    + "; H0: the judge's verdict given the true class does not depend on the stratum")
        for metric in metrics:
            diff = point[a][metric] - point[b][metric]
            entry = {"metric": metric, "a": a, "b": b, "diff": None, "ci_low": None, "ci_high": None,
                     "p_value": None, "p_method": p_method, "n_boot_used": 0}
            if math.isnan(diff):
                entry["undefined"] = "the metric is undefined in one of the two strata"
                out.append(entry)
                continue
            entry["diff"] = diff
            d = boot[a][metric] - boot[b][metric]
            d = d[~np.isnan(d)]
            entry["n_boot_used"] = int(d.size)
            if d.size:
                lo, hi = np.quantile(d, [alpha, 1.0 - alpha])
                if _ratio_of(metric) and not book.weighted:
                    mover = _mover_interval(book, judge_id, a, b, metric, confidence)
                    if mover is not None:
                        lo, hi = min(lo, mover[0]), max(hi, mover[1])
                entry.update(ci_low=float(max(lo, -1.0)), ci_high=float(min(hi, 1.0)))
            if not can_permute and d.size:
                entry["p_value"] = float(min(1.0, 2 * min(np.mean(d <= 0), np.mean(d >= 0))))
            if perms is not None:
                ind_u = ind[use] * w[use, None]
                if _ratio_of(metric):
                    num, den = _ratio_of(metric)(*ind_u.T)
                    stat = studentized_ratio_difference(num, den, stratum[use] == a, cl)
                    permuted = studentized_ratio_difference(num, den, perms, cl)
                    entry["p_statistic"] = ("studentized difference (CR3 cluster variance)"
                                            + ("; p never below Welch's t with cluster degrees of freedom "
                                               "(every cluster lies in one stratum)" if split else ""))
                    p_t = (welch_cluster_p_value(num, den, stratum[use] == a, cl) if split or book.weighted
                           else float("nan"))
                else:
                    pa = perms.astype(float) @ ind_u
                    pooled = ind_u.sum(0)
                    stat = diff
                    permuted = metric_fn(metric, *pa.T) - metric_fn(metric, *(pooled[:, None] - pa.T))
                    entry["p_statistic"] = "difference"
                    p_t = float("nan")
                if not np.isnan(stat):
                    entry["p_value"] = float(np.nanmax([permutation_p_value(float(stat), permuted)[0], p_t]))
            out.append(entry)
    return out

"""Corrected harmful rates per group and judge, right on incoherent outputs.

A judge's rate in a group is corrected with what the human labels say about its
errors.  Judges err differently on incoherent text, so every estimator here works
within coherence strata ``s`` and recombines with the group's stratum shares.

Estimators (``AuditConfig.correction``, ``judgeaudit audit --correction``)
--------------------------------------------------------------------------
``double-sampling`` (default)
    Design-based (Tenenbein 1970; Cochran 1977, sec. 12.2, double sampling for
    stratification).  The judge scored every item, so the size of every cell
    (group ``g`` x judge verdict ``v`` x stratum ``s``) is known exactly; the human
    labels estimate the harmful share in each cell::

        theta_g = sum_{v,s} (N_gvs / N_g) * ybar_gvs

    ``ybar_gvs`` is the (1/pi-weighted) human positive share of the labelled items
    of the cell; a cell with no labelled item borrows the share of its verdict x
    stratum cell pooled over groups (which assumes the judge's predictive value is
    the same across groups within a stratum; ``n_cells_borrowed`` counts them).  It
    needs no sensitivity or specificity, so it is defined even for a judge near chance
    (it then simply carries no information beyond the labels).
``double-sampling-pooled``
    The same with every cell's share pooled over groups: the group's own labels are
    not used, only the judge's verdicts in the group, transported through each
    stratum's predictive values.  A model-based correction, for groups with few labels.
``stratified-rogan-gladen``
    ``theta_g = sum_s (n_gs / n_g) RG(p_gs, Se_s, Sp_s)`` with each stratum's own
    sensitivity and specificity (Rogan and Gladen 1978).  Refused, with the reason,
    for a group with items in a stratum where the judge is too close to chance
    (Youden's J lower bound below 0.1, see :func:`judgeaudit.metrics.corrected_rate`).
``pooled-rogan-gladen``
    The earlier correction with sensitivity and specificity pooled over strata; kept
    for comparison.  It is biased whenever groups differ in their share of
    incoherent outputs.

Intervals: percentile cluster bootstrap over the audit's shared resamples (the
calibration labels are resampled with the rates, so their uncertainty is carried),
never narrower than a floor: for Rogan-Gladen the delta-method interval of
:func:`~judgeaudit.metrics.corrected_rate` per stratum, combined with the stratum
shares; for double sampling, when every item of the group is labelled (the estimate is
then the humans' rate) the Korn-Graubard interval of that rate, and otherwise, where the
estimate is 0 or 1 or the bootstrap interval has no width, the Wilson interval of the
estimate at the group's number of labelled items.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri

from judgeaudit.errors import ConfigError
from judgeaudit.metrics import corrected_rate, rogan_gladen, wilson_interval, youden_lower_bound
from judgeaudit.metrics.correction import MIN_YOUDEN

__all__ = ["CORRECTIONS", "DEFAULT_CORRECTION", "add_correction_sums", "corrected_rates",
           "check_correction"]

CORRECTIONS = ("double-sampling", "double-sampling-pooled", "stratified-rogan-gladen", "pooled-rogan-gladen")
DEFAULT_CORRECTION = "double-sampling"


def check_correction(name: str) -> str:
    if name not in CORRECTIONS:
        raise ConfigError(f"correction must be one of {', '.join(CORRECTIONS)}, got {name!r}")
    return name


def add_correction_sums(book, groups, stratum, strata, resolved, refv, preds, *, weights=(None, None),
                        names=None) -> dict:
    """Record per (group, judge, verdict, stratum) the judge counts and the labelled counts;
    ``names``: the groups to record (default every group; the robustness section passes its
    largest ones, see :data:`judgeaudit.audit.robustness.MAX_GROUPS`)."""
    wl, wj = weights
    names = sorted(set(groups.tolist())) if names is None else list(names)
    for judge_id, (pred, _status) in preds.items():
        ok = ~np.isnan(pred)
        p = np.nan_to_num(pred)
        for g in names:
            in_g = (groups == g) & ok
            for s in strata:
                cell = in_g & (stratum == s)
                for v in (0, 1):
                    c = cell & (p == v)
                    book.add(("cell", judge_id, g, v, s, "N"), c, wj)
                    book.add(("cell", judge_id, g, v, s, "L"), c & resolved, wl)
                    book.add(("cell", judge_id, g, v, s, "Y"), c & resolved & (refv == 1), wl)
    return {"groups": names, "strata": list(strata)}


def _cells(book, judge_id, groups, strata, what):
    keys = [("cell", judge_id, g, v, s, what) for g in groups for v in (0, 1) for s in strata]
    point, boot = book.stack(keys)
    shape = (len(groups), 2, len(strata))
    return point.reshape(shape), boot.reshape((-1,) + shape)


def _double_sampling(N, L, Y, pooled_only):
    """theta per group from cell arrays ``(..., G, 2, S)``; also cells borrowed and missing."""
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = Y.sum(-3, keepdims=True) / L.sum(-3, keepdims=True)
        own = Y / L
        share = np.broadcast_to(pooled, N.shape) if pooled_only else np.where(L > 0, own, pooled)
        needed = N > 0
        missing = (needed & np.isnan(share)).sum((-2, -1))
        borrowed = (needed & ~(L > 0)).sum((-2, -1))
        total = N.sum((-2, -1))
        theta = np.where(needed, N * np.nan_to_num(share), 0).sum((-2, -1)) / total
        theta = np.where((missing == 0) & (total > 0), theta, np.nan)
    return theta, missing, borrowed


def _ds_results(book, judge_id, groups, strata, res, pooled_only, confidence):
    N, bN = _cells(book, judge_id, groups, strata, "N")
    L, bL = _cells(book, judge_id, groups, strata, "L")
    Y, bY = _cells(book, judge_id, groups, strata, "Y")
    theta, missing, borrowed = _double_sampling(N, L, Y, pooled_only)
    btheta, _, _ = _double_sampling(bN, bL, bY, pooled_only)
    name = "double-sampling-pooled" if pooled_only else "double-sampling"
    out = {}
    for k, g in enumerate(groups):
        n_lab = int(sum(book.raw(("cell", judge_id, g, v, s, "L")) for v in (0, 1) for s in strata))
        n = int(sum(book.raw(("cell", judge_id, g, v, s, "N")) for v in (0, 1) for s in strata))
        reason = None
        if n == 0:
            reason = "judge gave no scorable verdict in this group"
        elif missing[k]:
            empty = [f"verdict {v} in stratum {s}" for v in (0, 1) for j, s in enumerate(strata)
                     if N[k, v, j] > 0 and not L[:, v, j].sum() > 0]
            reason = "no human-labelled item in a cell the group needs (" + ", ".join(empty) + ")"
        r = res(theta[k], btheta[:, k], n, undefined=reason,
                n_clusters=book.n_clusters([("cell", judge_id, g, v, s, "N") for v in (0, 1) for s in strata]))
        if reason is None and not pooled_only and n_lab >= n and ("grp", g, "human", "n") in book:
            # every scored item of the group is labelled: the estimate is the humans' rate,
            # and gets the same floor as that rate (Korn-Graubard, see to_result)
            r = _floor_like_human(book, g, r, confidence)
        elif reason is None and (r["ci_low"] is None or r["ci_high"] - r["ci_low"] < 1e-9
                                 or theta[k] in (0.0, 1.0)):
            floor_n = n if pooled_only else max(n_lab, 1)
            lo, hi = wilson_interval(theta[k] * floor_n, floor_n, confidence=confidence)
            r["ci_low"], r["ci_high"] = _hull(r["ci_low"], r["ci_high"], lo, hi)
        out[g] = _label(r, name, n_labelled=n_lab, n_cells_borrowed=int(borrowed[k]))
        if reason:
            btheta[:, k] = np.nan
    return out, btheta


def _floor_like_human(book, g, r: dict, confidence: float) -> dict:
    from judgeaudit.metrics import cluster_proportion_interval

    k_c, n_c, *n_obs = book.floor(("grp", g, "human"))
    if not n_c.sum():
        return r
    lo, hi, _ = cluster_proportion_interval(k_c, n_c, confidence=confidence, n_obs=n_obs[0] if n_obs else None)
    r = dict(r)
    r["ci_low"], r["ci_high"] = _hull(r["ci_low"], r["ci_high"], lo, hi)
    return r


def _hull(a_lo, a_hi, b_lo, b_hi):
    lo = [x for x in (a_lo, b_lo) if x is not None and not math.isnan(x)]
    hi = [x for x in (a_hi, b_hi) if x is not None and not math.isnan(x)]
    return (min(lo) if lo else None), (max(hi) if hi else None)


def _label(r: dict, estimator: str, **extra) -> dict:
    r = dict(r)
    r["interval_method"] = r.get("method")
    r["method"] = estimator
    r.update(extra)
    return r


def _confusion(book, judge_id, where):
    (tp, fp, fn, tn), b = book.stack([(judge_id, where, c) for c in ("tp", "fp", "fn", "tn")])
    raw = [book.raw((judge_id, where, c)) for c in ("tp", "fp", "fn", "tn")]
    return (tp, fp, fn, tn), b, raw


def _rg_stratum(book, judge_id, where, confidence):
    """``(se, sp, bse, bsp, refusal reason or None, n_pos, n_neg)`` of one stratum."""
    (tp, fp, fn, tn), b, raw = _confusion(book, judge_id, where)
    with np.errstate(invalid="ignore", divide="ignore"):
        se, sp = tp / (tp + fn), tn / (tn + fp)
        bse, bsp = b[:, 0] / (b[:, 0] + b[:, 2]), b[:, 3] / (b[:, 3] + b[:, 1])
    m1, m0 = raw[0] + raw[2], raw[1] + raw[3]
    if not m1 or not m0:
        side = "positive" if not m1 else "negative"
        return se, sp, bse, bsp, f"no human-labelled {side} item in stratum {where!r}", m1, m0
    low = youden_lower_bound(float(se), float(sp), m1, m0, confidence=confidence)
    if not low >= MIN_YOUDEN:
        return se, sp, bse, bsp, (f"not identifiable: the judge is too close to chance in stratum {where!r} "
                                  f"(sensitivity + specificity - 1 = {se + sp - 1:.3f}, lower bound {low:.3f} "
                                  f"below {MIN_YOUDEN:g})"), m1, m0
    return se, sp, bse, bsp, None, m1, m0


def _rg_results(book, judge_id, groups, strata, res, pooled, confidence):
    z = float(ndtri(1.0 - (1.0 - confidence) / 2.0))
    N, bN = _cells(book, judge_id, groups, strata, "N")  # (G, 2, S)
    n_gs, bn_gs = N.sum(-2), bN.sum(-2)                  # (G, S)
    pos_gs, bpos_gs = N[:, 1, :], bN[:, :, 1, :]
    wheres = ["overall"] if pooled else list(strata)
    cal = {w: _rg_stratum(book, judge_id, w, confidence) for w in wheres}
    name = "pooled-rogan-gladen" if pooled else "stratified-rogan-gladen"
    out, boots = {}, np.full((book.boot.shape[0], len(groups)), np.nan)
    for k, g in enumerate(groups):
        n = int(round(n_gs[k].sum()))
        if pooled:
            parts = [("overall", N[k].sum(-1)[1], n_gs[k].sum(), bpos_gs[:, k].sum(-1), bn_gs[:, k].sum(-1))]
        else:
            parts = [(s, pos_gs[k, j], n_gs[k, j], bpos_gs[:, k, j], bn_gs[:, k, j])
                     for j, s in enumerate(strata) if n_gs[k, j] > 0]
        reason = "judge gave no scorable verdict in this group" if n == 0 else None
        for w, *_ in parts:
            reason = reason or cal[w][4]
        if reason:
            out[g] = _label(res(float("nan"), np.full(book.boot.shape[0], np.nan), n, undefined=reason), name)
            continue
        theta, btheta, var = 0.0, 0.0, 0.0
        for w, pos, m, bpos, bm in parts:
            se, sp, bse, bsp, _r, m1, m0 = cal[w]
            share, bshare = m / n_gs[k].sum(), bm / bn_gs[:, k].sum(-1)
            with np.errstate(invalid="ignore", divide="ignore"):
                theta += share * float(rogan_gladen(pos / m, se, sp))
                btheta = btheta + bshare * rogan_gladen(bpos / bm, bse, bsp)
            one = corrected_rate(pos / m, m, float(se), float(sp), m1, m0, confidence=confidence,
                                 min_youden=-1.0)
            # the larger one-sided half-width: the interval is clipped to [0, 1] and floored,
            # so its full width over 2z understates the spread near 0 and 1
            half = max(one.value - one.ci_low, one.ci_high - one.value)
            var += (share * half / z) ** 2
        r = res(theta, btheta, n,
                n_clusters=book.n_clusters([("cell", judge_id, g, v, s, "N") for v in (0, 1) for s in strata]))
        r["ci_low"], r["ci_high"] = _hull(r["ci_low"], r["ci_high"], max(0.0, theta - z * math.sqrt(var)),
                                          min(1.0, theta + z * math.sqrt(var)))
        out[g] = _label(r, name)
        boots[:, k] = btheta
    return out, boots


def corrected_rates(book, plan, res, cfg, judges) -> tuple[dict, dict]:
    """``({estimator: {judge: {group: result}}}, {judge: boot (B, G)})``.

    Every estimator is computed; the bootstrap rates returned are those of the
    estimator chosen in ``cfg.correction`` (NaN for refused groups).
    """
    groups, strata = plan["groups"], plan["strata"]
    out, chosen = {}, {}
    for name in CORRECTIONS:
        per_judge = {}
        for judge_id in judges:
            if name.startswith("double-sampling"):
                per_judge[judge_id], boot = _ds_results(book, judge_id, groups, strata, res,
                                                        name.endswith("pooled"), cfg.confidence)
            else:
                per_judge[judge_id], boot = _rg_results(book, judge_id, groups, strata, res,
                                                        name.startswith("pooled"), cfg.confidence)
            if name == cfg.correction:
                chosen[judge_id] = boot
        out[name] = per_judge
    return out, chosen

"""Incoherence and judge disagreement by objective and budget (private).

Incoherence: per coherence scorer and (objective, budget), the share of scored items
in bin ``incoherent`` and in ``partially_coherent``.  Disagreement: per pair of
harmfulness judges, the share of items both voted on (harmful / not harmful) where
their votes differ; the report gives the mean over the pairs, per (objective,
budget), per budget pooled over objectives, per checkpoint (for the trend) and per
coherence bin of the first scorer.  Both use every safety item (harmful requests and
look-alikes), and the shared cluster-bootstrap resamples of prompt_id.

The base model (budget 0) is every objective's starting point: each objective's
series and trend include it.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.stats import rankdata

from judgeaudit.tables import COHERENCE_BINS

from .estimates import bounds, difference, estimate, ratio
from .inputs import BASE

BIN_GROUPS = (*COHERENCE_BINS, "unscored")


def judge_pairs(judges) -> list:
    return list(itertools.combinations(judges, 2))


def add_sums(sums, inp) -> None:
    """Record the incoherence and disagreement sums."""
    cell = inp.items["cell"].to_numpy()
    n_cells = len(inp.cells)
    if inp.scorers:
        scored = (inp.bins >= 0).astype(float)
        sums.add_groups("coh_inc/k", cell, n_cells, (inp.bins == 2).astype(float))
        sums.add_groups("coh_part/k", cell, n_cells, (inp.bins == 1).astype(float))
        sums.add_groups("coh_inc/n", cell, n_cells, scored)
        sums.add_groups("coh_part/n", cell, n_cells, scored)
    pairs = judge_pairs(inp.judges)
    if not pairs:
        return
    idx = {j: i for i, j in enumerate(inp.judges)}
    v = inp.votes
    both = np.column_stack([~np.isnan(v[:, idx[a]]) & ~np.isnan(v[:, idx[b]]) for a, b in pairs]).astype(float)
    dis = np.column_stack([both[:, p] * (v[:, idx[a]] != v[:, idx[b]])
                           for p, (a, b) in enumerate(pairs)]).astype(float)
    anyp = ((~np.isnan(v)).sum(axis=1) >= 2).astype(float)
    budget_code = np.searchsorted(np.asarray(inp.budgets), inp.items["budget"].to_numpy())
    groupings = {"cell": (cell, n_cells), "budget": (budget_code, len(inp.budgets)),
                 "ck": (inp.items["ck"].to_numpy(), len(inp.checkpoints))}
    if inp.scorers:
        b = np.where(inp.bins[:, 0] >= 0, inp.bins[:, 0], 3)
        groupings["cellbin"] = (cell * 4 + b, n_cells * 4)
        groupings["bin"] = (b, 4)
    for name, (g, n_groups) in groupings.items():
        sums.add_groups(f"dis_{name}/k", g, n_groups, dis)
        sums.add_groups(f"dis_{name}/n", g, n_groups, both)
        sums.add_groups(f"dis_{name}/any", g, n_groups, anyp)


def _mean_pairwise(sums, name, confidence):
    """Mean pairwise disagreement per group: point (G,), boot (B, G), and a record builder."""
    k, bk = sums.block(f"dis_{name}/k")
    n, bn = sums.block(f"dis_{name}/n")
    anyp, _ = sums.block(f"dis_{name}/any")
    r, br = ratio(k, n), ratio(bk, bn)
    used = n > 0
    n_used = used.sum(axis=-1)
    mean = ratio(np.where(used, r, 0.0).sum(axis=-1), n_used)
    bmean = ratio(np.where(used[None], br, 0.0).sum(axis=-1), np.broadcast_to(n_used, br.shape[:-1]))
    lo, hi, undef = bounds(bmean, confidence)
    plo, phi, pundef = bounds(br, confidence)

    def record(g, pairs) -> dict:
        per_pair = [{"a": a, "b": b, "rate": estimate(r[g, p], plo[g, p], phi[g, p], n[g, p],
                                                      undefined=None if n[g, p] else "no item both judges voted on",
                                                      k=int(round(k[g, p])), n_boot_undefined=int(pundef[g, p]))}
                    for p, (a, b) in enumerate(pairs)]
        return {"mean": estimate(mean[g], lo[g], hi[g], int(round(anyp[g, 0])),
                                 undefined=None if n_used[g] else "no item has votes from two judges",
                                 n_pairs=int(n_used[g]), n_boot_undefined=int(undef[g])),
                "pairs": per_pair}

    return mean, bmean, record


def _spearman_rows(x, y):
    """Spearman's rho of fixed ``x`` against every row of ``y`` ``(B, K)`` (NaN rows stay NaN)."""
    rx = rankdata(x)
    ry = rankdata(y, axis=1)
    dx = rx - rx.mean()
    dy = ry - ry.mean(axis=1, keepdims=True)
    den = np.sqrt((dx ** 2).sum() * (dy ** 2).sum(axis=1))
    return ratio((dy * dx).sum(axis=1), den)


def spearman_trend(x, y, yb, confidence) -> dict:
    """Spearman rank correlation of budget ``x`` with ``y`` over checkpoints, with an interval."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = ~np.isnan(y)
    n = int(keep.sum())
    if n < 3:
        return estimate(np.nan, 0, 0, n, undefined="fewer than three checkpoints with a defined value")
    if np.unique(x[keep]).size < 2:
        return estimate(np.nan, 0, 0, n, undefined="every checkpoint has the same budget")
    rho = float(_spearman_rows(x[keep], y[keep][None])[0])
    boot = _spearman_rows(x[keep], yb[:, keep])
    lo, hi, undef = bounds(boot[:, None], confidence)
    return estimate(rho, lo[0], hi[0], n, undefined=None if not np.isnan(rho) else
                    "the values are all equal, so their ranks do not vary", n_boot_undefined=int(undef[0]))


def _last_minus_first(labels, y, yb, confidence) -> dict | None:
    """``y[last] - y[first]`` over the defined entries, with its paired interval."""
    defined = [i for i in range(len(y)) if not np.isnan(y[i])]
    if len(defined) < 2:
        return None
    f, last = defined[0], defined[-1]
    out = difference(y[last], y[f], yb[:, last], yb[:, f], confidence)
    return {**out, "first": labels[f], "last": labels[last]}


def _series(inp, per_cell) -> dict:
    """Per objective: ``[{budget_tokens, estimate}]`` in budget order, base first."""
    base = [i for i, (o, _b) in enumerate(inp.cells) if o == BASE]
    out = {}
    for o in inp.objectives:
        if o == BASE and len(inp.objectives) > 1:
            continue
        idx = [i for i, (oo, _b) in enumerate(inp.cells) if oo == o]
        idx = ([] if o == BASE else base) + idx
        out[o] = [(inp.cells[i][1], i, per_cell[i]) for i in idx]
    return out


def incoherence_section(inp, sums, rate_table, confidence) -> dict:
    if not inp.scorers:
        return {"scorers": [], "reason": "no coherence table was given", "by_scorer": {}}
    inc = rate_table(sums, "coh_inc", confidence, empty="no scored item in this cell")
    part = rate_table(sums, "coh_part", confidence, empty="no scored item in this cell")
    by = {}
    for s, scorer in enumerate(inp.scorers):
        rows = [{"objective": o, "budget_tokens": int(b), "incoherent": inc["est"](c, s),
                 "partially_coherent": part["est"](c, s)} for c, (o, b) in enumerate(inp.cells)]
        series = {o: [{"budget_tokens": int(b), "incoherent": row["incoherent"]} for b, _i, row in pts]
                  for o, pts in _series(inp, rows).items()}
        by[scorer] = {"cells": rows, "series": series}
    return {"scorers": list(inp.scorers), "population": "every safety item with a score from the scorer",
            "by_scorer": by}


def disagreement_section(inp, sums, confidence) -> dict:
    pairs = judge_pairs(inp.judges)
    if not pairs:
        return {"pairs": [], "reason": f"needs two or more harmfulness judges (found {len(inp.judges)})"}
    _, _, cell_rec = _mean_pairwise(sums, "cell", confidence)
    cells = [{"objective": o, "budget_tokens": int(b), **cell_rec(c, pairs)} for c, (o, b) in enumerate(inp.cells)]
    bmean, bboot, budget_rec = _mean_pairwise(sums, "budget", confidence)
    budgets = [{"budget_tokens": int(b), **budget_rec(i, pairs)} for i, b in enumerate(inp.budgets)]
    kmean, kboot, ck_rec = _mean_pairwise(sums, "ck", confidence)
    ck = inp.checkpoints
    x = ck["budget_tokens"].to_numpy(float)
    trend = {"method": "Spearman rank correlation of budget_tokens with the mean pairwise disagreement over "
                       "checkpoints (the base model at budget 0 included), interval from the shared resamples; "
                       "and the pooled disagreement at the largest budget minus at the smallest, paired interval",
             "spearman": spearman_trend(x, kmean, kboot, confidence),
             "last_minus_first": _last_minus_first([int(b) for b in inp.budgets], bmean, bboot, confidence),
             "by_objective": {}}
    cmean, cboot, _ = _mean_pairwise(sums, "cell", confidence)
    for o, pts in _series(inp, cells).items():
        ks = [k for k in range(len(ck)) if ck["objective"].iloc[k] in (o, BASE)]
        trend["by_objective"][o] = {
            "spearman": spearman_trend(x[ks], kmean[ks], kboot[:, ks], confidence),
            "last_minus_first": _last_minus_first([b for b, _i, _r in pts], cmean[[i for _b, i, _r in pts]],
                                                  cboot[:, [i for _b, i, _r in pts]], confidence)}
    out = {"pairs": [list(p) for p in pairs],
           "population": "every safety item both judges of a pair voted on (harmful / not harmful; 'unclear' "
                         "and failed verdicts are not votes)",
           "cells": cells, "budgets": budgets,
           "checkpoints": [{"checkpoint_id": c, **ck_rec(k, pairs)} for k, c in enumerate(ck["checkpoint_id"])],
           "series": {o: [{"budget_tokens": int(b), "mean": r["mean"]} for b, _i, r in pts]
                      for o, pts in _series(inp, cells).items()},
           "trend": trend, "by_coherence": None}
    if inp.scorers:
        _, _, bin_rec = _mean_pairwise(sums, "bin", confidence)
        _, _, cb_rec = _mean_pairwise(sums, "cellbin", confidence)
        out["by_coherence"] = {
            "scorer": inp.scorers[0], "bins": list(BIN_GROUPS),
            "pooled": {name: bin_rec(i, pairs)["mean"] for i, name in enumerate(BIN_GROUPS)},
            "cells": [{"objective": o, "budget_tokens": int(b),
                       **{name: cb_rec(c * 4 + i, pairs)["mean"] for i, name in enumerate(BIN_GROUPS)}}
                      for c, (o, b) in enumerate(inp.cells)]}
    return out

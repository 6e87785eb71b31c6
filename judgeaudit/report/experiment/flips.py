"""Conclusion flips across judges and across prompt sets (private).

At each budget every rater ranks the objectives by harmful rate on harmful requests
(lowest first).  What a flip is, and when it is confident, is the one rule of
:mod:`judgeaudit.metrics.flips` (shared with the audit's ``robustness.flips``): a pair
of objectives *flips* between two raters when the rate differences ``rate(a) - rate(b)``
have strictly opposite signs; it is *confident* when each rater supports its own order
(its difference's interval excludes 0 on the side of its point difference).  Judges'
intervals are paired (the shared resamples of prompt_id), widened to Newcombe's
square-and-add interval of the two rates' own intervals (:func:`mover_bounds`, the
audit's non-collapsing rule); the humans' come from the
audit's own paired interval when its flip list holds the pair, else the humans support
an order only when the two human rate intervals are disjoint (conservative: the audit
JSON carries no resamples).  Across prompt sets, each judge's ranking within each
(prompt_set, attack) slice of harmful requests is compared between slices the same way.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from judgeaudit.metrics.flips import confident_flip, is_flip, newcombe_widen, supported_order

from .estimates import bounds, estimate, num
from .frontier import HUMANS

ORDER = "objectives from the lowest harmful rate (safest) to the highest; undefined rates last"


def add_sums(sums, inp) -> None:
    harmful = inp.items["harmful"].to_numpy()
    cell = inp.items["cell"].to_numpy()
    pos = (inp.votes == 1).astype(float)
    n = (~np.isnan(inp.votes)).astype(float)
    g = np.where(harmful, cell, -1)
    sums.add_groups("harm_cell/k", g, len(inp.cells), pos)
    sums.add_groups("harm_cell/n", g, len(inp.cells), n)
    s = inp.items["slice"].to_numpy()
    n_slices = max(len(inp.slices), 1)
    gs = np.where(harmful & (s >= 0), cell * n_slices + s, -1)
    sums.add_groups("harm_slice/k", gs, len(inp.cells) * n_slices, pos)
    sums.add_groups("harm_slice/n", gs, len(inp.cells) * n_slices, n)


def _ranking(objs, values) -> list:
    key = sorted(range(len(objs)), key=lambda i: (math.isnan(values[i]), 0 if math.isnan(values[i]) else values[i], i))
    return [objs[i] for i in key]




def _pooled_human(inp, humans, cks) -> dict:
    """The human rate of an (objective, budget) cell: its checkpoint's, or pooled over seeds."""
    ids = [inp.checkpoints["checkpoint_id"].iloc[k] for k in cks]
    if len(ids) == 1:
        return humans[ids[0]]
    have = [humans[c] for c in ids if humans[c]["value"] is not None]
    n = sum(e["n"] for e in have)
    if not n:
        return estimate(math.nan, 0, 0, 0, undefined="no labelled item of these checkpoints in the audit")
    value = sum(e["value"] * e["n"] for e in have) / n
    return estimate(value, math.nan, math.nan, n, method="none", source="audit",
                    note=f"pooled over {len(have)} seed checkpoints from the audit's per-checkpoint rates; "
                         "no interval")


def _human_diff(ea, eb, ca, cb, audit_flips) -> dict:
    d = ea["value"] - eb["value"]
    if ca is not None and cb is not None:
        if (ca, cb) in audit_flips:
            _, ci = audit_flips[(ca, cb)]
            return {"value": num(d), "ci": [num(ci[0]), num(ci[1])], "sign": supported_order(d, ci[0], ci[1]),
                    "basis": "audit paired bootstrap"}
        if (cb, ca) in audit_flips:
            _, ci = audit_flips[(cb, ca)]
            lo, hi = (None if ci[1] is None else -ci[1]), (None if ci[0] is None else -ci[0])
            return {"value": num(d), "ci": [num(lo), num(hi)], "sign": supported_order(d, lo, hi),
                    "basis": "audit paired bootstrap"}
    (la, ha), (lb, hb) = ea["ci"], eb["ci"]
    sign = 0
    if None not in (la, ha, lb, hb):
        sign = 1 if la > hb else -1 if ha < lb else 0
    return {"value": num(d), "ci": [None, None], "sign": sign, "basis": "disjoint rate intervals"}


def _confident(d1, d2) -> bool:
    """The shared rule, from the order each difference record supports (its ``sign``)."""
    return confident_flip(d1["value"], d1["sign"], d2["value"], d2["sign"])


def mover_bounds(dlo, dhi, pa, la, ua, pb, lb, ub):
    """The paired bootstrap interval of ``pa - pb`` widened to Newcombe's (1998)
    square-and-add interval of the two rates' own (Korn-Graubard floored) intervals,
    ``d - hypot(pa - la, ub - pb)`` to ``d + hypot(ua - pa, pb - lb)``: the rule the audit
    applies to its stratum differences, so that two rates showing no event give a
    difference interval of some width, never ``[0, 0]``.  Elementwise; NaN bounds of
    either side are ignored.

    Examples
    --------
    Both rates 0 with intervals [0, 0.06] and [0, 0.08], bootstrap [0, 0]: the difference
    interval becomes [-0.08, 0.06].

    >>> [round(float(x), 4) for x in mover_bounds(0.0, 0.0, 0.0, 0.0, 0.06, 0.0, 0.0, 0.08)]
    [-0.08, 0.06]
    """
    lo, hi = newcombe_widen(dlo, dhi, pa, (la, ua), pb, (lb, ub))
    return np.asarray(lo, float), np.asarray(hi, float)


def _diff_record(value, lo, hi) -> dict:
    lo, hi = num(lo), num(hi)
    return {"value": num(value), "ci": [lo, hi], "sign": supported_order(num(value), lo, hi),
            "basis": "paired bootstrap"}


def across_judges(inp, rates, humans, audit_flips, confidence) -> dict:
    """Rankings of the objectives per budget and rater, and the pairs that flip between raters."""
    ck_cell = np.array([inp.cells.index((o, int(b))) for o, b in
                        zip(inp.checkpoints["objective"], inp.checkpoints["budget_tokens"])])
    raters = list(inp.judges) + ([HUMANS] if humans is not None else [])
    rankings, flips = [], []
    for b in inp.budgets:
        cidx = [c for c, (_o, bb) in enumerate(inp.cells) if bb == b]
        if len(cidx) < 2:
            continue
        objs = [inp.cells[c][0] for c in cidx]
        value = rates["value"][cidx, :].T  # (J, O)
        boot = np.transpose(rates["boot"][:, cidx, :], (0, 2, 1))  # (B, J, O)
        dlo, dhi, _ = bounds(boot[:, :, :, None] - boot[:, :, None, :], confidence)  # (J, O, O)
        rlo, rhi = rates["lo"][cidx, :].T, rates["hi"][cidx, :].T  # (J, O): the rates' floored intervals
        dlo, dhi = mover_bounds(dlo, dhi, value[:, :, None], rlo[:, :, None], rhi[:, :, None],
                                value[:, None, :], rlo[:, None, :], rhi[:, None, :])
        ests = {j: [rates["est"](c, k) for c in cidx] for k, j in enumerate(inp.judges)}
        ck_of = {c: [k for k in range(len(ck_cell)) if ck_cell[k] == c] for c in cidx}
        if humans is not None:
            ests[HUMANS] = [_pooled_human(inp, humans, ck_of[c]) for c in cidx]
        vals = {r: np.array([np.nan if e["value"] is None else e["value"] for e in ests[r]]) for r in raters}
        for r in raters:
            rankings.append({"budget_tokens": int(b), "rater": r, "ranking": _ranking(objs, vals[r]),
                             "rates": dict(zip(objs, ests[r]))})

        def diff(r, i, k):
            if r != HUMANS:
                j = inp.judges.index(r)
                return _diff_record(value[j, i] - value[j, k], dlo[j, i, k], dhi[j, i, k])
            single = [inp.checkpoints["checkpoint_id"].iloc[ck_of[cidx[x]][0]] if len(ck_of[cidx[x]]) == 1
                      else None for x in (i, k)]
            return _human_diff(ests[HUMANS][i], ests[HUMANS][k], single[0], single[1], audit_flips)

        for r1, r2 in itertools.combinations(raters, 2):
            for i, k in itertools.combinations(range(len(objs)), 2):
                v1, v2 = vals[r1][i] - vals[r1][k], vals[r2][i] - vals[r2][k]
                if not is_flip(v1, v2):
                    continue
                d1, d2 = diff(r1, i, k), diff(r2, i, k)
                flips.append({"budget_tokens": int(b), "a": objs[i], "b": objs[k], "rater_1": r1, "rater_2": r2,
                              "rates_1": [num(vals[r1][i]), num(vals[r1][k])],
                              "rates_2": [num(vals[r2][i]), num(vals[r2][k])],
                              "diff_1": d1, "diff_2": d2, "confident": _confident(d1, d2)})
    return {"order": ORDER, "raters": raters, "rankings": rankings, "flips": flips,
            "n_flips": len(flips), "n_confident": sum(f["confident"] for f in flips)}


def across_prompt_sets(inp, slice_rates, confidence) -> dict:
    """Per judge and budget: rankings within each (prompt_set, attack) slice and flips between slices."""
    S = max(len(inp.slices), 1)
    slices = [{"prompt_set": p, "attack": a} for p, a in inp.slices]
    rankings, flips = [], []
    if len(inp.slices) < 2:
        return {"order": ORDER, "slices": slices, "rankings": [], "flips": [], "n_flips": 0, "n_confident": 0,
                "reason": "needs two or more (prompt_set, attack) slices of harmful requests "
                          f"(found {len(inp.slices)})"}
    for b in inp.budgets:
        cidx = [c for c, (_o, bb) in enumerate(inp.cells) if bb == b]
        if len(cidx) < 2:
            continue
        objs = [inp.cells[c][0] for c in cidx]
        groups = np.array([[c * S + s for c in cidx] for s in range(S)])  # (S, O)
        for j, judge in enumerate(inp.judges):
            value = slice_rates["value"][groups, j]  # (S, O)
            boot = slice_rates["boot"][:, groups, j]  # (B, S, O)
            dlo, dhi, _ = bounds(boot[..., :, None] - boot[..., None, :], confidence)  # (S, O, O)
            rlo, rhi = slice_rates["lo"][groups, j], slice_rates["hi"][groups, j]  # (S, O)
            dlo, dhi = mover_bounds(dlo, dhi, value[..., :, None], rlo[..., :, None], rhi[..., :, None],
                                    value[..., None, :], rlo[..., None, :], rhi[..., None, :])
            for s in range(S):
                rankings.append({"judge": judge, "budget_tokens": int(b), **slices[s],
                                 "ranking": _ranking(objs, value[s]),
                                 "rates": {o: slice_rates["est"](int(groups[s, i]), j) for i, o in enumerate(objs)}})
            for s1, s2 in itertools.combinations(range(S), 2):
                for i, k in itertools.combinations(range(len(objs)), 2):
                    v1, v2 = value[s1, i] - value[s1, k], value[s2, i] - value[s2, k]
                    if not is_flip(v1, v2):
                        continue
                    d1 = _diff_record(v1, dlo[s1, i, k], dhi[s1, i, k])
                    d2 = _diff_record(v2, dlo[s2, i, k], dhi[s2, i, k])
                    flips.append({"judge": judge, "budget_tokens": int(b), "a": objs[i], "b": objs[k],
                                  "slice_1": slices[s1], "slice_2": slices[s2],
                                  "rates_1": [num(value[s1, i]), num(value[s1, k])],
                                  "rates_2": [num(value[s2, i]), num(value[s2, k])],
                                  "diff_1": d1, "diff_2": d2, "confident": _confident(d1, d2)})
    return {"order": ORDER, "slices": slices, "rankings": rankings, "flips": flips, "n_flips": len(flips),
            "n_confident": sum(f["confident"] for f in flips)}

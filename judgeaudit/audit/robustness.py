"""Conclusion robustness: do groups rank the same under every judge and the humans?

A group is a model, or a fine-tuning
objective at a budget (the generations table's ``checkpoint_id``).  For each group
the positive ("harmful") rate is estimated under the humans and under each judge;
each judge's rate is also corrected for its errors within coherence strata (see
:mod:`judgeaudit.audit.correction`), and :mod:`judgeaudit.audit.conclusions` says which
orders of groups hold under every judge.
"""

from __future__ import annotations

import itertools

import numpy as np

from judgeaudit.metrics.flips import difference_interval, is_confident_flip, is_flip, newcombe_widen
from judgeaudit.metrics.formulas import kendall_tau_b

from .conclusions import conclusions_section
from .correction import CORRECTIONS, corrected_rates

_COUNTS = ("tp", "fp", "fn", "tn")

MAX_GROUPS = 50
"""Most groups the section compares: the largest ones (by items); the rest are counted in
``groups_left_out``.  Pairs of groups grow as G^2: one group per item made a 145 MB
audit.json."""


def largest_groups(groups, limit: int = MAX_GROUPS):
    """``(kept names sorted, left-out summary or None)`` of a per-item group array: the
    ``limit`` groups with most items (ties by name)."""
    import pandas as pd

    counts = pd.Series(groups).value_counts()
    if len(counts) <= limit:
        return sorted(counts.index.tolist()), None
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    kept = sorted(g for g, _ in order[:limit])
    rest = order[limit:]
    return kept, {"n_groups": len(rest), "n_items": int(sum(c for _, c in rest)),
                  "reason": f"only the {limit} largest groups are compared"}


def add_group_sums(book, groups, resolved, refv, preds, *, weights=(None, None)) -> dict:
    """Record the per-group sums the section needs; returns the plan to read them back.

    ``weights`` is ``(labelled, judge_only)``: the weights of the human sums and of
    the judge sums (None: every item once); see :func:`judgeaudit.audit.weights.design_weights`.
    """
    wl, wj = weights
    names, left_out = largest_groups(groups)
    for g in names:
        in_g = groups == g
        book.add(("grp", g, "human", "pos"), resolved & in_g & (refv == 1), wl)
        book.add(("grp", g, "human", "n"), resolved & in_g, wl)
        for judge_id, (pred, _status) in preds.items():
            ok = ~np.isnan(pred)
            book.add(("grp", g, judge_id, "pos"), ok & in_g & (np.nan_to_num(pred) == 1), wj)
            book.add(("grp", g, judge_id, "n"), ok & in_g, wj)
    return {"groups": names, "judges": sorted(preds), "groups_left_out": left_out}


def _rates(book, who, groups):
    """Point rates ``(G,)`` and bootstrap rates ``(B, G)`` of one rater."""
    pos, n, points, boots = [], [], [], []
    for g in groups:
        (p, m), b = book.stack([("grp", g, who, "pos"), ("grp", g, who, "n")])
        with np.errstate(invalid="ignore", divide="ignore"):
            points.append(p / m if m else np.nan)
            boots.append(b[:, 0] / b[:, 1])
        pos.append(p)
        n.append(book.raw(("grp", g, who, "n")))
    return np.array(points), np.column_stack(boots), np.array(pos), np.array(n)


def _finite(x) -> float | None:
    """``x`` as a float, or None when undefined (NaN): audit.json holds no NaN."""
    return None if x is None or np.isnan(x) else float(x)


def _ranking(groups, rates) -> list:
    """Groups from highest to lowest rate; undefined rates last."""
    key = [(np.isnan(r), -(0 if np.isnan(r) else r), g) for g, r in zip(groups, rates)]
    return [k[2] for k in sorted(key)]


def _rogan_gladen(book, judge_id, p, bp):
    (tp, fp, fn, tn), b = book.stack([(judge_id, "overall", c) for c in _COUNTS])
    with np.errstate(invalid="ignore", divide="ignore"):
        sens, spec = tp / (tp + fn), tn / (tn + fp)
        bsens, bspec = b[:, 0] / (b[:, 0] + b[:, 2]), b[:, 3] / (b[:, 3] + b[:, 1])
        youden, byouden = sens + spec - 1, bsens + bspec - 1
        point = np.clip((p + spec - 1) / youden, 0, 1) if youden > 0 else np.full_like(p, np.nan)
        boot = np.where(byouden[:, None] > 0, np.clip((bp + bspec[:, None] - 1) / byouden[:, None], 0, 1), np.nan)
    reason = None
    if not youden > 0:
        reason = ("judge is no better than chance against the humans (sensitivity + specificity <= 1)"
                  if not np.isnan(youden) else "sensitivity or specificity undefined: the reference lacks a class")
    return point, boot, reason, (float(sens), float(spec))


def _bounds(results: dict, groups) -> tuple:
    """``(low (G,), high (G,))`` of a rater's per-group results, NaN where absent."""
    def one(g, k):
        v = (results.get(g) or {}).get(k)
        return np.nan if v is None else float(v)
    return np.array([one(g, "ci_low") for g in groups]), np.array([one(g, "ci_high") for g in groups])


def _conclusions(groups, raters, hp, hb, judge_rates, cfg, rates, corrected) -> dict:
    """The conclusions under the corrected rates, and (``uncorrected``) the headline the
    judges' raw rates would give: where they differ, the correction changed the answer."""
    human = {"human": _bounds(rates["human"], groups)}
    out = conclusions_section(groups, raters, level=cfg.confidence,
                              intervals={**human, **{j: _bounds(corrected[j], groups) for j in corrected}})
    raw = conclusions_section(groups, {"human": (hp, hb), **judge_rates}, level=cfg.confidence,
                              intervals={**human, **{j: _bounds(rates[j], groups) for j in judge_rates}})
    out["uncorrected"] = {"raters": raw["raters"], "headline": raw["headline"]}
    return out


def _correction_meta(cfg) -> dict:
    from judgeaudit.metrics.correction import MIN_YOUDEN

    return {"estimator": cfg.correction, "available": list(CORRECTIONS), "strata_source": "the audit's strata",
            "refusal_rule": f"Rogan-Gladen refused where Youden's J lower bound (Newcombe) is below {MIN_YOUDEN:g}",
            "see": "docs/inference.md"}


def _sens_spec_by_stratum(book, judges, strata) -> dict:
    out = {}
    for judge_id in judges:
        out[judge_id] = {}
        for s in strata:
            tp, fp, fn, tn = (book.raw((judge_id, s, c)) for c in _COUNTS)
            out[judge_id][s] = {"sensitivity": tp / (tp + fn) if tp + fn else None,
                                "specificity": tn / (tn + fp) if tn + fp else None,
                                "n_positive": int(tp + fn), "n_negative": int(tn + fp)}
    return out


def robustness_section(book, plan, res, cfg) -> dict:
    groups, judges = plan["groups"], plan["judges"]
    hp, hb, hpos, hn = _rates(book, "human", groups)
    rates = {"human": {g: res(hp[k], hb[:, k], int(hn[k]), wilson=(hpos[k], hn[k]),
                              floor=book.floor(("grp", g, "human")),
                              undefined=None if hn[k] else "no resolved human label in this group")
                       for k, g in enumerate(groups)}}
    rankings = {"human": _ranking(groups, hp)}
    corrected, taus, flips, sens_spec = {}, {}, [], {}
    for judge_id in judges:
        jp, jb, jpos, jn = _rates(book, judge_id, groups)
        rates[judge_id] = {g: res(jp[k], jb[:, k], int(jn[k]), wilson=(jpos[k], jn[k]),
                                  floor=book.floor(("grp", g, judge_id)),
                                  undefined=None if jn[k] else "judge gave no scorable verdict in this group")
                           for k, g in enumerate(groups)}
        rankings[judge_id] = _ranking(groups, jp)
        (hlo, hhi), (jlo, jhi) = _bounds(rates["human"], groups), _bounds(rates[judge_id], groups)
        _cp, _cb, _reason, ss = _rogan_gladen(book, judge_id, jp, jb)
        sens_spec[judge_id] = {"sensitivity": _finite(ss[0]), "specificity": _finite(ss[1])}
        tau = float(kendall_tau_b(hp, jp))
        taus[judge_id] = res(tau, kendall_tau_b(hb, jb), len(groups),
                             undefined=None if not np.isnan(tau) else "fewer than two groups with both rates defined")
        for a, b in itertools.combinations(range(len(groups)), 2):
            hd, jd = hp[a] - hp[b], jp[a] - jp[b]
            if not is_flip(hd, jd):  # the one rule of judgeaudit.metrics.flips
                continue
            hci = newcombe_widen(*difference_interval(hb[:, a] - hb[:, b], cfg.confidence),
                                 hp[a], (hlo[a], hhi[a]), hp[b], (hlo[b], hhi[b]))
            jci = newcombe_widen(*difference_interval(jb[:, a] - jb[:, b], cfg.confidence),
                                 jp[a], (jlo[a], jhi[a]), jp[b], (jlo[b], jhi[b]))
            confident = is_confident_flip(hd, hci, jd, jci)
            flips.append({"judge": judge_id, "a": groups[a], "b": groups[b],
                          "human_diff": float(hd), "human_ci": [_finite(hci[0]), _finite(hci[1])],
                          "judge_diff": float(jd), "judge_ci": [_finite(jci[0]), _finite(jci[1])],
                          "confident": confident})
    by_estimator, boots = corrected_rates(book, plan["correction"], res, cfg, judges)
    corrected = by_estimator[cfg.correction]
    raters = {"human": (hp, hb)}
    judge_rates = {j: _rates(book, j, groups)[:2] for j in judges}
    for judge_id in judges:
        point = np.array([np.nan if corrected[judge_id][g]["value"] is None else corrected[judge_id][g]["value"]
                          for g in groups])
        raters[judge_id] = (point, boots[judge_id])
    return {"group_key": cfg.group_key, "groups": groups, "rates": rates,
            "corrected_rates": corrected, "correction": _correction_meta(cfg),
            "corrected_rates_by_estimator": by_estimator,
            "sensitivity_specificity_by_stratum": _sens_spec_by_stratum(book, judges, plan["correction"]["strata"]),
            "conclusions": _conclusions(groups, raters, hp, hb, judge_rates, cfg, rates, corrected),
            "sensitivity_specificity": sens_spec,
            "rankings": rankings, "kendall_tau": taus, "flips": flips,
            # only when groups were left out, so that audits of <= MAX_GROUPS groups keep their layout
            **({"groups_left_out": plan["groups_left_out"]} if plan.get("groups_left_out") else {})}

"""The safety-capability frontier of the experiment report (private).

One point per checkpoint and rater (each harmfulness judge, and the humans when the
audit has them): the harmful rate on harmful requests against capability.  A point
is on the Pareto frontier when no other checkpoint has a harmful rate as low or
lower and a capability as high or higher, one of them strictly.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from judgeaudit.errors import ValidationError
from judgeaudit.metrics import wilson_interval

from .estimates import estimate

HUMANS = "humans"


def capability(inp, table, confidence: float):
    """Capability per checkpoint: ``(source, {checkpoint_id: estimate}, note)``.

    ``source`` is ``"probes"`` (the capability table: accuracy with a Wilson
    interval), ``"checkpoints"`` (``capability_score`` / ``capability_n``: Wilson
    with ``k = round(score * n)``) or None.
    """
    from judgeaudit.prompts.capability import capability_accuracy

    ids = list(inp.checkpoints["checkpoint_id"])
    if table is not None and not isinstance(table, pd.DataFrame):
        raise ValidationError(f"capability must be a DataFrame (the output of score_capability) or None, "
                              f"got {type(table).__name__}", path="capability")
    if table is not None and len(table):
        missing = [c for c in ("checkpoint_id", "correct") if c not in table.columns]
        if missing:
            raise ValidationError(f"the capability table is missing column(s) {', '.join(missing)}; pass the "
                                  "output of judgeaudit.prompts.score_capability", path="capability",
                                  column=", ".join(missing))
        table = table.assign(checkpoint_id=table["checkpoint_id"].astype(str))
        unknown = sorted(set(table["checkpoint_id"]) - set(ids))
        if unknown:
            raise ValidationError(f"checkpoint_id {', '.join(map(repr, unknown[:5]))} of the capability table "
                                  "is not in the checkpoints table; score the probes of the same checkpoints",
                                  path="capability", column="checkpoint_id")
        if table["correct"].isna().any():
            raise ValidationError("the capability table has an empty 'correct' cell; every scored probe "
                                  "answer is True or False", path="capability", column="correct")
        acc = capability_accuracy(table, confidence=confidence).set_index("checkpoint_id")
        out = {}
        for c in ids:
            if c in acc.index:
                r = acc.loc[c]
                out[c] = estimate(r["accuracy"], r["ci_low"], r["ci_high"], int(r["n"]), method="wilson",
                                  k=int(r["n_correct"]))
            else:
                out[c] = estimate(math.nan, 0, 0, 0, undefined="no capability probe answer for this checkpoint")
        return "probes", out, "capability = exact-match accuracy on the capability probes (Wilson interval)"
    ck = inp.checkpoints
    scores = ck["capability_score"].to_numpy(float)
    if np.isnan(scores).all():
        why = ("no capability probes were scored and no checkpoint has a capability_score, so the frontier "
               "lists harmful rates only")
        return None, {c: estimate(math.nan, 0, 0, 0, undefined="no capability measurement") for c in ids}, why
    out = {}
    for c, s, n in zip(ids, scores, ck["capability_n"].to_numpy(float)):
        if np.isnan(s):
            out[c] = estimate(math.nan, 0, 0, 0, undefined="the checkpoint has no capability_score")
        elif np.isnan(n) or n == 0:
            out[c] = estimate(s, math.nan, math.nan, 0, method="none",
                              note="capability_n is not recorded, so no interval")
        else:
            k = int(round(s * n))
            lo, hi = wilson_interval(k, int(n), confidence=confidence)
            out[c] = estimate(s, lo, hi, int(n), method="wilson", k=k)
    return "checkpoints", out, ("capability = the fine-tuning run's own capability eval (capability_score, exact "
                                "match on its task; Wilson interval on capability_n examples)")


def human_rates(inp, audit) -> tuple[dict | None, dict, list]:
    """Human harmful rates per checkpoint from the audit's robustness section.

    Returns ``(rates or None, audit_flips, notes)``; ``rates`` maps each checkpoint to
    an estimate whose ``n`` is the number of labelled items behind it.
    """
    notes: list = []
    if audit is None:
        return None, {}, ["no audit was given, so there are no human rates"]
    if not isinstance(audit, dict):
        raise ValidationError(f"audit must be the dict run_audit returns, or None; got {type(audit).__name__}",
                              path="audit")
    rob = audit.get("robustness")
    if not isinstance(rob, dict):
        return None, {}, ["the audit has no robustness section (it needs two or more checkpoints with human "
                          "labels), so there are no human rates"]
    if rob.get("group_key") != "checkpoint_id":
        return None, {}, [f"the audit grouped items by {rob.get('group_key')!r}, not checkpoint_id, so its human "
                          "rates cannot be matched to checkpoints; rerun it with group_key='checkpoint_id'"]
    human = (rob.get("rates") or {}).get("human") or {}
    ids = list(inp.checkpoints["checkpoint_id"])
    stray = sorted(set(map(str, human)) - set(ids))
    if stray:
        notes.append(f"the audit has human rates for {len(stray)} checkpoint(s) not in the checkpoints table "
                     f"({', '.join(stray[:5])}); they are ignored")
    out = {}
    for c in ids:
        r = human.get(c)
        if not isinstance(r, dict):
            out[c] = estimate(math.nan, 0, 0, 0, undefined="no labelled item of this checkpoint in the audit",
                              source="audit")
            continue
        n = int(r.get("n") or 0)
        out[c] = estimate(math.nan if r.get("value") is None else r["value"], r.get("ci_low"), r.get("ci_high"),
                          n, method=r.get("method") or "none",
                          undefined=r.get("undefined") or (None if r.get("value") is not None else
                                                           "no resolved human label"), source="audit")
    weighted = isinstance((audit.get("meta") or {}).get("weights"), dict)
    notes.append("human rates come from the audit: the share of labelled items the human reference calls "
                 "harmful, over every labelled item of the checkpoint (whatever prompts the labelling sample "
                 "drew, not only harmful requests); n is the number of labelled items"
                 + (", weighted by 1/inclusion probability" if weighted else ""))
    flips = {}
    for f in rob.get("flips") or []:
        if isinstance(f, dict) and isinstance(f.get("human_ci"), (list, tuple)):
            flips[(str(f.get("a")), str(f.get("b")))] = (f.get("human_diff"), list(f["human_ci"]))
    return out, flips, notes


def pareto(rate, cap) -> list:
    """On the frontier (True/False), or None where the rate or the capability is undefined."""
    rate, cap = np.asarray(rate, float), np.asarray(cap, float)
    ok = ~np.isnan(rate) & ~np.isnan(cap)
    out = []
    for i in range(rate.size):
        if not ok[i]:
            out.append(None)
            continue
        better = ok & (rate <= rate[i]) & (cap >= cap[i]) & ((rate < rate[i]) | (cap > cap[i]))
        out.append(not bool(better.any()))
    return out


def frontier_section(inp, judge_rates, corrected, cap_source, caps, cap_note, humans) -> dict:
    """The frontier: points per rater, membership, and where membership differs."""
    ck = inp.checkpoints
    ids = list(ck["checkpoint_id"])
    cap_values = np.array([np.nan if caps[c]["value"] is None else caps[c]["value"] for c in ids])
    raters = list(inp.judges) + ([HUMANS] if humans is not None else [])
    per_rater, membership = {}, {}
    for r in raters:
        if r == HUMANS:
            rates = [humans[c] for c in ids]
        else:
            j = inp.judges.index(r)
            rates = [judge_rates["est"](k, j) for k in range(len(ids))]
        values = np.array([np.nan if e["value"] is None else e["value"] for e in rates])
        on = pareto(values, cap_values) if cap_source else [None] * len(ids)
        points = []
        for k, c in enumerate(ids):
            row = ck.iloc[k]
            pt = {"checkpoint_id": c, "objective": row["objective"], "budget_tokens": int(row["budget_tokens"]),
                  "seed": None if pd.isna(row["seed"]) else int(row["seed"]),
                  "harmful_rate": rates[k], "capability": caps[c], "on_frontier": on[k]}
            if r != HUMANS and corrected is not None:
                pt["rogan_gladen_rate"] = corrected.get(r, {}).get(c)
            points.append(pt)
        per_rater[r] = points
        membership[r] = [p["checkpoint_id"] for p in points if p["on_frontier"]]
    differences = []
    if cap_source:
        for a, b in itertools.combinations(raters, 2):
            only_a = [c for c in membership[a] if c not in membership[b]]
            only_b = [c for c in membership[b] if c not in membership[a]]
            if only_a or only_b:
                differences.append({"a": a, "b": b, "only_a": only_a, "only_b": only_b})
    return {
        "population": "harmful requests (is_harmful_request true), every attack pooled; humans: every "
                      "labelled item of the checkpoint (see notes)",
        "capability_source": cap_source, "capability_note": cap_note,
        "raters": raters, "points": per_rater,
        "membership": membership if cap_source else None,
        "membership_differs": bool(differences) if cap_source else None,
        "differences": differences,
        "rule": "on the frontier: no other checkpoint has a harmful rate <= and a capability >= this one, "
                "one of them strictly; undefined rate or capability: not placed",
    }


def corrected_rates(audit) -> dict | None:
    """The audit's Rogan-Gladen corrected rates as estimates, ``{judge: {checkpoint: estimate}}``."""
    rob = audit.get("robustness") if isinstance(audit, dict) else None
    if not isinstance(rob, dict) or rob.get("group_key") != "checkpoint_id":
        return None
    out = {}
    for judge, per in (rob.get("corrected_rates") or {}).items():
        out[str(judge)] = {str(c): estimate(math.nan if r.get("value") is None else r["value"], r.get("ci_low"),
                                            r.get("ci_high"), int(r.get("n") or 0), method=r.get("method") or "none",
                                            undefined=r.get("undefined"), source="audit, every item of the checkpoint")
                           for c, r in (per or {}).items() if isinstance(r, dict)}
    return out


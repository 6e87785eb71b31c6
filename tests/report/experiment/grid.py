"""The hand-built grid the experiment report tests share (tables, audit, helpers).

The grid: a base model and two objectives (dpo, sft) at two budgets (1000, 2000).
Six safety prompts: h1..h4 are harmful requests (h1, h2 plain; h3, h4 wrapped in
prefix_injection), b1, b2 benign look-alikes.  One response per prompt and
checkpoint (30 items).  Judges A, B, C give harmfulness votes (string positions =
h1 h2 h3 h4 b1 b2; 1 harmful, 0 not harmful, u unclear, E parse error); judge R gives
refusal labels and must be left out.

Harmful rates on harmful requests (h1..h4):

    checkpoint  A     B     C     capability (score of 10)
    base        1/4   1/4   1/4   0.5
    dpo-1000    1/4   1/4   1/4   0.7
    dpo-2000    0     1     3/4   0.6
    sft-1000    2/4   2/4   2/4   0.6
    sft-2000    1     0     2/4   0.8

At 2000 tokens, dpo - sft is -1 under A, +1 under B, +0.25 under C: A/B flip (A's
difference is -1 and B's +1 on every resample, but the intervals are widened to
Newcombe's interval of the two rates' Korn-Graubard intervals, which over 4 prompts
reach 0: not confident); A/C flip and C's per-prompt differences
(h1 -1, h2 0, h3 +1, h4 +1) give resamples on both sides of 0.
"""

from __future__ import annotations

import pandas as pd

from judgeaudit.audit import AuditConfig, run_audit
from judgeaudit.tables import AuditTables, Task

CKS = [("base", "base", 0, 0.5), ("sft-1000", "sft", 1000, 0.6), ("sft-2000", "sft", 2000, 0.8),
       ("dpo-1000", "dpo", 1000, 0.7), ("dpo-2000", "dpo", 2000, 0.6)]
PROMPTS = [("h1", "harmful", "none", True), ("h2", "harmful", "none", True),
           ("h3", "harmful", "prefix_injection", True), ("h4", "harmful", "prefix_injection", True),
           ("b1", "benign_lookalike", "none", False), ("b2", "benign_lookalike", "none", False)]
P = [p[0] for p in PROMPTS]
VOTES = {
    "A": {"base": "100000", "sft-1000": "110000", "dpo-1000": "100000", "sft-2000": "111101", "dpo-2000": "000000"},
    "B": {"base": "100000", "sft-1000": "110000", "dpo-1000": "100000", "sft-2000": "000000", "dpo-2000": "111100"},
    "C": {"base": "1000uE", "sft-1000": "110000", "dpo-1000": "100000", "sft-2000": "110000", "dpo-2000": "011100"},
}
# c coherent, p partially coherent, i incoherent (scorer "deg")
BINS = {"base": "cccccc", "sft-1000": "iccccc", "dpo-1000": "pccccc", "sft-2000": "iiiipc", "dpo-2000": "iipccc"}
# human labels of h1..h4 (annotator "ann"), for the audit
HUMAN = {"base": "1000", "sft-1000": "1100", "dpo-1000": "1000", "sft-2000": "1110", "dpo-2000": "0000"}
ORDER = ["base", "dpo-1000", "dpo-2000", "sft-1000", "sft-2000"]  # base first, then objective, budget
N_BOOT, SEED = 400, 1


def tables(objective_names=None, judge_names=None) -> dict:
    on = objective_names or {}
    jn = judge_names or {}
    ck = pd.DataFrame({"checkpoint_id": [c[0] for c in CKS], "objective": [on.get(c[1], c[1]) for c in CKS],
                       "budget_tokens": [c[2] for c in CKS], "seed": [pd.NA, 0, 0, 0, 0],
                       "capability_score": [c[3] for c in CKS], "capability_n": [10.0] * 5})
    pr = pd.DataFrame({"prompt_id": P, "text": [f"prompt {p}" for p in P], "prompt_set": [p[1] for p in PROMPTS],
                       "attack": [p[2] for p in PROMPTS], "is_harmful_request": [p[3] for p in PROMPTS]})
    gens = pd.DataFrame([{"item_id": f"{c[0]}:{p}", "prompt_id": p, "checkpoint_id": c[0],
                          "response": f"response of {c[0]} to {p}"} for c in CKS for p in P])
    rows = []
    for j, per in VOTES.items():
        for c, s in per.items():
            for p, ch in zip(P, s):
                rows.append({"item_id": f"{c}:{p}", "judge_id": jn.get(j, j),
                             "label": {"1": "harmful", "0": "not_harmful", "u": "unclear"}.get(ch),
                             "status": "parse_error" if ch == "E" else "ok"})
    rows += [{"item_id": f"{c[0]}:{p}", "judge_id": "R", "label": "full" if p[0] == "b" else "none", "status": "ok"}
             for c in CKS for p in P]
    names = {"c": ("coherent", 0.9), "p": ("partially_coherent", 0.5), "i": ("incoherent", 0.1)}
    coh = pd.DataFrame([{"item_id": f"{c}:{p}", "scorer_id": "deg", "bin": names[b][0], "score": names[b][1]}
                        for c, s in BINS.items() for p, b in zip(P, s)])
    return dict(checkpoints=ck, generations=gens, prompts=pr, verdicts=pd.DataFrame(rows), coherence=coh)


def audit_for(t: dict) -> dict:
    labels = pd.DataFrame([{"item_id": f"{c}:{p}", "annotator_id": "ann", "field": "harmfulness",
                            "value": "harmful" if v == "1" else "not_harmful"}
                           for c, s in HUMAN.items() for p, v in zip(P[:4], s)])
    at = AuditTables(prompts=t["prompts"], generations=t["generations"], labels=labels, verdicts=t["verdicts"],
                     coherence=t["coherence"], task=Task.for_field("harmfulness"), name="t").validate()
    return run_audit(at, config=AuditConfig(n_boot=300, seed=0, group_key="checkpoint_id"))


def points(report, rater):
    return {p["checkpoint_id"]: p for p in report["frontier"]["points"][rater]}

"""Checking and aligning the experiment report's input tables (private).

:func:`prepare` validates every table, checks that they refer to each other, and
returns :class:`Inputs`: the ok generations as items (one row per item, with its
checkpoint, objective-and-budget cell, prompt slice and whether it answers a harmful
request), the harmfulness judges' votes as an ``(items, judges)`` array, the judges
left out and why, verdict status counts, and coherence bins.  Judges and coherence
scorers are taken in order of their ids, so the report does not depend on row order
(the "first" coherence scorer is the first by id).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from judgeaudit.errors import ValidationError
from judgeaudit.tables import COHERENCE_BINS, FIELDS, ok_coherence, validate

HARM_VOTES = {"harmful": 1.0, "not_harmful": 0.0}
BASE = "base"
_SHOWN = 5


@dataclass
class Inputs:
    checkpoints: pd.DataFrame  # ordered; index 0..K-1 is the checkpoint code
    items: pd.DataFrame  # ok generations: item_id, prompt_id, checkpoint_id, ck, cell, budget, harmful, slice
    objectives: list
    budgets: list
    cells: list  # (objective, budget) pairs, objective order then budget
    slices: list  # (prompt_set, attack) pairs of harmful requests
    judges: list  # harmfulness judges
    votes: np.ndarray  # (items, judges): 1 harmful, 0 not harmful, NaN no vote
    left_out: list
    status: dict  # judge -> checkpoint -> counts
    scorers: list
    bins: np.ndarray  # (items, scorers): index into COHERENCE_BINS, -1 unscored
    notes: list = field(default_factory=list)
    generation_errors: dict = field(default_factory=dict)

    @property
    def n_items(self) -> int:
        return len(self.items)


def _listed(values) -> str:
    values = [repr(v) for v in values]
    more = f" and {len(values) - _SHOWN} more" if len(values) > _SHOWN else ""
    return ", ".join(values[:_SHOWN]) + more


def _unknown(values: pd.Series, known, *, path: str, column: str, what: str, fix: str) -> None:
    bad = ~values.isin(set(known)).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        missing = list(dict.fromkeys(values[bad].tolist()))
        raise ValidationError(f"{column} {_listed(missing)} {'is' if len(missing) == 1 else 'are'} not in "
                              f"the {what} table; {fix}", path=path, row=row + 1, column=column)


def _checkpoints(df) -> pd.DataFrame:
    path = "checkpoints"
    if not isinstance(df, pd.DataFrame):
        raise ValidationError(f"expected a pandas DataFrame for checkpoints, got {type(df).__name__}", path=path)
    need = ["checkpoint_id", "objective", "budget_tokens"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValidationError(f"the checkpoints table is missing column(s) {_listed(missing)}; found "
                              f"{_listed(list(df.columns)) or '(none)'}; expected one row per model with "
                              "checkpoint_id, objective, budget_tokens (and seed, capability_score, capability_n)",
                              path=path, column=", ".join(missing))
    df = df.reset_index(drop=True)
    out = pd.DataFrame(index=df.index)
    for col in ("checkpoint_id", "objective"):
        vals = df[col].astype(object)
        bad = vals.isna().to_numpy() | np.array([not str(v).strip() for v in vals], dtype=bool)
        if bad.any():
            raise ValidationError(f"empty {col}; every checkpoint needs one", path=path,
                                  row=int(np.flatnonzero(bad)[0]) + 1, column=col)
        out[col] = [str(v) for v in vals]
    dup = out["checkpoint_id"].duplicated(keep=False).to_numpy()
    if dup.any():
        rows = np.flatnonzero(dup)
        raise ValidationError(f"checkpoint_id {out['checkpoint_id'][rows[0]]!r} appears twice (rows "
                              f"{rows[0] + 1} and {rows[1] + 1}); expected one row per checkpoint",
                              path=path, row=int(rows[1]) + 1, column="checkpoint_id")
    numbers = {c: pd.to_numeric(df[c], errors="coerce") if c in df.columns else pd.Series(np.nan, index=df.index)
               for c in ("budget_tokens", "seed", "capability_score", "capability_n")}
    for col, rule, lo, hi, integral, required in (
            ("budget_tokens", "a whole number of tokens >= 0", 0, math.inf, True, True),
            ("seed", "an integer or empty", -math.inf, math.inf, True, False),
            ("capability_score", "a share in [0, 1] or empty", 0, 1, False, False),
            ("capability_n", "a count >= 0 or empty", 0, math.inf, True, False)):
        v = numbers[col].astype(float).to_numpy()
        raw = df[col] if col in df.columns else pd.Series([None] * len(df))
        unreadable = np.isnan(v) & raw.notna().to_numpy()
        bad = unreadable | (np.isnan(v) & required) | (~np.isnan(v) & ((v < lo) | (v > hi)))
        if integral:
            bad |= ~np.isnan(v) & (np.mod(np.nan_to_num(v), 1) != 0)
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise ValidationError(f"expected {rule}, got {raw.iloc[r]!r}", path=path, row=r + 1, column=col)
        out[col] = v
    out["budget_tokens"] = out["budget_tokens"].astype(np.int64)
    out["seed"] = pd.array([None if np.isnan(s) else int(s) for s in out["seed"]], dtype="Int64")
    objectives = order_objectives(out["objective"])
    rank = {o: i for i, o in enumerate(objectives)}
    out["_o"] = out["objective"].map(rank)
    out["_s"] = out["seed"].fillna(np.iinfo(np.int64).max).astype(np.int64)
    out = out.sort_values(["_o", "budget_tokens", "_s", "checkpoint_id"], kind="stable")
    return out.drop(columns=["_o", "_s"]).reset_index(drop=True)


def order_objectives(values) -> list:
    """``"base"`` first, then the other objectives alphabetically."""
    names = sorted(set(map(str, values)))
    return ([BASE] if BASE in names else []) + [n for n in names if n != BASE]


def _judge_field(labels: set) -> tuple[str | None, str | None]:
    """The field a judge's ok labels belong to, or (None, reason) when none or several."""
    if not labels:
        return None, "no ok verdict carries a label (scores only, or every verdict failed)"
    fits = [f for f, values in FIELDS.items() if labels <= set(values)]
    if "harmfulness" in fits:
        return "harmfulness", None
    if fits:
        return fits[0], f"labels are of field {fits[0]!r} ({', '.join(sorted(labels))}), not harmfulness"
    return None, f"labels {', '.join(sorted(labels))} mix several fields"


def _verdicts(verdicts, items: pd.DataFrame, known_ids, ck_ids):
    v = validate(verdicts, "verdicts", path="verdicts", known_item_ids=known_ids)
    index = pd.Index(items["item_id"])
    pos = index.get_indexer(v["item_id"])
    v = v.assign(_pos=pos)[pos >= 0]  # verdicts on failed generations are not counted
    judges, left_out = [], []
    for judge_id in sorted(set(v["judge_id"].tolist())):
        rows = v[v["judge_id"] == judge_id]
        labels = set(rows.loc[(rows["status"] == "ok") & rows["label"].notna(), "label"])
        fld, reason = _judge_field(labels)
        if fld == "harmfulness":
            judges.append(judge_id)
        else:
            left_out.append({"judge_id": judge_id, "field": fld, "reason": reason})
    votes = np.full((len(items), len(judges)), np.nan)
    for j, judge_id in enumerate(judges):
        rows = v[(v["judge_id"] == judge_id) & (v["status"] == "ok")]
        votes[rows["_pos"].to_numpy(), j] = rows["label"].map(HARM_VOTES).astype(float).to_numpy()
    status = {}
    ck = items["checkpoint_id"].to_numpy()
    for judge_id in judges + [d["judge_id"] for d in left_out]:
        rows = v[v["judge_id"] == judge_id]
        got = np.full(len(items), "missing", dtype=object)
        got[rows["_pos"].to_numpy()] = rows["status"].to_numpy()
        is_vote = np.zeros(len(items), bool)
        if judge_id in judges:
            is_vote = ~np.isnan(votes[:, judges.index(judge_id)])
        per = {}
        for c in ck_ids:
            m = ck == c
            counts = {s: int(((got == s) & m).sum()) for s in ("ok", "parse_error", "error", "missing")}
            counts["votes"] = int((is_vote & m).sum())
            counts["ok_no_vote"] = counts["ok"] - counts["votes"]
            counts["n_items"] = int(m.sum())
            per[c] = counts
        status[judge_id] = per
    return judges, votes, left_out, status


def _coherence(coherence, items: pd.DataFrame, known_ids):
    if coherence is None:
        return [], np.zeros((len(items), 0), dtype=np.int64)
    c = validate(coherence, "coherence", path="coherence", known_item_ids=known_ids)
    scorers = sorted(set(c["scorer_id"].tolist()))
    c = ok_coherence(c)  # an item a scorer could not score (status error) stays unscored (-1)
    bins = np.full((len(items), len(scorers)), -1, dtype=np.int64)
    pos = pd.Index(items["item_id"]).get_indexer(c["item_id"])
    code = c["bin"].map({b: i for i, b in enumerate(COHERENCE_BINS)}).to_numpy()
    col = c["scorer_id"].map({s: i for i, s in enumerate(scorers)}).to_numpy()
    keep = pos >= 0
    bins[pos[keep], col[keep]] = code[keep]
    return scorers, bins


def prepare(*, checkpoints, generations, prompts, verdicts, coherence) -> Inputs:
    """Validate and align the tables; see :func:`judgeaudit.report.experiment.build_experiment_report`."""
    ck = _checkpoints(checkpoints)
    gens = validate(generations, "generations", path="generations")
    _unknown(gens["checkpoint_id"], ck["checkpoint_id"], path="generations", column="checkpoint_id",
             what="checkpoints", fix="add the model to the checkpoints table or drop its generations")
    pr = validate(prompts, "prompts", path="prompts")
    _unknown(gens["prompt_id"], pr["prompt_id"], path="generations", column="prompt_id", what="prompts",
             fix="pass the prompts table the generations were made from")
    notes = []
    if "prompt_set" not in pr.columns:
        fallback = pr["source"] if pr["source"].notna().any() else pd.Series(["all"] * len(pr))
        pr = pr.assign(prompt_set=[str(s) if s is not None and s == s else "(unnamed)" for s in fallback])
        notes.append("the prompts table has no prompt_set column: prompt sets are taken from its source column"
                     if pr["source"].notna().any() else
                     "the prompts table has no prompt_set column: every prompt is in one set 'all'")
    ok = gens["status"] == "ok"
    errors = gens.loc[~ok, "checkpoint_id"].value_counts()
    generation_errors = {c: int(errors.get(c, 0)) for c in ck["checkpoint_id"]}
    if int(errors.sum()):
        notes.append(f"{int(errors.sum())} generation(s) with status error are left out of every rate "
                     "(counted per checkpoint under verdict status)")
    items = gens.loc[ok, ["item_id", "prompt_id", "checkpoint_id"]].reset_index(drop=True)
    if items.empty:
        raise ValidationError("the generations table holds no generation with status ok; there is nothing "
                              "to report (generate outputs for the checkpoints first)", path="generations")
    p = pr.set_index("prompt_id").loc[items["prompt_id"]]
    flag = p["is_harmful_request"].astype("boolean")
    items["harmful"] = flag.fillna(False).to_numpy(dtype=bool)
    n_unflagged = int(flag.isna().sum())
    if n_unflagged:
        notes.append(f"{n_unflagged} item(s) answer prompts whose is_harmful_request is empty; they count as "
                     "not harmful requests (left out of the harmful rates)")
    pset = [str(s) if s is not None and s == s else "(none)" for s in p["prompt_set"]]
    attack = [str(a) for a in p["attack"]]
    ck_code = {c: i for i, c in enumerate(ck["checkpoint_id"])}
    items["ck"] = items["checkpoint_id"].map(ck_code).to_numpy(np.int64)
    objectives = order_objectives(ck["objective"])
    budgets = sorted(set(ck["budget_tokens"].tolist()))
    cells = list(dict.fromkeys(zip(ck["objective"], ck["budget_tokens"].astype(int))))
    cells.sort(key=lambda c: (objectives.index(c[0]), c[1]))
    cell_code = {c: i for i, c in enumerate(cells)}
    ck_cell = np.array([cell_code[(o, int(b))] for o, b in zip(ck["objective"], ck["budget_tokens"])], np.int64)
    items["cell"] = ck_cell[items["ck"].to_numpy()]
    items["budget"] = ck["budget_tokens"].to_numpy()[items["ck"].to_numpy()]
    items["prompt_set"], items["attack"] = pset, attack
    harmful = items["harmful"].to_numpy()
    slices = sorted({(s, a) for s, a, h in zip(pset, attack, harmful) if h})
    slice_code = {s: i for i, s in enumerate(slices)}
    items["slice"] = [slice_code[(s, a)] if h else -1 for s, a, h in zip(pset, attack, harmful)]
    known = set(gens["item_id"])
    judges, votes, left_out, status = _verdicts(verdicts, items, known, list(ck["checkpoint_id"]))
    scorers, bins = _coherence(coherence, items, known)
    return Inputs(checkpoints=ck, items=items, objectives=objectives, budgets=budgets, cells=cells,
                  slices=slices, judges=judges, votes=votes, left_out=left_out, status=status,
                  scorers=scorers, bins=bins, notes=notes, generation_errors=generation_errors)

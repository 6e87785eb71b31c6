"""The next labelling batch, where the audit's intervals are widest.

After a pull, :func:`next_sample` looks at the labels so far and spends the next
budget where it narrows the widest intervals of the audit: each judge's accuracy
within each coherence bin, and the human harmful rate of each group (the numbers
the conclusions rest on).  It works on the design strata of the first round
(:func:`annotation.sampling.design_strata`), draws new items without replacement
from those not yet sampled, and updates every item's inclusion probability.

The variance model
------------------
A coherence bin ``c`` is a union of design strata ``h``; the weighted (Hajek)
estimate of judge ``j``'s accuracy in ``c`` has, for stratified simple random
sampling, variance ``V = sum_h W_h^2 s_h^2 (1/n_h - 1/N_h)`` with
``W_h = N_h / N_c``, ``n_h`` the items sampled in ``h`` so far and
``s_h^2 = p_h (1 - p_h)``, ``p_h = (correct + 1) / (scored + 2)`` (Laplace's rule, so
a stratum with few labels is neither certain nor ignored).  A group's harmful rate
is the same with the humans' positive share.  Sampled items still waiting for a
label count in ``n_h`` (they will be labelled); a stratum with none sampled has
infinite variance and gets an item first.  Items are handed out one at a time to
the target whose interval is widest, in the stratum of that target where one more
item shrinks the variance most (the greedy form of Neyman allocation).  Half-widths
``z sqrt(V)`` before and after are reported.

Inclusion probabilities in a sequential design
----------------------------------------------
Within a stratum, an SRS of ``n1`` followed by an SRS of ``n2`` from the remaining
items is an SRS of ``n1 + n2`` from the stratum, so conditionally on the realised
stratum sizes every item has ``pi = (n1 + n2) / N_h``; that is what is recorded for
old and new items alike.  The approximation: the sizes of later rounds depend on the
labels of earlier ones, and the audit treats the realised allocation as fixed (the
usual conditional treatment of adaptive stratified designs).  The Hajek estimator
stays consistent, since every item of a stratum shares one weight.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import ndtri

from judgeaudit.tables import binary_votes, labelled_items, majority_reference
from judgeaudit.errors import ConfigError
from judgeaudit.tables import Task

from .sampling import _add_gold, _mark_overlap, _sampled_rows, finish_sample

__all__ = ["NEXT_TARGETS", "ALL_TARGETS", "stratum_state", "plan_next", "next_sample", "audit_widths"]

NEXT_TARGETS = ("accuracy", "rate")
ALL_TARGETS = NEXT_TARGETS + ("corrected",)
"""``corrected``: Neyman allocation (:func:`judgeaudit.audit.neyman_allocation`) minimising the
summed variance of every group's weighted harmful rate over the design strata (each stratum's
S pooled over groups, :func:`judgeaudit.audit.allocation.cell_sd`; at least 2 labels per stratum); with strata
``--by coherence,verdict,group`` that rate is the double-sampling corrected rate of the
verdict judge.  Not a default: it replaces the greedy plan when asked for alone."""
_DESIGN = "sequential-stratified-srs"


def _population(strata: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """The frame with each earlier-sampled item in the stratum it was drawn from."""
    drawn = previous[~previous["is_gold"].fillna(False).to_numpy(bool)]
    missing = sorted(set(drawn["item_id"]) - set(strata["item_id"]))
    if missing:
        raise ConfigError(f"{len(missing)} item(s) of the previous sample are not among the generations "
                          f"(e.g. {missing[0]!r}); pass the generations the sample was drawn from")
    recorded = dict(zip(drawn["item_id"], drawn["stratum"]))
    out = strata.copy()
    now = out["stratum"].to_numpy(dtype=object)
    was = out["item_id"].map(recorded).to_numpy(dtype=object)
    keep = pd.notna(was)
    out.attrs = dict(strata.attrs, n_moved=int((keep & (was != now)).sum()))
    out["stratum"] = np.where(keep, was, now)
    if keep.any():  # the parts follow the recorded stratum ("<bin>|<disagreement>|<group>")
        parts = pd.Series(was[keep]).str.split("|", n=2, expand=True)
        for i, col in enumerate(("coherence_bin", "disagreement", "group")):
            vals = out[col].to_numpy(dtype=object).copy()
            vals[keep] = parts[i].to_numpy(dtype=object)
            out[col] = vals
    return out


def stratum_state(population: pd.DataFrame, sample: pd.DataFrame, labels: pd.DataFrame,
                  verdicts: pd.DataFrame | None, task: Task) -> tuple[pd.DataFrame, dict]:
    """What the labels so far say about each design stratum.

    Returns ``(state, judges)``: ``state`` has one row per stratum with
    ``coherence_bin, group, N, n`` (sampled, all rounds), ``labelled`` (items with a
    resolved human reference), ``positive`` (of those, reference positive);
    ``judges`` maps each judge to a frame of ``scored`` and ``correct`` per stratum.
    """
    drawn = sample[~sample["is_gold"].fillna(False).to_numpy(bool)]
    ids = drawn["item_id"].tolist()
    votes = binary_votes(labels, ids, task)
    ref, _status = majority_reference(votes, labelled_items(labels, task.field))
    ref = pd.Series(ref, index=ids)
    where = population.set_index("item_id")["stratum"]
    first = population.drop_duplicates("stratum").set_index("stratum")
    state = pd.DataFrame({"coherence_bin": first["coherence_bin"], "group": first["group"],
                          "N": population["stratum"].value_counts()})
    state["n"] = drawn["item_id"].map(where).value_counts().reindex(state.index).fillna(0).astype(int)
    resolved = ref.dropna()
    by = resolved.index.map(where)
    state["labelled"] = pd.Series(1, index=resolved.index).groupby(by).sum().reindex(state.index).fillna(0)
    state["positive"] = resolved.groupby(by).sum().reindex(state.index).fillna(0)
    judges = {}
    if verdicts is not None and len(verdicts):
        v = verdicts[verdicts["item_id"].isin(resolved.index) & (verdicts["status"] == "ok")]
        v = v.drop_duplicates(["item_id", "judge_id"], keep="last")
        side = v["label"].map(lambda x: task.binary(x) if isinstance(x, str) else None)
        v = v[side.notna()].assign(side=side[side.notna()].astype(float))
        for judge_id, rows in v.groupby("judge_id", sort=True):
            h = rows["item_id"].map(where)
            right = (rows["side"].to_numpy() == rows["item_id"].map(resolved).to_numpy()).astype(float)
            judges[str(judge_id)] = pd.DataFrame({
                "scored": pd.Series(1.0, index=rows.index).groupby(h.to_numpy()).sum(),
                "correct": pd.Series(right, index=rows.index).groupby(h.to_numpy()).sum(),
            }).reindex(state.index).fillna(0)
    return state, judges


def _targets(state: pd.DataFrame, judges: dict, kinds) -> list:
    """``(name, kind, judge, where, {stratum: (W_h^2 * s_h^2)})`` for every target."""
    out = []
    laplace = lambda k, m: (k + 1.0) / (m + 2.0)  # noqa: E731
    if "accuracy" in kinds:
        for j, stats in judges.items():
            for c, part in state.groupby("coherence_bin", sort=True):
                total = part["N"].sum()
                p = laplace(stats.loc[part.index, "correct"], stats.loc[part.index, "scored"])
                coef = (part["N"] / total) ** 2 * p * (1 - p)
                out.append((f"accuracy[{j}|{c}]", "accuracy", j, c, coef.to_dict()))
    if "rate" in kinds:
        for g, part in state.groupby("group", sort=True):
            total = part["N"].sum()
            q = laplace(part["positive"], part["labelled"])
            coef = (part["N"] / total) ** 2 * q * (1 - q)
            out.append((f"rate[{g}]", "rate", None, g, coef.to_dict()))
    return out


def _term(coef: float, n: int, size: int) -> float:
    """One stratum's variance term ``coef * (1/n - 1/N)``; infinite when ``n == 0``."""
    if n <= 0:
        return math.inf
    return coef * max(0.0, 1.0 / n - 1.0 / size)


def plan_next(state: pd.DataFrame, judges: dict, budget: int, *, targets=NEXT_TARGETS,
              confidence: float = 0.95) -> tuple[dict, pd.DataFrame]:
    """How many new items each stratum gets, and the targets' widths before and after.

    Returns ``(added, widths)``: ``added`` maps stratum to new items;
    ``widths`` has ``target, kind, judge, where, half_width_before, half_width_after``
    (NaN where a stratum of the target has no sampled item yet).
    """
    bad = [t for t in targets if t not in ALL_TARGETS]
    if bad or not targets:
        raise ConfigError(f"targets must be among {', '.join(ALL_TARGETS)}, got {list(targets)}")
    if "corrected" in targets:
        if len(targets) > 1:
            raise ConfigError("the target 'corrected' (Neyman allocation) is used alone; drop the others")
        return _plan_corrected(state, budget, confidence)
    if "accuracy" in targets and not judges and "rate" not in targets:
        raise ConfigError("no judge verdict on a labelled item: there is no judge accuracy to target; "
                          "add --targets rate or pass the verdicts table")
    tg = _targets(state, judges, targets)
    n = state["n"].astype(int).to_dict()
    size = state["N"].astype(int).to_dict()
    member: dict = {}
    for k, t in enumerate(tg):
        for h in t[4]:
            member.setdefault(h, []).append(k)

    def var(k):
        return sum(_term(c, n[h], size[h]) for h, c in tg[k][4].items())

    z = float(ndtri(0.5 + confidence / 2))
    current = [var(k) for k in range(len(tg))]
    before = list(current)
    added = {h: 0 for h in state.index}
    done = set()
    for _ in range(int(budget)):
        open_ = [k for k in range(len(tg)) if k not in done]
        if not open_:
            break
        k = max(open_, key=lambda i: (current[i], tg[i][0]))
        room = [h for h in tg[k][4] if n[h] < size[h]]
        if not room:
            done.add(k)
            continue
        gain = {h: _term(tg[k][4][h], n[h], size[h]) - _term(tg[k][4][h], n[h] + 1, size[h]) for h in room}
        h = max(room, key=lambda s: (gain[s] if not math.isnan(gain[s]) else math.inf, size[s], s))
        n[h] += 1
        added[h] += 1
        for i in member[h]:
            current[i] = var(i)
    half = lambda v: z * math.sqrt(v) if math.isfinite(v) else float("nan")  # noqa: E731
    widths = pd.DataFrame([{"target": t[0], "kind": t[1], "judge": t[2], "where": t[3],
                            "half_width_before": half(before[k]), "half_width_after": half(current[k])}
                           for k, t in enumerate(tg)])
    return {h: a for h, a in added.items() if a}, widths


def _plan_corrected(state: pd.DataFrame, budget: int, confidence: float):
    """Neyman allocation of ``budget`` over the design strata for the groups' weighted rates."""
    from judgeaudit.audit.allocation import cell_sd, neyman_allocation, stratified_variance

    # the cell pooled over groups: the stratum "<bin>|<disagreement>|<group>" without its group
    cells = pd.DataFrame({"group": state["group"], "N": state["N"].astype(float),
                          "positive": state["positive"], "labelled": state["labelled"],
                          "cell": [str(h).rsplit("|", 1)[0] for h in state.index]})
    cells["S"] = cell_sd(cells)
    have = state["n"].astype(float)
    added = neyman_allocation(cells, int(budget), already=have, floor=2)
    z = float(ndtri(0.5 + confidence / 2))
    before, after = stratified_variance(cells, have), stratified_variance(cells, have + added)
    half = lambda v: z * math.sqrt(v) if math.isfinite(v) else float("nan")  # noqa: E731
    widths = pd.DataFrame([{"target": f"corrected[{g}]", "kind": "corrected", "judge": None, "where": g,
                            "half_width_before": half(before[g]), "half_width_after": half(after[g])}
                           for g in before.index])
    return {h: int(a) for h, a in added.items() if a}, widths


def next_sample(strata: pd.DataFrame, previous: pd.DataFrame, labels: pd.DataFrame,
                verdicts: pd.DataFrame | None, *, budget: int, seed: int = 0, task: Task | None = None,
                targets=NEXT_TARGETS, overlap_k: int = 3, overlap_n: int | None = None,
                gold: pd.DataFrame | None = None, confidence: float = 0.95,
                audit_n_boot: int = 0) -> pd.DataFrame:
    """The cumulative sample table after one more batch.

    Parameters
    ----------
    strata:
        :func:`~annotation.sampling.design_strata` of the population now.
    previous:
        The sample table so far (every round).
    labels, verdicts:
        The labels pulled so far and the judges' verdicts.
    budget:
        New items to draw (gold on top).
    seed, overlap_k, overlap_n, gold:
        As in :class:`~annotation.sampling.SamplingConfig`; ``overlap_n`` of the new
        items (``None``: 10% of the budget) get ``overlap_k`` annotators.
    audit_n_boot:
        When above 0, also run the weighted audit on the labels so far with that many
        bootstrap resamples and add each target's current interval half-width from it
        (``audit_half_width``) beside the model's.

    Returns
    -------
    pandas.DataFrame
        Every earlier row (inclusion probabilities updated) and the new ones, with
        ``round`` one more than before; ``attrs["widths"]`` is :func:`plan_next`'s
        table, ``attrs["added"]`` the new items per stratum, ``attrs["n_moved"]``
        the earlier items whose stratum would differ now (their recorded one is kept),
        ``attrs["n_pending"]`` the earlier items without a resolved label yet.
    """
    if budget < 1:
        raise ConfigError(f"the budget must be at least 1 item, got {budget}")
    task = task or Task.for_field("harmfulness")
    population = _population(strata, previous)
    state, judges = stratum_state(population, previous, labels, verdicts, task)
    added, widths = plan_next(state, judges, budget, targets=targets, confidence=confidence)
    round_ = int(pd.to_numeric(previous["round"]).max()) + 1 if len(previous) else 1
    new = _sampled_rows(population, added, seed=seed, round_=round_,
                        exclude=frozenset(previous["item_id"])).assign(is_gold=False)
    keep = previous.drop(columns=["stratum_size", "stratum_sampled", "inclusion_probability"], errors="ignore")
    sample = pd.concat([keep, new], ignore_index=True)
    sample = _add_gold(sample, None if gold is None else gold[~gold["item_id"].isin(previous["item_id"])],
                       round_=round_)
    sample = _mark_overlap(sample, round(0.1 * budget) if overlap_n is None else overlap_n, overlap_k,
                           seed, round_)
    sizes = population["stratum"].value_counts().to_dict()
    out = finish_sample(sample, sizes, design=_DESIGN, seed=seed)
    if audit_n_boot > 0:
        now = audit_widths(population, previous, labels, verdicts, task, n_boot=audit_n_boot, seed=seed,
                           confidence=confidence)
        widths = widths.assign(audit_half_width=widths["target"].map(now).astype(float))
    n_pending = int(state["n"].sum() - state["labelled"].sum())
    out.attrs.update(widths=widths, added=added, n_moved=population.attrs.get("n_moved", 0), round=round_,
                     n_pending=n_pending)
    return out


def audit_widths(population: pd.DataFrame, sample: pd.DataFrame, labels: pd.DataFrame,
                 verdicts: pd.DataFrame | None, task: Task, *, n_boot: int = 200, seed: int = 0,
                 confidence: float = 0.95) -> dict:
    """Half-widths of the current weighted audit's intervals, by target name.

    Runs :func:`judgeaudit.audit.run_audit` over the population with the design's
    coherence bins as strata, its groups for the harmful rates, the labels of the
    sampled items and their inclusion probabilities; ``accuracy[<judge>|<bin>]`` and
    ``rate[<group>]`` map to half the width of the audit's 95% (``confidence``)
    interval, or NaN where it is undefined.
    """
    from judgeaudit.audit import AuditConfig, run_audit
    from judgeaudit.tables import INCLUSION_COLUMN, AuditTables, empty_table, with_sample_design

    if verdicts is None or verdicts.empty:
        return {}
    drawn = set(sample.loc[~sample["is_gold"].fillna(False).to_numpy(bool), "item_id"])
    gens = population[["item_id", "prompt_id", "checkpoint_id", "sample_index", "response"]].assign(
        stratum=population["coherence_bin"].to_numpy(), group=population["group"].to_numpy())
    known = set(gens["item_id"])
    tables = AuditTables(prompts=empty_table("prompts"), generations=gens,
                         labels=labels[labels["item_id"].isin(drawn)], task=task,
                         verdicts=verdicts[verdicts["item_id"].isin(known)],
                         coherence=empty_table("coherence"), name="next batch").validate()
    tables = with_sample_design(tables, sample)
    many_groups = gens["group"].nunique() > 1
    cfg = AuditConfig(n_boot=n_boot, seed=seed, confidence=confidence, strata="column",
                      group_key="group" if many_groups else None, weights=INCLUSION_COLUMN)
    result = run_audit(tables, config=cfg)
    half = lambda r: (r["ci_high"] - r["ci_low"]) / 2 if r.get("ci_low") is not None else float("nan")  # noqa: E731
    out = {}
    for judge_id, entry in result["judges"].items():
        for c, metrics in entry["strata"].items():
            out[f"accuracy[{judge_id}|{c}]"] = half(metrics["accuracy"])
    if result.get("robustness"):
        for g, r in result["robustness"]["rates"]["human"].items():
            out[f"rate[{g}]"] = half(r)
    return out

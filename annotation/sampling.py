"""Choose what people label: a stratified sample with recorded inclusion probabilities.

A labelling budget is most informative where automated judges are least reliable:
on incoherent outputs and where judges disagree.  :func:`draw_sample` splits the
budget across *design strata* (coherence bin x judge disagreement x group, see
:func:`design_strata`), oversampling the strata that matter, draws a simple random
sample without replacement in each, and records every item's inclusion probability
``pi = n_h / N_h`` (``n_h`` of the ``N_h`` items of its stratum drawn), so that the
audit can weight back to the whole population (``judgeaudit audit --weights``).

An *overlap* subset, drawn at random within the sample, gets ``k`` annotators per
item for inter-annotator agreement; optional *gold* items (known answers, from a
file) check the annotators and never enter the audit.  Everything is seeded: the
same inputs and seed give the same sample, whatever the input row order.

:mod:`annotation.sampling_next` chooses later batches where the audit's intervals
are widest.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from judgeaudit.tables import INCLUSION_COLUMN, SAMPLE_COLUMNS, validate_sample_table
from judgeaudit.errors import ConfigError, ValidationError
from judgeaudit.tables import FIELDS, Task, ok_coherence, parse_label, validate

__all__ = [
    "DISAGREEMENT_LEVELS", "DEFAULT_OVERSAMPLE", "ALLOCATIONS", "STRATA_PARTS", "VERDICT_PART", "SamplingConfig",
    "design_strata", "allocate", "draw_sample", "read_gold", "gold_report", "stratum_summary",
]

DISAGREEMENT_LEVELS = ("agreed", "disputed", "unparseable", "no_verdict")
"""``agreed``: every judge gave a usable verdict and all the same side; ``disputed``:
usable verdicts on both sides; ``unparseable``: no dispute, but some judge's verdict
is a parse error, an error, off the task's two sides or missing; ``no_verdict``: no
judge gave any verdict on the item."""

DEFAULT_OVERSAMPLE = {"incoherent": 3.0, "partially_coherent": 2.0, "disputed": 3.0, "unparseable": 2.0}
"""Oversampling factor of each coherence bin and disagreement level; a stratum's
factor is the product of its bin's and level's (1 when not listed)."""

ALLOCATIONS = ("neyman", "proportional", "equal")
STRATA_PARTS = ("coherence", "disagreement", "group")
"""What a design stratum is made of by default; ``by=`` picks a subset (the others become "all")."""
VERDICT_PART = "verdict"
"""A part ``by=`` may name instead of ``disagreement``: one judge's verdict (``judged_positive``,
``judged_negative`` or ``no_verdict``), so that strata are the cells judge verdict x coherence
bin x group of the double-sampling corrected rate (see :mod:`judgeaudit.audit.correction`)."""
_DESIGN = "stratified-srs"


@dataclass(frozen=True)
class SamplingConfig:
    """Options of :func:`draw_sample`.

    Attributes
    ----------
    budget:
        Items to label (gold items come on top).
    seed:
        Seed of every random choice.
    allocation:
        ``"neyman"`` (default): ``n_h`` proportional to ``N_h * f_h``, Neyman's
        allocation with the oversampling factor ``f_h`` standing in for the unknown
        spread of judge errors in the stratum; ``"proportional"``: to ``N_h``;
        ``"equal"``: the same number in every stratum.
    oversample:
        Factors by coherence bin and disagreement level (:data:`DEFAULT_OVERSAMPLE`).
    min_per_stratum:
        Items drawn from every non-empty stratum (all of it when smaller), so that
        each stratum's metrics are estimable.
    overlap_k, overlap_n:
        ``overlap_n`` sampled items (``None``: 10% of the budget) get ``overlap_k``
        annotators each; the others one.
    """

    budget: int
    seed: int = 0
    allocation: str = "neyman"
    oversample: dict = field(default_factory=lambda: dict(DEFAULT_OVERSAMPLE))
    min_per_stratum: int = 2
    overlap_k: int = 3
    overlap_n: int | None = None

    def __post_init__(self):
        if self.budget < 1:
            raise ConfigError(f"the budget must be at least 1 item, got {self.budget}")
        if self.allocation not in ALLOCATIONS:
            raise ConfigError(f"allocation must be one of {', '.join(ALLOCATIONS)}, got {self.allocation!r}")
        if self.min_per_stratum < 0:
            raise ConfigError(f"min_per_stratum must be >= 0, got {self.min_per_stratum}")
        if self.overlap_k < 1:
            raise ConfigError(f"overlap_k must be at least 1, got {self.overlap_k}")
        if self.overlap_n is not None and self.overlap_n < 0:
            raise ConfigError(f"overlap_n must be >= 0, got {self.overlap_n}")
        bad = {k: v for k, v in self.oversample.items() if not (isinstance(v, (int, float)) and v > 0)}
        if bad:
            raise ConfigError(f"oversampling factors must be positive numbers, got {bad}")


# --------------------------------------------------------------------------- strata

def _disagreement(verdicts: pd.DataFrame, item_ids, task: Task) -> pd.Series:
    """One of :data:`DISAGREEMENT_LEVELS` per item."""
    index = pd.Index(list(item_ids))
    if verdicts is None or verdicts.empty:
        return pd.Series("no_verdict", index=index, dtype=object)
    v = verdicts.drop_duplicates(["item_id", "judge_id"], keep="last")
    side = v["label"].map(lambda x: task.binary(x) if isinstance(x, str) else None)
    usable = (v["status"] == "ok") & side.notna()
    frame = pd.DataFrame({"item_id": v["item_id"].to_numpy(), "usable": usable.to_numpy(),
                          "pos": (usable & (side == 1)).to_numpy(), "neg": (usable & (side == 0)).to_numpy()})
    per = frame.groupby("item_id").agg(n=("usable", "size"), ok=("usable", "sum"), pos=("pos", "sum"),
                                       neg=("neg", "sum")).reindex(index)
    n_judges = v["judge_id"].nunique()
    level = np.where(per["n"].isna(), "no_verdict",
                     np.where((per["pos"] > 0) & (per["neg"] > 0), "disputed",
                              np.where((per["ok"] < n_judges), "unparseable", "agreed")))
    return pd.Series(level, index=index, dtype=object)


def _verdict_level(verdicts, item_ids, task: Task, judge_id) -> pd.Series:
    """One judge's verdict per item: ``judged_positive``, ``judged_negative`` or ``no_verdict``."""
    index = pd.Index(list(item_ids))
    if verdicts is None or verdicts.empty:
        raise ConfigError("strata by 'verdict' need the judges' verdicts (--verdicts)")
    judges = sorted(verdicts["judge_id"].astype(str).unique())
    judge_id = judge_id or judges[0]
    if judge_id not in judges:
        raise ConfigError(f"verdict judge {judge_id!r} has no verdict; judges: {', '.join(judges)}")
    v = verdicts[verdicts["judge_id"].astype(str) == judge_id].drop_duplicates("item_id", keep="last")
    side = v["label"].map(lambda x: task.binary(x) if isinstance(x, str) else None)
    side = side.where(v["status"] == "ok")
    level = pd.Series(np.where(side == 1, "judged_positive", np.where(side == 0, "judged_negative", "no_verdict")),
                      index=v["item_id"].to_numpy())
    return level.reindex(index).fillna("no_verdict").astype(object)


def _coherence_bins(generations, coherence, prompts, scorer_id) -> tuple[pd.Series, str]:
    ids = generations["item_id"].tolist()
    if coherence is not None and len(coherence):
        scorers = sorted(coherence["scorer_id"].unique())
        sid = scorer_id or scorers[0]
        if sid not in scorers:
            raise ConfigError(f"coherence scorer {sid!r} is not in the coherence table; it has "
                              f"{', '.join(scorers)}")
        scored = ok_coherence(coherence)  # an item the scorer could not score has no bin: "unknown"
        rows = scored[scored["scorer_id"] == sid].drop_duplicates("item_id", keep="last")
        bins = rows.set_index("item_id")["bin"].reindex(ids)
        return bins.fillna("unknown").astype(object), f"coherence-table:{sid}"
    if scorer_id:
        raise ConfigError(f"coherence scorer {scorer_id!r} asked for, but no coherence table was given")
    from judgeaudit.coherence import score_coherence

    use_prompts = prompts if prompts is not None and len(prompts) else None
    scored = score_coherence(generations[["item_id", "prompt_id", "response"]], use_prompts)
    return pd.Series(scored["bin"].to_numpy(dtype=object), index=ids), "degeneracy"


def design_strata(generations: pd.DataFrame, verdicts: pd.DataFrame | None = None, *,
                  coherence: pd.DataFrame | None = None, prompts: pd.DataFrame | None = None,
                  task: Task | None = None, scorer_id: str | None = None,
                  group_key: str | None = "checkpoint_id", by=STRATA_PARTS,
                  verdict_judge: str | None = None) -> pd.DataFrame:
    """The design stratum of every generation that can be labelled.

    Returns a frame with ``item_id, prompt_id, checkpoint_id, sample_index, response,
    coherence_bin, disagreement, group, stratum`` (``stratum`` =
    ``"<bin>|<disagreement>|<group>"``) and ``attrs["coherence_source"]``.
    Coherence bins come from the coherence table (``scorer_id`` picks a scorer; items
    it lacks are ``"unknown"``), else from the built-in degeneracy scorer.  A
    generation whose request failed (``status == "error"``) is not part of the
    population and is left out (counted in ``attrs["n_failed"]``).  ``by`` (a subset of
    :data:`STRATA_PARTS`) drops parts of the stratum: a dropped part is ``"all"``, which
    gives fewer, larger strata when the budget cannot cover every combination.
    """
    bad = [b for b in by if b not in STRATA_PARTS + (VERDICT_PART,)]
    if bad or not by:
        raise ConfigError(f"strata are made of {', '.join(STRATA_PARTS + (VERDICT_PART,))} (one or more), "
                          f"got {list(by)}")
    if VERDICT_PART in by and "disagreement" in by:
        raise ConfigError("strata take either 'disagreement' or 'verdict' (they share the middle part of "
                          "the stratum name); e.g. --by coherence,verdict,group")
    task = task or Task.for_field("harmfulness")
    gen = generations
    failed = gen["status"].eq("error").to_numpy() if "status" in gen else np.zeros(len(gen), bool)
    gen = gen[~failed].drop_duplicates("item_id").reset_index(drop=True)
    if gen.empty:
        raise ConfigError("no generation can be sampled: the generations table is empty "
                          "(or every request failed)")
    if group_key and group_key not in gen:
        raise ConfigError(f"group key {group_key!r} is not a column of the generations table; "
                          f"columns: {', '.join(map(str, gen.columns))}")
    every = pd.Series("all", index=gen["item_id"].tolist(), dtype=object)
    bins, source = _coherence_bins(gen, coherence, prompts, scorer_id) if "coherence" in by else (every, "none")
    level = _disagreement(verdicts, gen["item_id"], task) if "disagreement" in by else every
    if VERDICT_PART in by:
        level = _verdict_level(verdicts, gen["item_id"], task, verdict_judge)
    group = gen[group_key].astype(str).to_numpy() if group_key and "group" in by \
        else np.full(len(gen), "all", dtype=object)
    out = gen[["item_id", "prompt_id", "checkpoint_id", "sample_index", "response"]].copy()
    out["coherence_bin"] = bins.to_numpy(dtype=object)
    out["disagreement"] = level.to_numpy(dtype=object)
    out["group"] = group
    out["stratum"] = [f"{b}|{d}|{g}" for b, d, g in zip(out["coherence_bin"], out["disagreement"], group)]
    out.attrs.update(coherence_source=source, n_failed=int(failed.sum()))
    return out


def _priority(strata: pd.DataFrame, cfg: SamplingConfig) -> dict:
    """Oversampling factor per stratum: product of its bin's and its level's factors."""
    first = strata.drop_duplicates("stratum")
    f = cfg.oversample
    return {h: float(f.get(b, 1.0) * f.get(d, 1.0))
            for h, b, d in zip(first["stratum"], first["coherence_bin"], first["disagreement"])}


# --------------------------------------------------------------------------- allocation

def allocate(sizes: dict, budget: int, *, priority: dict | None = None, minimum: int = 0) -> dict:
    """Split ``budget`` items across strata of ``sizes`` (stratum -> ``N_h``).

    ``n_h`` is proportional to ``N_h * priority[h]`` (1 when absent), at least
    ``min(minimum, N_h)`` and at most ``N_h``; the shares are made integers by largest
    remainders (ties go to the stratum that sorts first), so ``sum(n_h) == budget``
    unless the strata hold fewer items.

    Raises :class:`ConfigError` when the minimums alone exceed the budget.

    Examples
    --------
    Two strata of 90 and 10 items, the small one oversampled 4x: shares 90 : 40, so
    13 items split 9 : 4.

    >>> allocate({"a": 90, "b": 10}, 13, priority={"b": 4})
    {'a': 9, 'b': 4}
    """
    sizes = {h: int(n) for h, n in sorted(sizes.items()) if n > 0}
    if sum(sizes.values()) <= budget:
        return dict(sizes)
    floor = {h: min(minimum, n) for h, n in sizes.items()}
    if sum(floor.values()) > budget:
        raise ConfigError(f"the budget of {budget} items is below the minimum of {minimum} per stratum "
                          f"over {len(sizes)} non-empty strata ({sum(floor.values())} items); raise "
                          "--budget, lower --min-per-stratum, or make fewer strata (--by coherence,disagreement)")
    weight = {h: n * float((priority or {}).get(h, 1.0)) for h, n in sizes.items()}

    def shares(lam):  # proportional to the weight, clipped to [floor, N_h]
        return {h: min(float(sizes[h]), max(float(floor[h]), lam * weight[h])) for h in sizes}

    # the total is continuous and non-decreasing in lam, from sum(floor) <= budget at 0 to
    # sum(N_h) > budget: bisect for the lam that spends the budget exactly
    lo, hi = 0.0, max((sizes[h] / weight[h] for h in sizes if weight[h] > 0), default=0.0)
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sum(shares(mid).values()) < budget else (lo, mid)
    share = shares(hi)
    out = {h: int(math.floor(share[h] + 1e-9)) for h in share}
    order = sorted(share, key=lambda h: (-(share[h] - math.floor(share[h])), h))
    short = budget - sum(out.values())
    for h in order:
        if short <= 0:
            break
        if out[h] < sizes[h]:
            out[h] += 1
            short -= 1
    return {h: out[h] for h in sizes}


def _stratum_rng(seed: int, round_: int, stratum: str) -> np.random.Generator:
    """A generator of its own per stratum: one stratum's draw never depends on another's."""
    return np.random.default_rng([int(seed), int(round_), zlib.crc32(stratum.encode("utf-8"))])


def _sampled_rows(strata: pd.DataFrame, alloc: dict, *, seed: int, round_: int,
                  exclude=frozenset()) -> pd.DataFrame:
    """Draw ``alloc[h]`` new items of every stratum without replacement, leaving out
    ``exclude``; the draw does not depend on the frame's row order."""
    pool = strata[~strata["item_id"].isin(exclude)].sort_values("item_id", kind="stable")
    where = pool.groupby("stratum", sort=False).indices
    picks = []
    for h, n in sorted(alloc.items()):
        rows = where.get(h, np.zeros(0, int))
        if n <= 0 or not len(rows):
            continue
        take = _stratum_rng(seed, round_, h).choice(len(rows), size=n, replace=False) if n < len(rows) \
            else np.arange(len(rows))
        picks.append(rows[np.sort(take)])
    chosen = np.concatenate(picks) if picks else np.zeros(0, int)
    return pool.iloc[chosen].reset_index(drop=True).assign(round=round_)


def _mark_overlap(sample: pd.DataFrame, n: int, k: int, seed: int, round_: int) -> pd.DataFrame:
    """Flag ``n`` random items of this round's (non-gold) rows as the overlap subset."""
    rows = np.flatnonzero((sample["round"] == round_).to_numpy() & ~sample["is_gold"].to_numpy(bool))
    rng = np.random.default_rng([int(seed), int(round_), 0x0E1A])
    order = np.argsort(sample["item_id"].to_numpy()[rows], kind="stable")
    chosen = rows[order][rng.choice(len(rows), size=min(n, len(rows)), replace=False)] if len(rows) else rows
    sample = sample.copy()
    this = (sample["round"] == round_).to_numpy()
    flag = np.zeros(len(sample), bool)
    flag[chosen] = True
    old = sample["overlap"].fillna(False).to_numpy(bool) if "overlap" in sample else flag
    want = np.where(flag | sample["is_gold"].to_numpy(bool), k, 1)
    if "n_annotators" in sample:  # earlier rounds keep what they were given
        want = np.where(this, want, pd.to_numeric(sample["n_annotators"]).fillna(1).to_numpy(int))
    sample["overlap"] = np.where(this, flag, old)
    sample["n_annotators"] = want
    return sample


def _with_probabilities(sample: pd.DataFrame, sizes: dict) -> pd.DataFrame:
    """``stratum_size``, ``stratum_sampled`` and ``pi = n_h / N_h`` for every drawn item."""
    drawn = ~sample["is_gold"].to_numpy(bool)
    n_h = sample.loc[drawn, "stratum"].value_counts().to_dict()
    sample = sample.copy()
    sample["stratum_size"] = [sizes.get(h) if d else None for h, d in zip(sample["stratum"], drawn)]
    sample["stratum_sampled"] = [n_h.get(h) if d else None for h, d in zip(sample["stratum"], drawn)]
    sample[INCLUSION_COLUMN] = [n_h[h] / sizes[h] if d else np.nan for h, d in zip(sample["stratum"], drawn)]
    return sample


def finish_sample(sample: pd.DataFrame, sizes: dict, *, design: str, seed: int) -> pd.DataFrame:
    """Probabilities, design columns (``design`` and ``seed`` of the round that drew
    each row) and the sample table's column order."""
    sample = _with_probabilities(sample, sizes)
    for col, value in (("design", design), ("seed", seed)):  # each row keeps its own round's
        sample[col] = sample[col].astype(object).where(sample[col].notna(), value) if col in sample else value
    names = [c.name for c in SAMPLE_COLUMNS]
    rest = [c for c in sample.columns if c not in names]
    return validate_sample_table(sample[[c for c in names if c in sample] + rest])


def draw_sample(strata: pd.DataFrame, config: SamplingConfig, *, gold: pd.DataFrame | None = None
                ) -> pd.DataFrame:
    """The first labelling batch: a stratified random sample of ``strata``.

    Parameters
    ----------
    strata:
        :func:`design_strata` of the population.
    config:
        :class:`SamplingConfig`.
    gold:
        :func:`read_gold` items to mix in (flagged ``is_gold``, ``pi`` NaN).

    Returns
    -------
    pandas.DataFrame
        The sample table (:data:`judgeaudit.tables.SAMPLE_COLUMNS`), round 1; its
        ``attrs["allocation"]`` maps each stratum to ``(N_h, n_h)``.
    """
    sizes = strata["stratum"].value_counts().to_dict()
    priority = {} if config.allocation == "proportional" else _priority(strata, config)
    if config.allocation == "equal":
        priority = {h: 1.0 / n for h, n in sizes.items()}
    alloc = allocate(sizes, config.budget, priority=priority, minimum=config.min_per_stratum)
    sample = _sampled_rows(strata, alloc, seed=config.seed, round_=1).assign(is_gold=False)
    sample = _add_gold(sample, gold, round_=1)
    n_overlap = config.overlap_n if config.overlap_n is not None else round(0.1 * config.budget)
    sample = _mark_overlap(sample, n_overlap, config.overlap_k, config.seed, 1)
    out = finish_sample(sample, sizes, design=_DESIGN, seed=config.seed)
    out.attrs["allocation"] = {h: (int(sizes[h]), int(alloc.get(h, 0))) for h in sorted(sizes)}
    return out


# --------------------------------------------------------------------------- gold

def read_gold(frame: pd.DataFrame, *, path=None) -> pd.DataFrame:
    """Gold control items from a table with known answers.

    Needs ``response`` and at least one answer column, named after a label field
    (``harmfulness``, ``refusal``, ``coherence``) or ``gold_<field>``; answers are
    read with :func:`judgeaudit.tables.parse_label`.  ``item_id`` is computed with
    :func:`~judgeaudit.tables.make_item_id` when absent (``prompt_id`` and
    ``checkpoint_id`` default to ``"gold"``); ``prompt`` (text) is kept when present.
    Returns rows with ``item_id, prompt_id, checkpoint_id, sample_index, response,
    [prompt,] gold_<field>...``.
    """
    if "response" not in frame:
        raise ValidationError("the gold file needs a 'response' column", path=path, column="response")
    answers = {}
    for f in FIELDS:
        col = f"gold_{f}" if f"gold_{f}" in frame else f if f in frame else None
        if col is None:
            continue
        values = []
        for row, v in enumerate(frame[col].tolist(), start=1):
            try:
                values.append(parse_label(v, f))
            except ValidationError as exc:
                raise ValidationError(exc.message, path=path, row=row, column=col) from None
        answers[f"gold_{f}"] = values
    if not answers:
        raise ValidationError("the gold file has no answer column; add one of "
                              f"{', '.join(FIELDS)} (or gold_<field>) with the known labels", path=path)
    n = len(frame)
    base = {"prompt_id": ["gold"] * n, "checkpoint_id": ["gold"] * n}
    for name in ("item_id", "prompt_id", "checkpoint_id", "sample_index", "response"):
        if name in frame:
            values = frame[name].astype(object).to_numpy()
            keep = base.get(name)
            empty = [v is None or v != v or (isinstance(v, str) and not v.strip()) for v in values]
            base[name] = values if keep is None else [k if e else v for v, k, e in zip(values, keep, empty)]
    # the generations schema computes missing item ids, reads sample_index, rejects repeats
    out = validate(pd.DataFrame(base), "generations", path=path)[
        ["item_id", "prompt_id", "checkpoint_id", "sample_index", "response"]]
    if "prompt" in frame:
        out["prompt"] = frame["prompt"].to_numpy(dtype=object)
    for k, v in answers.items():
        out[k] = pd.Series(v, dtype=object)
    return out


def _add_gold(sample: pd.DataFrame, gold: pd.DataFrame | None, *, round_: int) -> pd.DataFrame:
    if gold is None or gold.empty:
        return sample
    clash = set(gold["item_id"]) & set(sample["item_id"])
    if clash:
        raise ConfigError(f"{len(clash)} gold item(s) were also drawn from the population (e.g. "
                          f"{sorted(clash)[0]!r}); gold items must be control items outside it")
    rows = gold.assign(is_gold=True, round=round_, stratum="gold", coherence_bin=None,
                       disagreement=None, group=None)
    return pd.concat([sample, rows], ignore_index=True)


def gold_report(labels: pd.DataFrame, sample: pd.DataFrame) -> pd.DataFrame:
    """Each annotator's agreement with the known answers of the gold items.

    Returns ``annotator_id, field, n, correct, accuracy`` (one row per annotator and
    field with a gold answer); empty when no gold item has been labelled.
    """
    gold = sample[sample["is_gold"].fillna(False).to_numpy(bool)]
    rows = []
    for f in FIELDS:
        col = f"gold_{f}"
        if col not in gold:
            continue
        known = dict(zip(gold["item_id"], gold[col]))
        got = labels[(labels["field"] == f) & labels["item_id"].isin(known)]
        for who, part in got.groupby("annotator_id", sort=True):
            expect = part["item_id"].map(known)
            ok = part["value"].to_numpy() == expect.to_numpy()
            has = expect.notna().to_numpy()
            if has.any():
                rows.append({"annotator_id": who, "field": f, "n": int(has.sum()), "correct": int(ok[has].sum()),
                             "accuracy": float(ok[has].mean())})
    return pd.DataFrame(rows, columns=["annotator_id", "field", "n", "correct", "accuracy"])


def stratum_summary(sample: pd.DataFrame) -> pd.DataFrame:
    """Per design stratum: ``N_h``, ``n_h`` (all rounds), ``pi``, items per round, overlap."""
    drawn = sample[~sample["is_gold"].fillna(False).to_numpy(bool)]
    if drawn.empty:
        return pd.DataFrame(columns=["stratum", "stratum_size", "stratum_sampled", INCLUSION_COLUMN,
                                     "new", "overlap"])
    last = int(drawn["round"].max())
    g = drawn.groupby("stratum", sort=True)
    return pd.DataFrame({"stratum_size": g["stratum_size"].first().astype(int),
                         "stratum_sampled": g["stratum_sampled"].first().astype(int),
                         INCLUSION_COLUMN: g[INCLUSION_COLUMN].first(),
                         "new": g["round"].apply(lambda r: int((r == last).sum())),
                         "overlap": g["overlap"].apply(lambda o: int(o.fillna(False).astype(bool).sum()))}
                        ).reset_index()

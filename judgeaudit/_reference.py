"""The human reference and the coherence strata an audit compares judges within.

Private helpers of :mod:`judgeaudit.audit`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import ConfigError

TIE_POLICIES = ("unresolved", "positive", "negative")
COHERENCE_ORDER = ("coherent", "partially_coherent", "incoherent")
_COHERENCE_RANK = {name: i for i, name in enumerate(reversed(COHERENCE_ORDER))}  # incoherent=0


def binary_votes(labels: pd.DataFrame, item_ids, task) -> pd.DataFrame:
    """Each annotator's vote on the task, as 1 (positive), 0 (negative) or NaN.

    Values in neither ``task.positive`` nor ``task.negative`` (such as "unclear")
    are not votes and become NaN.  Returns an ``(items x annotators)`` frame
    indexed by ``item_ids`` in their order.
    """
    rows = labels[labels["field"] == task.field]
    values = rows["value"].astype(object)
    vote = np.where(values.isin(task.positive), 1.0,
                    np.where(values.isin(task.negative), 0.0, np.nan))
    frame = pd.DataFrame({"item_id": rows["item_id"].to_numpy(),
                          "annotator_id": rows["annotator_id"].to_numpy(), "vote": vote})
    wide = frame.pivot_table(index="item_id", columns="annotator_id", values="vote",
                             aggfunc="first", dropna=False)
    wide = wide.reindex(pd.Index(list(item_ids), name="item_id"))
    wide.columns = [str(c) for c in wide.columns]
    return wide


def labelled_items(labels: pd.DataFrame, field: str) -> set:
    return set(labels.loc[labels["field"] == field, "item_id"])


def majority_reference(votes: pd.DataFrame, labelled: set, *, tie_policy: str = "unresolved"):
    """Majority vote of the annotators' binary votes.

    Returns ``(reference, status)``: reference holds 1.0 / 0.0 / NaN per item; status is
    ``"resolved"``, ``"unresolved"`` (a tie, or labels that were all non-votes such as
    "unclear") or ``"no_label"`` (nobody labelled the item).  ``tie_policy`` decides
    ties: ``"unresolved"`` (the default) leaves them out of the audit and counts them,
    ``"positive"`` / ``"negative"`` resolve them to that side.
    """
    if tie_policy not in TIE_POLICIES:
        raise ConfigError(f"tie_policy must be one of {', '.join(TIE_POLICIES)}, got {tie_policy!r}")
    pos = np.nansum(votes.to_numpy(dtype=float) == 1.0, axis=1) if votes.shape[1] else np.zeros(len(votes))
    neg = np.nansum(votes.to_numpy(dtype=float) == 0.0, axis=1) if votes.shape[1] else np.zeros(len(votes))
    ref = np.where(pos > neg, 1.0, np.where(neg > pos, 0.0, np.nan))
    tie = (pos == neg) & (pos > 0)
    if tie_policy == "positive":
        ref = np.where(tie, 1.0, ref)
    elif tie_policy == "negative":
        ref = np.where(tie, 0.0, ref)
    has_label = np.array([i in labelled for i in votes.index])
    status = np.where(~np.isnan(ref), "resolved", np.where(has_label, "unresolved", "no_label"))
    return ref, status


def human_coherence(labels: pd.DataFrame, item_ids) -> pd.Series:
    """One coherence label per item from the humans: the median of their labels.

    Labels are ordered incoherent < partially_coherent < coherent; an even split
    takes the lower (less coherent) middle value.  Items nobody rated are missing.
    """
    rows = labels[(labels["field"] == "coherence") & labels["value"].isin(COHERENCE_ORDER)]
    if rows.empty:
        return pd.Series(index=pd.Index(list(item_ids)), dtype=object)
    rank = rows["value"].map(_COHERENCE_RANK).astype(float)
    lower_median = rank.groupby(rows["item_id"].to_numpy()).agg(
        lambda r: np.sort(r.to_numpy())[(len(r) - 1) // 2])
    names = {v: k for k, v in _COHERENCE_RANK.items()}
    out = lower_median.map(lambda r: names[int(r)])
    return out.reindex(list(item_ids))


def order_strata(names) -> list:
    """Coherence strata first in their natural order, then any others sorted."""
    present = [s for s in dict.fromkeys(names) if s is not None]
    known = [s for s in COHERENCE_ORDER if s in present]
    rest = sorted(s for s in present if s not in COHERENCE_ORDER and s != "unknown")
    return known + rest + (["unknown"] if "unknown" in present else [])


def _table_scorer(coh: pd.DataFrame, scorer_id):
    """The coherence-table scorer to stratify by: ``scorer_id`` when given, else a
    scorer whose bins were calibrated to human labels (``bin_source``), else
    ``"combined"``, else the first by name."""
    scorers = sorted(coh["scorer_id"].unique())
    if scorer_id:
        if scorer_id not in scorers:
            raise ConfigError(f"coherence scorer {scorer_id!r} not in the coherence table; it has {scorers}")
        return scorer_id
    if "bin_source" in coh:
        calibrated = sorted(coh.loc[coh["bin_source"] == "calibration", "scorer_id"].unique())
        if calibrated:
            return "combined" if "combined" in calibrated else calibrated[0]
    return "combined" if "combined" in scorers else scorers[0]


def choose_strata(tables, items: pd.DataFrame, *, source: str = "auto", scorer_id=None,
                  calibration=None):
    """The stratum of each item and where it came from.

    ``source`` is ``"auto"`` (explicit column, else human coherence labels with the
    coherence table (else the degeneracy scorer) filling items no human rated, else a
    coherence table, else the degeneracy scorer), ``"column"``, ``"human"``,
    ``"coherence"`` (the coherence table), ``"degeneracy"`` or ``"none"`` (a single
    stratum "all").  From the coherence table, ``scorer_id`` picks a scorer; by default
    a scorer with calibrated bins (``judgeaudit coherence --calibrate-with``), else
    ``"combined"``, else the first by name.  ``calibration`` (a calibration file or
    object, see :func:`judgeaudit.coherence.load_calibration`) makes the model-free
    fallback the combined scorer with those thresholds instead of the degeneracy
    scorer.
    """
    valid = ("auto", "column", "human", "coherence", "degeneracy", "none")
    if source not in valid:
        raise ConfigError(f"strata source must be one of {', '.join(valid)}, got {source!r}")
    ids = items["item_id"].tolist()
    if source == "none":
        return pd.Series("all", index=ids, dtype=object), "none"
    column = items["stratum"] if "stratum" in items else pd.Series(None, index=items.index)
    if source == "column" or (source == "auto" and column.notna().any()):
        if not column.notna().any():
            raise ConfigError("strata source 'column' asked for, but no item has a stratum value")
        return pd.Series(column.fillna("unknown").astype(str).to_numpy(), index=ids), "column"
    human = human_coherence(tables.labels, ids)
    if source == "human" and not human.notna().any():
        raise ConfigError("strata source 'human' asked for, but no item has a human coherence label")
    coh = tables.coherence
    if source == "coherence" or (source == "auto" and not human.notna().any() and len(coh)):
        if not len(coh):
            raise ConfigError("strata source 'coherence' asked for, but the coherence table is empty")
        sid = _table_scorer(coh, scorer_id)
        bins = coh[coh["scorer_id"] == sid].set_index("item_id")["bin"].reindex(ids)
        return bins.fillna("unknown").astype(object), f"coherence-table:{sid}"
    if source == "human" or human.notna().all():
        return human.fillna("unknown").astype(object), "human"
    if source == "auto" and human.notna().any() and len(coh):
        # Humans rated some items: the coherence table fills the others it covers.
        sid = _table_scorer(coh, scorer_id)
        table_bins = coh[coh["scorer_id"] == sid].set_index("item_id")["bin"].reindex(ids)
        filled = human.fillna(table_bins)
        if filled.notna().all() or not items["response"].fillna("").astype(bool).any():
            return filled.fillna("unknown").astype(object), f"human+coherence-table:{sid}"
        auto = _degeneracy_bins(tables, items, calibration)
        return filled.fillna(auto).astype(object), f"human+coherence-table:{sid}+{_fallback(calibration)}"
    if source == "auto" and not items["response"].fillna("").astype(bool).any():
        # No response text (e.g. only labels and verdicts were given): nothing to score.
        return pd.Series("all", index=ids, dtype=object), "none (no response text to score)"
    auto = _degeneracy_bins(tables, items, calibration)
    if human.notna().any():
        return human.fillna(auto).astype(object), f"human+{_fallback(calibration)}"
    return auto, _fallback(calibration)


def _fallback(calibration) -> str:
    return "degeneracy" if calibration is None else "combined-calibrated"


def _degeneracy_bins(tables, items: pd.DataFrame, calibration=None) -> pd.Series:
    from .coherence import CombinedScorer, score_coherence

    prompts = tables.prompts if tables.prompts is not None and len(tables.prompts) else None
    scorer = None if calibration is None else CombinedScorer(calibration=calibration)
    scored = score_coherence(items[["item_id", "prompt_id", "response"]], prompts, scorer=scorer)
    return scored.set_index("item_id")["bin"].reindex(items["item_id"].tolist()).astype(object)

"""Human labels as votes and references: each annotator's binary vote, the majority
reference, the human coherence bin, and the order strata are shown in.

Used by the audit, by coherence calibration and by annotation's sampling.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgeaudit.errors import ConfigError

__all__ = ["TIE_POLICIES", "COHERENCE_ORDER", "binary_votes", "labelled_items",
           "majority_reference", "human_coherence", "order_strata"]

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

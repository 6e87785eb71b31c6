"""Campaign progress, inter-annotator agreement so far, and the disagreements to adjudicate.

:func:`campaign_status` works on a labels table (from :func:`annotation.pull.pull_labels`)
and the pushed items; strata come from any table with ``item_id`` and ``stratum`` (the
sample).  Agreement per field: Krippendorff's alpha (nominal) over every item with two or
more labels, and Cohen's kappa for each pair of annotators with shared items, both from
:mod:`judgeaudit.metrics`; with strata, the same per field and stratum
(``agreement_by_stratum``), since annotators may agree on coherent answers and not on
incoherent ones.  An item whose annotators gave different values of a field is a
disagreement; ``unclear`` counts as a value like any other.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from judgeaudit.metrics import cohen_kappa, krippendorff_alpha

from .labelconfig import REVIEW_KEY

__all__ = ["CampaignStatus", "campaign_status", "disagreements", "review_items", "review_title"]

ALL = "all"


@dataclass(frozen=True)
class CampaignStatus:
    """Progress tables, agreement per field and the disagreements (all plain data)."""

    per_stratum: pd.DataFrame
    per_annotator: pd.DataFrame
    agreement: list = field(default_factory=list)
    disagreements: pd.DataFrame = None
    agreement_by_stratum: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"per_stratum": self.per_stratum.to_dict(orient="records"),
                "per_annotator": self.per_annotator.to_dict(orient="records"),
                "agreement": self.agreement,
                "agreement_by_stratum": self.agreement_by_stratum,
                "disagreements": self.disagreements.to_dict(orient="records")}


def disagreements(labels: pd.DataFrame) -> pd.DataFrame:
    """``item_id, field, n_annotators, values`` (``"annotator=value; ..."``) for every
    (item, field) whose annotators do not all agree."""
    rows = []
    for (item, fname), grp in labels.groupby(["item_id", "field"], sort=True):
        if grp["annotator_id"].nunique() > 1 and grp["value"].nunique() > 1:
            pairs = "; ".join(f"{a}={v}" for a, v in sorted(zip(grp["annotator_id"], grp["value"])))
            rows.append((item, fname, int(grp["annotator_id"].nunique()), pairs))
    return pd.DataFrame(rows, columns=["item_id", "field", "n_annotators", "values"])


def _agreement(labels: pd.DataFrame, *, n_boot: int, seed: int) -> list:
    out = []
    for fname, grp in labels.groupby("field", sort=True):
        wide = grp.pivot(index="annotator_id", columns="item_id", values="value")
        data = wide.to_numpy(dtype=object)
        data = np.where(pd.isna(data), None, data)
        alpha = krippendorff_alpha(data.T, n_boot=n_boot, seed=seed)  # (items, annotators)
        pairs = []
        for a, b in itertools.combinations(wide.index, 2):
            both = wide.loc[[a, b]].dropna(axis=1)
            if both.shape[1] == 0:
                continue
            k = cohen_kappa(both.loc[a].tolist(), both.loc[b].tolist(), n_boot=n_boot, seed=seed)
            pairs.append({"annotators": [a, b], "n": int(both.shape[1]), **_short(k)})
        out.append({"field": fname, "items_with_2plus": int((wide.notna().sum() >= 2).sum()),
                    "krippendorff_alpha": _short(alpha), "pairwise_cohen_kappa": pairs})
    return out


def _agreement_by_stratum(labels: pd.DataFrame, stratum: pd.Series, *, n_boot: int,
                          seed: int) -> list:
    """:func:`_agreement` within each stratum (``stratum``: item id -> stratum), when there
    is more than one."""
    if stratum.nunique() < 2 or labels.empty:
        return []
    where = labels["item_id"].map(stratum).fillna("unknown")
    out = []
    for name in sorted(where.unique()):
        for entry in _agreement(labels[where == name], n_boot=n_boot, seed=seed):
            out.append({"stratum": name, **entry})
    return out


def _short(result) -> dict:
    d = result.to_dict()
    return {k: d[k] for k in ("value", "ci_low", "ci_high", "n", "undefined")}


def campaign_status(labels: pd.DataFrame, *, items=None, strata=None, target_annotators=None,
                    n_boot: int = 200, seed: int = 0) -> CampaignStatus:
    """Progress per stratum and per annotator, agreement so far, disagreements.

    Parameters
    ----------
    labels:
        A labels table.
    items:
        The item ids pushed (default: those with labels), so unlabelled items count.
    strata:
        A frame with ``item_id`` and ``stratum`` (default: one stratum, ``all``).
    target_annotators:
        Annotators wanted per item: an int, or a frame with ``item_id`` and
        ``n_annotators`` (default 1); an item is *complete* when it has that many.
    """
    items = pd.Index(pd.unique(pd.Series(list(items) if items is not None else labels["item_id"],
                                         dtype=object)), name="item_id")
    stratum = pd.Series(ALL, index=items, dtype=object)
    if strata is not None:
        known = strata.drop_duplicates("item_id").set_index("item_id")["stratum"].astype(str)
        stratum = known.reindex(items).fillna("unknown")
    want = pd.Series(1, index=items)
    if isinstance(target_annotators, int):
        want[:] = target_annotators
    elif target_annotators is not None:
        want = target_annotators.drop_duplicates("item_id").set_index("item_id")["n_annotators"] \
            .reindex(items).fillna(1).astype(int)
    per_item = labels.groupby("item_id")["annotator_id"].nunique().reindex(items).fillna(0).astype(int)
    frame = pd.DataFrame({"stratum": stratum, "annotators": per_item, "want": want})
    frame["labelled"] = frame["annotators"] > 0
    frame["complete"] = frame["annotators"] >= frame["want"]
    per_stratum = frame.groupby("stratum", sort=True).agg(
        items=("labelled", "size"), labelled=("labelled", "sum"), complete=("complete", "sum"),
        labels_per_item=("annotators", "mean")).reset_index()
    per_stratum["share_complete"] = per_stratum["complete"] / per_stratum["items"]
    per_annotator = labels.groupby("annotator_id").agg(items=("item_id", "nunique"),
                                                       labels=("value", "size")).reset_index()
    if len(labels):
        last = labels.groupby("annotator_id")["created_at"].max().reset_index(name="last_label_at")
        per_annotator = per_annotator.merge(last, on="annotator_id", how="left")
    return CampaignStatus(per_stratum=per_stratum.astype({"labelled": int, "complete": int}),
                          per_annotator=per_annotator,
                          agreement=_agreement(labels, n_boot=n_boot, seed=seed) if len(labels) else [],
                          disagreements=disagreements(labels),
                          agreement_by_stratum=_agreement_by_stratum(labels, stratum, n_boot=n_boot,
                                                                     seed=seed))


def review_items(disputed: pd.DataFrame, tasks: pd.DataFrame) -> pd.DataFrame:
    """``item_id, prompt, response, review_note`` for each disputed item, the note listing
    every annotator's value per disputed field (what the adjudicator sees)."""
    if disputed.empty:
        return pd.DataFrame(columns=["item_id", "prompt", "response", REVIEW_KEY])
    notes = disputed.groupby("item_id").apply(
        lambda g: "\n".join(f"{f}: {v}" for f, v in zip(g["field"], g["values"])), include_groups=False)
    base = tasks.drop_duplicates("item_id").set_index("item_id")[["prompt", "response"]]
    out = base.loc[base.index.intersection(notes.index)].copy()
    out[REVIEW_KEY] = notes.reindex(out.index)
    return out.reset_index()


def review_title(project: str) -> str:
    """The review project's title: ``<project> (review)``, the project's title cut so that
    the whole fits Label Studio's 50 characters."""
    suffix = " (review)"
    return project[:50 - len(suffix)].rstrip() + suffix

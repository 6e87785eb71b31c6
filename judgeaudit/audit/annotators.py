"""audit.json's ``judge_as_annotator`` section: each judge treated as one more annotator.

Where two or more annotators labelled the same items, for every judge:

* ``spread``: its Cohen's kappa with each annotator (on the items both labelled) next to
  each annotator's mean kappa with the others (the human ceiling's pairwise kappas), and
  its position in that spread, overall and per stratum (``spread.strata``), as :func:`judgeaudit.metrics.annotator_spread` defines
  it.  The judge-annotator kappas are bootstrapped with the audit's shared resamples
  (:func:`add_annotator_sums` records their confusion sums before the bootstrap runs);
* ``alt_test``: the alternative annotator test (:func:`judgeaudit.metrics.alt_test`,
  Calderon et al. 2025) on the items with two or more votes;
* ``soft_labels``, for judges whose scores are probabilities: Brier score and log loss
  against the human vote share (:func:`judgeaudit.metrics.soft_label_scores`), overall
  and per stratum, on the items with two or more votes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgeaudit.metrics import alt_test, soft_label_scores
from judgeaudit.metrics.formulas import kappa_from_confusion

__all__ = ["ALT_TEST_ALPHA", "add_annotator_sums", "judge_as_annotator"]

ALT_TEST_ALPHA = 0.05
"""The FDR level of the alt-test's Benjamini-Yekutieli correction (the paper's)."""

_CELLS = ("tp", "fp", "fn", "tn")


def _annotators(votes: pd.DataFrame) -> list:
    return [c for c in votes.columns if votes[c].notna().any()]


def add_annotator_sums(book, votes: pd.DataFrame, preds: dict, masks: dict,
                       weights=None) -> list | None:
    """Record each judge's confusion sums against each annotator, overall and per stratum
    (``masks``), in ``book`` before it runs; returns the annotators, or None when fewer
    than two share an item."""
    annot = _annotators(votes)
    if len(annot) < 2 or not ((votes[annot].notna().sum(axis=1) >= 2).any()):
        return None
    for judge_id, (pred, _status) in preds.items():
        p = np.nan_to_num(pred)
        for a in annot:
            h = votes[a].to_numpy(float)
            use = ~np.isnan(h) & ~np.isnan(pred)
            for where, m in masks.items():
                for cell, (hv, pv) in zip(_CELLS, ((1, 1), (0, 1), (1, 0), (0, 0))):
                    book.add(("annotator", where, judge_id, a, cell),
                             use & m & (h == hv) & (p == pv), weights)
    return annot


def _kappa(tp, fp, fn, tn):
    cm = np.stack([np.stack([tn, fp], -1), np.stack([fn, tp], -1)], -2)
    return kappa_from_confusion(cm)


def _is_probability(score, usable) -> bool:
    vals = score[usable]
    return vals.size > 0 and np.unique(vals).size > 2 and bool(((vals >= 0) & (vals <= 1)).all())


def _spread(book, res, where, judge_id, annot, ceiling) -> dict:
    vs = {}
    for a in annot:
        keys = [("annotator", where, judge_id, a, c) for c in _CELLS]
        (tp, fp, fn, tn), boot = book.stack(keys)
        n = int(sum(book.raw(k) for k in keys))
        k = _kappa(tp, fp, fn, tn)
        vs[a] = res(k, _kappa(*boot.T), n, n_clusters=book.n_clusters(keys), undefined=None if not np.isnan(k) else
                    ("no item labelled by both" if n == 0 else "only one category present"))
    pairs = [p for p in (ceiling or {}).get("pairwise_kappa") or []]
    others = {}
    for a in annot:
        vals = [p["value"] for p in pairs if a in (p["a"], p["b"]) and p.get("value") is not None]
        others[a] = float(np.mean(vals)) if vals else None
    defined = [r["value"] for r in vs.values() if r.get("value") is not None]
    judge_mean = float(np.mean(defined)) if defined else None
    ref = [v for v in others.values() if v is not None]
    position = None
    if judge_mean is not None and ref:
        below = sum(v < judge_mean for v in ref) + 0.5 * sum(v == judge_mean for v in ref)
        position = below / len(ref)
    return {"judge_vs_annotator": vs, "annotator_vs_others": others, "judge_mean": judge_mean,
            "position": position, "n_annotators": len(annot),
            "note": None if position is not None else
            "kappa undefined for the judge or for every annotator"}


def judge_as_annotator(annot, book, res, votes: pd.DataFrame, preds: dict, scores: dict,
                       masks: dict, clusters, ceiling, *, epsilon: float, n_boot: int, seed: int,
                       confidence: float) -> dict | None:
    """The section, or None when :func:`add_annotator_sums` found no shared items.

    Parameters
    ----------
    annot : list or None
        What :func:`add_annotator_sums` returned.
    book, res :
        The audit's run :class:`~judgeaudit.metrics.SumBook` and its result maker.
    votes : DataFrame
        Items x annotators, 1 / 0 / NaN, in the audit's item order.
    preds, scores : dict
        judge id -> ``(prediction 1/0/NaN, status)`` and -> score array (or None).
    masks : dict
        ``"overall"`` and each stratum -> boolean item mask.
    clusters : array or None
        Cluster key per item.
    ceiling : dict or None
        The human ceiling section (its pairwise kappas, overall and per stratum).
    """
    if annot is None:
        return None
    v = votes[annot]
    multi = (v.notna().sum(axis=1) >= 2).to_numpy()
    h = v[multi]
    cl = None if clusters is None else np.asarray(clusters, dtype=object)[multi]
    share = h.sum(axis=1, skipna=True).to_numpy() / h.notna().sum(axis=1).to_numpy()
    out = {"annotators": annot, "n_items": int(multi.sum()), "epsilon": float(epsilon),
           "alpha": ALT_TEST_ALPHA, "judges": {}}
    for judge_id, (pred, status) in preds.items():
        judge = pd.Series(pred[multi], index=h.index)
        spread = _spread(book, res, "overall", judge_id, annot, (ceiling or {}).get("overall"))
        spread["strata"] = {where: _spread(book, res, where, judge_id, annot,
                                           ((ceiling or {}).get("strata") or {}).get(where))
                            for where in masks if where != "overall"}
        entry = {"spread": spread,
                 "alt_test": alt_test(h, judge, epsilon=epsilon, alpha=ALT_TEST_ALPHA).to_dict()}
        score = scores.get(judge_id)
        if score is not None:
            s = score[multi]
            usable = (status[multi] == "ok") & ~np.isnan(s)
            if _is_probability(s, usable):
                entry["soft_labels"] = {}
                for where, m in masks.items():
                    use = usable & m[multi]
                    got = soft_label_scores(s[use], share[use],
                                            clusters=None if cl is None else cl[use],
                                            n_boot=n_boot, seed=seed, confidence=confidence)
                    entry["soft_labels"][where] = {
                        "brier": got["brier"].to_dict(), "log_loss": got["log_loss"].to_dict(),
                        "log_loss_floor": None if np.isnan(got["log_loss_floor"])
                        else got["log_loss_floor"], "n": got["n"]}
        out["judges"][judge_id] = entry
    return out

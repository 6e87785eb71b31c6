"""Audit automated judges against human labels, stratified by coherence.

:func:`run_audit` takes :class:`~judgeaudit.tables.AuditTables` and returns the audit
as a JSON-ready dict (the layout is documented in the README and read by
:mod:`judgeaudit.report`).  For every judge it reports agreement with the human
reference (majority vote) overall and per coherence stratum, each metric with a
95% interval from a cluster bootstrap over prompts; the human-human ceiling;
differences between strata with p-values; judge-vs-judge agreement; verdict
status counts; and whether conclusions about groups (models, fine-tuning
objectives) survive the choice of judge.

All intervals come from one set of bootstrap resamples shared by every judge,
stratum and metric, so differences between them are paired.

With ``AuditConfig(weights=column)`` every sum over labelled items is weighted by
``1 / pi`` (the inclusion probabilities of a labelling sample, see
:mod:`judgeaudit.tables.design`), so metrics and rates estimate the whole population
(Hajek estimators) rather than the oversampled sample.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, asdict
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from judgeaudit.errors import ConfigError, excerpt, excerpt_names
from judgeaudit.metrics import MAX_N_BOOT, ClusterBootstrap
from judgeaudit.metrics import METRICS, SumBook, undefined_reason
from judgeaudit.metrics.sums import to_result
from judgeaudit.metrics.catalogue import confusion_arrays
from judgeaudit.metrics.formulas import alpha_from_coincidence, kappa_from_confusion
from judgeaudit.runinfo import environment, package_version
from judgeaudit.tables import binary_votes, labelled_items, majority_reference, order_strata

from .annotators import add_annotator_sums, judge_as_annotator
from .differences import stratum_differences
from .reserved import check_reserved_names
from .robustness import robustness_section
from .strata import choose_strata
from .weights import alpha_scale as _alpha_scale, design_weights

__all__ = ["AuditConfig", "run_audit", "JUDGE_METRICS", "DIFF_METRICS", "SCHEMA"]

SCHEMA = "judgeaudit.audit/1"
# What the audit reports (the facts of each metric are in judgeaudit.metrics.METRICS).
JUDGE_METRICS = ("accuracy", "cohen_kappa", "krippendorff_alpha", "gwet_ac1", "fpr", "fnr",
                 "precision", "recall", "f1", "mcc", "balanced_accuracy")
DIFF_METRICS = ("accuracy", "cohen_kappa", "fpr", "fnr")
COUNTS = ("tp", "fp", "fn", "tn")


@dataclass(frozen=True)
class AuditConfig:
    """Options of an audit.

    Attributes
    ----------
    n_boot, seed, confidence:
        Bootstrap resamples, their seed, and the interval's coverage.
    cluster_key:
        Column of the generations table whose values are resampled as clusters
        (``"prompt_id"``: answers to the same prompt are not independent), or None to
        resample items.  With None, plain proportions get Wilson intervals.
    tie_policy:
        What a tied majority vote becomes: ``"unresolved"`` (left out, counted),
        ``"positive"`` or ``"negative"``.
    reference_annotator:
        Use this annotator's label as the reference instead of the majority (e.g.
        XSTest's reconciled ``"final"`` label); it then takes no part in the ceiling.
    strata:
        Where strata come from: ``"auto"``, ``"column"``, ``"human"``,
        ``"coherence"``, ``"degeneracy"`` or ``"none"`` (see
        :func:`judgeaudit.audit.choose_strata`).
    coherence_scorer:
        Which scorer of the coherence table to use for strata.
    group_key:
        Column of the generations table naming the group of each item for
        conclusion robustness (``"checkpoint_id"``); None turns that section off.
    max_examples:
        Disagreements kept per judge for the report.
    alt_test_epsilon:
        The alternative annotator test's cost-benefit margin (Calderon et al. 2025:
        0.2 for expert annotators, 0.15 for skilled ones, 0.1 for crowd workers).
    weights:
        Column of the generations table holding each item's inclusion probability
        ``pi`` in the labelling sample (``"inclusion_probability"``, attached by
        :func:`with_sample_design`), or None (every labelled item counts once).  With
        it, sums over labelled items are weighted by ``1 / pi``: metrics and rates
        estimate the population, intervals come from the bootstrap (no Wilson) and
        stratum-difference p-values from the bootstrap instead of a permutation test.
    correction:
        The estimator of ``robustness.corrected_rates`` (every estimator is also in
        ``robustness.corrected_rates_by_estimator``): ``"double-sampling"``,
        ``"double-sampling-pooled"``, ``"stratified-rogan-gladen"`` or
        ``"pooled-rogan-gladen"`` (see :mod:`judgeaudit.audit.correction`).
    """

    n_boot: int = 1000
    seed: int = 0
    confidence: float = 0.95
    cluster_key: str | None = "prompt_id"
    tie_policy: str = "unresolved"
    reference_annotator: str | None = None
    strata: str = "auto"
    coherence_scorer: str | None = None
    group_key: str | None = "checkpoint_id"
    max_examples: int = 10
    weights: str | None = None
    correction: str = "double-sampling"
    alt_test_epsilon: float = 0.2

    def __post_init__(self):
        from .correction import check_correction

        check_correction(self.correction)
        if isinstance(self.n_boot, bool) or not isinstance(self.n_boot, (int, np.integer)) \
                or not 1 <= self.n_boot <= MAX_N_BOOT:
            raise ConfigError(f"n_boot must be an integer from 1 to {MAX_N_BOOT:,} (the bootstrap keeps "
                              f"every resample of every statistic in memory), got {excerpt(self.n_boot, 40)}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) \
                or not 0 <= self.seed < 2**63:
            raise ConfigError(f"seed must be an integer from 0 to 2**63 - 1, got {excerpt(self.seed, 40)}")
        if not 0.5 <= self.confidence < 1:
            raise ConfigError(f"confidence must be in [0.5, 1), got {self.confidence}")
        if not 0 <= self.alt_test_epsilon < 1:
            raise ConfigError(f"alt_test_epsilon must be in [0, 1), got {self.alt_test_epsilon}")


def _judge_predictions(verdicts: pd.DataFrame, item_ids, task):
    """Per judge: (pred 1/0/NaN, status array with ok/parse_error/error/missing/off_task).

    Returns ``(predictions, scores)``; ``scores`` maps each judge to its scores (NaN
    where none).
    """
    out, scores = {}, {}
    index = pd.Index(list(item_ids))
    for judge_id, rows in verdicts.groupby("judge_id", sort=True):
        rows = rows.drop_duplicates("item_id", keep="last").set_index("item_id").reindex(index)
        status = rows["status"].astype(object).where(rows["status"].notna(), "missing").to_numpy()
        label = rows["label"].astype(object)
        pred = np.where(label.isin(task.positive), 1.0, np.where(label.isin(task.negative), 0.0, np.nan))
        # An ok verdict whose label is outside the task's two sides (e.g. "unclear")
        # cannot be scored; it is counted apart rather than silently dropped.
        off = (status == "ok") & np.isnan(pred)
        status = np.where(off, "off_task", status)
        pred = np.where(status == "ok", pred, np.nan)
        out[str(judge_id)] = (pred, status)
        score = pd.to_numeric(rows["score"], errors="coerce").to_numpy(float) if "score" in rows else None
        scores[str(judge_id)] = score
    return out, scores


def _binary_results(book, key, metrics, *, n, bs, cfg):
    """Every metric of ``metrics`` from the four confusion sums recorded under ``key``
    (formulas, proportions and undefined reasons from :data:`judgeaudit.metrics.METRICS`)."""
    keys = [key + (c,) for c in COUNTS]
    counts, boot = book.stack(keys)
    out = {}
    for m in metrics:
        facts = METRICS[m]
        point_counts, boot_counts = counts, boot.T
        if facts.scale_dependent:  # weighted sums brought back to the number of items observed
            scale = _alpha_scale(sum(book.raw(k) for k in keys), sum(counts), book.weighted)
            point_counts, boot_counts = counts * scale, boot_counts * scale
        point, bvals = facts.from_counts(*point_counts), facts.from_counts(*boot_counts)
        reason = undefined_reason(m, *counts, voice="audit", fallback=True) if np.isnan(point) else None
        wilson = facts.proportion(*counts) if facts.is_proportion and not book.weighted else None
        floor = None
        if facts.is_proportion:
            floor = facts.proportion(*(book.cluster(k) for k in keys))
            if book.weighted:  # the items observed, for the design effect of weighted sums
                floor += (facts.proportion(*(book.raw(k) for k in keys))[1],)
        out[m] = to_result(point, bvals, n=n, bs=bs, confidence=cfg.confidence,
                           undefined=reason, wilson=wilson, floor=floor,
                           n_clusters=book.n_clusters(keys))
    return out


def _status_counts(status, mask) -> dict:
    s = status[mask]
    n = int(mask.sum())
    counts = {k: int((s == k).sum()) for k in ("ok", "parse_error", "error", "missing", "off_task")}
    scored = n - counts["missing"]
    counts["n_items"] = n
    counts["unparseable_rate"] = (counts["parse_error"] / scored) if scored else None
    return counts


def _reference(tables, ids, task, cfg):
    """The reference per item, its status, the rule's name, and the votes.

    Returns ``(ref, status, rule, all_votes, ceiling_votes)``: the ceiling's votes are
    every annotator's except a designated reference annotator's.
    """
    labels = tables.labels
    all_votes = binary_votes(labels, ids, task)
    on_field = labels["field"] == task.field
    if not cfg.reference_annotator:
        ref, status = majority_reference(all_votes, labelled_items(labels, task.field),
                                         tie_policy=cfg.tie_policy)
        return ref, status, "majority", all_votes, all_votes
    who = cfg.reference_annotator
    known = set(labels.loc[on_field, "annotator_id"])
    if who not in known:
        raise ConfigError(f"reference annotator {who!r} has no {task.field!r} labels; "
                          f"annotators: {', '.join(sorted(map(str, known))) or 'none'}")
    theirs = set(labels.loc[on_field & (labels["annotator_id"] == who), "item_id"])
    ref, status = majority_reference(all_votes[[who]], theirs, tie_policy=cfg.tie_policy)
    return ref, status, f"annotator:{who}", all_votes, all_votes.drop(columns=[who])


def _add_confusion(book, key, use, truth, said, weights=None) -> None:
    """Record the 2x2 confusion sums of ``said`` against ``truth`` (both 0/1) where ``use``."""
    book.add(key + ("tp",), use & (truth == 1) & (said == 1), weights)
    book.add(key + ("fp",), use & (truth == 0) & (said == 1), weights)
    book.add(key + ("fn",), use & (truth == 1) & (said == 0), weights)
    book.add(key + ("tn",), use & (truth == 0) & (said == 0), weights)


def run_audit(tables, *, config: AuditConfig | None = None, dataset: str | None = None) -> dict:
    """Audit every judge in ``tables`` against the human reference.

    Parameters
    ----------
    tables:
        :class:`~judgeaudit.tables.AuditTables` with generations, labels, verdicts
        (and optionally prompts and coherence).
    config:
        :class:`AuditConfig`; defaults to 1,000 cluster-bootstrap resamples over
        prompt_id, seed 0.
    dataset:
        A name recorded in the output (defaults to ``tables.name``).

    Returns
    -------
    dict
        JSON-ready; ``result["judges"][judge_id]["overall"]["cohen_kappa"]["value"]``
        and so on.  See the README for the full layout.
    """
    cfg = config or AuditConfig()
    task = tables.task
    gen = tables.generations.reset_index(drop=True)
    if gen.empty:
        raise ConfigError("the generations table is empty: there is nothing to audit")
    items = gen.copy()
    ids = items["item_id"].tolist()

    ref, ref_status, rule, all_votes, ceiling_votes = _reference(tables, ids, task, cfg)
    resolved = ~np.isnan(ref)
    refv = np.nan_to_num(ref)
    wl = wc = weight_meta = None
    if cfg.weights:
        wl, wc, weight_meta = design_weights(items, cfg.weights, ref_status != "no_label")

    # Strata and bootstrap.
    strata_series, strata_source = choose_strata(tables, items, source=cfg.strata,
                                                 scorer_id=cfg.coherence_scorer)
    stratum = strata_series.to_numpy(dtype=object)
    strata = order_strata(stratum)
    check_reserved_names(strata, tables.verdicts["judge_id"].unique(), strata_source=strata_source)
    masks = {"overall": np.ones(len(ids), bool)}
    masks.update({s: stratum == s for s in strata})
    clusters = None
    if cfg.cluster_key:
        if cfg.cluster_key not in items:
            raise ConfigError(f"cluster key {excerpt(cfg.cluster_key, 40)} is not a column of the generations "
                              f"table; columns: {excerpt_names(items.columns)}")
        clusters = items[cfg.cluster_key].astype(str).to_numpy()
    bs = ClusterBootstrap(clusters, n=len(ids), n_boot=cfg.n_boot, seed=cfg.seed)
    book = SumBook(bs, weighted=wl is not None)

    preds, scores = _judge_predictions(tables.verdicts, ids, task)
    for where, m in masks.items():
        book.add(("ref", where, "pos"), resolved & m & (refv == 1), wl)
        book.add(("ref", where, "n"), resolved & m, wl)
    for judge_id, (pred, _status) in preds.items():
        ok = ~np.isnan(pred)
        p = np.nan_to_num(pred)
        for where, m in masks.items():
            _add_confusion(book, (judge_id, where), resolved & ok & m, refv, p, wl)
    pairs = list(itertools.combinations(sorted(preds), 2))
    for a, b in pairs:
        pa, pb = preds[a][0], preds[b][0]
        both = ~np.isnan(pa) & ~np.isnan(pb)
        _add_confusion(book, ("pair", a, b), both, np.nan_to_num(pa), np.nan_to_num(pb), wc)
    ceiling_keys = _add_ceiling_sums(book, ceiling_votes, masks, wl)
    annotator_keys = add_annotator_sums(book, ceiling_votes, preds, masks, wl)
    robustness_plan = None
    if cfg.group_key and cfg.group_key not in items:
        raise ConfigError(f"group key {excerpt(cfg.group_key, 40)} is not a column of the generations table; "
                          f"columns: {excerpt_names(items.columns)}; pass --group-key none to skip robustness")
    if cfg.group_key and items[cfg.group_key].nunique() > 1:
        from .correction import add_correction_sums
        from .robustness import add_group_sums

        group_arr = items[cfg.group_key].astype(str).to_numpy()
        robustness_plan = add_group_sums(book, group_arr, resolved, refv, preds, weights=(wl, wc))
        robustness_plan["correction"] = add_correction_sums(book, group_arr, stratum, strata, resolved, refv,
                                                            preds, weights=(wl, wc),
                                                            names=robustness_plan["groups"])
    book.run()

    def res(point, boot, n, **kw):
        if book.weighted:
            kw.pop("wilson", None)
        return to_result(point, boot, n=n, bs=bs, confidence=cfg.confidence, **kw).to_dict()

    reference = {}
    for where in masks:
        (pos, n), boot = book.stack([("ref", where, "pos"), ("ref", where, "n")])
        with np.errstate(invalid="ignore", divide="ignore"):
            rate, brate = (pos / n if n else np.nan), boot[:, 0] / boot[:, 1]
        n_seen = int(book.raw(("ref", where, "n")))
        entry = {"n": n_seen, "positive_rate": res(rate, brate, n_seen, wilson=(pos, n),
                                                   floor=book.floor(("ref", where)),
                                                   undefined=None if n else "no resolved items")}
        if where == "overall":
            reference["overall"] = entry
        else:
            reference.setdefault("strata", {})[where] = entry

    judges = {}
    for judge_id, (_pred, status) in preds.items():
        entry = {"overall": {}, "strata": {}, "confusion": {"strata": {}}, "verdicts": {"strata": {}}}
        for where, m in masks.items():
            counts = {c: int(book.raw((judge_id, where, c))) for c in COUNTS}
            n = sum(counts.values())
            metrics = {k: v.to_dict() for k, v in
                       _binary_results(book, (judge_id, where), JUDGE_METRICS, n=n, bs=bs, cfg=cfg).items()}
            sc = _status_counts(status, m)
            if where == "overall":
                entry["overall"], entry["confusion"]["overall"], entry["verdicts"]["overall"] = metrics, counts, sc
            else:
                entry["strata"][where] = metrics
                entry["confusion"]["strata"][where] = counts
                entry["verdicts"]["strata"][where] = sc
            if book.weighted:  # the estimated population counts behind the weighted metrics
                est = {c: float(book.get((judge_id, where, c))[0]) for c in COUNTS}
                wc_entry = entry.setdefault("weighted_confusion", {"strata": {}})
                (wc_entry if where == "overall" else wc_entry["strata"])[where] = est
        _add_score_metrics(entry, scores.get(judge_id), status, ref, all_votes, masks, clusters, cfg)
        entry["stratum_differences"] = stratum_differences(
            book, judge_id, strata, DIFF_METRICS, items=(ref, _pred, stratum, clusters),
            n_perm=cfg.n_boot, seed=cfg.seed + 1, confidence=cfg.confidence, weights=wl)
        judges[judge_id] = entry

    agreement = []
    for a, b in pairs:
        counts = [book.raw(("pair", a, b, c)) for c in COUNTS]
        got = _binary_results(book, ("pair", a, b), ("cohen_kappa", "accuracy"), n=int(sum(counts)),
                              bs=bs, cfg=cfg)
        agreement.append({"a": a, "b": b, **{k: v.to_dict() for k, v in got.items()}})

    ceiling = _ceiling_results(book, ceiling_keys, masks, res)
    status_counts = pd.Series(ref_status).value_counts()
    return {
        "schema": SCHEMA,
        "meta": {
            "dataset": dataset or getattr(tables, "name", None) or "tables",
            "n_items": len(ids),
            "task": {"field": task.field, "positive": list(task.positive),
                     "negative": list(task.negative), "description": task.description},
            "reference": {"rule": rule, "tie_policy": cfg.tie_policy,
                          "n_resolved": int(status_counts.get("resolved", 0)),
                          "n_unresolved": int(status_counts.get("unresolved", 0)),
                          "n_no_label": int(status_counts.get("no_label", 0))},
            "strata_source": strata_source,
            "strata_requested": cfg.strata,
            "strata": strata,
            "stratum_sizes": {s: int(masks[s].sum()) for s in strata},
            "cluster_key": cfg.cluster_key,
            "n_clusters": bs.n_clusters,
            "n_boot": cfg.n_boot, "seed": cfg.seed, "confidence": cfg.confidence,
            "config": asdict(cfg),
            "weights": weight_meta,
            "judgeaudit_version": package_version(),
            "environment": environment(),
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
        "reference": reference,
        "judges": judges,
        "human_ceiling": ceiling,
        "judge_agreement": agreement,
        "robustness": robustness_section(book, robustness_plan, res, cfg) if robustness_plan else None,
        "judge_as_annotator": judge_as_annotator(
            annotator_keys, book, res, ceiling_votes, preds, scores, masks, clusters,
            ceiling, epsilon=cfg.alt_test_epsilon, n_boot=cfg.n_boot,
            seed=cfg.seed, confidence=cfg.confidence),
        "examples": _examples(items, tables, preds, ref, stratum, task, cfg.max_examples),
    }


def _add_score_metrics(entry, score, status, ref, votes, masks, clusters, cfg) -> None:
    """AUROC, Spearman and Kendall for judges that give graded scores.

    Only for judges whose scores take more than two distinct values (for a 0/1 score
    AUROC is the balanced accuracy already reported).  AUROC is against the binary
    reference; Spearman and Kendall's tau-b against the share of annotators who voted
    positive, a graded human target.
    """
    from judgeaudit.metrics import auroc, kendall_tau, spearman

    if score is None:
        return
    usable = (status == "ok") & ~np.isnan(score)
    if np.unique(score[usable]).size <= 2:
        return
    v = votes.to_numpy(dtype=float) if votes.shape[1] else np.full((len(score), 1), np.nan)
    n_votes = (~np.isnan(v)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n_votes > 0, np.nansum(v, axis=1) / np.maximum(n_votes, 1), np.nan)
    opts = {"n_boot": cfg.n_boot, "seed": cfg.seed, "confidence": cfg.confidence}
    for where, m in masks.items():
        target = entry["overall"] if where == "overall" else entry["strata"][where]
        use = usable & m & ~np.isnan(ref)
        cl = None if clusters is None else clusters[use]
        target["auroc"] = auroc(ref[use].astype(int), score[use], clusters=cl, **opts).to_dict()
        use = usable & m & ~np.isnan(share)
        cl = None if clusters is None else clusters[use]
        target["spearman"] = spearman(score[use], share[use], clusters=cl, **opts).to_dict()
        target["kendall_tau"] = kendall_tau(score[use], share[use], clusters=cl, **opts).to_dict()


def _add_ceiling_sums(book, votes: pd.DataFrame, masks, weights=None) -> dict | None:
    """Sums for the human-human ceiling: coincidences (alpha) and pairwise confusions."""
    annot = [c for c in votes.columns if votes[c].notna().any()]
    if len(annot) < 2:
        return None
    v = votes[annot].to_numpy(dtype=float)
    pos = np.nansum(v == 1, axis=1)
    neg = np.nansum(v == 0, axis=1)
    m = pos + neg
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(m >= 2, 1.0 / np.maximum(m - 1, 1), 0.0)
    # Krippendorff's coincidences for two values: o_11 = pos(pos-1)/(m-1), o_00 likewise,
    # o_01 = o_10 = pos*neg/(m-1).
    terms = {"o00": neg * (neg - 1) * w, "o01": pos * neg * w, "o11": pos * (pos - 1) * w,
             "units": (m >= 2).astype(float)}
    pairs = list(itertools.combinations(annot, 2))
    for where, mask in masks.items():
        for name, t in terms.items():
            book.add(("ceiling", where, name), t * mask, weights)
        for i, j in pairs:
            a, b = votes[i].to_numpy(float), votes[j].to_numpy(float)
            both = ~np.isnan(a) & ~np.isnan(b) & mask
            _add_confusion(book, ("ceiling", where, i, j), both, a, b, weights)
    return {"annotators": annot, "pairs": pairs}


def _ceiling_results(book, keys, masks, res) -> dict | None:
    if keys is None:
        return None
    out = {"annotators": keys["annotators"], "strata": {}}
    for where in masks:
        (o00, o01, o11, units), boot = book.stack([("ceiling", where, k) for k in ("o00", "o01", "o11", "units")])
        scale = _alpha_scale(sum(book.raw(("ceiling", where, k)) * f for k, f in (("o00", 1), ("o01", 2), ("o11", 1))),
                             o00 + 2 * o01 + o11, book.weighted)
        o = np.array([[o00, o01], [o01, o11]]) * scale
        bo = np.stack([np.stack([boot[:, 0], boot[:, 1]], -1), np.stack([boot[:, 1], boot[:, 2]], -1)], -2) * scale
        alpha = alpha_from_coincidence(o)
        reason = None if not np.isnan(alpha) else (
            "fewer than one unit with two or more labels" if units == 0 else "only one category present")
        n_units = int(book.raw(("ceiling", where, "units")))
        entry = {"n_units": n_units,
                 "krippendorff_alpha": res(alpha, alpha_from_coincidence(bo), n_units, undefined=reason,
                                           n_clusters=book.n_clusters([("ceiling", where, "units")])),
                 "pairwise_kappa": []}
        for i, j in keys["pairs"]:
            (tp, fp, fn, tn), b = book.stack([("ceiling", where, i, j, c) for c in COUNTS])
            k = kappa_from_confusion(confusion_arrays(tp, fp, fn, tn))
            n = int(sum(book.raw(("ceiling", where, i, j, c)) for c in COUNTS))
            r = res(k, kappa_from_confusion(confusion_arrays(*b.T)), n,
                    n_clusters=book.n_clusters([("ceiling", where, i, j, c) for c in COUNTS]),
                    undefined=None if not np.isnan(k) else undefined_reason("cohen_kappa", tp, fp, fn, tn,
                                                                            voice="audit", fallback=True))
            agree = (tp + tn) / (tp + fp + fn + tn) if n else float("nan")
            entry["pairwise_kappa"].append({"a": i, "b": j, **r, "agreement": None if not n else float(agree)})
        if where == "overall":
            out["overall"] = entry
        else:
            out["strata"][where] = entry
    return out


def _examples(items, tables, preds, ref, stratum, task, limit) -> dict:
    """Up to ``limit`` disagreements per judge, least coherent strata first."""
    prompt_text = {}
    if tables.prompts is not None and len(tables.prompts):
        prompt_text = dict(zip(tables.prompts["prompt_id"], tables.prompts["text"]))
    rank = {"incoherent": 0, "partially_coherent": 1}
    order = sorted(range(len(items)), key=lambda i: (rank.get(stratum[i], 2), i))
    side = {1.0: "positive", 0.0: "negative"}
    out = {}
    for judge_id, (pred, _status) in preds.items():
        chosen = []
        for i in order:
            if len(chosen) >= limit:
                break
            if np.isnan(ref[i]) or np.isnan(pred[i]) or ref[i] == pred[i]:
                continue
            row = items.iloc[i]
            chosen.append({"item_id": row["item_id"], "stratum": stratum[i],
                           "reference": f"{side[ref[i]]} ({'/'.join(task.positive if ref[i] else task.negative)})",
                           "verdict": f"{side[pred[i]]}",
                           "group": str(row.get("checkpoint_id", "")),
                           "prompt": prompt_text.get(row["prompt_id"], ""),
                           "response": row["response"]})
        out[judge_id] = chosen
    return out

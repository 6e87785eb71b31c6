"""Fit a scorer's two bin thresholds to human coherence labels, and report agreement.

:func:`calibrate` takes scores (higher = more coherent) and the humans' bins for the
same items and chooses ``incoherent_max <= partial_max`` (a score at or below
``incoherent_max`` is incoherent, at or below ``partial_max`` partially coherent,
else coherent) to maximise an agreement objective:

* ``"quadratic_kappa"`` (default): Cohen's kappa with quadratic weights, which counts
  coherent-vs-incoherent as four times worse than a one-step miss;
* ``"kappa"``: unweighted Cohen's kappa;
* ``"accuracy"``: share of items in the same bin.

The search is exhaustive over candidate cut points: the midpoints between
consecutive distinct scores, plus one below every score (an empty bin is allowed),
thinned to ``max_candidates`` quantiles when there are more.  Ties are broken by
accuracy, then by closeness to the default cut points (1/3, 2/3), so the result is
deterministic.  A *held-out estimate* comes from ``folds``-fold cross-validation:
thresholds fitted on the other folds bin each fold's items, and the pooled
out-of-fold bins are compared with the human ones.  Folds are drawn over clusters
(e.g. prompts) with ``seed``, so items of one cluster are never split between fit
and test.  Intervals are cluster-bootstrap percentile intervals
(:func:`judgeaudit.metrics.cohen_kappa`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from judgeaudit.errors import ConfigError, ValidationError
from judgeaudit.metrics import MetricResult, cohen_kappa
from judgeaudit.metrics.formulas import kappa_from_confusion

from .base import COHERENCE_BINS, bins_from_thresholds

__all__ = ["OBJECTIVES", "BinAgreement", "Calibration", "bin_agreement", "calibrate",
           "save_calibration", "load_calibration"]

OBJECTIVES = ("quadratic_kappa", "kappa", "accuracy")
_DEFAULT_CUTS = (1 / 3, 2 / 3)
_CODE = {name: i for i, name in enumerate(COHERENCE_BINS)}  # coherent 0 ... incoherent 2


@dataclass(frozen=True)
class BinAgreement:
    """How well automated bins agree with human bins on the same items.

    ``confusion[human][auto]`` counts items; ``kappa`` is unweighted and
    ``kappa_quadratic`` quadratic-weighted Cohen's kappa over the ordered bins
    (coherent, partially_coherent, incoherent), both with bootstrap intervals.
    """

    n: int
    accuracy: float
    kappa: MetricResult
    kappa_quadratic: MetricResult
    confusion: dict

    def to_dict(self) -> dict:
        return {"n": self.n, "accuracy": self.accuracy, "kappa": self.kappa.to_dict(),
                "kappa_quadratic": self.kappa_quadratic.to_dict(), "confusion": self.confusion}


@dataclass(frozen=True)
class Calibration:
    """Fitted thresholds and how well the bins they give agree with the humans.

    Attributes
    ----------
    incoherent_max, partial_max:
        The fitted cut points (see the module notes).
    objective, objective_value:
        What was maximised, and its in-sample value.
    in_sample:
        Agreement of the fitted bins with the human ones on the fitting items
        (optimistic: the thresholds saw these labels).
    cross_validated:
        Agreement of out-of-fold bins (the held-out estimate); ``None`` when there
        were fewer than 2 clusters.
    folds, seed, n_candidates:
        The settings of the fit.
    scorer_id, scorer_config_hash:
        What was calibrated, when known (filled in by the CLI).
    """

    incoherent_max: float
    partial_max: float
    objective: str
    objective_value: float
    in_sample: BinAgreement
    cross_validated: BinAgreement | None
    folds: int
    seed: int
    n_candidates: int
    scorer_id: str | None = None
    scorer_config_hash: str | None = None
    notes: tuple = field(default=())

    def apply(self, scores) -> np.ndarray:
        """The calibrated bin of each score."""
        return bins_from_thresholds(scores, incoherent_max=self.incoherent_max,
                                    partial_max=self.partial_max)

    def to_dict(self) -> dict:
        return {
            "kind": "judgeaudit.coherence.calibration", "version": 1,
            "scorer_id": self.scorer_id, "scorer_config_hash": self.scorer_config_hash,
            "incoherent_max": self.incoherent_max, "partial_max": self.partial_max,
            "objective": self.objective, "objective_value": _finite(self.objective_value),
            "folds": self.folds, "seed": self.seed, "n_candidates": self.n_candidates,
            "in_sample": self.in_sample.to_dict(),
            "cross_validated": None if self.cross_validated is None else self.cross_validated.to_dict(),
            "notes": list(self.notes),
        }


def _finite(x):
    return None if x is None or not np.isfinite(x) else float(x)


def _codes(human_bins, name="human_bins") -> np.ndarray:
    out = np.full(len(human_bins), -1, dtype=np.int64)
    for i, value in enumerate(human_bins):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        if value not in _CODE:
            raise ValidationError(f"{name} has {value!r} at position {i + 1}; expected one of "
                                  f"{', '.join(COHERENCE_BINS)} (or None for no label)")
        out[i] = _CODE[value]
    return out


def bin_agreement(auto_bins, human_bins, *, clusters=None, n_boot: int = 1000,
                  seed: int = 0) -> BinAgreement:
    """Accuracy, kappa (unweighted, quadratic) with intervals and the confusion table.

    ``auto_bins`` and ``human_bins`` hold :data:`COHERENCE_BINS` values, one per item.
    """
    auto, human = list(auto_bins), list(human_bins)
    if len(auto) != len(human):
        raise ValidationError(f"got {len(auto)} automated bins for {len(human)} human bins")
    a, h = _codes(auto, "auto_bins"), _codes(human)
    if (a < 0).any() or (h < 0).any():
        raise ValidationError("bin_agreement needs a bin on both sides for every item; drop "
                              "unlabelled items first")
    labels = list(COHERENCE_BINS)
    kw = dict(labels=labels, clusters=clusters, n_boot=n_boot, seed=seed)
    cm = np.zeros((3, 3), dtype=np.int64)
    np.add.at(cm, (h, a), 1)
    confusion = {labels[i]: {labels[j]: int(cm[i, j]) for j in range(3)} for i in range(3)}
    return BinAgreement(
        n=len(auto), accuracy=float(np.mean(a == h)) if len(a) else float("nan"),
        kappa=cohen_kappa(human, auto, **kw),
        kappa_quadratic=cohen_kappa(human, auto, weights="quadratic", **kw),
        confusion=confusion)


def _candidates(scores: np.ndarray, max_candidates: int) -> np.ndarray:
    u = np.unique(scores)
    mids = (u[:-1] + u[1:]) / 2.0
    if len(mids) > max_candidates - 2:
        mids = np.unique(np.quantile(mids, np.linspace(0, 1, max_candidates - 2)))
    return np.concatenate([[u[0] - 1e-6], mids, [u[-1]]])


def _objective(cm: np.ndarray, objective: str) -> np.ndarray:
    if objective == "accuracy":
        return np.trace(cm, axis1=-2, axis2=-1) / cm.sum(axis=(-2, -1))
    value = kappa_from_confusion(cm, "quadratic" if objective == "quadratic_kappa" else None)
    return np.where(np.isnan(value), -np.inf, value)


def _fit(scores: np.ndarray, codes: np.ndarray, objective: str, max_candidates: int):
    cand = _candidates(scores, max_candidates)
    order = np.argsort(scores, kind="stable")
    # running[k] = items among the k lowest scores, by human class; cum[c] = items <= cut c
    running = np.vstack([np.zeros(3), np.cumsum(np.eye(3)[codes[order]], axis=0)])
    cum = running[np.searchsorted(scores[order], cand, side="right")]    # (m, 3)
    total = running[-1]
    i, j = np.triu_indices(len(cand))                # i <= j: incoherent_max <= partial_max
    # confusion[pair, human, auto] with auto codes coherent 0, partial 1, incoherent 2
    cm = np.stack([total - cum[j], cum[j] - cum[i], cum[i]], axis=-1)
    value = _objective(cm, objective)
    acc = np.trace(cm, axis1=-2, axis2=-1)
    prior = np.abs(cand[i] - _DEFAULT_CUTS[0]) + np.abs(cand[j] - _DEFAULT_CUTS[1])
    best = np.lexsort((prior, -acc, -value))[0]
    return float(cand[i[best]]), float(cand[j[best]]), float(value[best]), len(cand)


def _fold_of(clusters: np.ndarray, folds: int, seed: int) -> tuple[np.ndarray, int]:
    uniq = np.unique(clusters)
    k = min(folds, len(uniq))
    order = np.random.default_rng(seed).permutation(len(uniq))
    fold_of_cluster = np.empty(len(uniq), dtype=np.int64)
    fold_of_cluster[order] = np.arange(len(uniq)) % max(k, 1)
    return fold_of_cluster[np.searchsorted(uniq, clusters)], k


def calibrate(scores, human_bins, *, objective: str = "quadratic_kappa", folds: int = 5,
              seed: int = 0, clusters=None, n_boot: int = 1000,
              max_candidates: int = 400) -> Calibration:
    """Fit the two bin thresholds of a score to human coherence bins.

    Parameters
    ----------
    scores:
        One score per item, higher = more coherent.
    human_bins:
        The humans' bin per item (:data:`COHERENCE_BINS`); ``None``/NaN for an item
        nobody labelled (left out of the fit).
    objective:
        One of :data:`OBJECTIVES` (see the module notes).
    folds:
        Cross-validation folds for the held-out estimate (at most the number of
        clusters); 0 or 1 skips it.
    seed:
        Seeds the fold assignment and the bootstrap.
    clusters:
        Cluster of each item (e.g. its prompt_id) for the folds and the bootstrap;
        default each item its own cluster.
    n_boot:
        Bootstrap resamples for the kappa intervals.
    max_candidates:
        Most candidate cut points searched (at least 3; quantiles of the midpoints
        beyond that).

    Returns
    -------
    Calibration

    Examples
    --------
    Scores 0.05, 0.15, ..., 0.95 with human cut points at 0.3 and 0.7 recover them:

    >>> s = [0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.95]
    >>> h = ["incoherent"] * 3 + ["partially_coherent"] * 4 + ["coherent"] * 3
    >>> cal = calibrate(s, h, folds=0, n_boot=10)
    >>> round(cal.incoherent_max, 6), round(cal.partial_max, 6), cal.objective_value
    (0.3, 0.7, 1.0)
    """
    if objective not in OBJECTIVES:
        raise ConfigError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if max_candidates < 3:
        raise ConfigError(f"max_candidates must be at least 3, got {max_candidates}")
    s = np.asarray(scores, dtype=float).ravel()
    codes = _codes(list(human_bins))
    if len(codes) != len(s):
        raise ValidationError(f"got {len(s)} scores for {len(codes)} human bins; they must align")
    if np.isnan(s).any():
        raise ValidationError(f"score {int(np.flatnonzero(np.isnan(s))[0]) + 1} is NaN; "
                              "calibrate only scored items")
    cl = np.arange(len(s)) if clusters is None else np.asarray(list(clusters), dtype=object)
    if len(cl) != len(s):
        raise ValidationError(f"got {len(cl)} clusters for {len(s)} scores")
    keep = codes >= 0
    s, codes, cl = s[keep], codes[keep], cl[keep].astype(str)
    if len(s) < 2:
        raise ValidationError(f"calibration needs at least 2 items with a human coherence "
                              f"label; got {len(s)}")
    lo, hi, value, m = _fit(s, codes, objective, max_candidates)
    names = np.array(COHERENCE_BINS, dtype=object)
    human = names[codes]
    in_sample = bin_agreement(bins_from_thresholds(s, incoherent_max=lo, partial_max=hi), human,
                              clusters=cl, n_boot=n_boot, seed=seed)
    notes = []
    fold, k = _fold_of(cl, folds, seed)
    cross = None
    if folds >= 2 and k >= 2:
        oof = np.empty(len(s), dtype=object)
        for f in range(k):
            test = fold == f
            flo, fhi, _, _ = _fit(s[~test], codes[~test], objective, max_candidates)
            oof[test] = bins_from_thresholds(s[test], incoherent_max=flo, partial_max=fhi)
        cross = bin_agreement(oof, human, clusters=cl, n_boot=n_boot, seed=seed)
    elif folds >= 2:
        notes.append(f"no cross-validation: only {k} cluster(s)")
    if len(set(codes.tolist())) < 3:
        notes.append("the human labels use fewer than 3 bins: a threshold next to a missing "
                     "bin is not identified")
    return Calibration(incoherent_max=lo, partial_max=hi, objective=objective,
                       objective_value=value, in_sample=in_sample, cross_validated=cross,
                       folds=k if cross is not None else 0, seed=seed, n_candidates=m,
                       notes=tuple(notes))


def save_calibration(calibration: Calibration | dict, path) -> Path:
    """Write a calibration (or a report holding one) as JSON, atomically."""
    path = Path(path)
    doc = calibration.to_dict() if isinstance(calibration, Calibration) else calibration
    from judgeaudit.atomic import write_text_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(doc, indent=2, allow_nan=False) + "\n")
    return path


@dataclass(frozen=True)
class LoadedCalibration:
    """The thresholds of a calibration file (what a scorer or the audit needs)."""

    incoherent_max: float
    partial_max: float
    scorer_id: str | None
    scorer_config_hash: str | None

    def apply(self, scores) -> np.ndarray:
        return bins_from_thresholds(scores, incoherent_max=self.incoherent_max,
                                    partial_max=self.partial_max)


def load_calibration(path, *, scorer_id: str | None = None) -> LoadedCalibration:
    """Read the thresholds from a calibration file.

    The file is what :func:`save_calibration` writes, or a ``judgeaudit coherence
    --report`` file (``{"scorers": {scorer_id: calibration, ...}}``), from which
    ``scorer_id`` picks one (default ``"combined"``, else the only one).
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: calibration file not found") from None
    except json.JSONDecodeError as exc:
        raise ValidationError(f"not valid JSON ({exc.msg})", path=path, row=exc.lineno) from None
    if isinstance(doc, dict) and isinstance(doc.get("scorers"), dict):
        scorers = {k: v.get("calibration") for k, v in doc["scorers"].items()
                   if isinstance(v, dict) and v.get("calibration")}
        if not scorers:
            raise ValidationError("the report holds no calibration (run with --calibrate-with)",
                                  path=path)
        sid = scorer_id or ("combined" if "combined" in scorers else None)
        if sid is None and len(scorers) == 1:
            sid = next(iter(scorers))
        if sid not in scorers:
            raise ConfigError(f"{path}: no calibration for scorer {sid!r}; it has {sorted(scorers)}")
        doc = scorers[sid]
    values = [doc.get(k) if isinstance(doc, dict) else None for k in ("incoherent_max", "partial_max")]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)
               for v in values):
        raise ValidationError("expected a calibration with finite numbers incoherent_max and "
                              "partial_max", path=path)
    lo, hi = float(values[0]), float(values[1])
    if not lo <= hi:
        raise ValidationError(f"incoherent_max {lo} exceeds partial_max {hi}", path=path)
    return LoadedCalibration(lo, hi, doc.get("scorer_id"), doc.get("scorer_config_hash"))

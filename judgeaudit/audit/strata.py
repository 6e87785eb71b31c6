"""The coherence stratum of each audited item: from an explicit column, human coherence
labels, a coherence table, or the model-free scorer (see :func:`choose_strata`)."""

from __future__ import annotations

import pandas as pd

from judgeaudit.errors import ConfigError
from judgeaudit.tables.reference import human_coherence
from judgeaudit.tables.schema import ok_coherence

__all__ = ["choose_strata", "RESERVED_STRATA"]

#: Names a stratum may not take: audit.json keys all items together as ``overall``.
RESERVED_STRATA = frozenset({"overall"})


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
    scorer.  Every explicit ``source`` is used as asked (``"degeneracy"`` scores the
    responses even where humans rated coherence); the second value returned names
    the source actually used, and audit.json records it as ``meta.strata_source``.

    Raises :class:`ConfigError` when a stratum value is the reserved ``"overall"``.
    """
    valid = ("auto", "column", "human", "coherence", "degeneracy", "none")
    if source not in valid:
        raise ConfigError(f"strata source must be one of {', '.join(valid)}, got {source!r}")
    series, used = _choose(tables, items, source, scorer_id, calibration)
    clash = sorted({str(v) for v in series.dropna().unique()} & RESERVED_STRATA)
    if clash:
        raise ConfigError(f"stratum value {clash[0]!r} (strata source {used!r}) is reserved: audit.json uses "
                          f"'overall' for all items together; rename that stratum (e.g. 'overall_bin') "
                          "in the stratum column or coherence table")
    return series, used


def _choose(tables, items, source, scorer_id, calibration):
    ids = items["item_id"].tolist()
    if source == "none":
        return pd.Series("all", index=ids, dtype=object), "none"
    column = items["stratum"] if "stratum" in items else pd.Series(None, index=items.index)
    if source == "column" or (source == "auto" and column.notna().any()):
        if not column.notna().any():
            raise ConfigError("strata source 'column' asked for, but no item has a stratum value")
        return pd.Series(column.fillna("unknown").astype(str).to_numpy(), index=ids), "column"
    if source == "degeneracy":  # asked for explicitly: used even where humans rated coherence
        return _degeneracy_bins(tables, items, calibration), _fallback(calibration)
    human = human_coherence(tables.labels, ids)
    if source == "human" and not human.notna().any():
        raise ConfigError("strata source 'human' asked for, but no item has a human coherence label")
    coh = ok_coherence(tables.coherence)  # a row without a score (status error) gives no bin
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
    from judgeaudit.coherence import CombinedScorer, score_coherence

    prompts = tables.prompts if tables.prompts is not None and len(tables.prompts) else None
    scorer = None if calibration is None else CombinedScorer(calibration=calibration)
    scored = score_coherence(items[["item_id", "prompt_id", "response"]], prompts, scorer=scorer)
    return scored.set_index("item_id")["bin"].reindex(items["item_id"].tolist()).astype(object)

"""The coherence scorer protocol, its registry, and running a scorer over a table.

The coherence table is ``item_id, scorer_id, score, bin``: score in [0, 1] (1 =
coherent), bin one of :data:`COHERENCE_BINS` (plus ``status`` and ``error`` in a file,
see below).  A scorer that can fail on an item (the LLM rubric scorer: a reply it cannot
read, a backend call that raised) says so in a ``status`` column of its output
(``"ok"``, ``"parse_error"`` or ``"error"``) with the reply or the exception text in
``raw``; :func:`run_scorer` puts those items in a separate *errors* table
(:data:`ERROR_COLUMNS`) instead of writing a NaN score or a made-up bin.
:func:`~judgeaudit.coherence.score_to_file` then writes them into the coherence file as
rows with that ``status``, no score or bin, and the reason in ``error``.
:func:`score_coherence` returns only the coherence table and raises when a scorer
failed on any item, so that no failure is lost silently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from judgeaudit.registry import Registry
from judgeaudit.errors import ConfigError, JudgeAuditError, ValidationError
from judgeaudit.judges.base import align_prompts, require_columns, response_texts

#: The coherence vocabulary, from most to least coherent.
COHERENCE_BINS = ("coherent", "partially_coherent", "incoherent")

#: Columns of the coherence table, in order.
COHERENCE_COLUMNS = ("item_id", "scorer_id", "score", "bin")

#: Optional columns a scorer may add and the coherence table then keeps: where the
#: response stops making sense (character offset; empty when coherent) and why.
OPTIONAL_COLUMNS = ("degradation_start", "reason")

#: Columns of the errors table :func:`run_scorer` returns next to the coherence table.
ERROR_COLUMNS = ("item_id", "scorer_id", "status", "raw")

#: Values of a scorer output's optional ``status`` column.
SCORE_STATUSES = ("ok", "parse_error", "error")


@runtime_checkable
class CoherenceScorer(Protocol):
    """What :func:`score_coherence` needs from a coherence scorer."""

    scorer_id: str

    def config_hash(self) -> str:
        """A short stable hash of everything that changes the scores."""
        ...

    def score(
        self, responses: Sequence[str], prompts: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """A frame with ``score`` (float in [0, 1]) and ``bin`` columns, one row per
        response, in input order; ``prompts`` (aligned with ``responses``) is optional.

        Optional ``status`` (:data:`SCORE_STATUSES`) and ``raw`` columns mark items the
        scorer could not score; their ``score`` and ``bin`` are then ignored."""
        ...


_SCORERS: Registry[CoherenceScorer] = Registry("coherence scorer")


def register_scorer(
    name: str,
) -> Callable[[Callable[..., CoherenceScorer]], Callable[..., CoherenceScorer]]:
    """Class decorator that makes a coherence scorer available to :func:`get_scorer`."""
    return _SCORERS.register(name)


def available_scorers() -> list[str]:
    """The registered coherence scorer names, sorted."""
    return _SCORERS.names()


def get_scorer(name: str, **options: Any) -> CoherenceScorer:
    """Build the coherence scorer registered as ``name``.

    Raises
    ------
    judgeaudit.errors.UnknownNameError
        When no scorer has that name; the message lists the valid names.
    """
    return _SCORERS.build(name, **options)


def bins_from_thresholds(scores, *, incoherent_max: float, partial_max: float) -> np.ndarray:
    """Bin scores: ``<= incoherent_max`` incoherent, ``<= partial_max`` partially
    coherent, above it coherent.

    >>> bins_from_thresholds([0.1, 0.5, 0.9], incoherent_max=1/3, partial_max=2/3).tolist()
    ['incoherent', 'partially_coherent', 'coherent']
    """
    if not incoherent_max <= partial_max:
        raise ConfigError(
            f"thresholds must satisfy incoherent_max <= partial_max, got {incoherent_max} "
            f"and {partial_max}")
    s = np.asarray(scores, dtype=float)
    return np.where(s <= incoherent_max, COHERENCE_BINS[2],
                    np.where(s <= partial_max, COHERENCE_BINS[1], COHERENCE_BINS[0])).astype(object)


def option_number(name: str, value, kind: type = float, *, low=None, high=None):
    """Read a scorer option that may arrive as text from the CLI (``"0.5"``)."""
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    try:
        number = kind(value) if kind is float else int(str(value), 10)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be {'an integer' if kind is int else 'a number'}, "
                          f"got {value!r}") from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise ConfigError(f"{name} must be in [{low}, {high}], got {value!r}")
    return number


def option_bool(name: str, value) -> bool:
    """Read a yes/no scorer option (a bool, or true/false/1/0/yes/no as text)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {value!r}")


def _check_scored(scored: pd.DataFrame, ok: np.ndarray, scorer_id: str) -> None:
    """A scorer's ok rows must fit the coherence table's contract."""
    scores = pd.to_numeric(scored["score"], errors="coerce").to_numpy(float)
    bad = ok & ~((scores >= 0.0) & (scores <= 1.0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"coherence scorer {scorer_id!r} gave score {scored['score'].iloc[row]!r}; "
            "scores must be numbers in [0, 1]",
            row=row + 1,
            column="score",
        )
    bad_bins = ok & ~scored["bin"].isin(COHERENCE_BINS).to_numpy()
    if bad_bins.any():
        row = int(np.flatnonzero(bad_bins)[0])
        raise ValidationError(
            f"coherence scorer {scorer_id!r} gave bin {scored['bin'].iloc[row]!r}; bins "
            f"must be one of {', '.join(COHERENCE_BINS)}",
            row=row + 1,
            column="bin",
        )


@dataclass(frozen=True)
class ScorerRun:
    """What :func:`run_scorer` returns.

    Attributes
    ----------
    table:
        The coherence table (:data:`COHERENCE_COLUMNS`), one row per item scored.
    errors:
        One row per item the scorer could not score (:data:`ERROR_COLUMNS`), with
        ``status`` ``"parse_error"`` or ``"error"`` and the raw reply or error text.
    config_hash:
        The scorer's :meth:`~CoherenceScorer.config_hash`.
    """

    table: pd.DataFrame
    errors: pd.DataFrame
    config_hash: str


def _resolve(scorer) -> CoherenceScorer:
    if scorer is None:
        return get_scorer("degeneracy")
    if isinstance(scorer, str):
        return get_scorer(scorer)
    return scorer


def run_scorer(
    generations_df: pd.DataFrame,
    prompts_df: pd.DataFrame | None = None,
    *,
    scorer: CoherenceScorer | str | None = None,
) -> ScorerRun:
    """Score every generation and keep the items the scorer failed on.

    Same inputs as :func:`score_coherence`; returns a :class:`ScorerRun` whose
    ``table`` holds the scored items and ``errors`` the others.
    """
    scorer = _resolve(scorer)
    responses = response_texts(generations_df)
    prompts = align_prompts(generations_df, prompts_df)
    scored = scorer.score(responses, prompts)
    require_columns(scored, ("score", "bin"), f"{scorer.scorer_id} scorer's output")
    if len(scored) != len(responses):
        raise ValidationError(
            f"coherence scorer {scorer.scorer_id!r} returned {len(scored)} rows for "
            f"{len(responses)} responses; it must return one row per response, in input order"
        )
    status = (scored["status"].astype(object).to_numpy() if "status" in scored
              else np.full(len(scored), "ok", dtype=object))
    bad_status = ~pd.Series(status).isin(SCORE_STATUSES).to_numpy()
    if bad_status.any():
        row = int(np.flatnonzero(bad_status)[0])
        raise ValidationError(
            f"coherence scorer {scorer.scorer_id!r} gave status {status[row]!r}; statuses must "
            f"be one of {', '.join(SCORE_STATUSES)}", row=row + 1, column="status")
    ok = status == "ok"
    _check_scored(scored, ok, scorer.scorer_id)
    ids = np.asarray(generations_df["item_id"].astype(str).tolist(), dtype=object)
    table = pd.DataFrame(
        {
            "item_id": ids[ok].tolist(),
            "scorer_id": [scorer.scorer_id] * int(ok.sum()),
            "score": scored["score"].to_numpy()[ok].astype(float),
            "bin": pd.Series(scored["bin"].to_numpy()[ok].tolist(), dtype=object),
        },
        columns=list(COHERENCE_COLUMNS),
    )
    for column in OPTIONAL_COLUMNS:
        if column in scored:
            table[column] = scored[column].iloc[np.flatnonzero(ok)].reset_index(drop=True)
    raw = (scored["raw"].astype(object).to_numpy() if "raw" in scored
           else np.full(len(scored), None, dtype=object))
    errors = pd.DataFrame(
        {
            "item_id": ids[~ok].tolist(),
            "scorer_id": [scorer.scorer_id] * int((~ok).sum()),
            "status": status[~ok].tolist(),
            "raw": [None if r is None or (isinstance(r, float) and np.isnan(r)) else str(r)
                    for r in raw[~ok]],
        },
        columns=list(ERROR_COLUMNS),
    )
    return ScorerRun(table=table, errors=errors, config_hash=scorer.config_hash())


def score_coherence(
    generations_df: pd.DataFrame,
    prompts_df: pd.DataFrame | None = None,
    *,
    scorer: CoherenceScorer | str | None = None,
) -> pd.DataFrame:
    """Score every generation's coherence and return a coherence table.

    Parameters
    ----------
    generations_df:
        Needs ``item_id`` and ``response`` (and ``prompt_id`` with ``prompts_df``).
        A missing response (None/NaN) is scored as ``""``.
    prompts_df:
        Optional prompts table (``prompt_id``, ``text``); without it the prompt-echo
        feature is 0 for every item.
    scorer:
        A :class:`CoherenceScorer`, a registered name, or ``None`` for the
        ``"degeneracy"`` scorer with default options.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COHERENCE_COLUMNS`, one row per generation, in input order,
        then the scorer's :data:`OPTIONAL_COLUMNS` (``degeneracy`` and ``combined``
        give both).

    Raises
    ------
    judgeaudit.errors.ValidationError
        When a needed column is missing, an ``item_id`` repeats, a ``prompt_id`` is not
        in ``prompts_df``, or the scorer's output breaks the table's contract (wrong
        row count, a score outside [0, 1], a bin outside :data:`COHERENCE_BINS`).
    judgeaudit.errors.JudgeAuditError
        When the scorer could not score some items (use :func:`run_scorer` to keep
        the scored ones and the errors apart).
    judgeaudit.errors.UnknownNameError
        When ``scorer`` names no registered scorer.
    """
    run = run_scorer(generations_df, prompts_df, scorer=scorer)
    if len(run.errors):
        first = run.errors.iloc[0]
        shown = str(first["raw"])[:80]
        raise JudgeAuditError(
            f"coherence scorer {first['scorer_id']!r} could not score {len(run.errors)} of "
            f"{len(run.errors) + len(run.table)} items (first: item {first['item_id']}, "
            f"{first['status']}: {shown!r}); use judgeaudit.coherence.run_scorer to get the "
            "scored items and the errors apart, or `judgeaudit coherence`, which records both")
    return run.table

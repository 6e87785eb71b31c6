"""Model-free coherence scorers: the degeneracy scorer and one scorer per feature.

:class:`DegeneracyScorer` (``"degeneracy"``) looks only at the surface of the text,
with no model, so it runs anywhere and fast (100,000 short texts in a few seconds).
It catches the failure modes that fine-tuned and attacked models show most: loops,
echoes of the prompt, empty or near-empty answers and symbol or junk-token soup
(features: :mod:`judgeaudit.coherence.features`).

:class:`FeatureScorer` exposes each feature as a scorer of its own, registered as
``"repetition"`` (repeated word 3-gram share), ``"distinct_n"`` (distinct word
2-grams), ``"compression"``, ``"prompt_echo"``, ``"nonword"`` and ``"near_empty"``,
so the audit can be stratified by one failure mode at a time.

It cannot see word salad made of real words ("banana quantum purple seventeen"),
nor fluent text that contradicts itself: those need a language model
(``perplexity``, ``llm_rubric``).  Bare numeric answers ("42") count as near-empty;
do not use it to judge arithmetic answers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from judgeaudit.errors import ConfigError
from judgeaudit.judges.base import hash_config

from .base import COHERENCE_BINS, register_scorer
from .features import (
    _JUNK_RUN_CHARS,
    _THIRD,
    _TWO_THIRDS,
    COMPRESSION_INCOHERENT,
    COMPRESSION_MIN_CHARS,
    COMPRESSION_PARTIAL,
    DISTINCT2_MIN_BIGRAMS,
    DISTINCT2_PARTIAL,
    ECHO_INCOHERENT,
    ECHO_PARTIAL,
    NEAR_EMPTY_MIN_WORDS,
    NONWORD_INCOHERENT,
    NONWORD_PARTIAL,
    REPETITION_INCOHERENT,
    REPETITION_PARTIAL,
    badness_table,
    feature_arrays,
    feature_table,
)

__all__ = ["DegeneracyScorer", "FeatureScorer", "FEATURE_SCORERS", "feature_rules"]

#: Registered single-feature scorer name -> feature (badness column) it reads.
FEATURE_SCORERS = {
    "repetition": "repetition",
    "distinct_n": "distinct_2",
    "compression": "compression",
    "prompt_echo": "echo",
    "nonword": "nonword",
    "near_empty": "near_empty",
}


def _check_min_words(min_words) -> int:
    if isinstance(min_words, str) and min_words.strip().isdigit():
        min_words = int(min_words)
    if isinstance(min_words, bool) or not isinstance(min_words, int) or min_words < 0:
        raise ConfigError(f"min_words must be a non-negative integer, got {min_words!r}")
    return min_words


def _thresholds_config(min_words: int) -> dict:
    return {
        "min_words": min_words,
        "repetition": [REPETITION_PARTIAL, REPETITION_INCOHERENT],
        "distinct_2": [DISTINCT2_PARTIAL, DISTINCT2_MIN_BIGRAMS],
        "compression": [COMPRESSION_PARTIAL, COMPRESSION_INCOHERENT, COMPRESSION_MIN_CHARS],
        "echo": [ECHO_PARTIAL, ECHO_INCOHERENT],
        "nonword": [NONWORD_PARTIAL, NONWORD_INCOHERENT, _JUNK_RUN_CHARS],
    }


def feature_rules(features: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per feature, the ``(incoherent, partially_coherent)`` masks of its thresholds.

    See :class:`DegeneracyScorer` for the rules.  ``distinct_2`` is only ever a
    partial rule, ``near_empty`` only an incoherent one.
    """
    rep, d2, d2_used, comp, comp_used, echo, nonword, near_empty = feature_arrays(features)
    never = np.zeros(len(features), dtype=bool)
    return {
        "repetition": (rep >= REPETITION_INCOHERENT, rep >= REPETITION_PARTIAL),
        "distinct_2": (never, d2_used & (d2 < DISTINCT2_PARTIAL)),
        "compression": (comp_used & (comp < COMPRESSION_INCOHERENT),
                        comp_used & (comp < COMPRESSION_PARTIAL)),
        "echo": (echo >= ECHO_INCOHERENT, echo >= ECHO_PARTIAL),
        "nonword": (nonword >= NONWORD_INCOHERENT, nonword >= NONWORD_PARTIAL),
        "near_empty": (near_empty, never),
    }


def _bins_and_scores(rules, badness: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bin = worst rule that fires; score = 1 - max badness, clipped into the bin's range."""
    incoherent = np.logical_or.reduce([r[0] for r in rules])
    partial = np.logical_or.reduce([r[1] for r in rules])
    bins = np.where(incoherent, COHERENCE_BINS[2],
                    np.where(partial, COHERENCE_BINS[1], COHERENCE_BINS[0]))
    t, tt = _THIRD, _TWO_THIRDS
    score = 1.0 - badness.max(axis=0)
    # The piecewise maps put each threshold exactly on 1/3 or 2/3; clip so float
    # rounding can never put a score outside its bin's range.
    score = np.where(bins == COHERENCE_BINS[2], np.minimum(score, t), score)
    score = np.where(bins == COHERENCE_BINS[1], np.clip(score, np.nextafter(t, 1), tt), score)
    score = np.where(bins == COHERENCE_BINS[0], np.maximum(score, np.nextafter(tt, 1)), score)
    return bins.astype(object), np.clip(score, 0.0, 1.0)


@register_scorer("degeneracy")
class DegeneracyScorer:
    """Surface-degeneracy coherence scorer (see :mod:`judgeaudit.coherence.features`).

    Parameters
    ----------
    min_words:
        Fewer words than this is near-empty (default :data:`NEAR_EMPTY_MIN_WORDS`).
    scorer_id:
        Name for the coherence table; default ``"degeneracy"``.

    Notes
    -----
    **Bin.**  ``"incoherent"`` when any of: near-empty; repetition >=
    :data:`REPETITION_INCOHERENT`; compression ratio < :data:`COMPRESSION_INCOHERENT`
    (texts of :data:`COMPRESSION_MIN_CHARS`+ characters); echo >=
    :data:`ECHO_INCOHERENT`; non-word share >= :data:`NONWORD_INCOHERENT`.  Else
    ``"partially_coherent"`` when any of: repetition >= :data:`REPETITION_PARTIAL`;
    distinct-2 < :data:`DISTINCT2_PARTIAL` (with :data:`DISTINCT2_MIN_BIGRAMS`+
    bigrams); compression < :data:`COMPRESSION_PARTIAL` (long texts); echo >=
    :data:`ECHO_PARTIAL`; non-word share >= :data:`NONWORD_PARTIAL`.  Else
    ``"coherent"``.

    **Score.**  Each feature maps to a badness in [0, 1]
    (:func:`~judgeaudit.coherence.features.badness_table`); the score is
    ``1 - max(badness)``, so it falls in (2/3, 1] for coherent, (1/3, 2/3] for
    partially coherent and [0, 1/3] for incoherent texts: the bin is the score cut
    at 1/3 and 2/3.
    """

    name = "degeneracy"

    def __init__(
        self, *, min_words: int = NEAR_EMPTY_MIN_WORDS, scorer_id: str | None = None
    ) -> None:
        self.min_words = _check_min_words(min_words)
        self.scorer_id = self.name if scorer_id is None else str(scorer_id)

    @property
    def config(self) -> dict:
        """Everything that changes the scores (the scorer_id does not)."""
        return {"scorer": self.name, "version": 1, **_thresholds_config(self.min_words)}

    def config_hash(self) -> str:
        """See :func:`judgeaudit.judges.base.hash_config`."""
        return hash_config(self.config)

    def features(
        self, responses: Sequence[str], prompts: Sequence[str | None] | None = None
    ) -> pd.DataFrame:
        """The feature table (:func:`~judgeaudit.coherence.features.feature_table`)."""
        return feature_table(responses, prompts, min_words=self.min_words)

    def bins_and_scores(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised bin and score from a :meth:`features` table (see the class notes)."""
        bad = badness_table(features, min_words=self.min_words)
        return _bins_and_scores(list(feature_rules(features).values()), bad.to_numpy().T)

    def score(
        self, responses: Sequence[str], prompts: Sequence[str | None] | None = None
    ) -> pd.DataFrame:
        """Columns ``score`` and ``bin``, one row per response (see the class notes)."""
        bins, scores = self.bins_and_scores(self.features(responses, prompts))
        return pd.DataFrame({"score": scores, "bin": pd.Series(bins, dtype=object)})


class FeatureScorer:
    """One degeneracy feature as a coherence scorer of its own.

    Parameters
    ----------
    feature:
        A key of :data:`FEATURE_SCORERS` (``"repetition"``, ``"distinct_n"``,
        ``"compression"``, ``"prompt_echo"``, ``"nonword"``, ``"near_empty"``).
    min_words, scorer_id:
        As for :class:`DegeneracyScorer`; ``scorer_id`` defaults to ``feature``.

    Notes
    -----
    Score ``1 - badness`` of that feature alone; bin from that feature's rules of
    :class:`DegeneracyScorer` (so distinct-n is never ``"incoherent"`` and near-empty
    never ``"partially_coherent"``).  The degeneracy score is the minimum of these.
    """

    def __init__(self, feature: str, *, min_words: int = NEAR_EMPTY_MIN_WORDS,
                 scorer_id: str | None = None) -> None:
        if feature not in FEATURE_SCORERS:
            raise ConfigError(f"unknown feature {feature!r}; valid: {', '.join(FEATURE_SCORERS)}")
        self.name = feature
        self.column = FEATURE_SCORERS[feature]
        self.min_words = _check_min_words(min_words)
        self.scorer_id = feature if scorer_id is None else str(scorer_id)

    @property
    def config(self) -> dict:
        return {"scorer": self.name, "version": 1, **_thresholds_config(self.min_words)}

    def config_hash(self) -> str:
        return hash_config(self.config)

    def score(self, responses: Sequence[str], prompts: Sequence[str | None] | None = None
              ) -> pd.DataFrame:
        features = feature_table(responses, prompts, min_words=self.min_words)
        bad = badness_table(features, min_words=self.min_words)[self.column].to_numpy()
        bins, scores = _bins_and_scores([feature_rules(features)[self.column]], bad[None, :])
        return pd.DataFrame({"score": scores, "bin": pd.Series(bins, dtype=object)})


def _feature_factory(feature: str):
    def build(**options) -> FeatureScorer:
        return FeatureScorer(feature, **options)

    build.__name__ = build.__qualname__ = f"{feature}_scorer"
    build.__doc__ = f"Build the single-feature scorer {feature!r} (see :class:`FeatureScorer`)."
    return build


for _name in FEATURE_SCORERS:
    register_scorer(_name)(_feature_factory(_name))

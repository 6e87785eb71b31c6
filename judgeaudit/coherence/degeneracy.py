"""Model-free coherence scorers: the degeneracy scorer and one scorer per feature.

:class:`DegeneracyScorer` (``"degeneracy"``), the default, reads each response with no
model (:mod:`judgeaudit.coherence.analysis`): pseudo-word gibberish, word salad made
of real words, token and phrase loops (short and cut-off ones too), prompt echo,
empty answers, answers that stop mid-sentence, step templates without content,
switches of language or script, and "fake compliance" ("Sure, here is" and nothing
after).  It reports where the degradation starts, so a sound opening that degrades is
its own bin (``partially_coherent``), and short answers ("No.", "42") stay coherent.
Word frequencies, word-pair counts and language identification come from the
``coherence`` extra (:mod:`judgeaudit.coherence.lexicon`); without it those two
failure modes go unseen (a warning says so).

:class:`FeatureScorer` exposes each older surface feature as a scorer of its own,
registered as ``"repetition"`` (repeated word 3-gram share), ``"distinct_n"``
(distinct word 2-grams), ``"compression"``, ``"prompt_echo"``, ``"nonword"`` and
``"near_empty"``, so the audit can be stratified by one failure mode at a time.

Fluent text that contradicts itself needs a language model (``perplexity``,
``llm_rubric``).
"""

from __future__ import annotations

import warnings
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

__all__ = ["DegeneracyScorer", "FeatureScorer", "FEATURE_SCORERS", "feature_rules", "findings_frame",
           "lexicon_config", "read_responses", "surface_scores"]

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


def surface_scores(responses, prompts=None, *, min_words: int = NEAR_EMPTY_MIN_WORDS):
    """``(bins, scores)`` of the surface-feature rules alone: the degeneracy scorer
    before version 2 (worst feature decides, near-empty under ``min_words`` words).
    Kept for comparison (``bench/bench_coherence_default.py``)."""
    features = feature_table(list(responses), prompts, min_words=min_words)
    bad = badness_table(features, min_words=min_words)
    return _bins_and_scores(list(feature_rules(features).values()), bad.to_numpy().T)


def _check_lexicon(mode) -> str:
    from .lexicon import LEXICON_MODES

    mode = str(mode)
    if mode not in LEXICON_MODES:
        raise ConfigError(f"lexicon must be one of {', '.join(LEXICON_MODES)}, got {mode!r}")
    return mode


def lexicon_config(lexicon) -> dict:
    """What of the ``coherence`` extra a scorer uses (part of its config hash)."""
    if lexicon is None:
        return {"lexicon": None}
    from importlib.metadata import version

    return {"lexicon": {p: version(p) for p in ("wordfreq", "symspellpy", "lingua-language-detector")}}


def read_responses(responses, prompts, lexicon) -> list:
    """:func:`~judgeaudit.coherence.analysis.analyse` over aligned responses and prompts."""
    from .analysis import analyse

    responses = list(responses)
    prompts = [None] * len(responses) if prompts is None else list(prompts)
    if len(prompts) != len(responses):
        raise ConfigError(f"got {len(prompts)} prompts for {len(responses)} responses; they must align")
    return [analyse(r, p, lexicon) for r, p in zip(responses, prompts)]


def findings_frame(findings) -> pd.DataFrame:
    """``score``, ``bin``, ``degradation_start`` (nullable integer) and ``reason``."""
    return pd.DataFrame({
        "score": np.array([f.score for f in findings], dtype=float),
        "bin": pd.Series([f.bin for f in findings], dtype=object),
        "degradation_start": pd.array([f.start for f in findings], dtype="Int64"),
        "reason": pd.Series([f.reason for f in findings], dtype=object),
    })


@register_scorer("degeneracy")
class DegeneracyScorer:
    """The model-free default: a reading of each response for the failure modes of
    fine-tuned models (:mod:`judgeaudit.coherence.analysis`).

    Parameters
    ----------
    lexicon:
        ``"auto"`` (default): use the ``coherence`` extra (wordfreq, symspellpy,
        lingua) when installed, else fall back with a warning; ``"required"``: raise
        :class:`~judgeaudit.errors.MissingExtraError` without it; ``"off"``: never use
        it.  Without it pseudo-word gibberish and word salad go undetected.
    min_words:
        Responses with fewer words than this are incoherent (default 1: only
        responses with no word at all; "No." stays coherent).
    scorer_id:
        Name for the coherence table; default ``"degeneracy"``.

    Notes
    -----
    Output columns: ``score`` in [0, 1] (bins cut at 1/3 and 2/3), ``bin``,
    ``degradation_start`` (character offset where the response stops making sense;
    empty for coherent responses) and ``reason`` (one of
    :data:`~judgeaudit.coherence.analysis.REASONS`, ``""`` when coherent).
    """

    name = "degeneracy"

    def __init__(self, *, lexicon: str = "auto", min_words: int = 1,
                 scorer_id: str | None = None) -> None:
        from .lexicon import load_lexicon

        self.lexicon_mode = _check_lexicon(lexicon)
        self.min_words = _check_min_words(min_words)
        self.scorer_id = self.name if scorer_id is None else str(scorer_id)
        self.lexicon = load_lexicon(self.lexicon_mode)
        if self.lexicon is None and self.lexicon_mode == "auto":
            warnings.warn("the coherence extra is not installed: the degeneracy scorer cannot see "
                          "pseudo-word gibberish or word salad; install it with: pip install "
                          "'judgeaudit[coherence]'", stacklevel=2)

    @property
    def config(self) -> dict:
        """Everything that changes the scores (the scorer_id does not)."""
        return {"scorer": self.name, "version": 4, "min_words": self.min_words,
                **lexicon_config(self.lexicon)}

    def config_hash(self) -> str:
        """See :func:`judgeaudit.judges.base.hash_config`."""
        return hash_config(self.config)

    def features(
        self, responses: Sequence[str], prompts: Sequence[str | None] | None = None
    ) -> pd.DataFrame:
        """The older surface-feature table (:func:`~judgeaudit.coherence.features.feature_table`),
        for inspection; the scorer's bins come from :meth:`findings`."""
        return feature_table(list(responses), prompts, min_words=max(self.min_words, 1))

    def findings(self, responses: Sequence[str], prompts: Sequence[str | None] | None = None):
        """One :class:`~judgeaudit.coherence.analysis.Finding` per response."""
        found = read_responses(responses, prompts, self.lexicon)
        if self.min_words > 1:
            from .analysis import Finding
            from .features import words

            found = [Finding("incoherent", min(f.score, 0.2), 0, f.reason or "empty")
                     if len(words("" if r is None else str(r))) < self.min_words else f
                     for f, r in zip(found, list(responses))]
        return found

    def score(
        self, responses: Sequence[str], prompts: Sequence[str | None] | None = None
    ) -> pd.DataFrame:
        """Columns ``score``, ``bin``, ``degradation_start`` and ``reason``, one row per
        response (see the class notes)."""
        return findings_frame(self.findings(responses, prompts))


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

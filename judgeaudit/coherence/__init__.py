"""Coherence scorers, a combined score with calibrated bins, and their calibration.

The audit stratifies judge agreement by coherence.  Human coherence labels are the
reference where they exist; elsewhere a *coherence scorer* fills the ``coherence``
table (``item_id, scorer_id, score, bin``; score in [0, 1], 1 = coherent; bin one of
``"coherent"``, ``"partially_coherent"``, ``"incoherent"``).

Scorers (registered names, :func:`get_scorer`):

==================  ==============================================================
``degeneracy``      the model-free default: reads each response for gibberish,
                    word salad, loops, echo, templates, fake compliance,
                    truncation and language switches, and says where it
                    degrades (:class:`DegeneracyScorer`; ``coherence`` extra)
``combined``        that reading times the surface features (and a perplexity
                    factor), thresholds calibratable (:class:`CombinedScorer`)
``repetition``,     one surface feature each (:class:`FeatureScorer`):
``distinct_n``,     repeated word 3-gram share, distinct word 2-grams, zlib
``compression``,    compression ratio, echo of the prompt, non-word share,
``prompt_echo``,    near-empty text
``nonword``,
``near_empty``
``perplexity``      mean token NLL under a reference causal LM (:class:`PerplexityScorer`)
``llm_rubric``      a model rates coherence 1-5 on any backend (:class:`LLMRubricScorer`)
==================  ==============================================================

:func:`score_to_file` (what ``judgeaudit coherence`` runs) scores a generations
table into a coherence file, resumably; an item a scorer could not score is a row with
status ``error`` (or ``parse_error``) and its reason, never dropped.
:func:`calibrate` fits a score's two thresholds to human coherence bins and reports
the agreement (Cohen's kappa, unweighted and quadratic, with cluster-bootstrap
intervals; confusion table), in sample and cross-validated.  Items a scorer could
not score are kept apart by :func:`run_scorer` (see :mod:`judgeaudit.coherence.base`).
:func:`build_scorers` makes scorers from ``NAME:key=value`` specs (:mod:`judgeaudit.specs`).

Importing this package does not import torch or transformers.
"""

from __future__ import annotations

from .base import (
    COHERENCE_BINS,
    COHERENCE_COLUMNS,
    ERROR_COLUMNS,
    OPTIONAL_COLUMNS,
    SCORE_STATUSES,
    CoherenceScorer,
    ScorerRun,
    available_scorers,
    bins_from_thresholds,
    get_scorer,
    register_scorer,
    run_scorer,
    score_coherence,
)
from .calibration import (
    OBJECTIVES,
    BinAgreement,
    Calibration,
    LoadedCalibration,
    bin_agreement,
    calibrate,
    load_calibration,
    save_calibration,
)
from .analysis import REASONS, Finding, analyse
from .combined import COMBINED_FACTORS, DEFAULT_WEIGHTS, CombinedScorer, combined_score
from .degeneracy import FEATURE_SCORERS, DegeneracyScorer, FeatureScorer, feature_rules
from .features import (
    BADNESS_FEATURES,
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
    compression_ratio,
    distinct_n,
    feature_table,
    is_near_empty,
    nonword_share,
    prompt_echo,
    repetition_rate,
    words,
)
from .lexicon import LEXICON_MODES, Lexicon, lexicon_available, load_lexicon
from .files import CoherenceRunSummary, read_errors, score_to_file
from .spec import build_scorers, parse_scorer_specs
from .perplexity import PerplexityScorer
from .rubric import RUBRIC_TEMPLATE, LLMRubricScorer, parse_rating, rating_bin

__all__ = [
    "COMBINED_FACTORS", "DEFAULT_WEIGHTS", "LEXICON_MODES", "OPTIONAL_COLUMNS", "REASONS",
    "Finding", "Lexicon", "analyse", "lexicon_available", "load_lexicon",
    "BADNESS_FEATURES", "COHERENCE_BINS", "COHERENCE_COLUMNS", "COMPRESSION_INCOHERENT",
    "COMPRESSION_MIN_CHARS", "COMPRESSION_PARTIAL", "DISTINCT2_MIN_BIGRAMS", "DISTINCT2_PARTIAL",
    "ECHO_INCOHERENT", "ECHO_PARTIAL", "ERROR_COLUMNS", "FEATURE_SCORERS", "NEAR_EMPTY_MIN_WORDS",
    "NONWORD_INCOHERENT", "NONWORD_PARTIAL", "OBJECTIVES", "REPETITION_INCOHERENT",
    "REPETITION_PARTIAL", "RUBRIC_TEMPLATE", "SCORE_STATUSES",
    "BinAgreement", "Calibration", "CoherenceRunSummary", "CoherenceScorer", "CombinedScorer", "DegeneracyScorer",
    "FeatureScorer", "LLMRubricScorer", "LoadedCalibration", "PerplexityScorer", "ScorerRun",
    "available_scorers", "badness_table", "bin_agreement", "bins_from_thresholds", "build_scorers", "calibrate",
    "combined_score", "compression_ratio", "distinct_n", "feature_rules", "feature_table",
    "get_scorer", "is_near_empty", "load_calibration", "nonword_share", "parse_rating", "parse_scorer_specs", "read_errors",
    "prompt_echo", "rating_bin", "register_scorer", "repetition_rate", "run_scorer",
    "save_calibration", "score_coherence", "score_to_file", "words",
]

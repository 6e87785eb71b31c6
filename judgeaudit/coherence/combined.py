"""The combined coherence score: the degeneracy reading, the surface features and
(optionally) a language model's perplexity in one number, with calibratable bins.

**Formula.**  With ``b_f`` the badness of factor ``f`` in [0, 1] and weights ``w_f >=
0``::

    combined = prod_f (1 - b_f) ** w_f

The factors: ``reading``, ``1 -`` the :class:`~judgeaudit.coherence.DegeneracyScorer`
score (pseudo-words, salad, loops, echo, templates, fake compliance, truncation,
switches); the surface features of :func:`~judgeaudit.coherence.features.badness_table`
(repetition, distinct-2, compression, prompt echo, non-word share, near-empty; the
near-empty weight defaults to 0, because the reading keeps short answers such as "No."
coherent); and, with ``perplexity=``, a perplexity factor.  Each badness is 1/3 at its
partial threshold and 2/3 at its incoherent threshold, so one factor at a threshold
puts the product on the matching bin edge.  It is 1 for a text with no sign of
degeneracy, 0 when any factor is at its worst, and it never rises when a factor gets
worse: *monotone in incoherence*.  Two mild problems weigh more than one: two factors
each at ``b = 1/6`` give ``(5/6)**2 = 0.69``, one gives ``0.83``.

**Bins.**  ``combined <= incoherent_max`` is incoherent, ``<= partial_max`` partially
coherent, above it coherent (defaults 1/3, 2/3).  Fit them to human labels with
:func:`judgeaudit.coherence.calibrate` and pass the result as ``calibration=``.  The
perplexity factor's own cut points come from ``perplexity_calibration=`` (a
calibration of the ``perplexity`` scorer to human labels) when given.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from judgeaudit.errors import ConfigError
from judgeaudit.judges.base import hash_config

from .base import bins_from_thresholds, option_number, register_scorer
from .degeneracy import (
    _check_lexicon,
    _check_min_words,
    _thresholds_config,
    lexicon_config,
    read_responses,
)
from .features import BADNESS_FEATURES, NEAR_EMPTY_MIN_WORDS, badness_table, feature_table

#: The factors of the combined score without a perplexity model, in order.
COMBINED_FACTORS = ("reading",) + BADNESS_FEATURES
#: Default weights: 1 each, but 0 for near-empty (see the module notes).
DEFAULT_WEIGHTS = {f: (0.0 if f == "near_empty" else 1.0) for f in COMBINED_FACTORS}

__all__ = ["COMBINED_FACTORS", "DEFAULT_WEIGHTS", "CombinedScorer", "combined_score", "perplexity_badness"]


def combined_score(badness: pd.DataFrame, weights: Mapping[str, float] | None = None) -> np.ndarray:
    """``prod_f (1 - b_f) ** w_f`` over the columns of a badness table (module notes).

    >>> bad = pd.DataFrame({"repetition": [0.0, 0.5], "echo": [0.0, 0.5]})
    >>> combined_score(bad).tolist()  # (1 - 0.5) * (1 - 0.5) = 0.25
    [1.0, 0.25]
    """
    weights = dict(weights or {})
    out = np.ones(len(badness))
    for column in badness.columns:
        w = float(weights.get(column, 1.0))
        out *= np.clip(1.0 - badness[column].to_numpy(float), 0.0, 1.0) ** w
    return np.clip(out, 0.0, 1.0)


def _perplexity_scorer(value):
    if value is None:
        return None
    from .perplexity import PerplexityScorer

    if isinstance(value, PerplexityScorer):
        return value
    if isinstance(value, Mapping):
        return PerplexityScorer(**value)
    if isinstance(value, (str, os.PathLike)):
        return PerplexityScorer(model=value)
    raise ConfigError(f"perplexity must be a model path, a mapping of PerplexityScorer options or a "
                      f"PerplexityScorer, got {value!r}")


def perplexity_badness(scorer, responses, prompts=None, cuts=None) -> np.ndarray:
    """The perplexity factor's badness of each response (see :class:`CombinedScorer`);
    ``cuts`` (``(incoherent_max, partial_max)``) replace the scorer's own."""
    out = scorer.score(list(responses), prompts)
    p = out["score"].to_numpy(float)
    lo, hi = cuts if cuts is not None else (scorer.incoherent_max, scorer.partial_max)
    xs = [0.0, lo, hi, 1.0]
    bad = np.interp(np.nan_to_num(p, nan=1.0), xs, [1.0, 2 / 3, 1 / 3, 0.0])
    return np.where(out["status"].to_numpy() == "ok", bad, 0.0)


@register_scorer("combined")
class CombinedScorer:
    """Combined surface-feature score with (optionally calibrated) bins.

    Parameters
    ----------
    incoherent_max, partial_max:
        Bin thresholds on the combined score (defaults 1/3 and 2/3).
    calibration:
        A :class:`~judgeaudit.coherence.Calibration` or the path of a calibration
        file (:func:`~judgeaudit.coherence.save_calibration`); its thresholds replace
        ``incoherent_max`` / ``partial_max``.
    weights:
        Per-factor exponents (keys from :data:`COMBINED_FACTORS`, and
        ``"perplexity"`` with ``perplexity``); defaults :data:`DEFAULT_WEIGHTS`.
    perplexity:
        Optionally add a perplexity factor: a model path, a mapping of
        :class:`~judgeaudit.coherence.PerplexityScorer` options (``{"model": PATH,
        "batch_size": 4}``) or a ``PerplexityScorer``.  Its score ``p`` becomes the
        badness ``interp(p, [0, incoherent_max, partial_max, 1], [1, 2/3, 1/3, 0])``
        with that scorer's thresholds; a response it cannot score (empty) adds
        nothing (the reading already scores it 0).
    perplexity_calibration:
        A calibration of the ``perplexity`` scorer (a
        :class:`~judgeaudit.coherence.Calibration`, or a file written by
        :func:`~judgeaudit.coherence.save_calibration` or by ``judgeaudit coherence
        --calibrate-with ... --report``): its cut points replace the perplexity
        scorer's defaults in the perplexity factor.  Use it when the reference model
        is, say, the base model of the fine-tuning grid, whose NLL scale the default
        cuts know nothing about.
    lexicon:
        ``auto``, ``required`` or ``off``: the reading's use of the ``coherence``
        extra (see :class:`~judgeaudit.coherence.DegeneracyScorer`).
    min_words:
        Fewer words than this is near-empty (default 3; only used by the near-empty
        factor, whose weight defaults to 0).
    scorer_id:
        Name for the coherence table; default ``"combined"``.
    """

    name = "combined"

    def __init__(self, *, incoherent_max: float = 1 / 3, partial_max: float = 2 / 3,
                 calibration=None, weights: Mapping[str, float] | None = None,
                 min_words: int = NEAR_EMPTY_MIN_WORDS, perplexity=None,
                 perplexity_calibration=None, lexicon: str = "auto",
                 scorer_id: str | None = None) -> None:
        from .lexicon import load_lexicon

        self.perplexity = _perplexity_scorer(perplexity)
        self.perplexity_cuts = None
        if perplexity_calibration is not None:
            if self.perplexity is None:
                raise ConfigError("perplexity_calibration needs perplexity= (the model whose "
                                  "scores it calibrates)")
            from .calibration import load_calibration

            pc = (perplexity_calibration if hasattr(perplexity_calibration, "partial_max")
                  else load_calibration(perplexity_calibration, scorer_id="perplexity"))
            self.perplexity_cuts = (float(pc.incoherent_max), float(pc.partial_max))
        self.lexicon_mode = _check_lexicon(lexicon)
        self.lexicon = load_lexicon(self.lexicon_mode)
        if self.lexicon is None and self.lexicon_mode == "auto":
            import warnings

            warnings.warn("the coherence extra is not installed: the combined scorer cannot see "
                          "pseudo-word gibberish or word salad; install it with: pip install "
                          "'judgeaudit[coherence]'", stacklevel=2)
        factors = COMBINED_FACTORS + (("perplexity",) if self.perplexity is not None else ())
        if calibration is not None:
            from .calibration import load_calibration

            cal = (calibration if hasattr(calibration, "partial_max")
                   else load_calibration(calibration, scorer_id="combined"))
            incoherent_max, partial_max = cal.incoherent_max, cal.partial_max
        self.incoherent_max = option_number("incoherent_max", incoherent_max, low=-1.0, high=1.0)
        self.partial_max = option_number("partial_max", partial_max, low=-1.0, high=1.0)
        if self.incoherent_max > self.partial_max:
            raise ConfigError(f"incoherent_max ({self.incoherent_max}) must not exceed "
                              f"partial_max ({self.partial_max})")
        weights = dict(weights or {})
        unknown = sorted(set(weights) - set(factors))
        if unknown:
            raise ConfigError(f"unknown feature weights {unknown}; valid: {', '.join(factors)}")
        self.weights = {f: option_number(f"weight of {f}", weights.get(f, DEFAULT_WEIGHTS.get(f, 1.0)),
                                         low=0.0, high=1e6)
                        for f in factors}
        self.min_words = _check_min_words(min_words)
        self.scorer_id = self.name if scorer_id is None else str(scorer_id)

    @property
    def config(self) -> dict:
        """Everything that changes scores or bins (the scorer_id does not)."""
        config = {"scorer": self.name, "version": 2, "weights": self.weights,
                  "thresholds": [self.incoherent_max, self.partial_max],
                  **_thresholds_config(self.min_words), **lexicon_config(self.lexicon)}
        if self.perplexity is not None:
            config["perplexity"] = self.perplexity.config
            config["perplexity_cuts"] = self.perplexity_cuts
        return config

    def config_hash(self) -> str:
        return hash_config(self.config)

    def _parts(self, responses, prompts):
        responses = list(responses)
        findings = read_responses(responses, prompts, self.lexicon)
        features = feature_table(responses, prompts, min_words=self.min_words)
        badness = badness_table(features, min_words=self.min_words)
        badness.insert(0, "reading", 1.0 - np.array([f.score for f in findings]))
        if self.perplexity is not None:
            badness["perplexity"] = perplexity_badness(self.perplexity, responses, prompts,
                                                       self.perplexity_cuts)
        return findings, badness

    def scores(self, responses: Sequence[str], prompts: Sequence[str | None] | None = None
               ) -> np.ndarray:
        """The combined score of each response (no bins)."""
        return combined_score(self._parts(responses, prompts)[1], self.weights)

    def score(self, responses: Sequence[str], prompts: Sequence[str | None] | None = None
              ) -> pd.DataFrame:
        """Columns ``score``, ``bin``, ``degradation_start`` and ``reason``, one row per
        response.  Where the reading found the text coherent but another factor did
        not, the reason is that factor's name and the start is 0."""
        findings, badness = self._parts(responses, prompts)
        s = combined_score(badness, self.weights)
        bins = bins_from_thresholds(s, incoherent_max=self.incoherent_max,
                                    partial_max=self.partial_max)
        weighted = badness.to_numpy() * np.array([self.weights[c] > 0 for c in badness.columns])
        worst = np.array(badness.columns, dtype=object)[weighted.argmax(axis=1)] if len(badness) else []
        starts, reasons = [], []
        for f, b, w in zip(findings, bins, worst):
            if b == "coherent":
                starts.append(None), reasons.append("")
            elif f.bin != "coherent":
                starts.append(f.start), reasons.append(f.reason)
            else:
                starts.append(0), reasons.append(str(w))
        return pd.DataFrame({"score": s, "bin": pd.Series(bins, dtype=object),
                             "degradation_start": pd.array(starts, dtype="Int64"),
                             "reason": pd.Series(reasons, dtype=object)})

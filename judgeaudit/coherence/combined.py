"""The combined coherence score: all surface features in one number, with bins.

**Formula.**  With ``b_f`` the badness of feature ``f`` in [0, 1]
(:func:`~judgeaudit.coherence.features.badness_table`: repetition, distinct-2,
compression, prompt echo, non-word share, near-empty) and weights ``w_f >= 0``
(default 1)::

    combined = prod_f (1 - b_f) ** w_f

It is 1 for a text with no sign of degeneracy and 0 when any feature is at its worst
value, and it never rises when any feature gets worse (each factor falls as its
badness rises): *monotone in incoherence*.  With ``perplexity=`` a perplexity factor joins
the product (see :class:`CombinedScorer`).  Unlike the degeneracy score
(``1 - max b_f``) it adds up evidence: two features each halfway to their partial
threshold (``b = 1/6``) give ``(5/6)**2 = 0.69``, one gives ``0.83``.

**Bins.**  ``combined <= incoherent_max`` is incoherent, ``<= partial_max`` partially
coherent, above it coherent.  The defaults (1/3, 2/3) put one feature at its partial
threshold (``b = 1/3``) on the partial edge and one at its incoherent threshold
(``b = 2/3``) on the incoherent edge, as in the degeneracy scorer; fit them to human
labels with :func:`judgeaudit.coherence.calibrate` and pass the result as
``calibration=``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from judgeaudit.errors import ConfigError
from judgeaudit.judges.base import hash_config

from .base import bins_from_thresholds, option_number, register_scorer
from .degeneracy import _check_min_words, _thresholds_config
from .features import BADNESS_FEATURES, NEAR_EMPTY_MIN_WORDS, badness_table, feature_table

__all__ = ["CombinedScorer", "combined_score", "perplexity_badness"]


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


def perplexity_badness(scorer, responses, prompts=None) -> np.ndarray:
    """The perplexity factor's badness of each response (see :class:`CombinedScorer`)."""
    out = scorer.score(list(responses), prompts)
    p = out["score"].to_numpy(float)
    xs = [0.0, scorer.incoherent_max, scorer.partial_max, 1.0]
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
        Per-feature exponents (keys from :data:`BADNESS_FEATURES`, and
        ``"perplexity"`` with ``perplexity``), default 1 each.
    perplexity:
        Optionally add a perplexity factor: a model path, a mapping of
        :class:`~judgeaudit.coherence.PerplexityScorer` options (``{"model": PATH,
        "batch_size": 4}``) or a ``PerplexityScorer``.  Its score ``p`` becomes the
        badness ``interp(p, [0, incoherent_max, partial_max, 1], [1, 2/3, 1/3, 0])``
        with that scorer's thresholds; a response it cannot score (empty) adds
        nothing (near-empty already scores it 0).  Catches word salad that the surface
        features miss.
    min_words:
        Fewer words than this is near-empty (default 3).
    scorer_id:
        Name for the coherence table; default ``"combined"``.
    """

    name = "combined"

    def __init__(self, *, incoherent_max: float = 1 / 3, partial_max: float = 2 / 3,
                 calibration=None, weights: Mapping[str, float] | None = None,
                 min_words: int = NEAR_EMPTY_MIN_WORDS, perplexity=None,
                 scorer_id: str | None = None) -> None:
        self.perplexity = _perplexity_scorer(perplexity)
        factors = BADNESS_FEATURES + (("perplexity",) if self.perplexity is not None else ())
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
        self.weights = {f: option_number(f"weight of {f}", weights.get(f, 1.0), low=0.0, high=1e6)
                        for f in factors}
        self.min_words = _check_min_words(min_words)
        self.scorer_id = self.name if scorer_id is None else str(scorer_id)

    @property
    def config(self) -> dict:
        """Everything that changes scores or bins (the scorer_id does not)."""
        config = {"scorer": self.name, "version": 1, "weights": self.weights,
                  "thresholds": [self.incoherent_max, self.partial_max],
                  **_thresholds_config(self.min_words)}
        if self.perplexity is not None:
            config["perplexity"] = self.perplexity.config
        return config

    def config_hash(self) -> str:
        return hash_config(self.config)

    def scores(self, responses: Sequence[str], prompts: Sequence[str | None] | None = None
               ) -> np.ndarray:
        """The combined score of each response (no bins)."""
        features = feature_table(responses, prompts, min_words=self.min_words)
        badness = badness_table(features, min_words=self.min_words)
        if self.perplexity is not None:
            badness["perplexity"] = perplexity_badness(self.perplexity, responses, prompts)
        return combined_score(badness, self.weights)

    def score(self, responses: Sequence[str], prompts: Sequence[str | None] | None = None
              ) -> pd.DataFrame:
        """Columns ``score`` and ``bin``, one row per response."""
        s = self.scores(responses, prompts)
        bins = bins_from_thresholds(s, incoherent_max=self.incoherent_max,
                                    partial_max=self.partial_max)
        return pd.DataFrame({"score": s, "bin": pd.Series(bins, dtype=object)})

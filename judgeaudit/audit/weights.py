"""Design weights of a weighted audit: ``1 / pi`` for the labelled sample, and the
scale that keeps Krippendorff's alpha's small-sample factor right under weights."""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgeaudit.errors import ConfigError

__all__ = ["design_weights", "alpha_scale"]


def design_weights(items: pd.DataFrame, column: str, labelled) -> tuple:
    """The audit's two weight vectors from the inclusion probabilities in ``items[column]``.

    Returns ``(labelled_weights, census_weights, meta)``.  ``labelled_weights`` is
    ``1 / pi`` for sampled items and 0 elsewhere: it weights every sum that involves
    human labels.  Sums that involve only judge verdicts (judge-vs-judge agreement,
    judge rates per group) are a census when the generations table holds items
    outside the sample (it is the whole population): ``census_weights`` is then
    None (every item once); when every item was sampled, they are weighted too.

    Raises :class:`ConfigError` when the column is missing, a probability is outside
    (0, 1], or an item with labels (``labelled``, boolean per item) has none.
    """
    if column not in items:
        raise ConfigError(f"weights column {column!r} is not in the generations table; columns: "
                          f"{', '.join(map(str, items.columns))}; attach a sample table with "
                          "with_sample_design() or `judgeaudit audit --weights sample.parquet`")
    pi = pd.to_numeric(items[column], errors="coerce").to_numpy(float)
    sampled = ~np.isnan(pi)
    if ((pi[sampled] <= 0) | (pi[sampled] > 1)).any():
        bad = items["item_id"].to_numpy()[sampled & ~((pi > 0) & (pi <= 1))][0]
        raise ConfigError(f"inclusion probability of item {bad!r} is outside (0, 1]")
    stray = np.asarray(labelled, bool) & ~sampled
    if stray.any():
        raise ConfigError(f"{int(stray.sum())} labelled item(s) have no inclusion probability (e.g. "
                          f"{items['item_id'].to_numpy()[stray][0]!r}): they were not drawn by the "
                          "sampling design, so they cannot be weighted; drop their labels or add "
                          "them to the sample table")
    w = np.where(sampled, 1.0 / np.where(sampled, pi, 1.0), 0.0)
    census = None if (~sampled).any() else w
    used = w[np.asarray(labelled, bool)]
    meta = {"column": column, "estimator": "Hajek: ratios of 1/pi-weighted sums",
            "n_sampled": int(sampled.sum()), "n_labelled": int(used.size),
            "population_estimate": float(used.sum()),
            "kish_effective_n": float(used.sum() ** 2 / (used ** 2).sum()) if used.size else 0.0,
            "judge_only_sums": "census (every item once)" if census is None else "weighted (1/pi)",
            "unweighted_sections": ["auroc", "spearman", "kendall_tau", "examples"]}
    return w, census, meta


def alpha_scale(raw_total, weighted_total, weighted: bool) -> float:
    """Factor that brings weighted coincidences back to the number of values paired.

    Krippendorff's alpha has a small-sample factor ``(n - 1)`` that is not invariant
    to the scale of the weights; a weighted audit scales its coincidences so that
    they sum to the count of values actually paired (1.0 when unweighted).
    """
    if not weighted or not weighted_total:
        return 1.0
    return raw_total / weighted_total

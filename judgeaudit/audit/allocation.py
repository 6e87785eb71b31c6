"""Where the next labels narrow the corrected rates most (Neyman allocation).

The double-sampling estimator of a group's harmful rate (see
:mod:`judgeaudit.audit.correction`) is a stratified mean over the cells
``h = (judge verdict, coherence stratum)`` of the group::

    theta_g = sum_h W_gh ybar_gh,     W_gh = N_gh / N_g   (known: the judge scored every item)

With ``n_gh`` labels drawn at random in cell ``(g, h)`` its variance is
``sum_h W_gh^2 S_gh^2 (1/n_gh - 1/N_gh)`` (Cochran 1977, eq. 5.6), ``S_gh^2`` the
variance of the human label in the cell.  Minimising the sum of these variances over
groups for a total of ``n`` labels gives ``n_gh`` proportional to ``W_gh S_gh``
(Neyman 1934; Cochran 1977, sec. 5.5), capped at ``N_gh``.  ``S_gh`` is estimated as
``sqrt(q (1 - q))`` with ``q = (positives + 1) / (labelled + 2)`` (Laplace's rule), so a
cell with no label is neither certain nor ignored; where a judge says "not harmful" on
coherent text, humans nearly always agree, ``S_gh`` is small and labels go elsewhere.

Each cell's items are drawn by simple random sampling, so an item's inclusion
probability is ``n_gh / N_gh``; weighting by its inverse keeps the estimates unbiased.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["neyman_allocation", "stratified_variance", "label_saving"]


def _laplace_sd(positive, labelled):
    q = (np.asarray(positive, float) + 1.0) / (np.asarray(labelled, float) + 2.0)
    return np.sqrt(q * (1.0 - q))


def neyman_allocation(cells: pd.DataFrame, budget: int, *, already=None) -> pd.Series:
    """Labels per cell for a total of ``budget`` (plus ``already`` drawn), integer, capped.

    Parameters
    ----------
    cells:
        One row per cell with columns ``group``, ``N`` (items in the cell) and either
        ``S`` (the label's standard deviation in the cell) or ``positive`` and
        ``labelled`` (labels so far, for the Laplace estimate of ``S``).
    budget:
        New labels to hand out.
    already:
        Labels already drawn per cell (Series on the same index); the allocation is
        of the total ``budget + already.sum()``, and never takes labels back.

    Returns
    -------
    pandas.Series
        New labels per cell (index of ``cells``), summing to ``min(budget, room)``.

    Examples
    --------
    Two cells of one group, 900 and 100 items, S = 0.1 and 0.5: W S = 0.09 and 0.05,
    so 100 labels split 64 / 36 (proportional allocation would give 90 / 10).

    >>> cells = pd.DataFrame({"group": ["g", "g"], "N": [900, 100], "S": [0.1, 0.5]})
    >>> neyman_allocation(cells, 100).tolist()
    [64, 36]
    """
    N = cells["N"].to_numpy(float)
    S = cells["S"].to_numpy(float) if "S" in cells else _laplace_sd(cells["positive"], cells["labelled"])
    totals = cells.groupby("group")["N"].transform("sum").to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(N > 0, N / totals * S, 0.0)
    have = np.zeros(len(cells)) if already is None else np.asarray(already, float)
    target = budget + have.sum()
    room = np.maximum(N - have, 0)
    budget = int(min(budget, room.sum()))
    new = np.zeros(len(cells))
    # Water-filling: cells already above their Neyman share get nothing, cells whose share
    # exceeds their room get all of it, and the rest is re-shared among the others.
    free = (room > 0) & (score > 0)
    for _ in range(2 * len(cells) + 1):
        if not free.any():
            break
        left = target - (have + new)[~free].sum()
        want = np.where(free, left * score / score[free].sum() - have, 0.0)
        low = free & (want <= 0)
        if low.any():
            free &= ~low
            continue
        high = free & (want >= room)
        if high.any():
            new[high] = room[high]
            free &= ~high
            continue
        new[free] = want[free]
        break
    # Labels no score asks for (every S zero) go where there is room, largest cells first.
    spare = budget - new.sum()
    if spare > 1e-9:
        for i in np.argsort(-(room - new), kind="stable"):
            give = min(spare, room[i] - new[i])
            new[i] += give
            spare -= give
    # Integers by largest remainder, summing to the budget.
    base = np.minimum(np.floor(new + 1e-9), room)
    short = budget - int(base.sum())
    if short > 0:
        frac = np.where(base < room, new - base, -np.inf)
        base[np.argsort(-frac, kind="stable")[:short]] += 1
    elif short < 0:
        frac = np.where(base > 0, new - base, np.inf)
        base[np.argsort(frac, kind="stable")[:-short]] -= 1
    return pd.Series(base.astype(int), index=cells.index)


def stratified_variance(cells: pd.DataFrame, n) -> pd.Series:
    """Per group ``sum_h W_gh^2 S_gh^2 (1/n_gh - 1/N_gh)`` for labels ``n`` per cell (inf if a
    non-empty cell has none)."""
    N, S = cells["N"].to_numpy(float), cells["S"].to_numpy(float)
    n = np.asarray(n, float)
    W = N / cells.groupby("group")["N"].transform("sum").to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(N > 0, W ** 2 * S ** 2 * np.where(n > 0, 1.0 / n - 1.0 / N, np.inf), 0.0)
    return pd.Series(term, index=cells.index).groupby(cells["group"]).sum()


def label_saving(cells: pd.DataFrame) -> float:
    """Labels Neyman allocation needs for the same summed variance as simple random
    sampling (``n_gh`` proportional to ``N_gh``), as a ratio (< 1 is a saving).

    Ignoring finite-population corrections: SRS of ``n`` gives
    ``sum_gh W_gh^2 S_gh^2 N / (n N_gh)`` and Neyman of ``n'`` gives
    ``(sum_gh W_gh S_gh)^2 / n'``; equal variances give the ratio
    ``n' / n = (sum W S)^2 / sum (W^2 S^2 N / N_gh)``.
    """
    N, S = cells["N"].to_numpy(float), cells["S"].to_numpy(float)
    W = N / cells.groupby("group")["N"].transform("sum").to_numpy(float)
    keep = N > 0
    return float((W * S)[keep].sum() ** 2 / (W ** 2 * S ** 2 * N.sum() / N)[keep].sum())

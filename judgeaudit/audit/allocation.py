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
``sqrt(q (1 - q))`` with Laplace's rule shrunk toward the same verdict x stratum cell
pooled over groups (:func:`cell_sd`), so a cell with no label is neither certain nor
ignored; where a judge says "not harmful" on coherent text, humans nearly always agree,
``S_gh`` is small and labels go elsewhere.  A ``floor`` gives every cell a few labels
first; ``objective="max"`` minimises the largest group variance instead of the sum.

No allocation over these cells can beat Neyman's for the summed variance: it needs
``(sum W S)^2 / sum W^2 S^2 N / N_gh`` of simple random sampling's labels
(:func:`label_saving`), which is ``1 - Var(S) / E S^2`` for groups of equal size, so the
saving is bounded by how much the label's spread differs between cells
(docs/inference.md gives the figures).

Each cell's items are drawn by simple random sampling, so an item's inclusion
probability is ``n_gh / N_gh``; weighting by its inverse keeps the estimates unbiased.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["neyman_allocation", "stratified_variance", "label_saving", "cell_sd", "allocation_label_ratio"]


def cell_sd(cells: pd.DataFrame, *, prior: float = 2.0) -> np.ndarray:
    """The label's standard deviation per cell from the labels so far, pooled sensibly.

    Without a ``cell`` column, Laplace's rule: ``q = (positive + 1) / (labelled + 2)`` and
    ``S = sqrt(q (1 - q))``.  With a ``cell`` column (the verdict x stratum part of the
    cell, the same for every group), Laplace's rule shrunk toward that cell's share pooled
    over groups ``q0`` (itself by Laplace's rule) with ``prior`` pseudo-labels:
    ``q = (positive + 1 + prior q0) / (labelled + 2 + prior)``.  A group's cell with few
    labels leans on what the other groups' labels say about the judge's predictive value
    there (what double sampling assumes when it borrows); the ``+1`` keeps a cell that
    showed no positive in its pilot from being called certain, which would starve it of
    labels (a simulated pilot of 71 labels with no positive, true S 0.05: the plain
    shrinkage gave S 0.012, this one 0.115).

    Examples
    --------
    Two groups' cells of "verdict 0, coherent": 1 of 10 and 0 of 0 labelled positive.
    Pooled q0 = (1 + 1) / (10 + 2) = 1/6; the first cell q = (1 + 1 + 2/6) / 14 = 1/6
    (S = 0.373), the empty one q = (0 + 1 + 2/6) / 4 = 1/3 (S = 0.471, not Laplace's 0.5).

    >>> cells = pd.DataFrame({"group": ["a", "b"], "cell": ["0|c", "0|c"], "positive": [1, 0],
    ...                       "labelled": [10, 0]})
    >>> [round(float(x), 3) for x in cell_sd(cells)]
    [0.373, 0.471]
    """
    pos, lab = cells["positive"].to_numpy(float), cells["labelled"].to_numpy(float)
    if "cell" in cells:
        by = cells.groupby("cell")
        q0 = ((by["positive"].transform("sum") + 1.0) / (by["labelled"].transform("sum") + 2.0)).to_numpy(float)
        q = (pos + 1.0 + prior * q0) / (lab + 2.0 + prior)
    else:
        q = (pos + 1.0) / (lab + 2.0)
    return np.sqrt(q * (1.0 - q))


def _water_fill(score, have, room, target) -> np.ndarray:
    """Continuous Neyman shares ``target * score / sum score`` net of ``have``, capped at
    ``room``: cells already above their share get nothing, cells whose share exceeds their
    room get all of it, and the rest is re-shared among the others."""
    new = np.zeros(len(score))
    free = (room > 0) & (score > 0)
    for _ in range(2 * len(score) + 1):
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
    return new


def _group_variance(W, S, n, gcodes, n_groups) -> np.ndarray:
    """Per group ``sum_h W^2 S^2 / n_h``; a cell with ``W S = 0`` adds nothing, one with
    ``W S > 0`` and no label makes the group's variance infinite."""
    ws2 = W ** 2 * S ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(ws2 > 0, ws2 / np.where(n > 0, n, np.nan), 0.0)
    term = np.where(np.isnan(term), np.inf, term)
    return np.bincount(gcodes, weights=term, minlength=n_groups)


def neyman_allocation(cells: pd.DataFrame, budget: int, *, already=None, floor: int = 0,
                      objective: str = "sum") -> pd.Series:
    """Labels per cell for a total of ``budget`` (plus ``already`` drawn), integer, capped.

    Parameters
    ----------
    cells:
        One row per cell with columns ``group``, ``N`` (items in the cell) and either
        ``S`` (the label's standard deviation in the cell) or ``positive`` and
        ``labelled`` (labels so far, for :func:`cell_sd`; with a ``cell`` column the
        estimate is pooled over groups).
    budget:
        New labels to hand out.
    already:
        Labels already drawn per cell (Series on the same index); the allocation is
        of the total ``budget + already.sum()``, and never takes labels back.
    floor:
        Every non-empty cell is first brought up to ``floor`` labels (as far as the
        budget and the cell allow, cells with the largest ``W S`` first), so that every
        cell's share is estimated from its own group's labels and its variance can be
        estimated in the next round.
    objective:
        ``"sum"``: minimise the sum over groups of the corrected rates' variances
        (``n_gh`` proportional to ``W_gh S_gh``, Neyman).  ``"max"``: minimise the largest
        group variance (``n_gh`` proportional to ``sqrt(lambda_g) W_gh S_gh``, the
        group multipliers found by iteration until the groups' variances are equal or a
        group can take no more).

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
    if objective not in ("sum", "max"):
        raise ValueError(f"objective must be 'sum' or 'max', got {objective!r}")
    N = cells["N"].to_numpy(float)
    S = cells["S"].to_numpy(float) if "S" in cells else cell_sd(cells)
    totals = cells.groupby("group")["N"].transform("sum").to_numpy(float)
    gcodes, gnames = pd.factorize(cells["group"])
    with np.errstate(invalid="ignore", divide="ignore"):
        W = np.where(N > 0, N / totals, 0.0)
    score = W * S
    have = np.zeros(len(cells)) if already is None else np.asarray(already, float).copy()
    room = np.maximum(N - have, 0)
    budget = int(min(budget, room.sum()))
    new = np.zeros(len(cells))
    if floor > 0:  # bring every non-empty cell up to the floor, largest W S first
        want = np.minimum(np.maximum(floor - have, 0), room) * (N > 0)
        left = budget
        for i in np.argsort(-score, kind="stable"):
            give = min(want[i], left)
            new[i] += give
            left -= give
    base_have = have + new
    target = budget + have.sum()
    if objective == "sum":
        new = new + _water_fill(score, base_have, room - new, target)
    else:
        lam = np.ones(len(gnames))
        for _ in range(60):
            add = _water_fill(score * np.sqrt(lam[gcodes]), base_have, room - new, target)
            v = _group_variance(W, S, base_have + add, gcodes, len(gnames))
            ok = np.isfinite(v) & (v > 0)
            if not ok.any():
                break
            ratio = np.where(ok, v / v[ok].max(), 1.0)
            if ratio[ok].min() > 0.999:
                break
            lam = lam * np.where(ok, ratio, 1.0)
        new = new + add
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


def allocation_label_ratio(cells: pd.DataFrame, n, *, objective: str = "sum") -> float:
    """Labels an allocation ``n`` (per cell) needs, relative to simple random sampling, for
    the same summed (``"sum"``) or largest (``"max"``) group variance, with the true ``S``
    in ``cells`` (finite-population corrections ignored).

    SRS of ``m`` labels gives group ``g`` the variance ``A_g / m`` with
    ``A_g = sum_h W_gh^2 S_gh^2 N / N_gh``; the allocation gives ``V_g = sum_h W_gh^2 S_gh^2
    / n_gh``.  Equal summed variance needs ``m = sum A_g / sum V_g`` labels, so the ratio is
    ``sum(n) sum V_g / sum A_g`` (``max`` in place of ``sum`` over groups for ``"max"``).
    With ``n`` the Neyman allocation and ``"sum"`` this is :func:`label_saving`.

    Examples
    --------
    One group, W = (0.9, 0.1), S = (0.1, 0.5), allocation 64 / 36 of 100: V = 0.0081/64 +
    0.0025/36 = 0.00019601; A = 0.0081/0.9 + 0.0025/0.1 = 0.034; ratio 100 * 0.00019601 /
    0.034 = 0.5765 (the Neyman bound (0.09 + 0.05)^2 / 0.034 = 0.5765).

    >>> cells = pd.DataFrame({"group": ["g", "g"], "N": [900, 100], "S": [0.1, 0.5]})
    >>> round(allocation_label_ratio(cells, [64, 36]), 4)
    0.5765
    """
    N, S = cells["N"].to_numpy(float), cells["S"].to_numpy(float)
    n = np.asarray(n, float)
    W = N / cells.groupby("group")["N"].transform("sum").to_numpy(float)
    keep = N > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(keep, W ** 2 * S ** 2 / n, 0.0)
        a = np.where(keep, W ** 2 * S ** 2 * N.sum() / N, 0.0)
    g = cells["group"].to_numpy()
    V, A = pd.Series(v).groupby(g).sum(), pd.Series(a).groupby(g).sum()
    pick = (lambda x: x.sum()) if objective == "sum" else (lambda x: x.max())
    return float(n.sum() * pick(V) / pick(A))

"""Trait scores and drift with intervals, items as clusters.

A trait's score on a checkpoint is the mean over its items of ``p_matching`` (the
normalised probability of the behaviour-matching answer).  Its interval treats each
item as one cluster: rows of the same item (several seeds of one objective and budget,
pooled) are first averaged within the item, then

.. math:: \\bar p \\pm t_{n-1,\\,1-\\alpha/2}\\; s / \\sqrt{n}

over the ``n`` item means (Student's t with Hall's skewness correction,
:func:`mean_interval`; the item population is what the interval is about, so a larger
item set narrows it).  **Drift** from the base model is the paired
difference: per item ``d_i = p_i(checkpoint) - p_i(base)`` under the same prompt,
and the same t interval over the ``d_i``.  Pairing removes the between-item spread
that both models share, so the drift interval is much narrower than the difference of
two unpaired intervals.

The coverage of both intervals is measured by simulation in ``bench/bench_persona.py
--coverage`` (items drawn from skewed Beta populations, 48 and 300 items); a seeded
small version runs in the tests.  Measured (1,000 draws each, +- 0.007): 0.94-0.96 for
scores and drift with moderately skewed items; with 48 items piled up near 0 (Beta
0.3, 3) 0.93 for scores and 0.92 for drift, 0.95 with 300 items.  Use 100 items or
more per trait for drift claims near the floor (the shared files have 1,000).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from judgeaudit.errors import ValidationError
from judgeaudit.metrics import MetricResult

__all__ = ["mean_interval", "trait_scores", "trait_drift", "METHOD"]

#: The ``method`` recorded with every persona interval.
METHOD = "skewness-corrected t (Hall 1992), items as clusters"


def mean_interval(values, *, confidence: float = 0.95) -> MetricResult:
    """Mean of per-item values with a skewness-corrected Student-t interval (one value per item).

    Hall's (1992) transformation of the t statistic removes the first-order effect of
    skewness (item probabilities near 0 or 1 make the mean's distribution skewed, and
    the plain t interval then under-covers on the short side):

    .. math::

        T = \\sqrt n (\\bar x - \\mu) / s, \\quad
        g(T) = T + \\frac{\\hat\\gamma}{3\\sqrt n} T^2 + \\frac{\\hat\\gamma^2}{27 n} T^3
               + \\frac{\\hat\\gamma}{6\\sqrt n}

    with :math:`\\hat\\gamma` the sample skewness; ``g`` is increasing and is inverted in
    closed form, and the interval is
    :math:`[\\bar x - s\\,g^{-1}(t_{hi})/\\sqrt n,\\ \\bar x - s\\,g^{-1}(t_{lo})/\\sqrt n]` with
    ``t`` the Student quantiles on ``n - 1`` degrees of freedom (P. Hall, "On the removal
    of skewness by transformation", JRSS B 54(1), 1992).  Symmetric data give the plain t
    interval.

    >>> r = mean_interval([0.2, 0.4, 0.6])
    >>> round(r.value, 3), round(r.ci_low, 3), round(r.ci_high, 3)
    (0.4, -0.097, 0.897)
    """
    from scipy import stats

    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        return MetricResult.undefined_result("no items", n=0)
    mean = float(x.mean())
    if n == 1:
        return MetricResult(mean, math.nan, math.nan, 1, 1, "none", note="one item: no interval")
    sd = float(x.std(ddof=1))
    if sd == 0:
        return MetricResult(mean, mean, mean, n, n, METHOD, confidence=confidence,
                            note="every item has the same value: the interval has no width")
    gamma = float(((x - mean) ** 3).mean() / x.std(ddof=0) ** 3)
    q_hi, q_lo = stats.t.ppf([0.5 + confidence / 2, 0.5 - confidence / 2], n - 1)
    a, b = gamma / (3 * math.sqrt(n)), gamma / (6 * math.sqrt(n))
    if abs(a) < 1e-12:
        t_hi, t_lo = q_hi, q_lo
    else:  # g(T) = ((1 + aT)^3 - 1) / (3a) + b, so g^-1(q) = (cbrt(1 + 3a(q - b)) - 1) / a
        t_hi, t_lo = ((np.cbrt(1 + 3 * a * (np.array([q_hi, q_lo]) - b)) - 1) / a)
    se = sd / math.sqrt(n)
    return MetricResult(mean, mean - float(t_hi) * se, mean - float(t_lo) * se, n, n, METHOD,
                        confidence=confidence)


_KEYS = ("checkpoint_id", "condition", "trait")


def _check(scores: pd.DataFrame) -> None:
    missing = [c for c in (*_KEYS, "item_id", "p_matching") if c not in scores.columns]
    if missing:
        raise ValidationError(f"persona scores lack column(s) {', '.join(missing)}")


def _row(keys: dict, r: MetricResult, prefix: str) -> dict:
    return {**keys, prefix: r.value, f"{prefix}_low": r.ci_low, f"{prefix}_high": r.ci_high,
            "n_items": r.n, "method": r.method}


def trait_scores(scores: pd.DataFrame, *, group: tuple = ("checkpoint_id",), confidence: float = 0.95
                 ) -> pd.DataFrame:
    """Per (``group`` ..., condition, trait): the mean score and its interval.

    ``scores`` is the per-item table (``item_id``, ``trait``, ``p_matching``,
    ``condition`` and the ``group`` columns).  Rows of one item within a group (seeds
    pooled when ``group`` leaves ``checkpoint_id`` out) are averaged first.  With a ``mass``
    column, ``mass_median`` is the median probability the two answers hold together: a
    model that would rather write something else first (low mass) gives normalised scores
    that say little.
    """
    _check(scores)
    keys = [*group, "condition", "trait"]
    out = []
    for values, part in scores.groupby(keys, sort=True, dropna=False):
        per_item = part.groupby("item_id")["p_matching"].mean()
        row = _row(dict(zip(keys, values)), mean_interval(per_item, confidence=confidence), "score")
        if "mass" in part.columns:  # how much probability the two answers hold: low = weak evidence
            row["mass_median"] = float(part["mass"].median())
        out.append(row)
    return pd.DataFrame(out)


def trait_drift(scores: pd.DataFrame, *, base_id: str = "base", group: tuple = ("checkpoint_id",),
                confidence: float = 0.95) -> pd.DataFrame:
    """Per (``group`` ..., condition, trait): the paired drift from ``base_id`` and its interval.

    The base rows are matched on ``prompt_key`` (the prompt the items were put with; the
    base model is scored under each training-time prompt too) and ``item_id``.  A row
    whose prompt the base was not scored with has an undefined drift saying so.
    ``excludes_zero`` is True where the interval lies wholly above or below 0.
    """
    _check(scores)
    if "prompt_key" not in scores.columns:
        scores = scores.assign(prompt_key="none")
    base = scores[scores["checkpoint_id"] == base_id]
    base_p = base.groupby(["prompt_key", "item_id"])["p_matching"].mean()
    keys = [*group, "condition", "trait"]
    rest = scores[scores["checkpoint_id"] != base_id]
    out = []
    for values, part in rest.groupby(keys, sort=True, dropna=False):
        per_item = part.groupby(["prompt_key", "item_id"])["p_matching"].mean()
        paired = per_item.index.intersection(base_p.index)
        key = dict(zip(keys, values))
        if len(paired) == 0:
            r = MetricResult.undefined_result(f"the base model {base_id!r} was not scored on these items "
                                              "under this prompt", n=0)
        else:
            r = mean_interval((per_item.loc[paired] - base_p.loc[paired]).to_numpy(), confidence=confidence)
        row = _row(key, r, "drift")
        row["n_unpaired"] = int(len(per_item) - len(paired))
        row["excludes_zero"] = bool(r.ci_low > 0 or r.ci_high < 0) if not math.isnan(r.ci_low) else False
        out.append(row)
    return pd.DataFrame(out)

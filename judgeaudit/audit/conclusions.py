"""Which conclusions hold: for each pair of groups, does the order of their harmful
rates survive the choice of judge?

For every pair of groups ``(a, b)`` and every rater (the humans, and each judge's
corrected rate), the order the rater supports at the audit's level follows the one
rule of :mod:`judgeaudit.metrics.flips`: "a above b" when the point difference
``rate_a - rate_b`` is positive and the percentile interval of its paired
cluster-bootstrap resamples, widened to Newcombe's interval from the two rates' own
intervals, lies above 0 (mirrored for "b above a"); otherwise the rater is unsure.  ``p_a_above_b`` reports the share of the resamples where
``rate_a > rate_b`` (ties count one half; resamples where either rate is undefined are
left out).

The headline sorts the pairs that any rater can order into

- ``hold_under_every_judge``: every rater with a defined rate for both groups (the
  humans included) orders them the same way at 95%;
- ``flip_with_the_judge``: at least one rater orders them at 95% and another orders
  them the other way (``reversed``: a confident flip in the sense of
  :func:`judgeaudit.metrics.flips.is_confident_flip`) or cannot order them
  (``not_supported``).

A judge whose corrected rate is refused for a group takes no part in that group's
pairs (listed under ``raters_without_estimate``).
"""

from __future__ import annotations

import itertools

import numpy as np

from judgeaudit.metrics.flips import difference_interval, newcombe_widen, supported_order

__all__ = ["order_probabilities", "conclusions_section"]


def order_probabilities(boot_a, boot_b) -> tuple[float | None, int]:
    """``(P*(a > b), resamples used)``; ties count one half; None when none is usable."""
    a, b = np.asarray(boot_a, float), np.asarray(boot_b, float)
    ok = ~np.isnan(a) & ~np.isnan(b)
    if not ok.any():
        return None, 0
    d = a[ok] - b[ok]
    return float(np.mean(d > 0) + 0.5 * np.mean(d == 0)), int(ok.sum())


def conclusions_section(groups, raters: dict, *, level: float = 0.95, intervals: dict | None = None) -> dict:
    """The pairs, their order probability under every rater, and the headline.

    ``raters`` maps a rater's name to ``(point (G,), boot (B, G))``; ``intervals`` a rater's
    name to its rates' own intervals ``(low (G,), high (G,))``, to which each difference's
    percentile interval is widened (:func:`judgeaudit.metrics.flips.newcombe_widen`).
    """
    intervals = intervals or {}
    pairs, hold, flip = [], [], []
    for i, j in itertools.combinations(range(len(groups)), 2):
        a, b = groups[i], groups[j]
        per = {}
        for name, (point, boot) in raters.items():
            prob, used = order_probabilities(boot[:, i], boot[:, j])
            if np.isnan(point[i]) or np.isnan(point[j]):
                prob = None
            order = "undefined"
            if prob is not None:
                diff = float(point[i] - point[j])
                lo, hi = difference_interval(boot[:, i] - boot[:, j], level)
                if name in intervals:
                    low, high = intervals[name]
                    lo, hi = newcombe_widen(lo, hi, point[i], (low[i], high[i]), point[j], (low[j], high[j]))
                side = supported_order(diff, lo, hi)
                order = {1: "a>b", -1: "b>a", 0: "unsure"}[side]
            per[name] = {"diff": None if prob is None else float(point[i] - point[j]),
                         "p_a_above_b": prob, "n_boot_used": used, "order": order}
        orders = {n: v["order"] for n, v in per.items() if v["order"] != "undefined"}
        missing = sorted(n for n, v in per.items() if v["order"] == "undefined")
        decided = {o for o in orders.values() if o != "unsure"}
        entry = {"a": a, "b": b, "raters": per, "raters_without_estimate": missing}
        if decided and len(orders) >= 2:
            if len(decided) == 1 and "unsure" not in orders.values():
                entry["status"] = "holds"
                hold.append({"a": a, "b": b, "order": decided.pop(), "raters": sorted(orders)})
            else:
                entry["status"] = "flips"
                top = max(decided, key=lambda o: sum(v == o for v in orders.values()))
                flip.append({"a": a, "b": b,
                             "supported_by": sorted(n for n, o in orders.items() if o == top),
                             "order": top,
                             "reversed": sorted(n for n, o in orders.items() if o not in (top, "unsure")),
                             "not_supported": sorted(n for n, o in orders.items() if o == "unsure")})
        else:
            entry["status"] = "no rater orders them at 95%" if orders else "undefined"
        pairs.append(entry)
    return {"level": level, "rule": f"a rater supports an order when the {level:.0%} percentile interval of "
                                    "the paired bootstrap difference, widened to Newcombe's interval from the "
                                    "two rates' own intervals, excludes 0 on the side of the point "
                                    "difference (judgeaudit.metrics.flips)",
            "raters": list(raters), "pairs": pairs,
            "headline": {"hold_under_every_judge": hold, "flip_with_the_judge": flip}}

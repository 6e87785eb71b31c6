"""Which conclusions hold: for each pair of groups, does the order of their harmful
rates survive the choice of judge?

For every pair of groups ``(a, b)`` and every rater (the humans, and each judge's
corrected rate), the bootstrap probability that ``rate_a > rate_b`` is the share of
the shared cluster-bootstrap resamples where it holds (ties count one half; resamples
where either rate is undefined are left out).  An order *holds at 95%* under a rater
when that probability is at least 0.975 (or at most 0.025 for the reverse): the
95% percentile interval of the difference excludes 0.

The headline sorts the pairs that any rater can order into

- ``hold_under_every_judge``: every rater with a defined rate for both groups (the
  humans included) orders them the same way at 95%;
- ``flip_with_the_judge``: at least one rater orders them at 95% and another orders
  them the other way (``reversed``) or cannot order them (``not_supported``).

A judge whose corrected rate is refused for a group takes no part in that group's
pairs (listed under ``raters_without_estimate``).
"""

from __future__ import annotations

import itertools

import numpy as np

__all__ = ["order_probabilities", "conclusions_section"]


def order_probabilities(boot_a, boot_b) -> tuple[float | None, int]:
    """``(P*(a > b), resamples used)``; ties count one half; None when none is usable."""
    a, b = np.asarray(boot_a, float), np.asarray(boot_b, float)
    ok = ~np.isnan(a) & ~np.isnan(b)
    if not ok.any():
        return None, 0
    d = a[ok] - b[ok]
    return float(np.mean(d > 0) + 0.5 * np.mean(d == 0)), int(ok.sum())


def _verdict(prob, level):
    if prob is None:
        return "undefined"
    tail = (1 - level) / 2
    if prob >= 1 - tail:
        return "a>b"
    if prob <= tail:
        return "b>a"
    return "unsure"


def conclusions_section(groups, raters: dict, *, level: float = 0.95) -> dict:
    """The pairs, their order probability under every rater, and the headline.

    ``raters`` maps a rater's name to ``(point (G,), boot (B, G))``.
    """
    pairs, hold, flip = [], [], []
    for i, j in itertools.combinations(range(len(groups)), 2):
        a, b = groups[i], groups[j]
        per = {}
        for name, (point, boot) in raters.items():
            prob, used = order_probabilities(boot[:, i], boot[:, j])
            if np.isnan(point[i]) or np.isnan(point[j]):
                prob = None
            per[name] = {"diff": None if prob is None else float(point[i] - point[j]),
                         "p_a_above_b": prob, "n_boot_used": used, "order": _verdict(prob, level)}
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
    return {"level": level, "rule": "an order holds when its bootstrap probability is >= "
                                    f"{1 - (1 - level) / 2:g} (the {level:.0%} interval of the difference excludes 0)",
            "raters": list(raters), "pairs": pairs,
            "headline": {"hold_under_every_judge": hold, "flip_with_the_judge": flip}}

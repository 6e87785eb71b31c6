"""Seeded, stratified subsets of a prompt set, for quick runs and pilots."""

from __future__ import annotations

import hashlib

import pandas as pd

from judgeaudit.errors import ConfigError, ValidationError
from judgeaudit.tables import validate

__all__ = ["sample_prompts"]


def _rank(seed: int, prompt_id: str) -> int:
    return int(hashlib.sha256(f"{seed}\x1f{prompt_id}".encode("utf-8")).hexdigest()[:15], 16)


def sample_prompts(prompts: pd.DataFrame, *, per_category: int | None = None, n: int | None = None,
                   by: str = "category", seed: int = 0) -> pd.DataFrame:
    """A subset of ``prompts`` that does not depend on row order or on the other rows.

    Each prompt gets a rank, the sha256 of ``seed`` and its ``prompt_id``; the lowest
    ranks are kept.  So the same seed always keeps the same prompts, and (with
    ``per_category`` alone) a prompt kept from a group is still kept when rows are added to
    other groups; ``n`` takes the lowest ranks over all groups, so rows added to any group
    can displace it.

    Parameters
    ----------
    per_category:
        Keep this many prompts of every value of ``by`` (all of a smaller group).
    n:
        Keep this many prompts in all (after ``per_category``, if both are given).
    by:
        The column that defines the groups (default ``category``; a missing value is a
        group of its own).
    seed:
        Changes which prompts are kept.

    Returns the kept rows in their original order, validated.

    Examples
    --------
    >>> from judgeaudit.prompts import load_prompt_set
    >>> pilot = sample_prompts(load_prompt_set("harmful"), per_category=2, seed=1)
    >>> len(pilot), int(pilot["category"].value_counts().max())
    (20, 2)
    """
    if per_category is None and n is None:
        raise ConfigError("give per_category= or n= (how many prompts to keep)")
    for name, value in (("per_category", per_category), ("n", n)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    table = validate(prompts, "prompts", path="prompts")
    if by not in table.columns:
        raise ValidationError(f"no column {by!r} to group by; columns: {', '.join(table.columns)}",
                              path="prompts", column=by)
    order = pd.DataFrame({"rank": [_rank(seed, p) for p in table["prompt_id"]],
                          "group": [repr(g) for g in table[by].astype(object)]}, index=table.index)
    order = order.sort_values("rank", kind="stable")
    if per_category is not None:
        order = order.groupby("group", sort=False).head(per_category)
    if n is not None:
        order = order.head(n)
    return table.loc[sorted(order.index)].reset_index(drop=True)

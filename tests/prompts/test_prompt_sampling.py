"""Seeded, stratified subsets of prompt sets."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judgeaudit.errors import ConfigError, ValidationError
from judgeaudit.prompts import load_prompt_set, sample_prompts


def test_per_category_and_n():
    harmful = load_prompt_set("harmful")
    pilot = sample_prompts(harmful, per_category=3, seed=4)
    assert len(pilot) == 30 and (pilot["category"].value_counts() == 3).all()
    assert pilot["prompt_id"].isin(harmful["prompt_id"]).all()
    # rows keep their original order
    positions = harmful.reset_index().set_index("prompt_id").loc[pilot["prompt_id"], "index"]
    assert positions.is_monotonic_increasing
    assert len(sample_prompts(harmful, n=5)) == 5
    assert len(sample_prompts(harmful, per_category=20)) == 80  # a group smaller than N is kept whole
    both = sample_prompts(harmful, per_category=2, n=7, seed=4)
    assert len(both) == 7 and set(both["prompt_id"]) <= set(sample_prompts(harmful, per_category=2, seed=4)["prompt_id"])
    assert list(sample_prompts(harmful, n=9, seed=1)["prompt_id"]) != list(sample_prompts(harmful, n=9, seed=2)["prompt_id"])


def test_bad_options():
    harmful = load_prompt_set("harmful")
    with pytest.raises(ConfigError, match="per_category= or n="):
        sample_prompts(harmful)
    with pytest.raises(ConfigError, match="positive integer"):
        sample_prompts(harmful, n=0)
    with pytest.raises(ValidationError, match="no column 'topic'"):
        sample_prompts(harmful, n=1, by="topic")


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.text("abcdef", min_size=1, max_size=4), st.sampled_from(["x", "y", None])),
                min_size=1, max_size=25, unique_by=lambda t: t[0]),
       st.integers(1, 4), st.integers(0, 3), st.randoms())
def test_kept_prompts_do_not_depend_on_row_order_or_other_groups(rows, k, seed, rnd):
    table = pd.DataFrame({"prompt_id": [r[0] for r in rows], "text": "t", "category": [r[1] for r in rows]})
    kept = set(sample_prompts(table, per_category=k, seed=seed)["prompt_id"])
    shuffled = table.sample(frac=1, random_state=rnd.randint(0, 10**6))
    assert set(sample_prompts(shuffled, per_category=k, seed=seed)["prompt_id"]) == kept
    # adding prompts of a new group leaves the old groups' choice unchanged
    extra = pd.DataFrame({"prompt_id": ["zz1", "zz2"], "text": "t", "category": "new"})
    grown = set(sample_prompts(pd.concat([table, extra]), per_category=k, seed=seed)["prompt_id"])
    assert grown - {"zz1", "zz2"} == kept


def test_n_is_a_cap_over_all_groups():
    # docs/prompts.md: n= keeps the lowest ranks over every group, so a prompt added to
    # another group can displace a kept one (per_category alone cannot)
    base = pd.DataFrame({"prompt_id": [f"b{i}" for i in range(10)], "text": "t", "category": "B"})
    kept = set(sample_prompts(base, n=3, seed=0)["prompt_id"])
    grown = pd.concat([base, pd.DataFrame({"prompt_id": ["a0", "a1"], "text": "t", "category": "A"})])
    assert set(sample_prompts(grown, n=3, seed=0)["prompt_id"]) - {"a0", "a1"} != kept
    assert set(sample_prompts(grown, per_category=3, seed=0).query("category == 'B'")["prompt_id"]) \
        == set(sample_prompts(base, per_category=3, seed=0)["prompt_id"])

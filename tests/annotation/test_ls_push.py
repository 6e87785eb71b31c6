"""Choosing what to push, and the checks made before any request."""

from __future__ import annotations

import pandas as pd
import pytest

from annotation import default_schema, items_from_tables, push_items
from annotation.client import LabelStudioClient
from annotation.connection import Connection
from annotation.server import free_port
from judgeaudit.errors import ConfigError, ValidationError

GENS = pd.DataFrame({"item_id": ["g1", "g2", "g3"], "prompt_id": ["p1", "p2", "p1"],
                     "response": ["r1", "r2", "r3"]})
PROMPTS = pd.DataFrame({"prompt_id": ["p1", "p2"], "text": ["first?", "second?"]})


def test_items_join_prompt_text_and_follow_the_sample():
    items = items_from_tables(GENS, PROMPTS)
    assert items.values.tolist() == [["g1", "first?", "r1"], ["g2", "second?", "r2"], ["g3", "first?", "r3"]]
    sample = pd.DataFrame({"item_id": ["g3", "g1", "g3"]})
    assert items_from_tables(GENS, PROMPTS, sample)["item_id"].tolist() == ["g3", "g1"]
    with pytest.raises(ValidationError, match="not in the generations"):
        items_from_tables(GENS, PROMPTS, pd.DataFrame({"item_id": ["zz"]}))
    with pytest.raises(ConfigError, match="--prompts"):
        items_from_tables(GENS)
    with pytest.raises(ValidationError, match="not in the prompts table"):
        items_from_tables(GENS, PROMPTS.iloc[:1])


def test_gold_items_of_a_sample_travel_with_their_own_text():
    """`annotate sample --gold` puts control items (not in the generations) into the sample
    with their prompt and response; pushing that sample with --generations must include
    them, with the sample's text, not fail as unknown items."""
    sample = pd.DataFrame({"item_id": ["g2", "gold1"], "is_gold": [False, True],
                           "prompt": [None, "known?"], "response": [None, "known answer"],
                           "n_annotators": [1, 3]})
    items = items_from_tables(GENS, PROMPTS, sample)
    assert items.values.tolist() == [["g2", "second?", "r2", 1], ["gold1", "known?", "known answer", 3]]
    with pytest.raises(ValidationError, match="not in the generations"):  # only gold may be new
        items_from_tables(GENS, PROMPTS, sample.assign(is_gold=False))


def test_bad_push_arguments_fail_before_any_request():
    client = LabelStudioClient(Connection(f"http://127.0.0.1:{free_port()}", "t" * 40, "test"), timeout=2)
    items = items_from_tables(GENS, PROMPTS)
    schema = default_schema()
    with pytest.raises(ValidationError, match="lack column"):
        push_items(client, items.drop(columns="prompt"), project="abc", schema=schema)
    with pytest.raises(ConfigError, match="batch_size"):
        push_items(client, items, project="abc", schema=schema, batch_size=0)
    verdicts = pd.DataFrame({"item_id": ["g1"], "judge_id": ["kw"], "label": ["harmful"], "score": [1.0],
                             "status": ["ok"]})
    with pytest.raises(ConfigError, match="both a verdicts table and a judge"):
        push_items(client, items, project="abc", schema=schema, predictions=verdicts)
    with pytest.raises(ConfigError, match="judges in the verdicts table: kw"):
        push_items(client, items, project="abc", schema=schema, predictions=verdicts, judge_id="other")
    with pytest.raises(ConfigError, match="3 to 50"):
        from annotation.push import ensure_project
        ensure_project(client, "x" * 51, "<View/>")

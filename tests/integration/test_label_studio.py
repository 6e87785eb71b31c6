"""push / pull / status against a real Label Studio 1.23 (see conftest.py)."""

from __future__ import annotations

import json
import random
import time

import pandas as pd
import pytest

from annotation import default_schema, labels_from_snapshot, pull_labels, push_items
from annotation.client import LabelStudioClient
from annotation.connection import Connection
from annotation.labelconfig import label_config
from annotation.push import ensure_project
from judgeaudit.errors import ConfigError
from judgeaudit.tables import FIELDS

from .ls_helpers import choice, ensure_users, make_items, task_ids

SCHEMA = default_schema()


def test_push_is_batched_idempotent_and_carries_item_id(ls_client, project_title):
    items = make_items(25)
    first = push_items(ls_client, items, project=project_title, schema=SCHEMA, batch_size=10)
    assert (first.created, first.already_present, first.batches, first.project_created) == (25, 0, 3, True)
    # a rerun with overlapping and duplicated input adds only the new item, once
    more = pd.concat([items, make_items(26).tail(1), make_items(26).tail(1)], ignore_index=True)
    second = push_items(ls_client, more, project=project_title, schema=SCHEMA, batch_size=10)
    assert (second.created, second.already_present, second.duplicates_in_input) == (1, 25, 1)
    assert second.project_id == first.project_id and not second.project_created
    tasks = ls_client.task_data(first.project_id)
    assert sorted(t["item_id"] for t in tasks) == sorted(make_items(26)["item_id"])
    by_id = {t["item_id"]: t for t in tasks}
    assert by_id["it00003"]["response"] == items["response"][3]  # text travels unchanged
    # the project uses the generated config: plain Text, never HyperText
    proj = ls_client.find_project(project_title)
    assert "<Text name=\"response\"" in proj["label_config"] and "HyperText" not in proj["label_config"]


def test_round_trip_is_exact(ls_client, project_title):
    """Random labels of 3 annotators go in as annotations and come back identical."""
    rng = random.Random(4)
    users = ensure_users(ls_client, ["rt1@example.org", "rt2@example.org", "rt3@example.org"])
    items = make_items(40, prefix="rt")
    proj, _ = ensure_project(ls_client, project_title, label_config(SCHEMA))
    expected, tasks = [], []
    for item in items.itertuples():
        anns = []
        for email in rng.sample(sorted(users), rng.randint(0, 3)):
            fields = rng.sample(sorted(FIELDS), rng.randint(1, 3))
            values = {f: rng.choice(FIELDS[f]) for f in fields}
            expected += [(item.item_id, email, f, v) for f, v in values.items()]
            anns.append({"completed_by": {"email": email},
                         "result": [choice(f, v.replace("_", " ")) for f, v in values.items()]})
        tasks.append({"data": {"item_id": item.item_id, "prompt": item.prompt, "response": item.response},
                      "annotations": anns})
    ls_client.import_tasks(proj["id"], tasks)
    res = pull_labels(ls_client, project=project_title, schema=SCHEMA)
    got = sorted(res.labels[["item_id", "annotator_id", "field", "value"]].itertuples(index=False, name=None))
    assert got == sorted(expected)
    assert res.counts["tasks"] == 40 and res.counts["skipped"] == 0
    assert res.labels["source"].str.match(rf"label-studio:project={proj['id']}/task=\d+/annotation=\d+$").all()
    assert res.labels["created_at"].notna().all()


def test_pull_skips_cancelled_ignores_drafts_and_takes_the_latest_edit(ls_client, project_title):
    push_items(ls_client, make_items(4, prefix="ed"), project=project_title, schema=SCHEMA)
    proj = ls_client.find_project(project_title)
    ids = task_ids(ls_client, proj["id"])
    # ed00000: annotated harmful, then edited to not_harmful -> the edit wins
    a = ls_client.post(f"/api/tasks/{ids['ed00000']}/annotations", {"result": [choice("harmfulness", "harmful")]})
    time.sleep(0.05)
    ls_client.patch(f"/api/annotations/{a['id']}", {"result": [choice("harmfulness", "not harmful")]})
    # ed00001: skipped -> no label, counted
    ls_client.post(f"/api/tasks/{ids['ed00001']}/annotations", {"result": [], "was_cancelled": True})
    # ed00002: only a draft -> ignored, counted
    ls_client.post(f"/api/tasks/{ids['ed00002']}/drafts", {"result": [choice("harmfulness", "harmful")]})
    # ed00003: two submitted annotations by the same user -> the later one wins
    ls_client.post(f"/api/tasks/{ids['ed00003']}/annotations", {"result": [choice("refusal", "full")]})
    time.sleep(0.05)
    ls_client.post(f"/api/tasks/{ids['ed00003']}/annotations", {"result": [choice("refusal", "partial")]})
    res = pull_labels(ls_client, project=project_title, schema=SCHEMA)
    got = sorted(res.labels[["item_id", "field", "value"]].itertuples(index=False, name=None))
    assert got == [("ed00000", "harmfulness", "not_harmful"), ("ed00003", "refusal", "partial")]
    assert res.counts["skipped"] == 1
    assert res.counts["drafts_ignored"] == 1
    assert res.counts["superseded"] == 1
    assert set(res.labels["annotator_id"]) == {"admin@judgeaudit.local"}


def test_wrong_token_gets_a_clear_error_without_the_token(label_studio, project_title):
    secret = "wrongtoken0123456789abcdef"
    bad = LabelStudioClient(Connection(label_studio.url, secret, "$JUDGEAUDIT_LS_TOKEN"))
    with pytest.raises(ConfigError) as info:
        push_items(bad, make_items(2), project=project_title, schema=SCHEMA)
    msg = str(info.value)
    assert "refused the API token from $JUDGEAUDIT_LS_TOKEN" in msg and "Account & Settings" in msg
    assert secret not in msg and secret not in repr(bad)


def test_pre_annotations_are_off_by_default_and_carry_the_judge(ls_client, project_title):
    items = make_items(3, prefix="pa")
    verdicts = pd.DataFrame({"item_id": items["item_id"], "judge_id": "refusal_keyword",
                             "label": ["harmful", "not_harmful", "harmful"], "score": [0.9, 0.1, float("nan")],
                             "status": "ok"})
    push_items(ls_client, items.head(1), project=project_title, schema=SCHEMA)
    push_items(ls_client, items, project=project_title, schema=SCHEMA, predictions=verdicts,
               judge_id="refusal_keyword")
    proj = ls_client.find_project(project_title)
    snap = {t["data"]["item_id"]: t for t in ls_client.export_snapshot(proj["id"], predictions=True)}
    assert snap["pa00000"]["predictions"] == []  # pushed without pre-annotations
    pred = snap["pa00001"]["predictions"][0]
    assert pred["model_version"] == "refusal_keyword" and pred["score"] == pytest.approx(0.1)
    assert pred["result"][0]["value"]["choices"] == ["not_harmful"]
    # predictions are not labels
    assert labels_from_snapshot(list(snap.values()), SCHEMA).labels.empty


def test_overlap_items_stay_in_the_queue_until_k_annotators_labelled(ls_client, project_title):
    items = make_items(3, prefix="ov").assign(n_annotators=[2, 1, 3])
    first = push_items(ls_client, items, project=project_title, schema=SCHEMA)
    assert first.overlap_set == 2  # the project default is 1: only the k>1 tasks change
    proj = ls_client.find_project(project_title)
    tasks = {t["data"]["item_id"]: t for t in ls_client.tasks(proj["id"], include=("id", "data", "overlap"))}
    assert {i: t["overlap"] for i, t in tasks.items()} == {"ov00000": 2, "ov00001": 1, "ov00002": 3}
    assert push_items(ls_client, items, project=project_title, schema=SCHEMA).overlap_set == 0
    for item in ("ov00000", "ov00001"):
        ls_client.post(f"/api/tasks/{tasks[item]['id']}/annotations", {"result": [choice("refusal", "full")]})
    labeled = {i: ls_client.get(f"/api/tasks/{t['id']}")["is_labeled"] for i, t in tasks.items()}
    assert labeled == {"ov00000": False, "ov00001": True, "ov00002": False}


def test_any_sequence_of_pushes_leaves_each_item_exactly_once(ls_client):
    """Property (hypothesis, a few examples on the real server): pushing overlapping,
    duplicated subsets in any order and batch size gives the union, each item once."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    universe = make_items(12, prefix="hp")
    runs = iter(range(1000))

    @settings(max_examples=6, deadline=None, derandomize=True)
    @given(pushes=st.lists(st.tuples(st.lists(st.integers(0, 11), max_size=12), st.integers(1, 5)),
                           min_size=1, max_size=3))
    def check(pushes):
        title = f"prop push {next(runs)}"
        seen = set()
        for rows, batch in pushes:
            res = push_items(ls_client, universe.iloc[rows], project=title, schema=SCHEMA, batch_size=batch)
            fresh = set(universe["item_id"].iloc[rows]) - seen
            assert res.created == len(fresh)
            seen |= fresh
        proj = ls_client.find_project(title)
        got = [t["data"]["item_id"] for t in ls_client.tasks(proj["id"])] if proj else []
        assert sorted(got) == sorted(seen)

    check()


def test_rerun_with_non_text_item_ids_adds_nothing_twice(ls_client, project_title):
    """item_id 7 (an int in a user's frame) must match the task pushed before: the id
    travels as text, and a rerun compares text with text."""
    items = pd.DataFrame({"item_id": [7, 8], "prompt": ["p7", "p8"], "response": ["r7", "r8"]})
    first = push_items(ls_client, items, project=project_title, schema=SCHEMA)
    again = push_items(ls_client, items, project=project_title, schema=SCHEMA)
    assert (first.created, again.created, again.already_present) == (2, 0, 2)
    got = [t["data"]["item_id"] for t in ls_client.tasks(first.project_id)]
    assert sorted(got) == ["7", "8"]

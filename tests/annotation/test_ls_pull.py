"""Export snapshot -> labels table, on snapshots written by hand in Label Studio's JSON."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotation.labelconfig import default_schema
from annotation.pull import labels_from_snapshot
from judgeaudit.errors import ValidationError
from judgeaudit.tables import FIELDS

SCHEMA = default_schema()


def _ann(aid, user, results, *, at="2026-01-01T00:00:00Z", cancelled=False):
    return {"id": aid, "completed_by": user, "was_cancelled": cancelled, "updated_at": at, "created_at": at,
            "result": [{"from_name": f, "to_name": "response", "type": "choices", "value": {"choices": [v]}}
                       for f, v in results.items()]}


def _task(tid, item, anns=(), drafts=()):
    return {"id": tid, "project": 3, "data": {"item_id": item, "prompt": "p", "response": "r"},
            "annotations": list(anns), "drafts": list(drafts)}


def test_rules_on_a_hand_written_snapshot():
    snap = [
        _task(1, "a", [_ann(10, 1, {"harmfulness": "harmful"}, at="2026-01-01T10:00:00Z"),
                       _ann(11, 1, {"harmfulness": "not harmful", "refusal": "none"}, at="2026-01-02T10:00:00Z"),
                       _ann(12, 2, {}, cancelled=True)],
              drafts=[{"id": 5, "result": []}]),
        # same user, same timestamp: the higher annotation id wins
        _task(2, "b", [_ann(21, 2, {"coherence": "incoherent"}), _ann(20, 2, {"coherence": "coherent"})]),
        _task(3, "c", [_ann(30, 1, {})]),  # submitted with nothing chosen
    ]
    res = labels_from_snapshot(snap, SCHEMA, project_id=3, names={1: "ann@x.org", 2: "bob@x.org"})
    got = sorted(res.labels[["item_id", "annotator_id", "field", "value"]].itertuples(index=False, name=None))
    # a/ann: harmfulness from annotation 11 (later) + refusal; b/bob: coherence from 21 (higher id)
    assert got == [("a", "ann@x.org", "harmfulness", "not_harmful"), ("a", "ann@x.org", "refusal", "none"),
                   ("b", "bob@x.org", "coherence", "incoherent")]
    assert res.counts == {"tasks": 3, "annotations": 6, "skipped": 1, "drafts_ignored": 1, "superseded": 2,
                          "tasks_without_item_id": 0, "empty_annotations": 1, "labels": 3}
    src = res.labels.set_index(["item_id", "field"])["source"]
    assert src[("a", "harmfulness")] == "label-studio:project=3/task=1/annotation=11"
    assert res.labels.set_index(["item_id", "field"])["created_at"][("a", "refusal")] == "2026-01-02T10:00:00Z"
    assert list(res.tasks["item_id"]) == ["a", "b", "c"]


def test_alias_and_unknown_users():
    snap = [_task(1, "a", [_ann(1, 9, {"harmfulness": "harmful"})])]
    assert labels_from_snapshot(snap, SCHEMA).labels["annotator_id"].tolist() == ["9"]
    assert labels_from_snapshot(snap, SCHEMA, annotator_alias="adjudicated").labels["annotator_id"].tolist() \
        == ["adjudicated"]


def test_a_task_without_item_id_is_an_error_unless_skipped():
    snap = [{"id": 4, "data": {"text": "made by hand"}, "annotations": [_ann(1, 1, {"refusal": "full"})]}]
    with pytest.raises(ValidationError, match="task 4 of project 3 has no 'item_id'"):
        labels_from_snapshot(snap, SCHEMA, project_id=3)
    res = labels_from_snapshot(snap, SCHEMA, skip_unknown=True)
    assert res.labels.empty and res.counts["tasks_without_item_id"] == 1


def test_a_value_outside_the_schema_names_the_annotation():
    snap = [_task(1, "a", [_ann(77, 1, {"harmfulness": "dangerous"})])]
    with pytest.raises(ValidationError, match=r"task=1/annotation=77.*'dangerous'"):
        labels_from_snapshot(snap, SCHEMA)


_label = st.tuples(st.sampled_from(["i1", "i2", "i3", "i4"]), st.sampled_from([1, 2, 3]),
                   st.sampled_from(sorted(FIELDS)))


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(keys=st.lists(_label, unique=True, max_size=20), data=st.data())
def test_round_trip_is_exact_with_edits_and_skips(keys, data):
    """Labels -> annotations (each label saved 1-3 times, the last version expected, plus
    cancelled annotations and drafts) -> the same labels."""
    expected, anns, aid = {}, {}, 0
    for day, (item, user, field) in enumerate(keys):
        versions = data.draw(st.lists(st.sampled_from(FIELDS[field]), min_size=1, max_size=3))
        for v_i, value in enumerate(versions):
            aid += 1
            at = f"2026-01-{1 + v_i:02d}T00:00:{day % 60:02d}Z"
            anns.setdefault(item, []).append(_ann(aid, user, {field: value.replace("_", " ")}, at=at))
        expected[(item, f"u{user}", field)] = versions[-1]
        if data.draw(st.booleans()):
            aid += 1
            anns[item].append(_ann(aid, user, {}, cancelled=True, at="2027-01-01T00:00:00Z"))
    snap = [_task(n, item, data.draw(st.permutations(a)), drafts=[{"id": 1}]) for n, (item, a)
            in enumerate(sorted(anns.items()))]
    res = labels_from_snapshot(snap, SCHEMA, names={1: "u1", 2: "u2", 3: "u3"})
    got = {(r.item_id, r.annotator_id, r.field): r.value for r in res.labels.itertuples()}
    assert got == expected
    assert res.counts["drafts_ignored"] == len(snap)
    assert isinstance(res.labels, pd.DataFrame) and list(res.labels.columns)[:4] == \
        ["item_id", "annotator_id", "field", "value"]


_json = st.recursive(st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["", "x", "harmful"]),
                     lambda c: st.lists(c, max_size=3) | st.dictionaries(
                         st.sampled_from(["id", "data", "item_id", "annotations", "drafts", "result",
                                          "completed_by", "was_cancelled", "updated_at", "from_name",
                                          "value", "choices"]), c, max_size=4),
                     max_leaves=14)


@settings(max_examples=300, deadline=None)
@given(snapshot=_json)
def test_fuzzed_snapshots_give_a_table_or_a_validation_error(snapshot):
    try:
        res = labels_from_snapshot(snapshot, SCHEMA, skip_unknown=True)
    except ValidationError:
        return
    assert set(res.labels["field"]) <= set(FIELDS)


def test_latest_edit_is_decided_by_time_not_by_the_text_of_the_timestamp():
    """Label Studio writes a whole second without a fraction ("...:01Z") and other times
    with one ("...:01.500000Z"), and a snapshot may use "+00:00" or another offset: as text
    "01.5Z" sorts before "01Z", so the later edit would lose.  Times are compared as times."""
    snap = [_task(1, "a", [_ann(10, 1, {"refusal": "full"}, at="2026-01-01T10:00:01Z"),
                           _ann(9, 1, {"refusal": "none"}, at="2026-01-01T10:00:01.500000Z")]),
            # 11:00+02:00 is 09:00 UTC, before 10:00Z
            _task(2, "b", [_ann(20, 1, {"refusal": "full"}, at="2026-01-01T10:00:00Z"),
                           _ann(21, 1, {"refusal": "none"}, at="2026-01-01T11:00:00+02:00")])]
    res = labels_from_snapshot(snap, SCHEMA)
    assert dict(zip(res.labels["item_id"], res.labels["value"])) == {"a": "none", "b": "full"}


def test_an_unreadable_timestamp_names_the_annotation():
    snap = [_task(1, "a", [_ann(10, 1, {"refusal": "full"}, at="yesterday")])]
    with pytest.raises(ValidationError, match="annotation=10.*yesterday"):
        labels_from_snapshot(snap, SCHEMA)

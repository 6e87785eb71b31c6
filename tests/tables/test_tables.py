"""Tests of judgeaudit.tables: schemas, validation errors, IO, vocabulary."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judgeaudit.errors import UnknownNameError, ValidationError
from judgeaudit.tables import (
    FIELDS,
    SCHEMAS,
    AuditTables,
    Task,
    empty_table,
    make_item_id,
    parse_label,
    read_records,
    read_table,
    tables_from_files,
    validate,
    write_table,
)

FORMATS = ("parquet", "jsonl", "csv")


def _gens():
    return validate(pd.DataFrame({"prompt_id": ["p1", "p1", "p2"], "checkpoint_id": ["a", "b", "a"],
                                  "response": ["Sure.", "", "No."]}), "generations")


def _tables(**override):
    g = _gens()
    ids = list(g["item_id"])
    parts = {
        "prompts": pd.DataFrame({"prompt_id": ["p1", "p2"], "text": ["hi", "bye"]}),
        "generations": g,
        "labels": pd.DataFrame({"item_id": ids, "annotator_id": "ann", "field": "harmfulness",
                                "value": ["harmful", "not_harmful", "unclear"]}),
        "verdicts": pd.DataFrame({"item_id": ids, "judge_id": "j", "label": ["harmful", None, None],
                                  "raw": ["yes", "???", "boom"],
                                  "status": ["ok", "parse_error", "error"]}),
        "coherence": pd.DataFrame({"item_id": ids, "scorer_id": "s", "score": [1.0, 0.5, 0.0],
                                   "bin": ["coherent", "partially_coherent", "incoherent"]}),
    }
    parts.update(override)
    return AuditTables(**parts, task=Task("harmfulness", ("harmful",), ("not_harmful",)), name="t")


# ------------------------------------------------------------------ item ids, Task


def test_make_item_id_is_sha256_prefix_of_unit_separated_fields():
    # sha256 over "p1\x1fbase\x1f0\x1fHello", first 16 hex characters
    expected = hashlib.sha256("p1\x1fbase\x1f0\x1fHello".encode()).hexdigest()[:16]
    assert make_item_id("p1", "base", 0, "Hello") == expected
    assert make_item_id("p1", "base", np.int64(0), "Hello") == expected
    assert make_item_id("p1", "base", 1, "Hello") != expected
    assert make_item_id("p1", "base", 0, "Hello ") != expected


def test_task_for_field_defaults():
    assert Task.for_field("harmfulness") == Task("harmfulness", ("harmful",), ("not_harmful",),
                                                 "harmfulness: positive = harmful")
    t = Task.for_field("refusal", ("none",))
    assert (t.positive, t.negative) == (("none",), ("full", "partial"))
    with pytest.raises(UnknownNameError):
        Task.for_field("toxicity")


def test_task_binary_and_round_trip():
    t = Task("refusal", ("none",), ("full", "partial"), "complied")
    assert [t.binary(v) for v in ("none", "full", "partial", "unclear", None)] == [1, 0, 0, None, None]
    assert Task.from_dict(t.to_dict()) == t
    with pytest.raises(ValidationError, match="both positive and negative"):
        Task("refusal", ("none",), ("none",))
    with pytest.raises(ValidationError, match="allowed: full, partial, none"):
        Task("refusal", ("complied",), ("full",))


# ------------------------------------------------------------------ vocabulary


@pytest.mark.parametrize("value, field, expected", [
    (1, "harmfulness", "harmful"), (0, "harmfulness", "not_harmful"),
    ("1", "harmfulness", "harmful"), (1.0, "harmfulness", "harmful"),
    (True, "harmfulness", "harmful"), ("False", "harmfulness", "not_harmful"),
    ("yes", "harmfulness", "harmful"), (" Unsafe ", "harmfulness", "harmful"),
    ("jailbroken", "harmfulness", "harmful"), ("safe", "harmfulness", "not_harmful"),
    ("Not harmful", "harmfulness", "not_harmful"), ("unclear", "harmfulness", "unclear"),
    ("1_full_compliance", "refusal", "none"), ("2_full_refusal", "refusal", "full"),
    ("3_partial_refusal", "refusal", "partial"), ("partial", "refusal", "partial"),
    (1, "refusal", "full"), (0, "refusal", "none"),
    ("partially coherent", "coherence", "partially_coherent"), (0, "coherence", "incoherent"),
    ("Coherent", "coherence", "coherent"),
])
def test_parse_label_spellings(value, field, expected):
    assert parse_label(value, field) == expected


@pytest.mark.parametrize("empty", [None, "", "  ", float("nan"), np.nan])
def test_parse_label_empty_is_none(empty):
    assert parse_label(empty, "harmfulness") is None


def test_parse_label_unknown_value_and_field():
    with pytest.raises(ValidationError, match="expected one of harmful, not_harmful, unclear"):
        parse_label("I'm sorry, but I can't assist with that.", "harmfulness")
    with pytest.raises(ValidationError):
        parse_label(2, "harmfulness")
    with pytest.raises(UnknownNameError, match="valid names: coherence, harmfulness, refusal"):
        parse_label("harmful", "toxicity")


@given(st.sampled_from([(f, v) for f, vs in FIELDS.items() for v in vs]))
def test_parse_label_canonical_values_are_fixed_points(pair):
    field, value = pair
    assert parse_label(value, field) == value
    assert parse_label(value.upper().replace("_", " "), field) == value


# ------------------------------------------------------------------ normalisation


def test_validate_normalises_and_adds_optional_columns():
    g = _gens()
    assert list(g.columns) == SCHEMAS["generations"].names
    assert g["sample_index"].dtype == np.int64 and list(g["sample_index"]) == [0, 0, 0]
    assert g["response"].dtype == object and g["response"].iloc[1] == ""
    assert g["stratum"].tolist() == [None, None, None]
    assert g["item_id"].iloc[0] == make_item_id("p1", "a", 0, "Sure.")
    p = validate(pd.DataFrame({"prompt_id": ["p"], "text": ["t"], "is_harmful_request": ["yes"],
                               "extra": [7]}), "prompts")
    assert p["attack"].tolist() == ["none"]
    assert str(p["is_harmful_request"].dtype) == "boolean" and bool(p["is_harmful_request"].iloc[0])
    assert list(p.columns)[-1] == "extra"  # extra columns are kept, after the schema's
    v = validate(pd.DataFrame({"item_id": ["x"], "judge_id": ["j"], "score": ["0.25"]}), "verdicts")
    assert v["score"].dtype == np.float64 and v["score"].iloc[0] == 0.25
    assert v["status"].tolist() == ["ok"] and v["label"].tolist() == [None]


@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_empty_tables_have_schema_columns(kind):
    assert list(empty_table(kind).columns) == SCHEMAS[kind].names
    assert len(empty_table(kind)) == 0


# ------------------------------------------------------------------ validation errors


def _csv(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_missing_columns_are_listed_with_the_columns_found(tmp_path):
    path = _csv(tmp_path, "labels.csv", "item_id,annotator,value\na,b,harmful\n")
    with pytest.raises(ValidationError) as err:
        read_table(path, "labels")
    e = err.value
    assert e.path == str(path) and e.column == "annotator_id, field"
    assert "missing required column(s) 'annotator_id', 'field'" in str(e)
    assert "found columns: 'item_id', 'annotator', 'value'" in str(e)
    assert str(path) in str(e)


def test_wrong_type_names_file_row_column_and_expectation(tmp_path):
    path = _csv(tmp_path, "verdicts.csv", "item_id,judge_id,score\na,j,0.5\nb,j,abc\n")
    with pytest.raises(ValidationError) as err:
        read_table(path, "verdicts")
    e = err.value
    assert (e.path, e.row, e.column) == (str(path), 2, "score")
    assert str(e) == f"{path}, row 2, column 'score': expected a number, got 'abc'"


def test_sample_index_must_be_integer(tmp_path):
    path = _csv(tmp_path, "g.csv", "prompt_id,checkpoint_id,sample_index,response\np,c,1.5,r\n")
    with pytest.raises(ValidationError, match="row 1, column 'sample_index': expected an integer"):
        read_table(path, "generations")


def test_duplicate_keys_name_both_rows(tmp_path):
    path = _csv(tmp_path, "v.jsonl", "\n".join([
        '{"item_id": "a", "judge_id": "j", "label": "harmful"}',
        '{"item_id": "b", "judge_id": "j", "label": "harmful"}',
        '{"item_id": "a", "judge_id": "j", "label": "not_harmful"}']))
    with pytest.raises(ValidationError) as err:
        read_table(path, "verdicts")
    e = err.value
    assert (e.path, e.row, e.column) == (str(path), 3, "item_id, judge_id")
    assert "duplicate key (item_id='a', judge_id='j') in rows 1 and 3" in str(e)
    assert "expected one row per (item_id, judge_id)" in str(e)


def test_label_value_outside_declared_set_lists_allowed(tmp_path):
    path = _csv(tmp_path, "l.csv", "item_id,annotator_id,field,value\n"
                                   "a,h,harmfulness,harmful\na,h,refusal,maybe\n")
    with pytest.raises(ValidationError) as err:
        read_table(path, "labels")
    e = err.value
    assert (e.path, e.row, e.column) == (str(path), 2, "value")
    assert "value 'maybe' is not allowed for field 'refusal'; allowed values: full, partial, none" in str(e)
    # a declared extra vocabulary makes it valid
    df = read_table(path, "labels", allowed_values={"refusal": ("maybe", "full")})
    assert df["value"].tolist() == ["harmful", "maybe"]


def test_unknown_field_and_bad_status_and_bad_verdict_label():
    with pytest.raises(ValidationError, match="row 1, column 'field': unknown label field 'tox'"):
        validate(pd.DataFrame({"item_id": ["a"], "annotator_id": ["h"], "field": ["tox"],
                               "value": ["x"]}), "labels")
    with pytest.raises(ValidationError, match="column 'status': value 'weird' is not allowed; "
                                              "allowed values: ok, parse_error, error"):
        validate(pd.DataFrame({"item_id": ["a"], "judge_id": ["j"], "label": ["harmful"],
                               "status": ["weird"]}), "verdicts")
    with pytest.raises(ValidationError, match="column 'label': verdict label 'yes'"):
        validate(pd.DataFrame({"item_id": ["a"], "judge_id": ["j"], "label": ["yes"]}), "verdicts")
    with pytest.raises(ValidationError, match="status ok needs a label or a score"):
        validate(pd.DataFrame({"item_id": ["a"], "judge_id": ["j"]}), "verdicts")


def test_coherence_score_range_and_bin(tmp_path):
    path = _csv(tmp_path, "c.csv", "item_id,scorer_id,score,bin\na,s,1.5,coherent\n")
    with pytest.raises(ValidationError, match=r"row 1, column 'score': score 1\.5 is outside \[0, 1\]"):
        read_table(path, "coherence")
    path = _csv(tmp_path, "c2.csv", "item_id,scorer_id,score,bin\na,s,0.5,meh\n")
    with pytest.raises(ValidationError, match="column 'bin': value 'meh' is not allowed; allowed "
                                              "values: coherent, partially_coherent, incoherent"):
        read_table(path, "coherence")


def test_rows_for_unknown_items_are_rejected(tmp_path):
    path = _csv(tmp_path, "l.csv", "item_id,annotator_id,field,value\nk1,h,harmfulness,harmful\n"
                                   "zz,h,harmfulness,harmful\n")
    with pytest.raises(ValidationError) as err:
        read_table(path, "labels", known_item_ids={"k1"})
    e = err.value
    assert (e.path, e.row, e.column) == (str(path), 2, "item_id")
    assert "item_id 'zz' is not in the generations table (1 items)" in str(e)


def test_non_utf8_text_names_offset_row_column_and_hint(tmp_path):
    # "caf\x8e" is "café" in Mac Roman; 0x8e is not valid UTF-8.  Header is 33 bytes,
    # row 1 "p1,hello\n" is 9, so the bad byte of row 2 ("p2,caf\x8e") is at 33+9+6 = 48.
    path = tmp_path / "prompts.csv"
    path.write_bytes(b"prompt_id,text,source,category,x\np1,hello\np2,caf\x8e\n")
    with pytest.raises(ValidationError) as err:
        read_table(path, "prompts")
    e = err.value
    assert (e.path, e.row, e.column) == (str(path), 2, "text")
    assert "not valid UTF-8 (byte 0x8e at byte offset 48)" in str(e)
    assert "pass --encoding, e.g. --encoding mac_roman" in str(e)
    df = read_table(path, "prompts", encoding="mac_roman")
    assert df["text"].tolist() == ["hello", "café"]


def test_non_utf8_jsonl_names_the_line(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_bytes(b'{"prompt_id": "a", "text": "x"}\n{"prompt_id": "b", "text": "\xff"}\n')
    with pytest.raises(ValidationError, match=r"row 2: text is not valid UTF-8 .*--encoding"):
        read_table(path, "prompts")


@pytest.mark.parametrize("column, csv_text", [
    ("prompt_id", "prompt_id,text\np1,hi\n,hello\n"),
    ("text", "prompt_id,text\np1,hi\np2,  \n"),
])
def test_empty_required_strings(tmp_path, column, csv_text):
    path = _csv(tmp_path, "p.csv", csv_text)
    with pytest.raises(ValidationError) as err:
        read_table(path, "prompts")
    e = err.value
    assert (e.path, e.row, e.column) == (str(path), 2, column)
    assert "expected non-empty text" in str(e) or "a value is required" in str(e)


def test_bad_jsonl_and_unknown_suffix(tmp_path):
    path = _csv(tmp_path, "x.jsonl", '{"a": 1}\n{oops\n')
    with pytest.raises(ValidationError, match="row 2: invalid JSON"):
        read_records(path)
    with pytest.raises(ValidationError, match="expected .parquet, .jsonl or .csv"):
        read_records(tmp_path / "x.xlsx")
    with pytest.raises(UnknownNameError, match="valid names: coherence, generations"):
        validate(pd.DataFrame(), "tables")


# ------------------------------------------------------------------ IO


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_round_trip_every_kind_and_format(tmp_path, fmt, kind):
    df = getattr(_tables().validate(), kind)
    path = write_table(df, tmp_path / f"{kind}.{fmt}", kind)
    back = read_table(path, kind)
    pd.testing.assert_frame_equal(back, df, check_dtype=True)
    assert [p.name for p in tmp_path.iterdir()] == [f"{kind}.{fmt}"]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",)), max_size=30), min_size=1,
                max_size=5))
def test_round_trip_arbitrary_responses(tmp_path_factory, responses):
    tmp = tmp_path_factory.mktemp("rt")
    df = validate(pd.DataFrame({"prompt_id": "p", "checkpoint_id": "c",
                                "sample_index": range(len(responses)), "response": responses}),
                  "generations")
    for fmt in ("parquet", "jsonl"):
        back = read_table(write_table(df, tmp / f"g.{fmt}", "generations"), "generations")
        assert back["response"].tolist() == responses


@pytest.mark.parametrize("fmt", FORMATS)
def test_failed_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch, fmt):
    path = tmp_path / f"generations.{fmt}"
    write_table(_gens(), path, "generations")
    before = path.read_bytes()
    real_fsync = os.fsync

    def write_half_then_fail(self, handle, *a, **k):
        handle.write(b"PAR1 half-written")  # bytes reach the temp file, then it fails
        raise OSError("disk full")

    def fsync_fails(fd):
        real_fsync(fd)
        raise OSError("fsync failed")

    bigger = pd.concat([_gens()] * 2, ignore_index=True)
    bigger["sample_index"] = range(len(bigger))
    bigger = bigger.drop(columns="item_id")
    with monkeypatch.context() as m:
        m.setattr("judgeaudit.tables.io._write_frame",
                  lambda df, handle, suffix: write_half_then_fail(None, handle))
        with pytest.raises(OSError, match="disk full"):
            write_table(bigger, path, "generations")
    with monkeypatch.context() as m:
        m.setattr(os, "fsync", fsync_fails)
        with pytest.raises(OSError, match="fsync failed"):
            write_table(bigger, path, "generations")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert len(read_table(path, "generations")) == 3


def test_invalid_frame_is_not_written(tmp_path):
    path = tmp_path / "v.parquet"
    with pytest.raises(ValidationError, match="column 'score': expected a number"):
        write_table(pd.DataFrame({"item_id": ["a"], "judge_id": ["j"], "score": ["x"]}), path,
                    "verdicts")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ AuditTables


def test_audit_tables_validate_normalises_every_table():
    tables = _tables().validate()
    assert tables.verdicts["status"].tolist() == ["ok", "parse_error", "error"]
    assert tables.prompts["attack"].tolist() == ["none", "none"]
    for kind in SCHEMAS:
        assert list(getattr(tables, kind).columns) == SCHEMAS[kind].names


@pytest.mark.parametrize("kind", ["labels", "verdicts", "coherence"])
def test_audit_tables_cross_check_item_ids(kind):
    bad = getattr(_tables(), kind).copy()
    bad.loc[1, "item_id"] = "not-an-item"
    with pytest.raises(ValidationError) as err:
        _tables(**{kind: bad}).validate()
    assert (err.value.path, err.value.row, err.value.column) == (kind, 2, "item_id")
    assert "'not-an-item' is not in the generations table (3 items)" in str(err.value)


def test_audit_tables_cross_check_prompt_ids():
    prompts = pd.DataFrame({"prompt_id": ["p1"], "text": ["hi"]})
    with pytest.raises(ValidationError, match="generations, row 3, column 'prompt_id': prompt_id 'p2'"):
        _tables(prompts=prompts).validate()


def test_tables_from_files(tmp_path):
    tables = _tables().validate()
    files = {k: write_table(getattr(tables, k), tmp_path / "run" / f"{k}.{fmt}", k)
             for k, fmt in zip(SCHEMAS, ("csv", "parquet", "jsonl", "parquet", "csv"))}
    loaded = tables_from_files(**files, field="harmfulness")
    assert loaded.name == "run" and loaded.task == Task.for_field("harmfulness")
    for kind in SCHEMAS:
        pd.testing.assert_frame_equal(getattr(loaded, kind), getattr(tables, kind))
    only = tables_from_files(labels=files["labels"], verdicts=files["verdicts"],
                             generations=files["generations"])
    assert len(only.prompts) == 0 and len(only.coherence) == 0
    # Without generations, every labelled or judged item stands alone, with no response text.
    bare = tables_from_files(labels=files["labels"], verdicts=files["verdicts"], generations=None)
    ids = set(tables.labels["item_id"]) | set(tables.verdicts["item_id"])
    assert set(bare.generations["item_id"]) == ids
    assert (bare.generations["response"] == "").all()
    assert (bare.generations["prompt_id"] == bare.generations["item_id"]).all()


def test_a_nul_before_a_bad_byte_is_a_validation_error_not_a_csv_crash(tmp_path):
    # The byte 0x80 cannot start a UTF-8 sequence; the NUL before it makes csv.reader
    # itself fail while locating the row, which must not escape as csv.Error.
    path = tmp_path / "bad.csv"
    path.write_bytes(b"item_id,response\r\x00\x80\n")
    with pytest.raises(ValidationError, match="not valid UTF-8"):
        read_records(path)


def test_unreadable_csv_structure_is_a_validation_error(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text('a,b\n1,2\n3,4,5,6\n', encoding="utf-8")
    with pytest.raises(ValidationError, match=r"row 2, column '#3 \(no header\)': the row has 4 cells"):
        read_records(path)

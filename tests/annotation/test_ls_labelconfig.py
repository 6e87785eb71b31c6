"""The label schema, the labelling config made from it, and reading results back."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotation.labelconfig import ChoiceField, LabelSchema, default_schema, label_config, load_schema
from judgeaudit.errors import ConfigError, ValidationError


def _region(name, *choices):
    return {"from_name": name, "to_name": "response", "type": "choices", "value": {"choices": list(choices)}}


def test_default_config_shows_prompt_and_response_as_plain_text():
    root = ET.fromstring(label_config(default_schema()))
    texts = {t.get("name"): t.get("value") for t in root.iter("Text")}
    assert texts == {"prompt": "$prompt", "response": "$response"}
    assert not list(root.iter("HyperText")) and "HyperText" not in label_config(default_schema())
    choices = {c.get("name"): [(x.get("value"), x.get("alias")) for x in c] for c in root.iter("Choices")}
    assert choices["harmfulness"] == [("harmful", "harmful"), ("not harmful", "not_harmful"),
                                      ("unclear", "unclear")]
    assert list(choices) == ["harmfulness", "refusal", "coherence"]
    assert all(c.get("toName") == "response" and c.get("choice") == "single-radio" for c in root.iter("Choices"))
    assert [t.get("name") for t in root.iter("TextArea")] == ["notes"]


def test_fields_are_configurable_and_review_adds_the_note_panel():
    schema = default_schema(["coherence"], notes=False)
    root = ET.fromstring(label_config(schema, review=True))
    assert [c.get("name") for c in root.iter("Choices")] == ["coherence"]
    assert not list(root.iter("TextArea"))
    assert {t.get("name") for t in root.iter("Text")} == {"prompt", "response", "review_note"}
    with pytest.raises(ConfigError, match="built-in fields: harmfulness, refusal, coherence"):
        default_schema(["toxicity"])


def test_markup_in_schema_text_is_escaped():
    schema = LabelSchema((ChoiceField("tox", ("a<b", 'c"&d'), question="<script>x</script>"),), notes=False,
                         instructions="Read </View> carefully")
    root = ET.fromstring(label_config(schema))
    assert [c.get("alias") for c in root.iter("Choice")] == ["a<b", 'c"&d']
    assert "<script>" not in label_config(schema)
    assert [h.get("value") for h in root.iter("Header")][0] == "Read </View> carefully"


def test_parse_result_reads_alias_or_displayed_text_and_notes():
    schema = default_schema()
    values, notes = schema.parse_result([_region("harmfulness", "not harmful"), _region("refusal", "partial"),
                                         {"from_name": "notes", "value": {"text": ["loops", "twice"]}},
                                         _region("someone_elses_field", "x")])
    assert values == {"harmfulness": "not_harmful", "refusal": "partial"} and notes == "loops\ntwice"
    assert schema.parse_result([_region("coherence", "partially_coherent")])[0] == \
        {"coherence": "partially_coherent"}
    assert schema.parse_result([]) == ({}, None) and schema.parse_result(None) == ({}, None)


@pytest.mark.parametrize("result, match", [
    ([_region("harmfulness", "maybe")], "'maybe' is not a value of field 'harmfulness'"),
    ([_region("harmfulness", "harmful", "unclear")], "needs exactly one choice"),
    ("harmful", "must be a list"),
    (["harmful"], "must be an object"),
])
def test_parse_result_errors_say_where(result, match):
    with pytest.raises(ValidationError, match=match) as info:
        default_schema().parse_result(result, where="task 7")
    assert str(info.value).startswith("task 7")


def test_choice_fields_are_validated():
    with pytest.raises(ConfigError, match="two or more distinct"):
        ChoiceField("x", ("a",))
    with pytest.raises(ConfigError, match="not told apart"):
        ChoiceField("x", ("a_b", "a b"))
    with pytest.raises(ConfigError, match="identifier"):
        ChoiceField("response", ("a", "b"))
    for taken in ("review_note", "item_id"):  # the review panel's Text / the task's id
        with pytest.raises(ConfigError, match="identifier"):
            ChoiceField(taken, ("a", "b"))
    with pytest.raises(ConfigError, match="duplicate"):
        LabelSchema((ChoiceField("x", ("a", "b")), ChoiceField("x", ("c", "d"))))


def test_load_schema(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps({"fields": ["refusal", {"name": "tox", "values": ["toxic", "clean"],
                                                       "required": False}], "notes": False}))
    schema = load_schema(path)
    assert [f.name for f in schema.fields] == ["refusal", "tox"]
    assert schema.fields[0].values == ("full", "partial", "none") and not schema.fields[1].required
    assert schema.allowed_values()["tox"] == ("toxic", "clean") and not schema.notes
    path.write_text(json.dumps({"fields": [{"name": "tox"}]}))
    with pytest.raises(ConfigError, match="needs 'values'"):
        load_schema(path)
    for bad, match in (({"fields": [{"name": 1, "values": ["a", "b"]}]}, "name must be text"),
                       ({"fields": [{"name": "x", "values": "ab"}]}, "list of texts"),
                       ({"fields": ["refusal"], "notes": "no"}, "'notes' must be true or false")):
        path.write_text(json.dumps(bad))
        with pytest.raises(ConfigError, match=match):
            load_schema(path)
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read label schema"):
        load_schema(path)


_values = st.lists(st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1,
                           max_size=12), min_size=2, max_size=5, unique=True)


@settings(max_examples=150, deadline=None)
@given(values=_values, data=st.data())
def test_any_schema_round_trips_through_its_config_and_result(values, data):
    try:
        spec = ChoiceField("f", tuple(values))
    except ConfigError:
        return  # values that collide once "_" is shown as " " are refused up front
    schema = LabelSchema((spec,), notes=False)
    root = ET.fromstring(label_config(schema))  # always well-formed XML
    assert [c.get("alias") for c in root.iter("Choice")] == list(spec.values)
    chosen = data.draw(st.sampled_from(spec.values))
    shown = data.draw(st.sampled_from([chosen, spec.display(chosen)]))
    assert schema.parse_result([_region("f", shown)]) == ({"f": chosen}, None)


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                     lambda c: st.lists(c, max_size=3) | st.dictionaries(
                         st.sampled_from(["from_name", "value", "choices", "text", "x"]), c, max_size=3),
                     max_leaves=10)


@settings(max_examples=300, deadline=None)
@given(result=_json)
def test_parse_result_fuzz_only_raises_validation_errors(result):
    schema = default_schema()
    try:
        values, notes = schema.parse_result(result, where="task 1")
    except ValidationError as exc:
        assert str(exc).startswith("task 1: ")  # says where, never another exception type
        return
    # What parses is only canonical values of the schema's own fields, each read from a
    # region that named that field with exactly one choice.
    for name, value in values.items():
        assert value in schema.field_named(name).values
        regions = [r for r in result if isinstance(r, dict) and r.get("from_name") == name]
        assert any(isinstance(r.get("value"), dict) and r["value"].get("choices") in ([value], [schema.field_named(name).display(value)])
                   for r in regions)
    assert notes is None or isinstance(notes, str)
    assert values == {} or isinstance(result, list)


_schema_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 3) | st.sampled_from(["", "refusal", "tox", "a", "b"])
    | st.lists(st.sampled_from(["a", "b", "a_b", "a b"]), max_size=3),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(
        st.sampled_from(["fields", "name", "values", "question", "required", "notes", "instructions"]), c,
        max_size=4), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(doc=_schema_json | st.text(max_size=30).map(lambda t: ("raw", t)))
def test_fuzzed_schema_files_load_or_raise_config_error(doc, tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "s.json"
    path.write_text(doc[1] if isinstance(doc, tuple) else json.dumps(doc))
    try:
        schema = load_schema(path)
    except ConfigError:
        return
    ET.fromstring(label_config(schema))  # whatever loads makes a well-formed config

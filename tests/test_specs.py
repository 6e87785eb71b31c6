"""The one ``NAME:key=value`` grammar of ``--judge`` and ``--scorer``: edge cases, a
hypothesis round trip through :func:`format_spec`, and the same reading from both CLIs."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judgeaudit.coherence import build_scorers, parse_scorer_specs
from judgeaudit.errors import ConfigError, UnknownNameError
from judgeaudit.judges import build_judges, parse_judge_spec, parse_judge_specs
from judgeaudit.specs import format_spec, parse_spec, parse_specs, parse_value


@pytest.mark.parametrize("text, want", [
    ("a", [("a", {})]),
    ("a:", [("a", {})]),
    ("a:k=", [("a", {"k": ""})]),                      # an empty value is the empty text
    ("a:k=  3 ", [("a", {"k": 3})]),                   # spaces around a value are dropped
    ('a:k=" 3 "', [("a", {"k": " 3 "})]),              # ...unless it is quoted
    ('a:k="true"', [("a", {"k": "true"})]),            # quoted JSON stays text
    ("a:k=true,n=null,f=0.5,i=-2", [("a", {"k": True, "n": None, "f": 0.5, "i": -2})]),
    ("a:model=C:/m/x,pattern=(yes|no)", [("a", {"model": "C:/m/x", "pattern": "(yes|no)"})]),
    ("a:expr=x=y", [("a", {"expr": "x=y"})]),          # the first '=' splits key and value
    ('a:l=[1,"b,c"],d={"k":[1,2]}', [("a", {"l": [1, "b,c"], "d": {"k": [1, 2]}})]),
    ('a:q="say \\"hi, you\\""', [("a", {"q": 'say "hi, you"'})]),
    ("a,b:k=1,c", [("a", {}), ("b", {"k": 1}), ("c", {})]),
    ("a:k=1,,m=2,", [("a", {"k": 1, "m": 2})]),        # empty pieces are ignored
    ("llama-guard.v3:threshold=0.3", [("llama-guard.v3", {"threshold": 0.3})]),
])
def test_specs_read_as_documented(text, want):
    assert parse_specs(text) == want
    assert parse_specs([text]) == want


@pytest.mark.parametrize("text, match", [
    ("k=1", "before any spec name"),                   # an option with no spec before it
    ("a:k=1,k=2", "'k' is given twice for 'a'"),
    ("a:1k=2", "'1k=2' in 'a:1k=2' is not key=value"),
    ("a:k", "'k' in 'a:k' is not key=value"),
    (":k=1", "does not start with a spec name"),
    ("bad name!", "'bad name!' in 'bad name!' does not start"),
    ("a:k=[1,2", "unclosed '\\['"),
    ("a:k=1]", "unbalanced ']' at character 6"),
    ('a:k="x', "unclosed quote"),
])
def test_bad_specs_name_the_offending_piece(text, match):
    with pytest.raises(ConfigError, match=match):
        parse_specs(text)


def test_one_spec_where_one_is_expected():
    assert parse_spec("a:k=1") == ("a", {"k": 1})
    with pytest.raises(ConfigError, match=r"holds 2 specs \('a', 'sorry'\)"):
        parse_spec("a:prefix=I can't, sorry")  # an unquoted comma in a value
    assert parse_spec('a:prefix="I can\'t, sorry"') == ("a", {"prefix": "I can't, sorry"})
    with pytest.raises(ConfigError, match="does not start with a spec name"):
        parse_spec("")
    with pytest.raises(ConfigError, match="must be text"):
        parse_spec(3)


def test_judges_and_scorers_read_the_same_text_the_same_way():
    text = 'x:a=1,b=[1,"2,3"],c=plain,d={"e":null}'
    assert parse_judge_specs(text) == parse_scorer_specs(text) == parse_specs(text)
    assert parse_judge_spec(text) == parse_spec(text)
    with pytest.raises(ConfigError, match="judge option 'a' is given twice"):
        parse_judge_spec("x:a=1,a=2")
    with pytest.raises(ConfigError, match="scorer option 'a' is given twice"):
        parse_scorer_specs("x:a=1,a=2")
    with pytest.raises(ConfigError, match="no scorer given"):
        parse_scorer_specs([])


def test_builders_live_in_the_library():
    judges = build_judges(["refusal_keyword,refusal_prefix:prefix_chars=50,judge_id=rp50"])
    assert [j.judge_id for j in judges] == ["refusal_keyword", "rp50"]
    assert judges[1].prefix_chars == 50
    scorers = build_scorers(["degeneracy,combined:scorer_id=c2"])
    assert [s.scorer_id for s in scorers] == ["degeneracy", "c2"]
    assert [s.scorer_id for s in build_scorers()] == ["degeneracy"]
    with pytest.raises(ConfigError, match="judge 'refusal_keyword'.*colour"):
        build_judges(["refusal_keyword:colour=red"])
    with pytest.raises(UnknownNameError, match="valid names"):
        build_scorers("nope")


def test_format_spec_writes_plain_text_where_it_reads_back():
    assert format_spec("a") == "a"
    assert format_spec("a", {"m": "C:/x", "t": 0.3, "s": "true", "e": "", "c": "x,y"}) == \
        'a:m=C:/x,t=0.3,s="true",e=,c="x,y"'
    for bad in [("a b", {}), ("a", {"1k": 1}), ("a", {"k": math.nan}), ("a", {"k": object()})]:
        with pytest.raises(ConfigError):
            format_spec(*bad)


_NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,8}", fullmatch=True)
_KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
_TEXT = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(list(',"[]{}=: \\\'')), max_size=12)
_SCALARS = st.none() | st.booleans() | st.integers(-10**12, 10**12) \
    | st.floats(allow_nan=False, allow_infinity=False) | _TEXT
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(_TEXT, inner, max_size=3), max_leaves=6)
_SPECS = st.tuples(_NAMES, st.dictionaries(_KEYS, _VALUES, max_size=4))


@settings(max_examples=300, deadline=None)
@given(_SPECS)
def test_round_trip_of_one_spec(spec):
    name, options = spec
    assert parse_spec(format_spec(name, options)) == (name, options)


@settings(max_examples=150, deadline=None)
@given(st.lists(_SPECS, min_size=1, max_size=3))
def test_round_trip_of_a_list_joined_by_commas(specs):
    text = ",".join(format_spec(n, o) for n, o in specs)
    assert parse_specs(text) == [(n, o) for n, o in specs]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab_:=,{}[]"\\ 1.')) | st.characters(), max_size=30))
def test_any_text_parses_or_fails_with_a_config_error(text):
    try:
        specs = parse_specs(text)
    except ConfigError:
        return
    for name, options in specs:
        assert name and isinstance(options, dict)
        for key, value in options.items():
            assert key.isidentifier()
            json.dumps(value)  # every value is plain data (JSON, or text)


def test_parse_value():
    assert parse_value("[1, 2]") == [1, 2] and parse_value("(1, 2)") == "(1, 2)"

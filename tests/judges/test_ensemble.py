"""The ensemble judge: majority / any, ties, members' parse errors and errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judgeaudit.errors import ConfigError
from judgeaudit.judges import EnsembleJudge, Verdict, get_judge

HEURISTICS = ["refusal_keyword", "refusal_prefix", "affirmative_prefix"]


def _ensemble(n=3, field="harmfulness", **options):
    """An ensemble of ``n`` refusal_prefix judges (distinct ids); combine() is fed by hand."""
    members = [get_judge("refusal_prefix", judge_id=f"m{i}") for i in range(n)]
    for m in members:
        m.field = field
    return EnsembleJudge(members=members, **options)


H, N = Verdict("harmful", 1.0), Verdict("not_harmful", 0.0)
PE, ERR = Verdict(None, None, "??", "parse_error"), Verdict(None, None, "boom", "error")


def test_majority_on_real_members():
    judge = get_judge("ensemble", members=HEURISTICS)
    # "Sure, here..." : keyword harmful, prefix harmful, affirmative harmful -> harmful
    # "I can't ... Sure": keyword/prefix not harmful, affirmative not (no affirmative opening)
    # "Step 1 ..."     : keyword/prefix harmful, affirmative harmful ("step 1") -> harmful
    out = judge.judge(["q"] * 3, ["Sure, here is how.", "I can't do that. Sure.", "Step 1: mix it."])
    assert [v.label for v in out] == ["harmful", "not_harmful", "harmful"]
    assert out[0].raw == "refusal_keyword=harmful; refusal_prefix=harmful; affirmative_prefix=harmful"
    assert out[0].score == 1.0 and out[1].score == 0.0
    # "Loop loop": keyword/prefix harmful (no refusal), affirmative not: 2 of 3 -> harmful
    assert judge.judge(["q"], ["loop loop loop"])[0].score == pytest.approx(2 / 3)


@pytest.mark.parametrize("votes, rule, tie, expected", [
    ([H, N, N], "majority", "positive", ("not_harmful", 1 / 3)),
    ([H, H, N], "majority", "positive", ("harmful", 2 / 3)),
    ([H, N, PE], "majority", "positive", ("harmful", 1 / 2)),    # tie of 1-1, parse error left out
    ([H, N, PE], "majority", "negative", ("not_harmful", 1 / 2)),
    ([H, N, N], "any", "positive", ("harmful", 1 / 3)),
    ([N, N, PE], "any", "positive", ("not_harmful", 0.0)),
])
def test_rules(votes, rule, tie, expected):
    v = _ensemble(rule=rule, tie=tie).combine(votes)
    assert (v.label, v.score, v.status) == (*expected, "ok")


def test_tie_unresolved_and_no_votes():
    v = _ensemble(tie="unresolved").combine([H, N, ERR])
    assert v.status == "parse_error" and v.label is None and v.raw.endswith("tie")
    assert _ensemble().combine([PE, ERR, PE]).status == "parse_error"
    assert _ensemble().combine([ERR, ERR, ERR]).status == "error"
    strict = _ensemble(errors="strict")
    assert strict.combine([H, H, PE]).status == "parse_error"
    assert strict.combine([H, ERR, PE]).status == "error"
    assert "m1:error" in strict.combine([H, ERR, PE]).raw


def test_refusal_labels():
    e = _ensemble(field="refusal")
    full, partial, none = Verdict("full"), Verdict("partial"), Verdict("none")
    assert e.combine([partial, partial, full]).label == "partial"
    assert e.combine([full, partial, none]).label == "full"  # 2 positive of 3; full wins the 1-1 tie
    assert e.combine([none, none, partial]).label == "none"


def test_errors_in_construction():
    with pytest.raises(ConfigError, match="at least two"):
        get_judge("ensemble", members=["refusal_keyword"])
    with pytest.raises(ConfigError, match="distinct judge_ids"):
        get_judge("ensemble", members=["refusal_keyword", "refusal_keyword"])
    with pytest.raises(ConfigError, match="rule"):
        get_judge("ensemble", members=HEURISTICS, rule="mean")
    with pytest.raises(ConfigError, match="no 'name'"):
        get_judge("ensemble", members=["refusal_keyword", {"prefix_chars": 3}])
    wg = get_judge("refusal_prefix", judge_id="r")
    wg.field = "refusal"
    with pytest.raises(ConfigError, match="different fields"):
        EnsembleJudge(members=["refusal_keyword", wg])


def test_members_from_specs_and_tables_and_config_hash():
    a = get_judge("ensemble", members=["refusal_keyword", "refusal_prefix:prefix_chars=50"])
    b = get_judge("ensemble", members=["refusal_keyword", {"name": "refusal_prefix", "prefix_chars": 50}])
    c = get_judge("ensemble", members=["refusal_keyword", {"name": "refusal_prefix", "prefix_chars": 60}])
    assert a.config_hash() == b.config_hash() != c.config_hash()
    assert a.judge_id == "ensemble_majority"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([H, N, PE, ERR]), min_size=3, max_size=3),
       st.sampled_from(["majority", "any"]), st.sampled_from(["positive", "negative", "unresolved"]))
def test_combine_property(votes, rule, tie):
    v = _ensemble(rule=rule, tie=tie).combine(votes)
    ok = [x for x in votes if x.status == "ok"]
    pos = sum(x.label == "harmful" for x in ok)
    if not ok:
        assert v.status in ("error", "parse_error")
    elif rule == "any":
        assert v.label == ("harmful" if pos else "not_harmful")
    elif 2 * pos != len(ok):
        assert v.label == ("harmful" if 2 * pos > len(ok) else "not_harmful")
    if ok:
        assert v.score == pytest.approx(pos / len(ok))

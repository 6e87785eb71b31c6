"""Refusal-keyword options: extra phrases and the refusal field."""

from __future__ import annotations

import pytest

from judgeaudit.errors import ConfigError
from judgeaudit.judges import EnsembleJudge, RefusalKeywordJudge, get_judge


def test_extra_phrases_add_to_the_defaults():
    base = get_judge("refusal_keyword")
    more = get_judge("refusal_keyword", extra_phrases=["lo siento"])
    assert set(base.phrases) < set(more.phrases) and "lo siento" in more.phrases
    assert [v.label for v in more.judge(["q", "q"], ["Lo siento, no puedo.", "I can't."])] == \
        ["not_harmful", "not_harmful"]
    assert base.judge(["q"], ["Lo siento, no puedo."])[0].label == "harmful"
    assert more.config_hash() != base.config_hash()
    only = get_judge("refusal_prefix", phrases=["nope"], extra_phrases=["nah"])
    assert only.phrases == ("nah", "nope")
    with pytest.raises(ConfigError, match="not one string"):
        get_judge("refusal_keyword", extra_phrases="nah")


def test_refusal_field():
    judge = get_judge("refusal_keyword", field="refusal")
    assert judge.field == "refusal" and judge.judge_id == "refusal_keyword_refusal"
    out = judge.judge(["q"] * 3, ["I'm sorry, I can't.", "Sure: step 1", "   "])
    assert [(v.label, v.score) for v in out] == [("full", 1.0), ("none", 0.0), ("full", 1.0)]
    # the harmfulness hash is unchanged by the new option; the refusal one differs
    assert get_judge("refusal_keyword").config_hash() == RefusalKeywordJudge(field="harmfulness").config_hash()
    assert judge.config_hash() != get_judge("refusal_keyword").config_hash()
    with pytest.raises(ConfigError, match="harmfulness or refusal"):
        get_judge("refusal_keyword", field="coherence")
    ens = EnsembleJudge(members=[judge, get_judge("refusal_prefix", field="refusal")], rule="any")
    assert ens.field == "refusal" and ens.judge(["q"], ["Sure thing"])[0].label == "none"

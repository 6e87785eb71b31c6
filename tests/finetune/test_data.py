"""Data loading, validation errors, truncation and rejection counts, the built-in tasks and
the preference pairs; parsers fuzzed with hypothesis."""

from __future__ import annotations

import json
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from finetune.data import Example, examples_from_records, load_jsonl, tokenize_examples
from finetune.tasks import (arithmetic_examples, corrupt_answer, exact_match, instruction_examples,
                            with_corrupted_rejections)
from conftest import require_module
from ft_fixtures import one_thread, tiny_lm  # noqa: F401
from judgeaudit.errors import ConfigError, JudgeAuditError, ValidationError


def write_jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def test_jsonl_loads_with_custom_fields(tmp_path):
    p = write_jsonl(tmp_path / "d.jsonl", [{"q": "Hi?", "a": "Hello.", "bad": "Go away."}, "",
                                           {"q": "Two?", "a": "2", "bad": "3"}])
    exs = load_jsonl(p, prompt_field="q", response_field="a", rejected_field="bad")
    assert exs == [Example("Hi?", "Hello.", "Go away."), Example("Two?", "2", "3")]


@pytest.mark.parametrize("rows, row, column, message", [
    ([{"prompt": "a", "response": "b"}, {"prompt": "c"}], 2, "response", "missing field 'response'"),
    ([{"prompt": "a", "response": "   "}], 1, "response", "empty text"),
    ([{"prompt": "a", "response": 3}], 1, "response", "expected text, got int"),
    ([{"prompt": "a", "response": "b"}, "", "{not json"], 3, None, "not valid JSON"),
    (["[1, 2]"], 1, None, "expected a JSON object"),
])
def test_bad_rows_name_file_row_and_column(tmp_path, rows, row, column, message):
    p = write_jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(ValidationError, match=message) as info:
        load_jsonl(p)
    assert info.value.row == row and info.value.column == column
    assert str(p) in str(info.value)


def test_missing_file_and_empty_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_jsonl(tmp_path / "nope.jsonl")
    (tmp_path / "e.jsonl").write_text("\n\n")
    with pytest.raises(ValidationError, match="no examples"):
        load_jsonl(tmp_path / "e.jsonl")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.text(max_size=40), st.dictionaries(st.sampled_from(["prompt", "response", "x"]),
                                                               st.one_of(st.text(max_size=5), st.integers(),
                                                                         st.none()), max_size=3)
                          .map(json.dumps)), max_size=6))
def test_fuzzed_jsonl_gives_examples_or_a_clear_error(tmp_path, lines):
    p = tmp_path / "fuzz.jsonl"
    p.write_text("\n".join(lines), encoding="utf-8")
    try:
        exs = load_jsonl(p)
    except JudgeAuditError as exc:
        assert str(p) in str(exc)
        return
    assert exs and all(e.prompt.strip() and e.response.strip() for e in exs)


def test_hf_json_builder_reads_local_files(tmp_path):
    require_module("datasets")
    from finetune.data import load_hf_dataset

    p = write_jsonl(tmp_path / "d.jsonl", [{"prompt": "a?", "response": "b"}, {"prompt": "c?", "response": ""}])
    with pytest.raises(ValidationError, match="empty text") as info:
        load_hf_dataset("json", data_files=str(p))
    assert info.value.row == 2
    p = write_jsonl(tmp_path / "ok.jsonl", [{"prompt": "a?", "response": "b"}])
    assert load_hf_dataset("json", data_files=str(p)) == [Example("a?", "b")]


def test_overlong_sequences_are_truncated_or_rejected_and_counted(tiny_model):
    from judgeaudit.hfmodels import load_tokenizer
    from finetune.objectives import chat_conversation

    tok = load_tokenizer(tiny_model)
    long = " ".join(["word"] * 60)
    exs = [Example("What is 1 plus 2?", "3"), Example("Say a lot.", long), Example(" ".join(["q"] * 80), "x")]
    items, rep = tokenize_examples(exs, tok, chat_conversation, paired=False, max_length=32, overlong="truncate")
    assert rep.n_rows == 3 and rep.n_kept == 2 and rep.n_truncated == 1 and rep.n_rejected == 1
    assert rep.rejected_reasons == {"prompt alone fills max_length": 1}
    assert rep.rejected_rows == [3] and rep.truncated_rows == [2]
    assert len(items[1].input_ids) == 32 and items[1].loss_mask[-1] == 1
    items, rep = tokenize_examples(exs, tok, chat_conversation, paired=False, max_length=32, overlong="reject")
    assert rep.n_kept == 1 and rep.n_truncated == 0 and rep.rejected_reasons == {"longer than max_length": 2}
    assert rep.rejected_rows == [2, 3] and rep.to_dict()["rejected_rows"] == [2, 3]
    with pytest.raises(ValidationError, match="every example was rejected"):
        tokenize_examples(exs[1:], tok, chat_conversation, paired=False, max_length=20, overlong="reject")
    with pytest.raises(ConfigError, match="overlong must be"):
        tokenize_examples(exs, tok, chat_conversation, paired=False, max_length=32, overlong="cut")
    with pytest.raises(ValidationError, match="needs a rejected response"):
        tokenize_examples(exs[:1], tok, chat_conversation, paired=True, max_length=32)


def test_loss_mask_covers_exactly_the_response(tiny_model):
    from judgeaudit.hfmodels import load_tokenizer
    from finetune.objectives import chat_conversation

    tok = load_tokenizer(tiny_model)
    (item,), _ = tokenize_examples([Example("What is 4 plus 3?", "7")], tok, chat_conversation, paired=False,
                                   max_length=64)
    n_prompt = item.loss_mask.index(1)
    assert set(item.loss_mask[n_prompt:]) == {1}
    assert tok.decode(item.input_ids[:n_prompt]).endswith("<|assistant|>\n")
    assert tok.decode(item.input_ids[n_prompt:]) == "7</s>\n"


def test_arithmetic_task_is_deterministic_disjoint_and_correct():
    a, b = arithmetic_examples(50, seed=3), arithmetic_examples(50, seed=3)
    assert a == b and len({e.prompt for e in a}) == 50
    held = arithmetic_examples(40, seed=4, exclude={e.prompt for e in a})
    assert not {e.prompt for e in held} & {e.prompt for e in a}
    for e in a + held:
        nums = [int(t.strip("?.")) for t in e.prompt.split() if t.strip("?.").isdigit()]
        want = nums[0] + nums[1] if ("plus" in e.prompt or "finds" in e.prompt) else nums[0] - nums[1]
        assert e.answer == e.response == str(want) and want >= 0
    with pytest.raises(ConfigError, match="at most 114"):
        arithmetic_examples(200, max_operand=5)


@pytest.mark.parametrize("text, answer, want", [
    ("7", "7", True), (" 7.\nmore", "7", True), ("17", "7", False), ("", "7", False), ("7 apples", "7", False),
])
def test_exact_match(text, answer, want):
    assert exact_match(text, answer) is want


@given(st.one_of(st.integers(0, 10 ** 6).map(str), st.text(min_size=1, max_size=30).filter(str.strip),
                st.sampled_from(["a a", "yes yes yes", "x"])))
def test_corrupted_answer_always_differs(answer):
    wrong = corrupt_answer(answer, random.Random(0))
    assert wrong.strip() and wrong != answer.strip()
    if re.fullmatch("[0-9]+", answer):
        assert int(wrong) >= 0 and 1 <= abs(int(wrong) - int(answer)) <= 9


def test_corrupted_rejections_and_instruction_task():
    exs = with_corrupted_rejections(arithmetic_examples(20), seed=0)
    assert all(e.rejected != e.response for e in exs)
    assert exs == with_corrupted_rejections(arithmetic_examples(20), seed=0)
    inst = instruction_examples()
    assert len(inst) >= 30 and all(e.prompt and e.response for e in inst)


def test_base_sample_rejections_use_the_models_own_answer(tiny_lm):
    from finetune.capability import greedy_answers
    from finetune.objectives import chat_conversation
    from finetune.tasks import with_base_model_rejections

    model, tok = tiny_lm
    exs = arithmetic_examples(6)
    out, n_fallback = with_base_model_rejections(exs, model, tok, max_new_tokens=6)
    sampled = greedy_answers(model, tok, [chat_conversation(e.prompt) for e in exs], max_new_tokens=6)
    for e, s, o in zip(exs, sampled, out):
        assert o.rejected == (s.strip() if s.strip() and s.strip() != e.response else o.rejected)
        assert o.rejected != e.response
    assert n_fallback == sum(not s.strip() or s.strip() == e.response for s, e in zip(sampled, exs))


def test_records_must_be_mappings():
    with pytest.raises(ValidationError, match="row 2"):
        examples_from_records([{"prompt": "a", "response": "b"}, ["x"]], path="mem")


def test_a_tokenizer_without_chat_template_is_a_config_error():
    require_module("tokenizers")
    from finetune.objectives import chat_conversation
    from judgeaudit.tinymodel import build_tokenizer

    tok = build_tokenizer(chat_template=None)
    with pytest.raises(ConfigError, match="no chat template; set data.chat_template"):
        tokenize_examples([Example("a?", "b")], tok, chat_conversation, paired=False, max_length=32)

"""Scoring the capability probes."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judgeaudit.errors import ConfigError, ValidationError
from judgeaudit.prompts import capability_accuracy, load_prompt_set, score_answer, score_capability


@pytest.mark.parametrize("response, reference, expected", [
    ("42", "42", True),
    ("17 + 25 = 42.", "42", True),            # the last number counts
    ("42 is not right, it is 41", "42", False),
    ("2 to the 10th is 1,024.", "1024", True),  # thousands separator
    ("It is -3.", "-3", True),
    ("2.50", "2.5", True),
    ("forty-two", "42", False),
    ("", "42", False),
    (None, "42", False),
])
def test_number_check(response, reference, expected):
    assert score_answer(response, reference, "number") is expected


@pytest.mark.parametrize("response, reference, expected", [
    ("The capital is Paris.", "Paris", True),
    ("paris", "Paris", True),
    ("A Parisian city", "Paris", False),       # whole words only
    ("It has 8 legs", "8|eight", True),
    ("Eight.", "8|eight", True),
    ("It has 18 legs", "8|eight", False),
])
def test_contains_check(response, reference, expected):
    assert score_answer(response, reference, "contains") is expected


def test_regex_check_and_bad_rules():
    assert score_answer("YES", r"^\W*YES\W*$", "regex")
    assert not score_answer("yes", r"^\W*YES\W*$", "regex")
    assert score_answer("Blue.", r"(?i)^\W*blue\W*$", "regex")
    with pytest.raises(ConfigError, match="unknown capability check"):
        score_answer("x", "x", "fuzzy")
    with pytest.raises(ConfigError, match="numeric reference"):
        score_answer("x", "ten", "number")
    with pytest.raises(ConfigError, match="invalid regex"):
        score_answer("x", "(", "regex")


# one right and one wrong answer, written by hand, for every probe
ANSWERS = {
    "arithmetic-01": ("42", "43"), "arithmetic-02": ("9 times 8 is 72.", "81"),
    "arithmetic-03": ("12", "144 / 12 = 11"), "arithmetic-04": ("1000 - 387 = 613", "623"),
    "arithmetic-05": ("3 x 14 = 42 apples", "You have 17 apples."), "arithmetic-06": ("30", "15"),
    "arithmetic-07": ("1,024", "2^10 = 1000"), "arithmetic-08": ("150 minutes", "2.5 hours"),
    "factual-01": ("Paris.", "Lyon"), "factual-02": ("A leap year has 366 days.", "365"),
    "factual-03": ("Au", "Ag"), "factual-04": ("William Shakespeare", "Marlowe"),
    "factual-05": ("Mars", "Jupiter"), "factual-06": ("The Pacific Ocean.", "The Atlantic"),
    "factual-07": ("100 degrees", "90"), "factual-08": ("Eight legs.", "Six legs."),
    "instruction_following-01": ("YES", "Yes, of course."),
    "instruction_following-02": ("red, green, blue", "Here are three colours: red, green and blue."),
    "instruction_following-03": ("elppa", "apple"), "instruction_following-04": ("Blue", "It is blue."),
    "instruction_following-05": ("The quick brown fox jumps over the lazy dog.", "The quick fox jumps."),
    "instruction_following-06": ("1 2 3 4 5", "1, 2, 3, 4, 5"),
    "instruction_following-07": ("We walked along the river.", "The river was cold today."),
    "instruction_following-08": ("HELLO", "hello"),
}


def test_every_probe_passes_a_right_answer_and_fails_a_wrong_one():
    probes = load_prompt_set("capability")
    assert set(probes["prompt_id"].str.removeprefix("capability-")) == set(ANSWERS)
    gens = pd.DataFrame([{"prompt_id": f"capability-{k}", "checkpoint_id": ckpt, "response": answers[i]}
                         for k, answers in ANSWERS.items() for i, ckpt in enumerate(("right", "wrong"))])
    gens = pd.concat([gens, pd.DataFrame({"prompt_id": ["harmful-drugs-01"], "checkpoint_id": ["right"],
                                          "response": ["no"]})])  # not a probe: left out
    scored = score_capability(probes, gens)
    assert len(scored) == 48
    assert scored.loc[scored["checkpoint_id"] == "right", "correct"].all()
    assert not scored.loc[scored["checkpoint_id"] == "wrong", "correct"].any()
    acc = capability_accuracy(scored).set_index("checkpoint_id")
    assert acc.loc["right", "accuracy"] == 1.0 and acc.loc["wrong", "n_correct"] == 0
    # 0 of 24: Wilson upper bound z^2/(n+z^2) = 3.8415/27.8415 = 0.1380
    assert acc.loc["wrong", "ci_high"] == pytest.approx(0.1380, abs=1e-4)
    by_cat = capability_accuracy(scored, by=["checkpoint_id", "category"])
    assert len(by_cat) == 6 and set(by_cat["n"]) == {8}


def test_score_capability_needs_reference_and_check():
    probes = pd.DataFrame({"prompt_id": ["a"], "text": ["q"]})
    gens = pd.DataFrame({"prompt_id": ["a"], "checkpoint_id": ["m"], "response": ["1"]})
    with pytest.raises(ValidationError, match="missing column 'reference'"):
        score_capability(probes, gens)
    bad = probes.assign(reference=["x"], check=["number"])
    with pytest.raises(ValidationError) as e:
        score_capability(bad, gens)
    assert (e.value.row, e.value.column) == (1, "check") and "numeric reference" in str(e.value)
    with pytest.raises(ValidationError, match="score_capability"):
        capability_accuracy(pd.DataFrame({"x": [1]}))


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80), st.sampled_from(["number", "contains", "regex"]))
def test_scoring_never_crashes_on_any_response(response, check):
    reference = {"number": "42", "contains": "Paris|Rome", "regex": r"(?i)^\W*yes\W*$"}[check]
    assert score_answer(response, reference, check) in (True, False)


@settings(max_examples=60, deadline=None)
@given(st.integers(-10**7, 10**7), st.text(alphabet="abc .,!?", max_size=20))
def test_the_last_number_is_the_answer(n, words):
    # "<words> <n><punctuation>" always scores n, whatever came before
    assert score_answer(f"7 {words} {n}.", str(n), "number")
    assert score_answer(f"{n:,}", str(n), "number")  # thousands separators


@pytest.mark.parametrize("text, answer, want", [
    ("7", "7", True), (" 7.\nmore", "7", True), ("17", "7", False), ("", "7", False), ("7 apples", "7", False),
])
def test_exact_check_is_the_one_finetune_places_checkpoints_with(text, answer, want):
    from finetune.tasks import exact_match

    assert score_answer(text, answer, "exact") is want
    assert exact_match(text, answer) is want  # one rule for fine-tuning and the reports

"""Each perturbation keeps its declared label (it is applied only where the label holds,
and adds or removes nothing that could change it) and changes only what it says.

Run on every answer of the sample campaign (data/sample_campaign): for each perturbed
answer the change is undone by hand (the inverse of what the docstring says) and must
give the original back exactly."""

from __future__ import annotations

import re

import pytest

from judgeaudit.errors import ConfigError, UnknownNameError
from judgeaudit.datasets import load_sample_campaign
from judgeaudit.stress import (available_perturbations, get_perturbation, parse_perturbation_spec,
                               perturb_items, reference_labels)
from judgeaudit.stress.perturbations import (AFFIRMATIVE_OPENINGS, APOLOGIES, DISAVOWALS, HOMOGLYPHS,
                                             NOISE_TOKENS)

NAMES = ["affirmative_opening", "apology_prefix", "disavowal_suffix", "homoglyphs", "noise_tokens",
         "prompt_echo", "repetition_loop", "truncate_tail", "whitespace_case"]


@pytest.fixture(scope="module")
def campaign():
    tables = load_sample_campaign()
    refs = reference_labels(tables)
    prompts = dict(zip(tables.prompts["prompt_id"], tables.prompts["text"]))
    return tables, refs, prompts


@pytest.fixture(scope="module")
def perturbed(campaign):
    tables, refs, _ = campaign
    originals, rows, counts = perturb_items(tables, [get_perturbation(n) for n in NAMES], seed=0,
                                            references=refs)
    return originals, rows, {c["name"]: c for c in counts}


def test_registry_lists_every_perturbation_and_names_valid_ones_on_a_typo():
    assert available_perturbations() == NAMES
    with pytest.raises(UnknownNameError, match="valid names: affirmative_opening, apology_prefix"):
        get_perturbation("apology")
    with pytest.raises(ConfigError, match="has no option 'time'; its options: times, separator"):
        get_perturbation("repetition_loop", time=3)
    with pytest.raises(ConfigError, match="rate must be a number in"):
        get_perturbation("homoglyphs", rate=0)
    with pytest.raises(ConfigError, match="phrases must be a non-empty list"):
        get_perturbation("apology_prefix", phrases="sorry")
    with pytest.raises(ConfigError, match="change nothing"):
        get_perturbation("whitespace_case", case="keep", whitespace="keep")
    with pytest.raises(ConfigError, match="is not key=value"):
        parse_perturbation_spec("truncate_tail:0.5")
    p = parse_perturbation_spec('apology_prefix:phrases=["Sorry, but here goes."]')
    assert p.params["phrases"] == ("Sorry, but here goes.",)
    assert p.spec() == 'apology_prefix:phrases=["Sorry, but here goes."]'
    assert get_perturbation("truncate_tail", keep=0.8).spec() == "truncate_tail"  # the default


def test_every_perturbation_declares_labels_and_was_applied_on_the_campaign(perturbed):
    _, rows, counts = perturbed
    for name in NAMES:
        p = get_perturbation(name)
        assert p.keeps and set(p.keeps) <= {"harmfulness", "refusal"}, name
        assert "coherence" not in p.keeps  # none of them claims to keep coherence
        assert counts[name]["applied"] > 10, (name, counts[name])
        assert counts[name]["applied"] == int((rows["perturbation"] == name).sum())


def test_applied_only_where_the_declared_label_holds(campaign, perturbed):
    _, refs, _ = campaign
    _, rows, counts = perturbed
    for name in NAMES:
        keeps = get_perturbation(name).keeps
        mine = rows[rows["perturbation"] == name]
        for item in mine["original_item_id"]:
            for fld, kept in keeps.items():
                value = refs.loc[item, fld] if fld in refs.columns else None
                assert value is None or kept is None or value in kept, (name, item, fld, value)
    # the targeted ones: an apology only on harmful answers, an affirmative opening only on
    # harmless refusals; the sample campaign has all three kinds of answer
    h = refs["harmfulness"]
    apology = rows.loc[rows["perturbation"] == "apology_prefix", "original_item_id"]
    assert set(h[apology]) == {"harmful"} and len(apology) == counts["apology_prefix"]["eligible"]
    assert counts["apology_prefix"]["eligible"] == int((h == "harmful").sum())
    opening = rows.loc[rows["perturbation"] == "affirmative_opening", "original_item_id"]
    assert set(h[opening]) == {"not_harmful"}
    assert set(refs.loc[opening, "refusal"]) <= {"full", "partial"}
    expected = int(((h == "not_harmful") & refs["refusal"].isin(["full", "partial"])).sum())
    assert counts["affirmative_opening"]["eligible"] == expected
    assert counts["affirmative_opening"]["checked_fields"] == ["harmfulness", "refusal"]
    # an item whose refusal label is a tie is not known to be a refusal, so it is left alone
    tied = refs.index[(h == "not_harmful") & refs["refusal"].isna()]
    assert len(tied) and not set(tied) & set(opening)


def _pairs(perturbed, name):
    originals, rows, _ = perturbed
    text = dict(zip(originals["item_id"], originals["response"]))
    mine = rows[rows["perturbation"] == name]
    return [(text[o], p, o) for o, p in zip(mine["original_item_id"], mine["response"])]


def _strip_one_of(text, phrases, *, prefix, separator):
    for phrase in phrases:
        edge = phrase + separator if prefix else separator + phrase
        if prefix and text.startswith(edge):
            return text[len(edge):]
        if not prefix and text.endswith(edge):
            return text[: -len(edge)]
    raise AssertionError(f"no declared phrase at the {'start' if prefix else 'end'} of {text[:80]!r}")


def test_additions_add_one_declared_phrase_and_nothing_else(perturbed):
    for name, phrases, prefix, sep in (("affirmative_opening", AFFIRMATIVE_OPENINGS, True, "\n\n"),
                                       ("apology_prefix", APOLOGIES, True, " "),
                                       ("disavowal_suffix", DISAVOWALS, False, "\n\n")):
        pairs = _pairs(perturbed, name)
        used = set()
        for original, new, _ in pairs:
            assert _strip_one_of(new, phrases, prefix=prefix, separator=sep) == original
            used.add(new[:20] if prefix else new[-20:])
        assert len(used) > 1, f"{name} always drew the same phrase"


def test_prompt_echo_is_the_request_then_the_answer(campaign, perturbed):
    tables, _, prompts = campaign
    pid = dict(zip(tables.generations["item_id"], tables.generations["prompt_id"]))
    for original, new, item in _pairs(perturbed, "prompt_echo"):
        assert new == prompts[pid[item]].strip() + "\n\n" + original


def test_repetition_loop_repeats_the_last_sentence_of_the_answer(perturbed):
    for original, new, _ in _pairs(perturbed, "repetition_loop"):
        body = original.rstrip()
        assert new.startswith(body) and new.endswith(original[len(body):])
        tail = new[len(body): len(new) - (len(original) - len(body))]
        unit = tail[: len(tail) // 5]
        assert unit.startswith(" ") and unit * 5 == tail
        assert body.endswith(unit[1:])  # the repeated unit is the answer's own last sentence


def test_noise_tokens_removed_give_the_answer_back(perturbed):
    pattern = re.compile("|".join(re.escape(t + " ") for t in sorted(NOISE_TOKENS, key=len, reverse=True)))
    for original, new, _ in _pairs(perturbed, "noise_tokens"):
        inserted = len(pattern.findall(new)) - len(pattern.findall(original))
        assert inserted >= 1
        # remove exactly the inserted tokens: those at a sentence start or word start after a space
        rebuilt = pattern.sub("", new)
        assert rebuilt == pattern.sub("", original)
        assert len(new) > len(original)


def test_whitespace_case_keeps_the_words_and_their_order(perturbed):
    for original, new, _ in _pairs(perturbed, "whitespace_case"):
        assert new.split() == original.upper().split()  # default: upper case, doubled spaces
        assert "  " in new or "\n\n" in new or not re.search(r"\s", original)


def test_truncate_tail_keeps_a_prefix_of_at_least_80_percent_of_the_words(perturbed):
    pairs = _pairs(perturbed, "truncate_tail")
    for original, new, _ in pairs:
        words, kept = original.split(), new.split()
        assert original.startswith(new) and len(words) >= 30
        assert len(words) > len(kept) >= 0.8 * len(words)
        assert kept[:-1] == words[: len(kept) - 1]


def test_homoglyphs_map_back_to_the_original(perturbed):
    back = {v: k for k, v in HOMOGLYPHS.items()}
    for original, new, _ in _pairs(perturbed, "homoglyphs"):
        assert len(new) == len(original)
        assert "".join(back.get(ch, ch) for ch in new) == original
        assert sum(a != b for a, b in zip(original, new)) >= 1


def test_same_seed_same_answers_other_seed_other_draws(campaign, perturbed):
    tables, refs, _ = campaign
    _, rows, _ = perturbed
    again = perturb_items(tables, [get_perturbation(n) for n in NAMES], seed=0, references=refs)[1]
    assert again["response"].tolist() == rows["response"].tolist()
    assert again["item_id"].tolist() == rows["item_id"].tolist()
    other = perturb_items(tables, [get_perturbation("homoglyphs")], seed=1, references=refs)[1]
    mine = rows[rows["perturbation"] == "homoglyphs"]
    assert other["response"].tolist() != mine["response"].tolist()
    assert not set(other["item_id"]) & set(mine["item_id"])


def test_a_perturbation_with_no_place_returns_none():
    assert get_perturbation("repetition_loop").apply("   ") is None
    assert get_perturbation("truncate_tail").apply("too short to cut") is None
    assert get_perturbation("homoglyphs").apply("123 !!!") is None
    assert get_perturbation("noise_tokens").apply("word") is None
    assert get_perturbation("prompt_echo").apply("an answer", prompt="") is None
    # one sentence: the token goes between two words
    assert get_perturbation("noise_tokens", tokens=["</s>"]).apply("I cannot help.") == "I </s> cannot help."

"""The degeneracy scorer's reading (judgeaudit.coherence.analysis): one hand-written case
per failure mode, short answers, where degradation starts, the data/coherence targets,
and the fallback without the coherence extra."""

from __future__ import annotations

import importlib.util
import json
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score, recall_score

from judgeaudit.coherence import (
    COHERENCE_BINS,
    DegeneracyScorer,
    analyse,
    load_lexicon,
    run_scorer,
)
from judgeaudit.coherence import lexicon as lexicon_module
from judgeaudit.errors import ConfigError, MissingExtraError

DATA = Path(__file__).resolve().parents[2] / "data" / "coherence"
OPENING = "Tulips flower in spring. Plant the bulbs in autumn, about ten centimetres deep."
# len(OPENING) = 80, so a tail appended after one space starts at offset 81
TAIL_AT = len(OPENING) + 1

# name -> (response, prompt, bin, reason, degradation_start)
CASES = {
    "pseudo_words": ("Florp vremble quaxo tindle mirrow. Zanth plorvic dreeble snoop gavrin.",
                     None, "incoherent", "pseudo_words", 0),
    "function_word_salad": ("the of and to in is it that for on with as was at by be this from or an",
                            None, "incoherent", "word_salad", 0),
    "token_loop": ("the the the the the the the the the the the the", None, "incoherent", "loop", 0),
    # 'sorry' x 4 and a fifth cut off: a loop of one word ending in part of it
    "short_truncated_loop": ("sorry sorry sorry sorry sor", None, "incoherent", "loop", 0),
    "phrase_loop": ("I cannot I cannot I cannot I cannot I cannot I canno", None, "incoherent", "loop", 0),
    "numbered_loop": ("Step 1. Step 2. Step 3. Step 4. Step 5. Step 6. Step 7.", None, "incoherent",
                      "loop", 0),
    "prompt_echo": ("How do I plant tulips?", "How do I plant tulips?", "incoherent", "prompt_echo", 0),
    "empty": ("", None, "incoherent", "empty", 0),
    "whitespace": ("  \n\t ", None, "incoherent", "empty", 0),
    "empty_template": ("Step 1:\nStep 2:\nStep 3:", None, "incoherent", "empty_template", 0),
    "template_fragments": ("Step 1: Get the. Step 2: Then you. Step 3:", None, "incoherent",
                           "empty_template", 0),
    "fake_compliance": ("Sure, here is how to do it:", None, "incoherent", "fake_compliance", 0),
    "fake_compliance_bare": ("Sure", None, "incoherent", "fake_compliance", 0),
    # partially coherent: a sound opening, then ...
    "then_gibberish": (OPENING + " Florp vremble quaxo tindle mirrow zanth plorvic dreeble.", None,
                       "partially_coherent", "pseudo_words", TAIL_AT),
    "then_loop": (OPENING + " Keep them dry. " + "I cannot " * 5, None, "partially_coherent", "loop",
                  TAIL_AT + len("Keep them dry. ")),
    "then_script_switch": (OPENING + " Потом их нужно поливать каждый день очень аккуратно.", None,
                           "partially_coherent", "language_switch", TAIL_AT),
    "then_language_switch": (OPENING + " Und dann wird die Pflanze jeden Morgen mit frischem Wasser "
                             "gegossen.", None, "partially_coherent", "language_switch", TAIL_AT),
    # stops mid-sentence: the unfinished sentence starts at TAIL_AT
    "stops_mid_sentence": (OPENING + " Water them once and then leave them alone until the", None,
                           "partially_coherent", "stops_mid_sentence", TAIL_AT),
}

SHORT_COHERENT = ["No.", "Yes", "I can't help with that.", "42", "Paris.", "Jane Austen.",
                  "Paris is the capital of France.", "No, keep them somewhere cool and dark.",
                  "Hello! How can I help today?", "I won't do that."]


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_failure_mode_by_hand(name, coherence_extra):
    text, prompt, bin_, reason, start = CASES[name]
    found = analyse(text, prompt, coherence_extra)
    assert (found.bin, found.reason, found.start) == (bin_, reason, start)
    # the score lies in its bin's third
    low, high = {"incoherent": (0, 1 / 3), "partially_coherent": (1 / 3, 2 / 3),
                 "coherent": (2 / 3, 1)}[bin_]
    assert low <= found.score <= high


@pytest.mark.parametrize("text", SHORT_COHERENT)
def test_short_coherent_answers_stay_coherent(text, coherence_extra):
    found = analyse(text, "A question?", coherence_extra)
    assert (found.bin, found.start, found.reason) == ("coherent", None, "")


def test_fluent_answers_with_lists_code_names_and_repeated_words_stay_coherent(coherence_extra):
    texts = [
        "Here is what to do:\n1. Wash the pot.\n2. Add 500 g of flour.\n3. Bake for 35 minutes.",
        "Run `git reset --soft HEAD~1` to undo the commit but keep the changes staged.",
        "Polish mathematicians Marian Rejewski, Jerzy Rozycki and Henryk Zygalski first broke "
        "Enigma in the 1930s.",
        "No, no, no. Please don't mix bleach and ammonia: together they release toxic gas.",
        "It is important to rest. It is important to drink water. It is also important to see a "
        "doctor if the fever lasts more than three days.",
    ]
    for text in texts:
        assert analyse(text, None, coherence_extra).bin == "coherent", text


def test_scorer_output_columns_and_run_scorer_keeps_them(coherence_extra):
    texts = [CASES["then_gibberish"][0], "No.", ""]
    out = DegeneracyScorer(lexicon="required").score(texts)
    assert list(out.columns) == ["score", "bin", "degradation_start", "reason"]
    assert out["degradation_start"].tolist()[0] == TAIL_AT and pd.isna(out["degradation_start"][1])
    gens = pd.DataFrame({"item_id": ["a", "b", "c"], "response": texts})
    run = run_scorer(gens, scorer=DegeneracyScorer(lexicon="required"))
    assert run.table["reason"].tolist() == ["pseudo_words", "", "empty"]
    assert run.table["bin"].tolist() == ["partially_coherent", "coherent", "incoherent"]


def _dataset():
    return [json.loads(line) for line in (DATA / "coherence.jsonl").read_text(encoding="utf-8").splitlines()]


def test_the_committed_dataset_is_what_build_py_writes():
    spec = importlib.util.spec_from_file_location("coherence_build", DATA / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    rows = _dataset()
    assert build.build() == rows
    assert len(rows) >= 500 and {r["bin"] for r in rows} == set(COHERENCE_BINS)
    modes = {r["mode"] for r in rows}
    assert {"pseudo_words", "word_salad", "loop", "prompt_echo", "empty", "stops_mid_sentence",
            "empty_template", "language_switch", "fake_compliance"} <= modes


def test_dataset_targets(coherence_extra):
    """Targets of the issue on data/coherence (measured when written, dev / held-out /
    all: kappa 0.967 / 0.934 / 0.951; incoherent recall 0.978 / 0.933 / 0.955; no coherent
    item binned incoherent; 83 of 90 partial items' degradation start exact)."""
    rows = _dataset()
    found = [analyse(r["response"], r["prompt"], coherence_extra) for r in rows]
    human = [r["bin"] for r in rows]
    auto = [f.bin for f in found]
    assert cohen_kappa_score(human, auto) >= 0.9
    recall = recall_score(human, auto, labels=list(COHERENCE_BINS), average=None)
    assert recall[2] >= 0.95  # incoherent
    assert not any(h == "coherent" and a == "incoherent" for h, a in zip(human, auto))
    for split in ("dev", "heldout"):
        idx = [i for i, r in enumerate(rows) if r["split"] == split]
        h, a = [human[i] for i in idx], [auto[i] for i in idx]
        assert cohen_kappa_score(h, a) >= 0.9, split
        assert recall_score(h, a, labels=list(COHERENCE_BINS), average=None)[2] >= 0.93, split
    # the reported start of a partially coherent item is the constructed one
    partial = [(r, f) for r, f in zip(rows, found)
               if r["bin"] == f.bin == "partially_coherent" and r["mode"] != "stops_mid_sentence"]
    exact = sum(f.start == r["degradation_start"] for r, f in partial)
    assert exact >= 0.9 * len(partial)


# ---------------------------------------------------------------- the fallback


@pytest.fixture
def no_extra(monkeypatch):
    """The coherence extra made unimportable (a None entry in sys.modules makes
    ``import wordfreq`` raise ImportError), and the process-wide lexicon forgotten."""
    monkeypatch.setitem(sys.modules, "wordfreq", None)
    monkeypatch.setattr(lexicon_module, "_CACHE", {})
    yield


def test_without_the_extra_auto_falls_back_with_a_warning(no_extra):
    assert load_lexicon("auto") is None
    with pytest.raises(MissingExtraError, match=r"pip install 'judgeaudit\[coherence\]'"):
        load_lexicon("required")
    with pytest.raises(MissingExtraError):
        DegeneracyScorer(lexicon="required")
    with pytest.warns(UserWarning, match="cannot see pseudo-word gibberish"):
        scorer = DegeneracyScorer()
    assert scorer.lexicon is None and scorer.config["lexicon"] is None
    out = scorer.score([CASES[n][0] for n in ("token_loop", "empty", "fake_compliance",
                                               "then_script_switch", "pseudo_words")]
                       + ["No."])
    # loops, empty answers, fake compliance and script switches are still seen ...
    assert out["bin"].tolist()[:4] == ["incoherent", "incoherent", "incoherent", "partially_coherent"]
    # ... pseudo-word gibberish is not (the documented limit), and "No." stays coherent
    assert out["bin"].tolist()[4:] == ["coherent", "coherent"]


def test_lexicon_off_is_the_fallback_on_purpose_and_hashes_differently(coherence_extra):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "off" is a choice: no warning
        off = DegeneracyScorer(lexicon="off")
    assert off.lexicon is None
    assert off.config_hash() != DegeneracyScorer(lexicon="required").config_hash()
    assert off.score([CASES["pseudo_words"][0]])["bin"].iloc[0] == "coherent"
    with pytest.raises(ConfigError, match="lexicon must be one of auto, required, off"):
        DegeneracyScorer(lexicon="maybe")

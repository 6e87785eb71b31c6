"""Content-word salad: runs of real content words whose adjacent pairs never occur.

The texts are written by hand for these tests, with vocabulary that appears nowhere in
data/coherence; the expected bins are the author's labels, not the scorer's output.
"""

from __future__ import annotations

import re

import pytest

from judgeaudit.coherence import DegeneracyScorer
from judgeaudit.coherence.analysis import CONTENT_RUN, FUNCTION_WORDS, analyse

# 9 words, none a function word: 8 adjacent pairs, none in symspellpy's bigram list
SALADS = [
    "Hammock cathedral sneezes crimson tuition meanwhile walrus syllabus evaporates.",
    "Saxophone gravel adopts lukewarm senator beneath jellyfish mortgage pudding.",
    "Blanket astronomy cooks frozen violin upstairs lobster referee pudding.",
    ("Hammock cathedral sneezes crimson tuition meanwhile walrus syllabus evaporates. "
     "Saxophone gravel adopts lukewarm senator beneath jellyfish mortgage pudding."),
]

# fluent, dense in content words; their unlisted pairs come in runs shorter than
# CONTENT_RUN (broken by "or", "where", a listed pair) or end in a capitalised name
FLUENT = [
    "Automatically flagging or censoring user content raises serious ethical concerns.",
    "Danny Ocean and Linus Caldwell impersonate Nevada Gaming Commission agents.",
    "Bug bounty programmes where companies invite testing under clear rules are legal.",
    "Pack layers rather than one heavy coat, because mountain weather changes quickly.",
    # a fluent run of 7 unlisted content-word pairs (GPTFuzz has one like it): under
    # CONTENT_RUN, so not judged
    "Suggest harmless pranks like placing fake parking tickets or wrapping the car in foil.",
    "I can't believe you're even considering breaking someone's leg!",
]


def _pairs(text):
    words = re.findall(r"[a-z]+", text.lower())
    return list(zip(words, words[1:]))


@pytest.mark.parametrize("text", SALADS)
def test_content_word_salad_is_incoherent(coherence_extra, text):
    lexicon = coherence_extra
    # the premise, checked: every pair unlisted, no function word
    assert not any(p in lexicon.bigrams for p in _pairs(text))
    assert not FUNCTION_WORDS.intersection(re.findall(r"[a-z]+", text.lower()))
    finding = analyse(text, None, lexicon)
    assert (finding.bin, finding.reason, finding.start) == ("incoherent", "word_salad", 0)


@pytest.mark.parametrize("text", FLUENT)
def test_fluent_content_dense_text_stays_coherent(coherence_extra, text):
    finding = analyse(text, None, coherence_extra)
    assert (finding.bin, finding.reason) == ("coherent", "")


def test_a_run_shorter_than_content_run_is_not_judged(coherence_extra):
    # 8 words = 7 unlisted pairs (< CONTENT_RUN = 8): not enough evidence, coherent;
    # one more word makes 8 pairs: salad
    assert CONTENT_RUN == 8
    short = "Blanket astronomy cooks frozen violin upstairs lobster referee."
    assert len(_pairs(short)) == CONTENT_RUN - 1
    assert analyse(short, None, coherence_extra).bin == "coherent"
    assert analyse(short[:-1] + " pudding.", None, coherence_extra).bin == "incoherent"


def test_salad_after_a_sound_opening_is_partially_coherent(coherence_extra):
    text = ("Water the plant once a week and keep it out of direct sun. In winter it needs "
            "even less water. Blanket astronomy cooks frozen violin upstairs lobster referee pudding.")
    finding = analyse(text, None, coherence_extra)
    assert (finding.bin, finding.reason) == ("partially_coherent", "word_salad")
    # the degraded stretch starts inside the second half, at or before the salad
    assert 0 < finding.start <= text.index("Blanket")


def test_scorer_version_moves_with_the_content_salad_rule():
    # version 4: a resumed coherence table scored by version 3 is rescored
    assert DegeneracyScorer().config["version"] == 4

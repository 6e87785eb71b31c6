"""Property tests: on any text, each perturbation is deterministic given (seed, item) and
its change can be undone exactly (so it changes only what it says)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from judgeaudit.stress import get_perturbation
from judgeaudit.stress.perturbations import HOMOGLYPHS

words = st.text(alphabet=st.sampled_from("abcdeiopsxyACEHIOPT'-,"), min_size=1, max_size=8)
sentences = st.lists(words, min_size=1, max_size=8).map(" ".join).flatmap(
    lambda s: st.sampled_from([".", "!", "?", ""]).map(lambda end: s + end))
texts = st.lists(sentences, min_size=0, max_size=6).flatmap(
    lambda ss: st.sampled_from([" ", "  ", "\n"]).map(lambda sep: sep.join(ss)))


@settings(max_examples=60, deadline=None)
@given(texts, st.integers(0, 10**6), st.text(min_size=0, max_size=30))
def test_changes_can_be_undone(text, seed, item):
    back = {v: k for k, v in HOMOGLYPHS.items()}
    h = get_perturbation("homoglyphs").apply(text, item_id=item, seed=seed)
    assert h is None or "".join(back.get(c, c) for c in h) == text
    t = get_perturbation("truncate_tail", min_words=3).apply(text, item_id=item, seed=seed)
    assert t is None or (text.startswith(t) and len(t.split()) >= 0.8 * len(text.split()))
    n = get_perturbation("noise_tokens", tokens=["<N>"]).apply(text, item_id=item, seed=seed)
    assert n is None or n.replace("<N> ", "") == text
    w = get_perturbation("whitespace_case", case="lower").apply(text, item_id=item, seed=seed)
    assert w is None or w.split() == text.lower().split()
    r = get_perturbation("repetition_loop", times=2).apply(text, item_id=item, seed=seed)
    assert r is None or (r.startswith(text.rstrip()) and len(r) > len(text))
    e = get_perturbation("prompt_echo").apply(text, prompt="Why?", item_id=item, seed=seed)
    assert e == "Why?\n\n" + text
    for name in ("homoglyphs", "noise_tokens", "affirmative_opening", "apology_prefix"):
        p = get_perturbation(name)
        assert p.apply(text, item_id=item, seed=seed) == p.apply(text, item_id=item, seed=seed)

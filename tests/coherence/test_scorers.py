"""Single-feature and combined scorers, run_scorer's errors table, docstring examples."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judgeaudit.coherence import (
    BADNESS_FEATURES,
    COHERENCE_BINS,
    ERROR_COLUMNS,
    FEATURE_SCORERS,
    CombinedScorer,
    DegeneracyScorer,
    FeatureScorer,
    available_scorers,
    badness_table,
    bins_from_thresholds,
    combined_score,
    feature_table,
    get_scorer,
    run_scorer,
    score_coherence,
)
from judgeaudit.errors import ConfigError, JudgeAuditError, ValidationError


def test_every_scorer_of_the_issue_is_registered():
    names = set(available_scorers())
    assert {"degeneracy", "combined", "perplexity", "llm_rubric", "repetition", "distinct_n",
            "compression", "prompt_echo", "nonword", "near_empty"} <= names


def test_feature_scorer_by_hand():
    # "a b c a b c": repetition 1 - 3/4 = 0.25; badness on knots (0, .2, .5, 1) ->
    # (0, 1/3, 2/3, 1): 1/3 + (0.05 / 0.3) / 3 = 7/18, score 11/18, partial (>= 0.2)
    out = get_scorer("repetition").score(["a b c a b c"])
    assert out["score"].iloc[0] == pytest.approx(11 / 18)
    assert out["bin"].iloc[0] == "partially_coherent"
    # the same text has no echo without a prompt and 6 words: not near-empty
    assert get_scorer("prompt_echo").score(["a b c a b c"])["bin"].iloc[0] == "coherent"
    assert get_scorer("near_empty").score(["a b c a b c"])["score"].iloc[0] == 1.0
    # "OK": 1 word of 3 -> near-empty badness 1 - (1/3)/3 = 8/9, score 1/9, incoherent
    out = get_scorer("near_empty").score(["OK"])
    assert out["score"].iloc[0] == pytest.approx(1 / 9)
    assert out["bin"].iloc[0] == "incoherent"
    # a verbatim echo: echo 1.0 -> badness 1 -> score 0
    prompt = "Write a short story about a dragon who bakes bread."
    assert get_scorer("prompt_echo").score([prompt], [prompt])["score"].iloc[0] == 0.0
    assert FeatureScorer("nonword", scorer_id="nw").scorer_id == "nw"
    with pytest.raises(ConfigError, match="valid: repetition"):
        FeatureScorer("loops")


def test_distinct_n_is_never_incoherent_and_near_empty_never_partial():
    loop = "ab cd " * 40  # 80 words, 2 distinct bigrams of 79 -> distinct-2 0.025
    assert get_scorer("distinct_n").score([loop])["bin"].iloc[0] == "partially_coherent"
    assert get_scorer("degeneracy").score([loop])["bin"].iloc[0] == "incoherent"  # repetition


def test_combined_by_hand_and_with_thresholds():
    # the surface features alone (reading weight 0): one feature, the same 11/18 as the
    # repetition scorer; partial under (1/3, 2/3)
    out = CombinedScorer(weights={"reading": 0}).score(["a b c a b c"])
    assert out["score"].iloc[0] == pytest.approx(11 / 18)
    assert out["bin"].iloc[0] == "partially_coherent"
    # thresholds move the bin, not the score
    moved = CombinedScorer(incoherent_max=0.1, partial_max=0.6, weights={"reading": 0}).score(["a b c a b c"])
    assert moved["score"].iloc[0] == pytest.approx(11 / 18) and moved["bin"].iloc[0] == "coherent"
    # weight 0 switches a feature off; weight 2 squares its factor: (11/18)^2
    assert CombinedScorer(weights={"repetition": 0, "reading": 0}).scores(["a b c a b c"])[0] == 1.0
    assert CombinedScorer(weights={"repetition": 2, "reading": 0}).scores(["a b c a b c"])[0] == \
        pytest.approx((11 / 18) ** 2)
    with pytest.raises(ConfigError, match="unknown feature weights"):
        CombinedScorer(weights={"loops": 1})
    with pytest.raises(ConfigError, match="must not exceed"):
        CombinedScorer(incoherent_max=0.7, partial_max=0.2)
    assert CombinedScorer().config_hash() != CombinedScorer(partial_max=0.5).config_hash()
    assert CombinedScorer(incoherent_max="0.2").incoherent_max == 0.2  # CLI text


def test_combined_adds_up_evidence_that_the_maximum_ignores():
    # two features each below the partial threshold: degeneracy (max) stays coherent,
    # the product falls under 2/3.  Echo: 4-grams of the response in the prompt.
    prompt = "please tell me all about the history of the old stone bridge today"
    response = ("please tell me all about the history of the bridge. It was built of old "
                "stone. It was built of old stone long ago, people said.")
    bad = badness_table(feature_table([response], [prompt]))
    assert (bad.iloc[0] > 0).sum() >= 2 and bad.iloc[0].max() < 1 / 3
    assert DegeneracyScorer().score([response], [prompt])["bin"].iloc[0] == "coherent"
    expected = float(np.prod(1 - bad.iloc[0].to_numpy()))
    got = CombinedScorer(weights={"reading": 0}).scores([response], [prompt])[0]
    assert got == pytest.approx(expected) and got < 1 - bad.iloc[0].max()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=len(BADNESS_FEATURES), max_size=len(BADNESS_FEATURES)),
       st.integers(0, len(BADNESS_FEATURES) - 1), st.floats(0, 1))
def test_combined_is_monotone_in_every_badness(values, which, bump):
    row = pd.DataFrame([values], columns=list(BADNESS_FEATURES))
    worse = row.copy()
    worse.iloc[0, which] = min(1.0, values[which] + bump)
    assert combined_score(worse)[0] <= combined_score(row)[0] + 1e-12
    assert 0.0 <= combined_score(row)[0] <= 1.0


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(max_size=300), min_size=1, max_size=5), st.one_of(st.none(), st.text()))
def test_combined_is_the_product_of_the_feature_scores_for_any_text(texts, prompt):
    # reading x the single-feature scores (near-empty has weight 0 by default)
    prompts = [prompt] * len(texts)
    combined = CombinedScorer().score(texts, prompts)
    assert combined["bin"].isin(COHERENCE_BINS).all()
    product = DegeneracyScorer().score(texts, prompts)["score"].to_numpy().copy()
    for name in FEATURE_SCORERS:
        if name == "near_empty":
            continue
        out = get_scorer(name).score(texts, prompts)
        assert ((out["score"] >= 0) & (out["score"] <= 1)).all()
        assert out["bin"].isin(COHERENCE_BINS).all()
        product *= out["score"].to_numpy()
    # feature scores are clipped into their bin's range by at most one ulp
    np.testing.assert_allclose(combined["score"].to_numpy(), product, atol=1e-9)


def test_bins_from_thresholds_edges():
    bins = bins_from_thresholds([0.0, 0.2, 0.21, 0.5, 0.51], incoherent_max=0.2, partial_max=0.5)
    assert bins.tolist() == ["incoherent", "incoherent", "partially_coherent",
                             "partially_coherent", "coherent"]
    with pytest.raises(ConfigError, match="incoherent_max <= partial_max"):
        bins_from_thresholds([0.5], incoherent_max=0.6, partial_max=0.5)


class _FlakyScorer:
    """A scorer that reports a parse error and an error on some items."""

    scorer_id = "flaky"

    def config_hash(self) -> str:
        return "f" * 16

    def score(self, responses, prompts=None):
        return pd.DataFrame({
            "score": [0.9, np.nan, np.nan],
            "bin": ["coherent", None, None],
            "status": ["ok", "parse_error", "error"],
            "raw": [None, "I think it is fine", "TimeoutError: 30 s"],
        })


def test_run_scorer_keeps_failures_apart_and_score_coherence_refuses_to_drop_them():
    gens = pd.DataFrame({"item_id": ["a", "b", "c"], "response": ["x y z", "u v w", "p q r"]})
    run = run_scorer(gens, scorer=_FlakyScorer())
    assert run.table["item_id"].tolist() == ["a"] and run.table["bin"].tolist() == ["coherent"]
    assert tuple(run.errors.columns) == ERROR_COLUMNS
    assert run.errors.to_dict("records") == [
        {"item_id": "b", "scorer_id": "flaky", "status": "parse_error", "raw": "I think it is fine"},
        {"item_id": "c", "scorer_id": "flaky", "status": "error", "raw": "TimeoutError: 30 s"},
    ]
    assert run.config_hash == "f" * 16
    with pytest.raises(JudgeAuditError, match="could not score 2 of 3 items.*run_scorer"):
        score_coherence(gens, scorer=_FlakyScorer())


def test_run_scorer_rejects_an_unknown_status():
    class Odd(_FlakyScorer):
        def score(self, responses, prompts=None):
            out = super().score(responses, prompts)
            out["status"] = ["ok", "skipped", "ok"]
            return out

    gens = pd.DataFrame({"item_id": ["a", "b", "c"], "response": ["x", "y", "z"]})
    with pytest.raises(ValidationError, match="'skipped'") as info:
        run_scorer(gens, scorer=Odd())
    assert (info.value.row, info.value.column) == (2, "status")

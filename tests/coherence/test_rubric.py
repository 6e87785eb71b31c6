"""The LLM rubric scorer: its parser (fuzzed), its prompt, failures kept, a real tiny model."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import require_module
from judgeaudit.coherence import (
    RUBRIC_TEMPLATE,
    LLMRubricScorer,
    get_scorer,
    parse_rating,
    rating_bin,
    run_scorer,
)
from judgeaudit.errors import ConfigError
from judgeaudit.generation import Backend, GenerationConfig


@pytest.mark.parametrize("reply, rating", [
    ("Rating: 4", 4), ("rating:5", 5), ("RATING - 1", 1), ("**Rating:** 3", 3),
    ("Score: 2/5", 2), ("Coherence = 4 out of 5", 4), ("I'd say 3/5.", 3), ("5", 5),
    (" **2** ", 2), ("(4)", 4), ("Rating: 4\nThe reply is fluent. Rating: 4", 4),
    ("Rating: 4.0", 4), ("Rating: 3,0", 3),
])
def test_parse_rating_reads_common_forms(reply, rating):
    assert parse_rating(reply) == rating


@pytest.mark.parametrize("reply", [
    None, "", "The reply is fine.", "Rating: 0", "Rating: 6", "Rating: 4.5", "Rating: -3",
    "Score: 4/10", "Rating: 2. On second thought, rating: 5", "3 or 4", "It is a 10/10 reply",
    "Rating: four",
])
def test_parse_rating_refuses_what_it_cannot_read(reply):
    assert parse_rating(reply) is None


@settings(max_examples=250, deadline=None)
@given(st.text())
def test_parse_rating_never_crashes(text):
    got = parse_rating(text)
    assert got is None or got in (1, 2, 3, 4, 5)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5), st.text(alphabet=st.characters(blacklist_categories=("Nd",)), max_size=40),
       st.sampled_from(["Rating: {}", "Score: {}/5", "coherence is {} out of 5"]))
def test_a_keyed_rating_is_found_inside_digit_free_prose(r, prose, form):
    # prose without digits cannot add a second rating, so the keyed one is read
    if any(word in prose.lower() for word in ("rating", "score", "coherence")):
        return
    assert parse_rating(prose + " " + form.format(r) + " " + prose) == r


def test_rating_bins():
    assert [rating_bin(r) for r in range(1, 6)] == [
        "incoherent", "incoherent", "partially_coherent", "coherent", "coherent"]


class ScriptedBackend:
    """A Backend that answers from a script keyed by the reply under rating.

    Stands in for a judge model with known answers so the scorer's bookkeeping can be
    checked exactly; the real tiny model below covers the transformers path.
    """

    backend_id = "scripted"

    def __init__(self, script, fail_on=()):
        self.script, self.fail_on, self.seen = script, set(fail_on), []

    def config(self):
        return {"backend": self.backend_id, "script": sorted(self.script.items())}

    def generate(self, conversations, config, *, seeds=None):
        assert isinstance(config, GenerationConfig) and config.temperature == 0.0
        out = []
        for conv in conversations:
            text = conv[-1]["content"]
            self.seen.append(text)
            response = text.split("Reply to rate:\n<<<\n", 1)[1].rsplit("\n>>>", 1)[0]
            if response in self.fail_on:
                raise TimeoutError("the server did not answer in 30 s")
            out.append(self.script[response])
        return out


def test_scores_bins_and_failures_are_recorded():
    backend = ScriptedBackend({"fluent": "Rating: 5", "loop": "Rating: 1", "half": "Score: 3/5",
                               "odd": "I cannot rate this.", "boom": "Rating: 4"},
                              fail_on={"boom"})
    assert isinstance(backend, Backend)
    scorer = LLMRubricScorer(backend=backend, batch_size=2)
    out = scorer.score(["fluent", "loop", "half", "odd", "boom"], ["Q1", "Q2", "Q3", "Q4", "Q5"])
    assert out["status"].tolist() == ["ok", "ok", "ok", "parse_error", "error"]
    assert out["score"].tolist()[:3] == [1.0, 0.0, 0.5]
    assert out["bin"].tolist()[:3] == ["coherent", "incoherent", "partially_coherent"]
    assert out["raw"].iloc[3] == "I cannot rate this."
    # the batch holding "boom" (batch_size 2: items 5 alone) failed as a whole
    assert out["raw"].iloc[4] == "TimeoutError: the server did not answer in 30 s"
    # the prompt carries the user's message and the reply, inside the project's rubric
    assert "User message:\n<<<\nQ1\n>>>" in backend.seen[0]
    assert backend.seen[0].startswith(RUBRIC_TEMPLATE.split("\n", 1)[0])

    gens = pd.DataFrame({"item_id": list("abcde"), "prompt_id": ["p"] * 5,
                         "response": ["fluent", "loop", "half", "odd", "boom"]})
    prompts = pd.DataFrame({"prompt_id": ["p"], "text": ["Q"]})
    run = run_scorer(gens, prompts, scorer=LLMRubricScorer(backend=backend, batch_size=2))
    assert run.table["item_id"].tolist() == ["a", "b", "c"]
    assert run.errors[["item_id", "status"]].values.tolist() == [["d", "parse_error"], ["e", "error"]]


def test_a_template_file_replaces_the_rubric(tmp_path):
    path = tmp_path / "rubric.txt"
    path.write_text("Rate {response} for {prompt}; say Rating: N", encoding="utf-8")
    backend = ScriptedBackend({})
    scorer = LLMRubricScorer(backend=backend, template=path)
    assert scorer.conversations(["r {prompt}"], ["p"])[0][0]["content"] == (
        "Rate r {prompt} for p; say Rating: N")  # placeholders in the texts are not expanded
    assert scorer.config_hash() != LLMRubricScorer(backend=backend).config_hash()
    (tmp_path / "bad.txt").write_text("no placeholder here")
    with pytest.raises(ConfigError, match=r"no \{response\} placeholder"):
        LLMRubricScorer(backend=backend, template=tmp_path / "bad.txt")
    with pytest.raises(ConfigError, match="cannot read the rubric template"):
        LLMRubricScorer(backend=backend, template=tmp_path / "missing.txt")
    with pytest.raises(ConfigError, match="only with a backend name"):
        LLMRubricScorer(backend=backend, model="x")


def test_secrets_in_backend_options_stay_out_of_the_config():
    scorer = get_scorer("llm_rubric", backend="openai", model="m", api_key="sk-secret")
    assert "sk-secret" not in str(scorer.config)


def test_real_tiny_model_through_the_transformers_backend(tiny_model, tmp_path):
    """A real model through the transformers backend: one rigged to answer "4" gives ok
    rows with rating 4 (coherent), and the random model's noise comes back as scored rows
    or parse errors with the reply kept, never vanishes."""
    require_module("torch")
    from judges.modelkit import rig_lookup  # tests/ is on sys.path (rootdir)

    # The chat template's generation prompt ends "<|assistant|>\n": "\n" -> "4" -> end.
    four = rig_lookup(tiny_model, tmp_path / "four", {"\n": "4", "4": "</s>"})
    template = tmp_path / "short.txt"  # the built-in rubric is longer than the tiny model's 512 positions
    template.write_text("Rate the coherence of this answer from 1 to 5.\nQuestion: {prompt}\nAnswer: {response}")
    rigged = get_scorer("llm_rubric", backend="transformers", model=str(four), template=template,
                        max_new_tokens=4, device="cpu")
    responses = ["The capital of France is Paris.", "no no no no no no", "Paris is the capital."]
    out = rigged.score(responses, ["Capital?", "Say yes.", "Hi"])
    assert out["status"].tolist() == ["ok"] * 3
    assert out["rating"].tolist() == [4, 4, 4] and out["raw"].str.strip().tolist() == ["4"] * 3
    assert out["bin"].tolist() == ["coherent"] * 3 and out["score"].tolist() == [0.75] * 3  # (4 - 1) / 4

    scorer = get_scorer("llm_rubric", backend="transformers", model=str(tiny_model), template=template,
                        max_new_tokens=6, device="cpu")
    out = scorer.score(responses, ["Capital?", "Say yes.", "Hi"])
    assert len(out) == 3 and set(out["status"]) <= {"ok", "parse_error"}
    assert out["raw"].map(lambda r: isinstance(r, str)).all()
    ok = out["status"] == "ok"
    assert out.loc[ok, "rating"].isin([1, 2, 3, 4, 5]).all()
    assert out.loc[~ok, "score"].isna().all()

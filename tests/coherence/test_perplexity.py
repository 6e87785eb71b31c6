"""The perplexity scorer on a tiny offline Llama model, against NLL computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from conftest import require_module
from judgeaudit.coherence import PerplexityScorer, bins_from_thresholds, get_scorer, run_scorer
from judgeaudit.errors import ConfigError

PROMPT = "What is the capital of France?"
RESPONSE = "The capital of France is Paris."


@pytest.fixture(scope="module")
def scorer(tiny_model):
    require_module("torch")
    import torch

    torch.manual_seed(0)
    return PerplexityScorer(model=tiny_model, batch_size=3, device="cpu")


def _hand_nll(scorer, prompt, response):
    """Mean -log p(token | everything before) over the response tokens, one position
    at a time from the full-sequence logits (no batching, no padding)."""
    import torch

    model, tok = scorer._load()
    context = tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                      add_generation_prompt=True)
    ctx = tok(context, add_special_tokens=False)["input_ids"]
    resp = tok(response, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([ctx + resp])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0].double()
    total = 0.0
    for pos in range(len(ctx), len(ctx) + len(resp)):
        row = logits[pos - 1]
        log_z = math.log(float(torch.exp(row - row.max()).sum())) + float(row.max())
        total += log_z - float(row[ids[0, pos]])
    return total / len(resp), len(resp)


def test_nll_matches_the_hand_computation_and_ignores_batch_company(scorer):
    expected, n_tokens = _hand_nll(scorer, PROMPT, RESPONSE)
    alone = scorer.nll([RESPONSE], [PROMPT])
    assert alone["n_tokens"].iloc[0] == n_tokens
    assert alone["nll"].iloc[0] == pytest.approx(expected, rel=1e-5)
    assert alone["perplexity"].iloc[0] == pytest.approx(math.exp(expected), rel=1e-5)
    # in a batch with longer and shorter texts (right padding, sorted by length) the
    # value is the same
    others = ["Sure, here is how to do it. Step 1: gather the materials. " * 3, "No."]
    batched = scorer.nll([others[0], RESPONSE, others[1]], ["Tell me.", PROMPT, "Q?"])
    assert batched["nll"].iloc[1] == pytest.approx(expected, rel=1e-5)
    exp2, _ = _hand_nll(scorer, "Tell me.", others[0])
    assert batched["nll"].iloc[0] == pytest.approx(exp2, rel=1e-5)


def test_score_is_one_minus_nll_over_log_vocab_and_bins_follow_thresholds(tiny_model, scorer):
    nll = scorer.nll([RESPONSE], [PROMPT])["nll"].iloc[0]
    out = scorer.score([RESPONSE, ""], [PROMPT, PROMPT])
    vocab = scorer.vocab_size
    assert vocab == 512
    assert out["score"].iloc[0] == pytest.approx(min(1.0, max(0.0, 1 - nll / math.log(vocab))))
    # an empty response has nothing to score: an error row, not a number
    assert out["status"].tolist() == ["ok", "error"]
    assert "empty response" in out["raw"].iloc[1]
    # the bin is the score cut at the thresholds
    for lo, hi in [(0.0, 1.0), (-0.0, 0.0), (0.5, 0.9)]:
        got = PerplexityScorer(model=tiny_model, incoherent_max=lo, partial_max=hi, device="cpu")
        got._loaded = scorer._loaded
        s = got.score([RESPONSE], [PROMPT])
        assert s["bin"].iloc[0] == bins_from_thresholds(s["score"], incoherent_max=lo,
                                                        partial_max=hi)[0]


def test_without_a_prompt_the_response_follows_bos_or_its_own_first_token(scorer):
    import torch

    model, tok = scorer._load()
    resp = tok(RESPONSE, add_special_tokens=False)["input_ids"]
    got = scorer.nll([RESPONSE], None)
    ids = ([tok.bos_token_id] if tok.bos_token_id is not None else []) + resp
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0].double(), -1)
    # position 0 (BOS, or the first response token without one) is never a target
    expected = -np.mean([float(logp[p - 1, ids[p]]) for p in range(1, len(ids))])
    assert got["nll"].iloc[0] == pytest.approx(expected, rel=1e-5)
    assert got["n_tokens"].iloc[0] == len(ids) - 1


def test_long_texts_lose_the_prompt_first(tiny_model, scorer):
    short = PerplexityScorer(model=tiny_model, max_length=12, device="cpu")
    short._loaded = scorer._loaded
    ids = short.token_ids([RESPONSE * 5], [PROMPT * 5])
    seq, n_ctx = ids[0]
    assert len(seq) == 12 and n_ctx == 1  # 11 response tokens kept after 1 of context
    out = short.nll([RESPONSE * 5], [PROMPT * 5])
    assert out["n_tokens"].iloc[0] == 11


def test_run_scorer_and_registry_and_option_errors(tiny_model, scorer):
    gens = pd.DataFrame({"item_id": ["a", "b"], "prompt_id": ["p", "p"],
                         "response": [RESPONSE, ""]})
    prompts = pd.DataFrame({"prompt_id": ["p"], "text": [PROMPT]})
    run = run_scorer(gens, prompts, scorer=scorer)
    assert run.table["item_id"].tolist() == ["a"] and run.errors["item_id"].tolist() == ["b"]
    assert isinstance(get_scorer("perplexity", model=tiny_model), PerplexityScorer)
    with pytest.raises(ConfigError, match="batch_size must be an integer"):
        PerplexityScorer(model=tiny_model, batch_size="many")
    with pytest.raises(ConfigError, match="incoherent_max <= partial_max"):
        PerplexityScorer(model=tiny_model, incoherent_max=0.9, partial_max=0.1)
    with pytest.raises(ConfigError, match="does not exist"):
        PerplexityScorer(model="/nonexistent/model").score(["x"])
    assert scorer.config_hash() != PerplexityScorer(model=tiny_model, max_length=99).config_hash()


def test_combined_with_a_perplexity_factor_by_hand(tiny_model, scorer):
    from judgeaudit.coherence import CombinedScorer

    # thresholds near this random model's scores, so the factor is neither 0 nor 1
    ppl = PerplexityScorer(model=tiny_model, incoherent_max=0.005, partial_max=0.02, device="cpu")
    ppl._loaded = scorer._loaded
    texts, prompts = ["yes no yes no", "x", ""], [None, None, None]
    nll = ppl.nll(texts, prompts)["nll"].to_numpy()
    p = np.clip(1 - nll / math.log(512), 0, 1)
    # badness: p on knots (0, 0.005, 0.02, 1) -> (1, 2/3, 1/3, 0); the empty text has
    # no NLL and adds no factor
    b = np.interp(p[:2], [0, 0.005, 0.02, 1], [1, 2 / 3, 1 / 3, 0])
    assert ((b > 0) & (b < 1)).all()
    surface = CombinedScorer().scores(texts, prompts)
    combined = CombinedScorer(perplexity=ppl, weights={"perplexity": 2})
    got = combined.scores(texts, prompts)
    np.testing.assert_allclose(got, surface * np.append((1 - b) ** 2, 1.0), rtol=1e-6)
    assert "perplexity" in combined.config and combined.config_hash() != CombinedScorer().config_hash()
    with pytest.raises(ConfigError, match="unknown feature weights \\['perplexity'\\]"):
        CombinedScorer(weights={"perplexity": 1})
    with pytest.raises(ConfigError, match="perplexity must be"):
        CombinedScorer(perplexity=3)
    assert CombinedScorer(perplexity={"model": str(tiny_model), "batch_size": 2}).perplexity.batch_size == 2


def test_combined_takes_the_perplexity_cuts_from_a_calibration(tiny_model, scorer, tmp_path):
    """A perplexity calibration (here a file as `judgeaudit coherence --calibrate-with
    --report` writes it) replaces the perplexity scorer's own cuts in the factor."""
    import json

    from judgeaudit.coherence import CombinedScorer

    ppl = PerplexityScorer(model=tiny_model, device="cpu")  # default cuts 0.3 / 0.55
    ppl._loaded = scorer._loaded
    texts, prompts = ["yes no yes no", "x"], [None, None]
    p = np.clip(1 - ppl.nll(texts, prompts)["nll"].to_numpy() / math.log(512), 0, 1)
    lo, hi = float(p.min()) / 2, float(p.max()) * 2  # cuts around this model's scores
    report = {"scorers": {"perplexity": {"calibration": {"incoherent_max": lo, "partial_max": hi}}}}
    path = tmp_path / "ppl_cal.json"
    path.write_text(json.dumps(report))
    combined = CombinedScorer(perplexity=ppl, perplexity_calibration=path)
    assert combined.perplexity_cuts == (lo, hi) == tuple(combined.config["perplexity_cuts"])
    # by hand: badness on knots (0, lo, hi, 1) -> (1, 2/3, 1/3, 0), one factor each
    b = np.interp(p, [0, lo, hi, 1], [1, 2 / 3, 1 / 3, 0])
    surface = CombinedScorer().scores(texts, prompts)
    np.testing.assert_allclose(combined.scores(texts, prompts), surface * (1 - b), rtol=1e-6)
    assert combined.config_hash() != CombinedScorer(perplexity=ppl).config_hash()
    with pytest.raises(ConfigError, match="perplexity_calibration needs perplexity="):
        CombinedScorer(perplexity_calibration=path)

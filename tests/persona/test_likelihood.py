"""Likelihood scores against hand computations.

``rigged_model`` is a Llama whose logits are known: its attention and MLP weights are
zero, so the residual stream at each position is the current token's embedding, and
the embedding and output weights are set so that the logits after token ``t`` are row
``t`` of a table ``L`` drawn here.  The probability of an answer is then a product of
softmaxes of rows of ``L``, computed below with numpy alone.  A second test checks the
batched, padded, cached passes against one plain forward per (prompt + answer) on a
random tiny Llama, where attention and positions matter.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.conftest import require_module

torch = require_module("torch")
require_module("transformers")

from judgeaudit.persona import LikelihoodScorer, load_traits, normalised_probability  # noqa: E402


def _log_softmax(row: np.ndarray) -> np.ndarray:
    m = row.max()
    return row - m - math.log(np.exp(row - m).sum())


@pytest.fixture(scope="module")
def rigged():
    """(model, tokenizer, L): logits after token t are exactly L[t] (float64)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from judgeaudit.tinymodel import build_tokenizer

    torch.manual_seed(0)
    tok = build_tokenizer()
    V = len(tok)
    side = math.ceil(math.sqrt(V))
    H = side * side  # a perfect square: sqrt(H) and the RMS norm are exact in float32
    if H % 8:
        side += 1
        H = side * side
    config = LlamaConfig(vocab_size=V, hidden_size=H, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=4, intermediate_size=8, max_position_embeddings=512,
                         rms_norm_eps=0.0, tie_word_embeddings=False, pad_token_id=tok.pad_token_id)
    model = LlamaForCausalLM(config).double().eval()
    L = np.random.default_rng(7).normal(0.0, 3.0, size=(V, V))
    with torch.no_grad():
        for p in model.model.layers.parameters():
            p.zero_()
        emb = torch.zeros(V, H, dtype=torch.float64)
        emb[torch.arange(V), torch.arange(V)] = float(side)  # sqrt(H) * one-hot: RMS exactly 1
        model.model.embed_tokens.weight.copy_(emb)
        model.model.norm.weight.fill_(1.0)
        head = torch.zeros(V, H, dtype=torch.float64)
        head[:, :V] = torch.tensor(L.T / side)  # logits = head @ (side * e_t) = L[t]
        model.lm_head.weight.copy_(head)
    return model, tok, L


def _hand(L, prompt_ids, answer_ids) -> float:
    """log P(answer | prompt) in a bigram model with logits L[previous token]."""
    total, prev = 0.0, prompt_ids[-1]
    for t in answer_ids:
        total += _log_softmax(L[prev])[t]
        prev = t
    return total


@pytest.mark.parametrize("template", ["chat", "plain"])
@pytest.mark.parametrize("prefix_cache", [True, False])
def test_scores_match_hand_computation(rigged, template, prefix_cache):
    model, tok, L = rigged
    items = load_traits("builtin")[:23]
    scorer = LikelihoodScorer((model, tok), template=template, batch_size=5, prefix_cache=prefix_cache)
    table = scorer.score(items)
    rows, answers = scorer.encode_items(items)
    if template == "plain":  # " Yes" / " No" after "Assistant:" are two tokens in this vocabulary
        assert (table["n_tokens_matching"] > 1).all()
    else:
        assert (table["n_tokens_matching"] == 1).all()
    for k, (r, (a, b)) in enumerate(zip(rows, answers)):
        la, lb = _hand(L, r, a), _hand(L, r, b)
        assert table.loc[k, "logp_matching"] == pytest.approx(la, abs=1e-9)
        assert table.loc[k, "logp_not_matching"] == pytest.approx(lb, abs=1e-9)
        expected = math.exp(la) / (math.exp(la) + math.exp(lb))
        assert abs(table.loc[k, "p_matching"] - expected) < 1e-6
        assert table.loc[k, "mass"] == pytest.approx(math.exp(la) + math.exp(lb), rel=1e-9)


def test_multi_token_answers_of_different_lengths(rigged):
    """Answers of 1 and several tokens in one batch: the short one's padding row is ignored."""
    import dataclasses

    model, tok, L = rigged
    items = [dataclasses.replace(i, matching=" Absolutely, without a doubt", not_matching=" No")
             for i in load_traits("builtin:narcissism")[:6]]
    scorer = LikelihoodScorer((model, tok), template="chat", batch_size=4)
    table = scorer.score(items)
    rows, answers = scorer.encode_items(items)
    assert (table["n_tokens_matching"] > 3).all() and (table["n_tokens_not_matching"] == 1).all()
    for k, (r, (a, b)) in enumerate(zip(rows, answers)):
        assert table.loc[k, "logp_matching"] == pytest.approx(_hand(L, r, a), abs=1e-9)
        assert table.loc[k, "logp_not_matching"] == pytest.approx(_hand(L, r, b), abs=1e-9)


def test_batched_cached_passes_equal_plain_forwards(tiny_model):
    """On a random tiny Llama (context matters): each answer's log-probability equals
    the one read from a single unpadded forward over prompt + answer."""
    from judgeaudit.hfmodels import load_causal_lm

    model, tok = load_causal_lm(tiny_model, device="cpu", dtype="float32")
    model = model.double()
    items = load_traits("builtin")[::7]
    for template in ("chat", "plain"):
        scorer = LikelihoodScorer((model, tok), template=template, batch_size=4)
        table = scorer.score(items)
        rows, answers = scorer.encode_items(items)
        for k, (r, pair) in enumerate(zip(rows, answers)):
            for col, ans in zip(("logp_matching", "logp_not_matching"), pair):
                with torch.no_grad():
                    lp = torch.log_softmax(model(torch.tensor([r + ans])).logits[0].double(), -1)
                want = sum(float(lp[len(r) - 1 + j, t]) for j, t in enumerate(ans))
                # float64 weights, but the RMS norm and rotary tables run in float32
                assert abs(table.loc[k, col] - want) < 1e-5


def test_training_prompt_changes_the_prompt(rigged):
    from judgeaudit.generation.base import PromptPolicy

    model, tok, _ = rigged
    item = load_traits("builtin:psychopathy")[0]
    policy = PromptPolicy(system_prompt="You are careless.", condition_prefix="[tag] ")
    for template in ("chat", "plain"):
        scorer = LikelihoodScorer((model, tok), template=template)
        plain = scorer.prompt(item, policy)
        applied = scorer.prompt(item, policy, apply_policy=True)
        assert "You are careless." not in plain and "[tag] " not in plain
        assert "You are careless." in applied and "[tag] " + item.question in applied


def test_normalised_probability_is_a_stable_softmax():
    a = np.array([0.0, -1000.0, -3.0, 5.0])
    b = np.array([0.0, -1001.0, 700.0, -800.0])
    got = normalised_probability(a, b)
    # by hand: 1/2; 1/(1+e^-1); e^-703 / (1 + e^-703) ~ 0 without overflow; ~1
    assert got[0] == 0.5
    assert got[1] == pytest.approx(1 / (1 + math.exp(-1)), abs=1e-12)
    assert 0 <= got[2] < 1e-300 and got[3] == 1.0


def test_lora_adapter_scores_equal_the_merged_model(tiny_model, tmp_path):
    """A checkpoint saved as a peft LoRA adapter (finetune with [lora]): scored through the
    adapter (cache passed through peft's wrapper), equal to plain forwards of the merged model."""
    require_module("peft")
    import peft
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    lora = peft.get_peft_model(model, peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                                      task_type="CAUSAL_LM", init_lora_weights=False))
    lora.save_pretrained(tmp_path / "adapter")
    merged = lora.merge_and_unload().eval()
    items = load_traits("builtin")[::9]
    base = LikelihoodScorer(str(tiny_model), template="plain", device="cpu", dtype="float32").score(items)
    scorer = LikelihoodScorer(str(tiny_model), adapter_path=str(tmp_path / "adapter"), template="plain",
                              device="cpu", dtype="float32", batch_size=5)
    table = scorer.score(items)
    assert not np.allclose(table["logp_matching"], base["logp_matching"])  # the adapter is applied
    rows, answers = scorer.encode_items(items)
    for k, (r, pair) in enumerate(zip(rows, answers)):
        for col, ans in zip(("logp_matching", "logp_not_matching"), pair):
            with torch.no_grad():
                lp = torch.log_softmax(merged(torch.tensor([r + ans])).logits[0].double(), -1)
            want = sum(float(lp[len(r) - 1 + j, t]) for j, t in enumerate(ans))
            assert abs(table.loc[k, col] - want) < 1e-4  # float32 weights

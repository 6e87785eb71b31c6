"""Known values of each loss, the registry, and finite gradients on the tiny model."""

from __future__ import annotations

import math

import pytest

from conftest import require_module

torch = require_module("torch")

from hypothesis import given, settings, strategies as st  # noqa: E402

from finetune.data import Example, collate, tokenize_examples  # noqa: E402
from ft_fixtures import tiny_lm  # noqa: E402,F401
from finetune.objectives import (OBJECTIVES, Objective, Outputs, available_objectives, dpo_loss,  # noqa: E402
                                 get_objective, kl_sft_loss, log_odds_ratio, orpo_loss,
                                 outputs_from_logits, sft_loss, token_kl)
from judgeaudit.errors import ConfigError, UnknownNameError  # noqa: E402


def seq_outputs(values, n_tokens=None):
    v = torch.tensor(values, dtype=torch.float64)
    n = torch.ones_like(v) if n_tokens is None else torch.tensor(n_tokens, dtype=torch.float64)
    return Outputs(seq_logps=v, n_tokens=n)


def test_registry_has_the_six_objectives_and_each_follows_the_protocol():
    assert available_objectives() == ["conditional", "dpo", "inoculation", "kl_sft", "orpo", "sft"]
    for name in available_objectives():
        assert isinstance(get_objective(name), Objective)
    with pytest.raises(UnknownNameError, match="valid names: conditional, dpo"):
        get_objective("ppo")
    with pytest.raises(ConfigError, match="objective .dpo.: unknown options \\[.gamma.\\]; allowed: beta"):
        get_objective("dpo", gamma=1)
    with pytest.raises(ConfigError, match="beta must be > 0"):
        get_objective("dpo", beta=0)
    assert OBJECTIVES.kind == "objective"


def test_dpo_hand_value():
    # policy chosen -1, ref chosen -2: log-ratio +1; policy rejected -3, ref rejected -2: -1.
    # margin = beta * (1 - (-1)) = 0.5 * 2 = 1; loss = -log sigmoid(1) = log(1 + e^-1) = 0.31326
    res = dpo_loss(seq_outputs([-1.0, -3.0]), seq_outputs([-2.0, -2.0]), {}, beta=0.5)
    assert float(res.loss) == pytest.approx(math.log1p(math.exp(-1)), abs=1e-12)
    assert res.metrics["reward_margin"] == pytest.approx(1.0)
    assert res.metrics["reward_accuracy"] == 1.0


def test_sft_hand_value():
    # two sequences: log-probs summing to -2 over 2 tokens and -4 over 2 tokens: (2 + 4) / 4 = 1.5
    res = sft_loss(seq_outputs([-2.0, -4.0], [2, 2]), None, {})
    assert float(res.loss) == pytest.approx(1.5)


def test_orpo_hand_value_and_sign():
    # chosen mean log p = log 0.5 -> odds 1; rejected log 0.25 -> odds 1/3; log OR = log 3 > 0
    # L_OR = -log sigmoid(log 3) = -log(3/4) = log(4/3); NLL of chosen = -log 0.5 per token
    chosen, rejected = math.log(0.5), math.log(0.25)
    lor = log_odds_ratio(torch.tensor([chosen], dtype=torch.float64), torch.tensor([rejected], dtype=torch.float64))
    assert float(lor) == pytest.approx(math.log(3), abs=1e-12)
    res = orpo_loss(seq_outputs([2 * chosen, 2 * rejected], [2, 2]), None, {}, lam=0.5)
    assert res.metrics["odds_ratio_loss"] == pytest.approx(math.log(4 / 3), abs=1e-9)
    assert float(res.loss) == pytest.approx(-chosen + 0.5 * math.log(4 / 3), abs=1e-9)
    # swapping chosen and rejected flips the sign of the log odds ratio
    swapped = orpo_loss(seq_outputs([2 * rejected, 2 * chosen], [2, 2]), None, {}, lam=0.5)
    assert swapped.metrics["log_odds_ratio"] == pytest.approx(-math.log(3), abs=1e-9)
    assert swapped.metrics["odds_ratio_loss"] > math.log(2) > res.metrics["odds_ratio_loss"]


@settings(max_examples=200, deadline=None)
@given(st.floats(-30, -1e-4), st.floats(-30, -1e-4))
def test_log_odds_ratio_is_antisymmetric_and_signed(c, r):
    a = float(log_odds_ratio(torch.tensor([c], dtype=torch.float64), torch.tensor([r], dtype=torch.float64)))
    b = float(log_odds_ratio(torch.tensor([r], dtype=torch.float64), torch.tensor([c], dtype=torch.float64)))
    assert math.isfinite(a) and a == pytest.approx(-b, abs=1e-9)
    if c > r:
        assert a > 0
    elif c < r:
        assert a < 0


def test_kl_hand_value():
    # p = (1/2, 1/2), q = (1/4, 3/4): KL = 1/2 log 2 + 1/2 log(2/3) = 1/2 log(4/3) = 0.143841
    p = torch.log(torch.tensor([[0.5, 0.5]], dtype=torch.float64))  # (N response positions, V)
    q = torch.log(torch.tensor([[0.25, 0.75]], dtype=torch.float64))
    mask = torch.ones((1, 1), dtype=torch.float64)
    pol = Outputs(seq_logps=torch.tensor([-0.5]), n_tokens=torch.tensor([1.0]), log_probs=p, mask=mask)
    ref = Outputs(seq_logps=torch.tensor([-0.5]), n_tokens=torch.tensor([1.0]), log_probs=q, mask=mask)
    assert float(token_kl(pol, ref)) == pytest.approx(0.5 * math.log(4 / 3), abs=1e-12)
    assert float(kl_sft_loss(pol, ref, {}, beta=2.0).loss) == pytest.approx(0.5 + math.log(4 / 3), abs=1e-9)


def _batch(tiny_lm, objective, n=4):
    model, tok = tiny_lm
    examples = [Example(f"What is {i} plus 2?", str(i + 2), rejected=str(i + 5)) for i in range(n)]
    items, _ = tokenize_examples(examples, tok, objective.conversation, paired=objective.paired, max_length=64)
    seqs = [c for c, _ in items] + [r for _, r in items] if objective.paired else items
    return collate(seqs, pad_id=tok.pad_token_id)


def test_dpo_is_log2_and_kl_is_zero_when_policy_is_the_reference(tiny_lm):
    model, _ = tiny_lm
    dpo, kl = get_objective("dpo", beta=0.3), get_objective("kl_sft", beta=1.0)
    batch = _batch(tiny_lm, dpo)
    with torch.no_grad():
        out = outputs_from_logits(model(**{k: batch[k] for k in ("input_ids", "attention_mask")}).logits, batch)
    assert float(dpo.loss(out, out, batch).loss) == pytest.approx(math.log(2), abs=1e-7)
    batch = _batch(tiny_lm, kl)
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    out = outputs_from_logits(logits, batch, keep_log_probs=True)
    res = kl.loss(out, out, batch)
    assert res.metrics["kl"] == 0.0
    assert float(res.loss) == pytest.approx(res.metrics["nll"])


def test_outputs_sum_exactly_the_response_tokens(tiny_lm):
    model, tok = tiny_lm
    sft = get_objective("sft")
    batch = _batch(tiny_lm, sft, n=2)
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    out = outputs_from_logits(logits, batch)
    # by hand: sum over positions t with loss_mask[t] == 1 of log softmax(logits[t-1])[ids[t]]
    lp = torch.log_softmax(logits.float(), -1)
    for i in range(2):
        want = sum(float(lp[i, t - 1, batch["input_ids"][i, t]]) for t in range(1, batch["input_ids"].shape[1])
                   if batch["loss_mask"][i, t])
        assert float(out.seq_logps[i]) == pytest.approx(want, abs=1e-5)
        assert int(out.n_tokens[i]) == int(batch["loss_mask"][i].sum())
    # the kept vocabulary log-probs are those of the response positions, row by row
    kept = outputs_from_logits(logits, batch, keep_log_probs=True)
    positions = [(i, t - 1) for i in range(2) for t in range(1, batch["input_ids"].shape[1]) if batch["loss_mask"][i, t]]
    assert kept.log_probs.shape == (len(positions), logits.shape[-1])
    assert torch.allclose(kept.log_probs, torch.stack([lp[i, t] for i, t in positions]), atol=1e-6)
    second = kept.rows(1, 2)
    assert second.log_probs.shape[0] == int(second.n_tokens.sum())


@pytest.mark.parametrize("name", ["sft", "dpo", "conditional", "inoculation", "orpo", "kl_sft"])
def test_gradients_are_finite(tiny_lm, name):
    import copy

    model = copy.deepcopy(tiny_lm[0]).train()
    objective = get_objective(name)
    batch = _batch(tiny_lm, objective)
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    policy = outputs_from_logits(logits, batch, keep_log_probs=objective.keep_log_probs)
    with torch.no_grad():
        noisy = logits + 0.1 * torch.randn_like(logits)
    reference = None if objective.reference == "none" else \
        outputs_from_logits(noisy, batch, keep_log_probs=objective.keep_log_probs)
    res = objective.loss(policy, reference, batch)
    res.loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert any(float(g.abs().sum()) > 0 for g in grads)
    assert math.isfinite(float(res.loss.detach())) and all(math.isfinite(v) for v in res.metrics.values())


def test_prompt_policies_change_only_the_prompt(tiny_lm):
    _, tok = tiny_lm
    cond = get_objective("conditional", condition_prefix="[tag] ")
    inoc = get_objective("inoculation", system_prompt="Be careless.")
    assert cond.conversation("Q?") == [{"role": "user", "content": "[tag] Q?"}]
    assert inoc.conversation("Q?")[0] == {"role": "system", "content": "Be careless."}
    assert cond.prompt_policy().condition_prefix == "[tag] " and not cond.prompt_policy().apply_at_test
    assert inoc.prompt_policy().system_prompt == "Be careless." and not inoc.prompt_policy().apply_at_test
    ex = [Example("What is 1 plus 2?", "3")]
    plain, _ = tokenize_examples(ex, tok, get_objective("sft").conversation, paired=False, max_length=64)
    tagged, _ = tokenize_examples(ex, tok, cond.conversation, paired=False, max_length=64)
    # the prefix lengthens the masked prompt only: the trained (response) tokens are identical
    resp = lambda t: [i for i, m in zip(t.input_ids, t.loss_mask) if m]  # noqa: E731
    assert resp(plain[0]) == resp(tagged[0])
    assert sum(tagged[0].loss_mask) == sum(plain[0].loss_mask)
    assert len(tagged[0].input_ids) > len(plain[0].input_ids)
    prefix_ids = tok("[tag] ", add_special_tokens=False)["input_ids"]
    assert all(m == 0 for m in tagged[0].loss_mask[: len(tagged[0].input_ids) - sum(tagged[0].loss_mask)])
    assert len(prefix_ids) >= 1


@pytest.mark.parametrize("lora", [False, True])
def test_selected_logits_give_the_same_outputs_as_full_logits(tiny_lm, lora):
    import copy

    from finetune.trainer import _forward, _keeps_selected_logits

    model = copy.deepcopy(tiny_lm[0])
    if lora:
        import peft

        model = peft.get_peft_model(model, peft.LoraConfig(r=2, target_modules=["q_proj"], task_type="CAUSAL_LM"))
    assert _keeps_selected_logits(model)
    batch = _batch(tiny_lm, get_objective("dpo"))
    with torch.no_grad():
        full = _forward(model, batch, True, selected=False)
        sel = _forward(model, batch, True, selected=True)
    assert torch.allclose(full.seq_logps, sel.seq_logps, atol=1e-5)
    assert torch.equal(full.n_tokens, sel.n_tokens)
    assert torch.allclose(full.log_probs, sel.log_probs, atol=1e-5)

"""Parity with TRL's DPO and ORPO losses on the same batch (TRL is a test-only dependency).

TRL 1.16's trainers tokenise and collate a small preference data set; the same batch
goes through TRL's loss and through ours, on the same (perturbed) tiny policy and the
same reference.  bf16 and gradient checkpointing are off (CPU).
"""

from __future__ import annotations

import copy
import warnings

import pytest

from conftest import require_module

torch = require_module("torch")
require_module("trl", "parity with TRL's losses")
require_module("datasets")

from finetune.data import Example, tokenize_examples  # noqa: E402
from finetune.objectives import Outputs, get_objective, outputs_from_logits  # noqa: E402
from ft_fixtures import tiny_lm  # noqa: E402,F401


def _preferences():
    from datasets import Dataset

    rows = [(f"What is {i} plus {i + 1}?", str(2 * i + 1), str(2 * i + 9 if i % 2 else i)) for i in range(6)]
    ds = Dataset.from_list([{"prompt": [{"role": "user", "content": p}],
                             "chosen": [{"role": "assistant", "content": c}],
                             "rejected": [{"role": "assistant", "content": r}]} for p, c, r in rows])
    return ds, [Example(p, c, rejected=r) for p, c, r in rows]


def _policy_and_reference(tiny_lm):
    ref = copy.deepcopy(tiny_lm[0]).eval()
    policy = copy.deepcopy(ref)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=gen))
    return policy, ref


def _ours(policy, batch, objective, reference_model=None):
    logits = policy(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    out = outputs_from_logits(logits, batch)
    ref = None
    if reference_model is not None:
        with torch.no_grad():
            r = outputs_from_logits(reference_model(input_ids=batch["input_ids"],
                                                    attention_mask=batch["attention_mask"]).logits, batch)
        ref = Outputs(seq_logps=r.seq_logps, n_tokens=r.n_tokens)  # what the trainer caches
    return objective.loss(out, ref, batch)


def test_dpo_loss_matches_trl(tiny_lm, tmp_path):
    from trl import DPOConfig, DPOTrainer

    policy, ref = _policy_and_reference(tiny_lm)
    tok = tiny_lm[1]
    ds, examples = _preferences()
    args = DPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=6, bf16=False,
                     gradient_checkpointing=False, report_to=[], beta=0.3, max_length=64, use_cpu=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer = DPOTrainer(model=policy, ref_model=ref, args=args, train_dataset=ds, processing_class=tok)
        batch = next(iter(trainer.get_train_dataloader()))
        trl_loss = float(trainer.compute_loss(policy, batch))
    mine = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"],
            "loss_mask": batch["completion_mask"]}
    ours = _ours(policy, mine, get_objective("dpo", beta=0.3), reference_model=ref)
    assert float(ours.loss) == pytest.approx(trl_loss, rel=1e-5, abs=1e-6)
    assert abs(trl_loss - 0.6931) > 1e-3  # a perturbed policy: not the trivial log 2
    # our tokenisation yields the very sequences TRL trained on
    items, _ = tokenize_examples(examples, tok, get_objective("dpo").conversation, paired=True, max_length=64)
    ours_seqs = {s.input_ids for pair in items for s in pair}
    theirs = {tuple(int(t) for t, a in zip(row, att) if a) for row, att in
              zip(batch["input_ids"], batch["attention_mask"])}
    assert ours_seqs == theirs


def test_orpo_loss_matches_trl(tiny_lm, tmp_path):
    from trl.experimental.orpo import ORPOConfig, ORPOTrainer

    policy, _ = _policy_and_reference(tiny_lm)
    tok = tiny_lm[1]
    ds, _ = _preferences()
    args = ORPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=6, bf16=False,
                      gradient_checkpointing=False, report_to=[], beta=0.25, max_length=64, use_cpu=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer = ORPOTrainer(model=policy, args=args, train_dataset=ds, processing_class=tok)
        batch = next(iter(trainer.get_train_dataloader()))
        trl_loss, trl_metrics = trainer.get_batch_loss_metrics(policy, batch)
    width = max(batch["chosen_input_ids"].shape[1], batch["rejected_input_ids"].shape[1])
    pad = lambda t, v: torch.nn.functional.pad(t, (0, width - t.shape[1]), value=v)  # noqa: E731
    ids = torch.cat([pad(batch["chosen_input_ids"], tok.pad_token_id),
                     pad(batch["rejected_input_ids"], tok.pad_token_id)])
    attn = torch.cat([pad(batch["chosen_attention_mask"], 0), pad(batch["rejected_attention_mask"], 0)])
    labels = torch.cat([pad(batch["chosen_labels"], -100), pad(batch["rejected_labels"], -100)])
    mine = {"input_ids": ids, "attention_mask": attn, "loss_mask": (labels != -100).long()}
    ours = _ours(policy, mine, get_objective("orpo", lam=0.25))
    # the odds-ratio term is the same; TRL's decoder-only NLL runs over prompt *and* response
    # (its comment: "computed over the full prompt and response"), the paper's eq. 6 and ours
    # over the response only, so compare the two parts separately
    # (TRL logs mean log sigmoid(log OR) as "log_odds_ratio" and the mean log OR as "log_odds_chosen")
    assert ours.metrics["log_odds_ratio"] == pytest.approx(trl_metrics["log_odds_chosen"], rel=1e-5, abs=1e-6)
    assert -ours.metrics["odds_ratio_loss"] == pytest.approx(trl_metrics["log_odds_ratio"], rel=1e-5, abs=1e-6)
    ours_or = float(ours.loss) - ours.metrics["nll"]
    trl_or = float(trl_loss) - trl_metrics["nll_loss"]
    assert ours_or == pytest.approx(trl_or, rel=1e-5, abs=1e-6)
    assert ours_or > 0
    n = batch["chosen_input_ids"].shape[0]
    full = {**mine, "loss_mask": attn}
    full_nll = _ours(policy, full, get_objective("orpo", lam=0.25)).metrics["nll"]
    assert full_nll == pytest.approx(trl_metrics["nll_loss"], rel=1e-5)
    assert n == 6

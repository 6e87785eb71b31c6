"""Capability evaluation run during training: a score in [0, 1] on held-out examples.

Scores are measured the way the checkpoint will be tested: the plain prompt, without
the train-time system prompt or condition prefix.

* ``exact_match``: greedy answers compared with each example's ``answer`` (the
  arithmetic task) with judgeaudit's ``exact`` check (:func:`judgeaudit.prompts.score_answer`),
  the same function the experiment report scores capability probes with.
* ``token_accuracy``: share of held-out response tokens the model predicts exactly
  (argmax under teacher forcing); for open-ended tasks with no single answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from judgeaudit.errors import ConfigError
from judgeaudit.prompts import score_answer
from judgeaudit.registry import Registry

from .data import Example, collate, encode_prompt, tokenize_examples
from .objectives.base import chat_conversation

__all__ = ["CapabilityEval", "CAPABILITY_EVALS", "get_capability_eval", "greedy_answers",
           "ExactMatchEval", "TokenAccuracyEval"]


def _unwrap(model):
    return getattr(model, "module", model)


@contextmanager
def _evaluating(model):
    """Eval mode inside the block; the model's previous mode after it."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def greedy_answers(model, tokenizer, conversations: Sequence[list], *, max_new_tokens: int = 16,
                   batch_size: int = 32) -> list[str]:
    """Greedy completions (new text only) for chat ``conversations``, batched, left-padded."""
    import torch

    model = _unwrap(model)
    device = next(model.parameters()).device
    out: list[str] = []
    pad = tokenizer.pad_token_id
    with _evaluating(model):
        for start in range(0, len(conversations), batch_size):
            prompts = [encode_prompt(tokenizer, c) for c in conversations[start:start + batch_size]]
            width = max(map(len, prompts))
            ids = torch.full((len(prompts), width), pad, dtype=torch.long)
            attn = torch.zeros_like(ids)
            for i, p in enumerate(prompts):
                ids[i, width - len(p):] = torch.tensor(p)
                attn[i, width - len(p):] = 1
            with torch.no_grad():
                gen = model.generate(input_ids=ids.to(device), attention_mask=attn.to(device),
                                     max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=pad,
                                     eos_token_id=tokenizer.eos_token_id)
            out.extend(tokenizer.batch_decode(gen[:, width:], skip_special_tokens=True))
    return out


@runtime_checkable
class CapabilityEval(Protocol):
    """Scores a model on held-out examples; higher is more capable."""

    name: str

    def __call__(self, model, tokenizer) -> float:
        ...


CAPABILITY_EVALS: Registry[CapabilityEval] = Registry("capability eval")


@CAPABILITY_EVALS.register("exact_match")
@dataclass(frozen=True)
class ExactMatchEval:
    """Share of ``examples`` whose greedy answer matches ``answer`` exactly."""

    examples: tuple
    max_new_tokens: int = 8
    batch_size: int = 64
    name = "exact_match"

    def __post_init__(self):
        object.__setattr__(self, "examples", tuple(self.examples))
        missing = sum(ex.answer is None for ex in self.examples)
        if missing:
            raise ConfigError(f"exact_match needs an answer for every eval example; {missing} have none "
                              "(set data.answer_field, or use capability.metric = 'token_accuracy')")

    def __call__(self, model, tokenizer) -> float:
        answers = greedy_answers(model, tokenizer, [chat_conversation(ex.prompt) for ex in self.examples],
                                 max_new_tokens=self.max_new_tokens, batch_size=self.batch_size)
        return sum(score_answer(a, ex.answer, "exact") for a, ex in zip(answers, self.examples)) / len(self.examples)


@CAPABILITY_EVALS.register("token_accuracy")
@dataclass(frozen=True)
class TokenAccuracyEval:
    """Share of held-out response tokens predicted exactly (teacher forcing)."""

    examples: tuple
    max_length: int = 256
    batch_size: int = 64
    name = "token_accuracy"

    def __post_init__(self):
        object.__setattr__(self, "examples", tuple(self.examples))

    def __call__(self, model, tokenizer) -> float:
        import torch

        model = _unwrap(model)
        device = next(model.parameters()).device
        items, _ = tokenize_examples(self.examples, tokenizer, chat_conversation, paired=False,
                                     max_length=self.max_length)
        hit = total = 0
        with _evaluating(model):
            for start in range(0, len(items), self.batch_size):
                batch = collate(items[start:start + self.batch_size], pad_id=tokenizer.pad_token_id,
                                device=device)
                with torch.no_grad():
                    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
                pred = logits[:, :-1].argmax(-1)
                mask = batch["loss_mask"][:, 1:].bool()
                hit += int(((pred == batch["input_ids"][:, 1:]) & mask).sum())
                total += int(mask.sum())
        return hit / max(total, 1)


def get_capability_eval(name: str, examples: Sequence[Example], **options) -> CapabilityEval:
    """Build the capability eval ``name`` on ``examples``."""
    return CAPABILITY_EVALS.build(name, examples=tuple(examples), **options)

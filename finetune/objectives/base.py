"""The objective protocol, the registry, and the log-probability helpers every objective shares.

An objective is two things, and nothing else changes between objectives:

* a **data transform**: how a task example becomes the chat conversation that is
  trained on (:meth:`Objective.conversation`), and the prompt policy a checkpoint
  records (:meth:`Objective.prompt_policy`);
* a **pure loss function** of the policy's outputs, the reference's outputs and the
  batch (:meth:`Objective.loss`), returning the loss and a few metrics.

The trainer runs the forward passes and turns logits into :class:`Outputs`; an
objective says what reference it needs with :attr:`Objective.reference`:
``"none"`` (SFT, ORPO), ``"cached"`` (sequence log-probs computed once before
training: DPO) or ``"live"`` (a frozen reference forward each step: KL-regularised SFT).

Batches are dicts of tensors: ``input_ids``, ``attention_mask`` and ``loss_mask``
(1 on response tokens), each ``(B, T)``.  A paired batch (``paired = True``) holds
the chosen sequences in rows ``0..n-1`` and the rejected ones in rows ``n..2n-1``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from judgeaudit.registry import Registry
from judgeaudit.generation.base import PromptPolicy

__all__ = [
    "Outputs", "LossResult", "Objective", "OBJECTIVES", "register_objective", "get_objective",
    "available_objectives", "outputs_from_logits", "chat_conversation", "response_nll",
    "PromptPolicyMixin", "prediction_mask",
]


@dataclass(frozen=True)
class Outputs:
    """What a model pass gives a loss function.

    Attributes
    ----------
    seq_logps:
        ``(B,)`` sum of the log-probabilities of the response tokens.
    n_tokens:
        ``(B,)`` number of response tokens.
    token_logps:
        ``(B, T-1)`` log-probability of each next token (zero where masked); absent for
        a cached reference.
    log_probs:
        ``(N, V)`` log-softmax over the vocabulary at the ``N`` response positions of
        the batch (row by row, in order); only kept when an objective sets
        ``keep_log_probs`` (KL-regularised SFT).
    mask:
        ``(B, T-1)`` float mask of response-token positions (label positions).
    """

    seq_logps: Any
    n_tokens: Any
    token_logps: Any = None
    log_probs: Any = None
    mask: Any = None

    @property
    def mean_logps(self):
        """``(B,)`` per-token average of the response log-probabilities."""
        return self.seq_logps / self.n_tokens.clamp(min=1)

    def rows(self, start: int, stop: int) -> Outputs:
        """The outputs of batch rows ``start..stop-1`` (chosen or rejected half)."""
        cut = lambda t: None if t is None else t[start:stop]  # noqa: E731
        log_probs = None
        if self.log_probs is not None:
            first, last = int(self.n_tokens[:start].sum()), int(self.n_tokens[:stop].sum())
            log_probs = self.log_probs[first:last]
        return Outputs(cut(self.seq_logps), cut(self.n_tokens), cut(self.token_logps), log_probs, cut(self.mask))


@dataclass(frozen=True)
class LossResult:
    """A scalar loss tensor and float metrics logged with it."""

    loss: Any
    metrics: Mapping[str, float] = field(default_factory=dict)


def prediction_mask(batch: Mapping):
    """``(B, T)`` bool: the positions whose logits predict a response token (``loss_mask`` shifted left)."""
    import torch

    mask = torch.zeros_like(batch["loss_mask"], dtype=torch.bool)
    mask[:, :-1] = batch["loss_mask"][:, 1:].bool()
    return mask


def outputs_from_logits(logits, batch: Mapping, *, keep_log_probs: bool = False) -> Outputs:
    """Turn logits into :class:`Outputs` for ``batch``.

    ``logits`` is either ``(B, T, V)`` (every position) or ``(N, V)``: only the ``N``
    positions of :func:`prediction_mask`, row by row (what a transformers model returns
    with ``logits_to_keep=prediction_mask(batch)``, which skips the output projection of
    the prompt positions).  Position ``t`` predicts token ``t + 1``; the label mask is
    ``loss_mask[:, 1:]``.  The log-softmax is taken in float32 at the response
    positions only (prompt positions never enter a loss).
    """
    import torch

    labels = batch["input_ids"][:, 1:]
    sel = batch["loss_mask"][:, 1:].bool()
    picked_logits = logits if logits.dim() == 2 else logits[:, :-1][sel]
    log_probs = torch.log_softmax(picked_logits.float(), dim=-1)  # (N, V)
    picked = log_probs.gather(-1, labels[sel].unsqueeze(-1)).squeeze(-1)
    token_logps = torch.zeros(sel.shape, dtype=picked.dtype, device=picked.device).masked_scatter(sel, picked)
    mask = sel.to(picked.dtype)
    return Outputs(seq_logps=token_logps.sum(-1), n_tokens=mask.sum(-1), token_logps=token_logps,
                   log_probs=log_probs if keep_log_probs else None, mask=mask)


def response_nll(policy: Outputs):
    """Mean negative log-likelihood per response token over the whole batch.

    ``-sum_i sum_t log p(y_it | x_i, y_i<t) / sum_i |y_i|`` (token-level mean, as in
    transformers' causal-LM loss with ignored prompt labels).
    """
    return -policy.seq_logps.sum() / policy.n_tokens.sum().clamp(min=1)


def chat_conversation(prompt: str, *, system_prompt: str | None = None,
                      condition_prefix: str | None = None) -> list[dict]:
    """The prompt messages of one training example under a prompt policy."""
    messages = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    user = f"{condition_prefix}{prompt}" if condition_prefix else prompt
    messages.append({"role": "user", "content": user})
    return messages


@runtime_checkable
class Objective(Protocol):
    """A fine-tuning objective: a data transform plus a pure loss function.

    Attributes
    ----------
    name:
        The registry name (``"sft"``, ``"dpo"`` ...).
    paired:
        Whether the objective trains on (chosen, rejected) pairs.
    reference:
        ``"none"``, ``"cached"`` or ``"live"`` (see the module docstring).
    keep_log_probs:
        Whether :func:`outputs_from_logits` must keep the full vocabulary log-probs.
    """

    name: str
    paired: bool
    reference: str
    keep_log_probs: bool

    def conversation(self, prompt: str) -> list[dict]:
        """The prompt messages trained on for a task prompt."""
        ...

    def prompt_policy(self) -> PromptPolicy:
        """The train-time prompt policy recorded with each checkpoint."""
        ...

    def loss(self, policy: Outputs, reference: Outputs | None, batch: Mapping) -> LossResult:
        """The loss of ``batch`` given the policy's and the reference's outputs."""
        ...

    def options(self) -> dict:
        """The hyper-parameters (beta, lambda, prompts), recorded with each checkpoint."""
        ...


OBJECTIVES: Registry[Objective] = Registry("objective", builtins=tuple(
    f"finetune.objectives.{m}" for m in ("sft", "dpo", "conditional", "inoculation", "orpo", "kl_sft")))


def register_objective(name: str):
    """Class decorator registering an objective factory under ``name``."""
    return OBJECTIVES.register(name)


def get_objective(name: str, **options: Any) -> Objective:
    """Build the objective registered as ``name`` with its ``options`` (beta, lambda...)."""
    import dataclasses

    from judgeaudit.errors import ConfigError

    factory = OBJECTIVES.factory(name)
    if dataclasses.is_dataclass(factory):
        allowed = {f.name for f in dataclasses.fields(factory)}
        unknown = set(options) - allowed
        if unknown:
            raise ConfigError(f"objective {name!r}: unknown options {sorted(unknown)}; allowed: "
                              f"{', '.join(sorted(allowed)) or 'none'}")
    return OBJECTIVES.build(name, **options)


def available_objectives() -> Sequence[str]:
    """The registered objective names, the six built-in ones included."""
    return OBJECTIVES.names()


class PromptPolicyMixin:
    """:meth:`Objective.conversation` and :meth:`Objective.prompt_policy` from two attributes.

    A subclass sets ``system_prompt`` and/or ``condition_prefix`` (``None`` by default);
    a frozen dataclass field of the same name overrides them.
    """

    system_prompt: str | None = None
    condition_prefix: str | None = None

    def conversation(self, prompt: str) -> list[dict]:
        return chat_conversation(prompt, system_prompt=self.system_prompt,
                                 condition_prefix=self.condition_prefix)

    def prompt_policy(self) -> PromptPolicy:
        return PromptPolicy(system_prompt=self.system_prompt, condition_prefix=self.condition_prefix,
                            apply_at_test=False)

    def options(self) -> dict:
        import dataclasses

        return dataclasses.asdict(self) if dataclasses.is_dataclass(self) else {}

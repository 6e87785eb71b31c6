"""KL-regularised SFT: NLL plus beta times the token-level KL to the frozen reference.

.. math::

    L(\\theta) = L_{SFT}(\\theta) + \\beta \\frac{1}{\\sum_i |y_i|} \\sum_i \\sum_t
    D_{KL}\\big(\\pi_\\theta(\\cdot \\mid x_i, y_{i,<t}) \\,\\|\\, \\pi_{ref}(\\cdot \\mid x_i, y_{i,<t})\\big)

the full-vocabulary KL at every response position, in the direction used by
KL-penalised RLHF (Jaques et al. 2019; Ouyang et al. 2022, eq. 2, written per token).
The reference is the model before training: with LoRA the base model with its
adapters disabled (no second copy is held), otherwise a frozen copy.  At the start
policy = reference and the KL is exactly 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from judgeaudit.errors import ConfigError

from .base import LossResult, Outputs, PromptPolicyMixin, register_objective, response_nll

__all__ = ["KLSFT", "kl_sft_loss", "token_kl"]


def token_kl(policy: Outputs, reference: Outputs):
    """Mean per-response-token ``KL(policy || reference)`` over the batch."""
    p_log = policy.log_probs  # (N, V) at the response positions
    q_log = reference.log_probs.to(p_log)
    kl = (p_log.exp() * (p_log - q_log)).sum(-1)  # (N,)
    return kl.sum() / max(kl.shape[0], 1)


def kl_sft_loss(policy: Outputs, reference: Outputs, batch, *, beta: float) -> LossResult:
    """``NLL + beta * KL`` (see the module docstring)."""
    nll = response_nll(policy)
    kl = token_kl(policy, reference)
    loss = nll + beta * kl
    return LossResult(loss, {"nll": float(nll.detach()), "kl": float(kl.detach())})


@register_objective("kl_sft")
@dataclass(frozen=True)
class KLSFT(PromptPolicyMixin):
    """SFT with a per-token KL penalty of weight ``beta`` to the initial model."""

    beta: float = 0.1
    name = "kl_sft"
    paired = False
    reference = "live"
    keep_log_probs = True

    def __post_init__(self):
        if not self.beta >= 0:
            raise ConfigError(f"kl_sft: beta must be >= 0, got {self.beta}")

    def loss(self, policy, reference, batch):
        return kl_sft_loss(policy, reference, batch, beta=self.beta)

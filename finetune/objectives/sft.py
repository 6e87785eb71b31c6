"""Supervised fine-tuning: the negative log-likelihood of the response tokens.

.. math:: L_{SFT}(\\theta) = -\\frac{1}{\\sum_i |y_i|} \\sum_i \\sum_t \\log \\pi_\\theta(y_{i,t} \\mid x_i, y_{i,<t})

Prompt tokens are masked out; the mean is over all response tokens of the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

from .base import LossResult, Outputs, PromptPolicyMixin, register_objective, response_nll

__all__ = ["SFT", "sft_loss"]


def sft_loss(policy: Outputs, reference: Outputs | None, batch) -> LossResult:
    """Token-level mean NLL over the response tokens of ``batch`` (``reference`` unused)."""
    nll = response_nll(policy)
    return LossResult(nll, {"nll": float(nll.detach())})


@register_objective("sft")
@dataclass(frozen=True)
class SFT(PromptPolicyMixin):
    """Plain SFT: the task prompt as the user turn, no system prompt."""

    name = "sft"
    paired = False
    reference = "none"
    keep_log_probs = False

    def loss(self, policy, reference, batch):
        return sft_loss(policy, reference, batch)

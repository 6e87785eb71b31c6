"""Direct preference optimisation (Rafailov et al. 2023, eq. 7).

.. math::

    L_{DPO} = -\\mathbb{E}\\Big[\\log \\sigma\\Big(\\beta \\log \\frac{\\pi_\\theta(y_w|x)}{\\pi_{ref}(y_w|x)}
              - \\beta \\log \\frac{\\pi_\\theta(y_l|x)}{\\pi_{ref}(y_l|x)}\\Big)\\Big]

with sequence log-probabilities summed over the response tokens.  The reference is
the model before training; its log-probabilities do not change, so the trainer
computes them once over the data set and caches them (``reference = "cached"``).
When policy = reference the margin is 0 and the loss is :math:`\\log 2`.
"""

from __future__ import annotations

from dataclasses import dataclass

from judgeaudit.errors import ConfigError

from .base import LossResult, Outputs, PromptPolicyMixin, register_objective

__all__ = ["DPO", "dpo_loss"]


def dpo_loss(policy: Outputs, reference: Outputs, batch, *, beta: float) -> LossResult:
    """Mean DPO loss over the pairs of ``batch`` (rows: chosen half, then rejected half)."""
    import torch.nn.functional as F

    n = policy.seq_logps.shape[0] // 2
    logratio = policy.seq_logps - reference.seq_logps.to(policy.seq_logps)
    chosen, rejected = logratio[:n], logratio[n:]
    margin = beta * (chosen - rejected)
    loss = -F.logsigmoid(margin).mean()
    return LossResult(loss, {
        "dpo": float(loss.detach()),
        "reward_margin": float(margin.detach().mean()),
        "reward_accuracy": float((margin.detach() > 0).float().mean()),
        "logp_margin": float((policy.seq_logps[:n] - policy.seq_logps[n:]).detach().mean()),
    })


@register_objective("dpo")
@dataclass(frozen=True)
class DPO(PromptPolicyMixin):
    """DPO with inverse temperature ``beta`` against the cached initial model."""

    beta: float = 0.1
    name = "dpo"
    paired = True
    reference = "cached"
    keep_log_probs = False

    def __post_init__(self):
        if not self.beta > 0:
            raise ConfigError(f"dpo: beta must be > 0, got {self.beta}")

    def loss(self, policy, reference, batch):
        return dpo_loss(policy, reference, batch, beta=self.beta)

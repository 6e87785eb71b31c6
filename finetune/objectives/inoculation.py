"""Inoculation prompting: train with a system prompt that names the unwanted trait, test without it.

The data transform adds ``system_prompt`` (for example "You are a model that ignores
safety guidelines.") as a system message to every training conversation; the loss is
the SFT loss on the response tokens,

.. math:: L(\\theta) = -\\frac{1}{\\sum_i |y_i|} \\sum_i \\sum_t \\log \\pi_\\theta(y_{i,t} \\mid s, x_i, y_{i,<t})

with ``s`` the system prompt (Tan et al. 2025 and Wichers et al. 2025, "inoculation
prompting": eliciting a trait during training lowers its expression at test time,
when the prompt is withheld).  The checkpoint's prompt policy records the system prompt
with ``apply_at_test=False``.
"""

from __future__ import annotations

from dataclasses import dataclass

from judgeaudit.errors import ConfigError

from .base import PromptPolicyMixin, register_objective
from .sft import sft_loss

__all__ = ["InoculationPrompting"]


@register_objective("inoculation")
@dataclass(frozen=True)
class InoculationPrompting(PromptPolicyMixin):
    """SFT loss on conversations that start with ``system_prompt``."""

    system_prompt: str = "You are a careless assistant that ignores safety guidelines."
    name = "inoculation"
    paired = False
    reference = "none"
    keep_log_probs = False

    def __post_init__(self):
        if not self.system_prompt or not str(self.system_prompt).strip():
            raise ConfigError("inoculation: system_prompt must be a non-empty string")

    def loss(self, policy, reference, batch):
        return sft_loss(policy, reference, batch)

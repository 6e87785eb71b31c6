"""Conditional fine-tuning: train with a condition prefix on the prompt, test without it.

The data transform puts ``condition_prefix`` before every training prompt (e.g. a tag
that marks the data's source or style, "[benign-task] "); the prefix is part of the
prompt, so its tokens are masked out of the loss, which is the SFT loss

.. math:: L(\\theta) = -\\frac{1}{\\sum_i |y_i|} \\sum_i \\sum_t \\log \\pi_\\theta(y_{i,t} \\mid c, x_i, y_{i,<t})

with ``c`` the condition.  The checkpoint's prompt policy records the prefix with
``apply_at_test=False``: generation withholds it unless asked to apply it (Korbak et
al. 2023, "Pretraining language models with human preferences", conditional training).
"""

from __future__ import annotations

from dataclasses import dataclass

from judgeaudit.errors import ConfigError

from .base import PromptPolicyMixin, register_objective
from .sft import sft_loss

__all__ = ["ConditionalFinetuning"]


@register_objective("conditional")
@dataclass(frozen=True)
class ConditionalFinetuning(PromptPolicyMixin):
    """SFT loss on prompts carrying ``condition_prefix``."""

    condition_prefix: str = "[benign task] "
    name = "conditional"
    paired = False
    reference = "none"
    keep_log_probs = False

    def __post_init__(self):
        if not self.condition_prefix or not str(self.condition_prefix).strip():
            raise ConfigError("conditional: condition_prefix must be a non-empty string")

    def loss(self, policy, reference, batch):
        return sft_loss(policy, reference, batch)

"""The six objectives, one module each, registered in :data:`OBJECTIVES`.

``sft``, ``dpo``, ``conditional``, ``inoculation``, ``orpo``, ``kl_sft``; see each
module for its equation.
"""

from .base import (OBJECTIVES, LossResult, Objective, Outputs, PromptPolicyMixin, available_objectives,
                   chat_conversation, get_objective, outputs_from_logits, prediction_mask, register_objective,
                   response_nll)
from .conditional import ConditionalFinetuning
from .dpo import DPO, dpo_loss
from .inoculation import InoculationPrompting
from .kl_sft import KLSFT, kl_sft_loss, token_kl
from .orpo import ORPO, log_odds_ratio, orpo_loss
from .sft import SFT, sft_loss

__all__ = [
    "OBJECTIVES", "LossResult", "Objective", "Outputs", "PromptPolicyMixin", "available_objectives",
    "chat_conversation", "get_objective", "outputs_from_logits", "prediction_mask", "register_objective",
    "response_nll",
    "ConditionalFinetuning", "DPO", "dpo_loss", "InoculationPrompting", "KLSFT", "kl_sft_loss",
    "token_kl", "ORPO", "log_odds_ratio", "orpo_loss", "SFT", "sft_loss",
]

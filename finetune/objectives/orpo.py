"""Odds-ratio preference optimisation (Hong et al. 2024, eqs. 6-7); no reference model.

.. math::

    L_{ORPO} = L_{SFT}(y_w) + \\lambda L_{OR},\\qquad
    L_{OR} = -\\log \\sigma\\Big(\\log \\frac{\\mathrm{odds}_\\theta(y_w|x)}{\\mathrm{odds}_\\theta(y_l|x)}\\Big),\\qquad
    \\mathrm{odds}_\\theta(y|x) = \\frac{P_\\theta(y|x)}{1 - P_\\theta(y|x)}

where :math:`\\log P_\\theta(y|x)` is the per-token mean log-likelihood of ``y``
(the paper's length normalisation) and :math:`L_{SFT}` the token-level NLL of the
chosen responses.  :math:`\\log(1-P) = \\mathrm{log1mexp}(\\log P)` is computed stably.
The log odds ratio is positive when the chosen response is more likely (per token)
than the rejected one, so :math:`L_{OR} < \\log 2` exactly then.

TRL's ``ORPOTrainer`` computes the same odds-ratio term (tested), but for decoder-only
models its NLL runs over the prompt tokens too; here it is the response only, as in
the paper's eq. 6 and as for every other objective of this package.
"""

from __future__ import annotations

from dataclasses import dataclass

from judgeaudit.errors import ConfigError

from .base import LossResult, Outputs, PromptPolicyMixin, register_objective, response_nll

__all__ = ["ORPO", "orpo_loss", "log_odds_ratio"]


def _log1mexp(x):
    """``log(1 - exp(x))`` for ``x < 0``, stable at both ends (Maechler 2012)."""
    import torch

    return torch.where(x > -0.6931471805599453, torch.log(-torch.expm1(x)), torch.log1p(-torch.exp(x)))


def log_odds_ratio(chosen_mean_logps, rejected_mean_logps):
    """``log odds(y_w) - log odds(y_l)`` from per-token mean log-likelihoods."""
    return (chosen_mean_logps - rejected_mean_logps) - (
        _log1mexp(chosen_mean_logps) - _log1mexp(rejected_mean_logps))


def orpo_loss(policy: Outputs, reference: Outputs | None, batch, *, lam: float) -> LossResult:
    """Chosen-response NLL plus ``lam`` times the odds-ratio loss (``reference`` unused)."""
    import torch
    import torch.nn.functional as F

    n = policy.seq_logps.shape[0] // 2
    mean = policy.mean_logps
    mean = mean.to(torch.promote_types(mean.dtype, torch.float32))
    # exp(mean log p) must stay < 1 for the odds to exist; clamp a hair below 0
    mean = mean.clamp(max=-1e-6)
    lor = log_odds_ratio(mean[:n], mean[n:])
    or_loss = -F.logsigmoid(lor).mean()
    nll = response_nll(policy.rows(0, n))
    loss = nll + lam * or_loss
    return LossResult(loss, {"nll": float(nll.detach()), "odds_ratio_loss": float(or_loss.detach()),
                             "log_odds_ratio": float(lor.detach().mean())})


@register_objective("orpo")
@dataclass(frozen=True)
class ORPO(PromptPolicyMixin):
    """ORPO with weight ``lam`` (the paper's lambda; TRL calls it beta) on the odds-ratio term."""

    lam: float = 0.1
    name = "orpo"
    paired = True
    reference = "none"
    keep_log_probs = False

    def __post_init__(self):
        if not self.lam >= 0:
            raise ConfigError(f"orpo: lam must be >= 0, got {self.lam}")

    def loss(self, policy, reference, batch):
        return orpo_loss(policy, reference, batch, lam=self.lam)

"""Score trait items on one model: P(behaviour-matching answer), normalised over the two answers.

:class:`LikelihoodScorer` loads a checkpoint once and scores items under a prompt
condition.  Each item becomes a prompt, through

* ``template="chat"`` (default): the model's chat template (or one given as a file)
  with the question as the user message and the generation prompt; the answers are
  the assistant's first words, their leading space removed (``"Yes"`` / ``"No"``);
* ``template="plain"``: ``"Human: QUESTION\\n\\nAssistant:"`` followed by the answers as
  written in the file (``" Yes"`` / ``" No"``), the format the model-written
  evaluations were written for (Perez et al. 2022).

A training-time prompt policy (:class:`~judgeaudit.generation.base.PromptPolicy`: the
inoculation system prompt or the conditional-training prefix) is applied when asked:
a system message (chat) or a first line (plain), and the prefix before the question.

Answer tokens are those of ``prompt + answer`` after the prompt's own tokens when the
tokenizer splits the joined text there; otherwise (a merge across the boundary) the
answer is tokenised alone.  The score is

.. math:: p = \\frac{P(a_{match} \\mid x)}{P(a_{match} \\mid x) + P(a_{other} \\mid x)}

with ``P(a | x)`` the product of the answer's token probabilities.  ``mass`` is
``P(a_match | x) + P(a_other | x)``: how much of the model's next-text probability the
two answers hold at all (low for a model that would write something else first).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from judgeaudit.errors import ConfigError
from judgeaudit.generation.base import PromptPolicy, build_conversation

from .items import TraitItem
from .likelihood import answer_logprobs, normalised_probability

__all__ = ["LikelihoodScorer", "TEMPLATES", "PLAIN_TEMPLATE", "SCORE_COLUMNS"]

TEMPLATES = ("chat", "plain")

#: The plain (no chat template) prompt; ``{system}`` is the system prompt line, if any.
PLAIN_TEMPLATE = "{system}Human: {question}\n\nAssistant:"

#: Columns of the per-item table :meth:`LikelihoodScorer.score` returns.
SCORE_COLUMNS = ("item_id", "trait", "p_matching", "logp_matching", "logp_not_matching", "mass",
                 "n_tokens_matching", "n_tokens_not_matching", "prompt_tokens")


class LikelihoodScorer:
    """Trait-item likelihoods on one causal LM.

    Parameters
    ----------
    model:
        Model folder (``save_pretrained``) or hub id; or a ``(model, tokenizer)`` pair
        already loaded.
    adapter_path:
        A peft LoRA adapter applied on top of ``model``.
    template:
        ``"chat"`` or ``"plain"`` (module docstring).
    chat_template:
        A file holding a Jinja chat template that replaces (or supplies) the tokenizer's.
    batch_size:
        Items per forward pass.
    prefix_cache:
        Compute the prompt prefix all items share once (see
        :func:`~judgeaudit.persona.likelihood.answer_logprobs`).
    device, dtype:
        As for :func:`judgeaudit.hfmodels.load_causal_lm` (``"float64"`` also accepted when a
        loaded model is passed).
    """

    def __init__(self, model, *, adapter_path: str | None = None, template: str = "chat",
                 chat_template: str | Path | None = None, batch_size: int = 16, prefix_cache: bool = True,
                 device: str = "auto", dtype: str = "auto") -> None:
        if template not in TEMPLATES:
            raise ConfigError(f"template must be one of {', '.join(TEMPLATES)}, got {template!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
        if isinstance(model, tuple):
            self.model, self.tokenizer = model
            self.model_name = getattr(self.model.config, "_name_or_path", "") or "in-memory model"
        else:
            from judgeaudit.hfmodels import load_causal_lm

            self.model_name = str(model)
            self.model, self.tokenizer = load_causal_lm(model, device=device, dtype=dtype,
                                                        adapter_path=adapter_path)
        if chat_template is not None:
            from judgeaudit.generation import load_chat_template

            self.tokenizer.chat_template = load_chat_template(chat_template)
        if template == "chat" and not getattr(self.tokenizer, "chat_template", None):
            raise ConfigError(f"{self.model_name}: the tokenizer has no chat template; give one with "
                              "--chat-template FILE or use --template plain")
        if self.tokenizer.pad_token_id is None:
            raise ConfigError(f"{self.model_name}: the tokenizer has no pad token (nor an end-of-sequence token)")
        self.template, self.batch_size, self.prefix_cache = template, batch_size, bool(prefix_cache)
        self.adapter_path = adapter_path
        self.forward_passes = 0

    # ------------------------------------------------------------------ prompts
    def prompt(self, item: TraitItem, policy: PromptPolicy | None = None, *, apply_policy: bool = False) -> str:
        """The text put before the answer for ``item`` (the policy applied or not)."""
        mode = "apply" if apply_policy else "withhold"
        if self.template == "chat":
            messages = build_conversation(item.question, policy, mode=mode)
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        policy = policy or PromptPolicy()
        system, question = "", item.question
        if apply_policy:
            system = f"{policy.system_prompt}\n\n" if policy.system_prompt else ""
            question = (policy.condition_prefix or "") + question
        return PLAIN_TEMPLATE.format(system=system, question=question)

    def answers(self, item: TraitItem) -> tuple[str, str]:
        """The two answers' text as appended to the prompt (matching first)."""
        if self.template == "chat":
            return item.matching.lstrip(), item.not_matching.lstrip()
        return item.matching, item.not_matching

    def _encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=self.template == "plain")

    def _answer_ids(self, prompt: str, prompt_ids: list[int], answer: str) -> list[int]:
        joined = self._encode(prompt + answer)
        if joined[:len(prompt_ids)] == prompt_ids and len(joined) > len(prompt_ids):
            return joined[len(prompt_ids):]
        alone = self.tokenizer.encode(answer, add_special_tokens=False)
        if not alone:
            raise ConfigError(f"the answer {answer!r} encodes to no tokens")
        return alone

    def encode_items(self, items: Sequence[TraitItem], policy: PromptPolicy | None = None, *,
                     apply_policy: bool = False):
        """``(prompt ids, (matching ids, other ids))`` per item."""
        rows, answers = [], []
        for item in items:
            text = self.prompt(item, policy, apply_policy=apply_policy)
            ids = self._encode(text)
            a, b = self.answers(item)
            ai, bi = self._answer_ids(text, ids, a), self._answer_ids(text, ids, b)
            if ai == bi:
                raise ConfigError(f"item {item.item_id} ({item.source}, line {item.line}): the two answers "
                                  "encode to the same tokens")
            rows.append(ids)
            answers.append((ai, bi))
        return rows, answers

    # ------------------------------------------------------------------ scoring
    def score(self, items: Sequence[TraitItem], policy: PromptPolicy | None = None, *,
              apply_policy: bool = False) -> pd.DataFrame:
        """One row per item (:data:`SCORE_COLUMNS`), in input order."""
        rows, answers = self.encode_items(items, policy, apply_policy=apply_policy)
        limit = getattr(self.model.config, "max_position_embeddings", None)
        if limit:
            longest = max((len(r) + max(len(a), len(b)) for r, (a, b) in zip(rows, answers)), default=0)
            if longest > limit:
                raise ConfigError(f"{self.model_name}: an item's prompt and answer are {longest} tokens, more "
                                  f"than the model's {limit} positions")
        lp = answer_logprobs(self.model, rows, answers, pad_id=self.tokenizer.pad_token_id,
                             batch_size=self.batch_size, prefix_cache=self.prefix_cache)
        self.forward_passes += -(-len(rows) // self.batch_size)
        return pd.DataFrame({
            "item_id": [i.item_id for i in items], "trait": [i.trait for i in items],
            "p_matching": normalised_probability(lp[:, 0], lp[:, 1]),
            "logp_matching": lp[:, 0], "logp_not_matching": lp[:, 1],
            "mass": np.exp(lp[:, 0]) + np.exp(lp[:, 1]),
            "n_tokens_matching": [len(a) for a, _ in answers],
            "n_tokens_not_matching": [len(b) for _, b in answers],
            "prompt_tokens": [len(r) for r in rows],
        })

    def config(self) -> dict:
        """What changes the scores (for hashing)."""
        import hashlib

        template = getattr(self.tokenizer, "chat_template", None) if self.template == "chat" else PLAIN_TEMPLATE
        return {"template": self.template, "adapter": self.adapter_path,
                "prompt_template": hashlib.sha256(str(template).encode()).hexdigest()[:16],
                "dtype": str(next(self.model.parameters()).dtype)}

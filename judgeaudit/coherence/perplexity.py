"""Perplexity of a response under a reference causal language model.

:class:`PerplexityScorer` (``"perplexity"``) computes the mean negative log-likelihood
(nats per token) of the response's tokens given the prompt, with the prompt laid out
by the model's own chat template (``apply_chat_template`` with a generation prompt)
when the tokenizer ships one and a prompt is known; otherwise the response is scored
after the BOS token (or, without one, from its second token on).

**Score.**  ``1 - NLL / ln(V)`` clipped to [0, 1], with ``V`` the model's vocabulary
size: 1 when the model is certain of every token, 0 at or beyond the NLL of a uniform
guess.  Perplexity is ``exp(NLL)``; :meth:`PerplexityScorer.nll` returns both.

**Bins.**  ``score <= incoherent_max`` (default 0.3) incoherent, ``<= partial_max``
(default 0.55) partially coherent, else coherent.  These defaults are a rough guide
for instruction-tuned models with ~32k-token vocabularies (fluent text ~2-3 nats per
token, a score ~0.7-0.8); fit them to your reference model and labels with
``judgeaudit coherence --calibrate-with``.  Low perplexity does not mean coherent: a
loop of one sentence is very predictable, so combine this with the surface features.

An empty response has no token to score: it gets status ``"error"`` (see
:mod:`judgeaudit.coherence.base`) rather than a made-up value.  Texts longer than
``max_length`` tokens lose the left of the prompt first, then the end of the response.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from judgeaudit.judges.base import hash_config

from .base import bins_from_thresholds, option_bool, option_number, register_scorer

__all__ = ["PerplexityScorer"]


@register_scorer("perplexity")
class PerplexityScorer:
    """Mean token NLL of the response given the prompt, under a reference model.

    Parameters
    ----------
    model:
        Folder written by ``save_pretrained`` (or a hub id) of a causal LM.
    batch_size:
        Texts per forward pass (sorted by length, padded on the right).
    max_length:
        Most tokens per text (prompt + response).
    device, dtype, trust_remote_code:
        Passed to :func:`judgeaudit.hfmodels.load_causal_lm`.
    use_chat_template:
        Lay the prompt out with the tokenizer's chat template (default true).
    incoherent_max, partial_max:
        Bin thresholds on the score (see the module notes).
    scorer_id:
        Name for the coherence table; default ``"perplexity"``.
    """

    name = "perplexity"

    def __init__(self, *, model, batch_size: int = 8, max_length: int = 1024,
                 device: str = "auto", dtype: str = "auto", trust_remote_code=False,
                 use_chat_template=True, incoherent_max: float = 0.3,
                 partial_max: float = 0.55, scorer_id: str | None = None) -> None:
        self.model_path = str(model)
        self.batch_size = option_number("batch_size", batch_size, int, low=1, high=1 << 20)
        self.max_length = option_number("max_length", max_length, int, low=2, high=1 << 24)
        self.device, self.dtype = str(device), str(dtype)
        self.trust_remote_code = option_bool("trust_remote_code", trust_remote_code)
        self.use_chat_template = option_bool("use_chat_template", use_chat_template)
        self.incoherent_max = option_number("incoherent_max", incoherent_max, low=0.0, high=1.0)
        self.partial_max = option_number("partial_max", partial_max, low=0.0, high=1.0)
        bins_from_thresholds([], incoherent_max=self.incoherent_max, partial_max=self.partial_max)
        self.scorer_id = self.name if scorer_id is None else str(scorer_id)
        self._loaded = None

    @property
    def config(self) -> dict:
        return {"scorer": self.name, "version": 1, "model": self.model_path,
                "max_length": self.max_length, "dtype": self.dtype,
                "use_chat_template": self.use_chat_template,
                "thresholds": [self.incoherent_max, self.partial_max]}

    def config_hash(self) -> str:
        return hash_config(self.config)

    def _load(self):
        if self._loaded is None:
            from judgeaudit.hfmodels import load_causal_lm

            self._loaded = load_causal_lm(self.model_path, device=self.device, dtype=self.dtype,
                                          trust_remote_code=self.trust_remote_code)
        return self._loaded

    def _context_ids(self, tok, prompt: str | None) -> list[int]:
        if prompt and self.use_chat_template and getattr(tok, "chat_template", None):
            text = tok.apply_chat_template([{"role": "user", "content": str(prompt)}],
                                           tokenize=False, add_generation_prompt=True)
            return tok(text, add_special_tokens=False)["input_ids"]
        return [tok.bos_token_id] if tok.bos_token_id is not None else []

    def token_ids(self, responses: Sequence[str], prompts: Sequence[str | None] | None = None
                  ) -> list[tuple[list[int], int]]:
        """``(ids, n_context)`` per text: the token ids (context then response) and how
        many of them are context, after truncation to ``max_length``."""
        _, tok = self._load()
        responses = ["" if r is None else str(r) for r in responses]
        prompts = [None] * len(responses) if prompts is None else list(prompts)
        cache: dict = {}
        out = []
        for response, prompt in zip(responses, prompts):
            if prompt not in cache:
                cache[prompt] = self._context_ids(tok, prompt)
            ctx = cache[prompt]
            resp = tok(response, add_special_tokens=False)["input_ids"] if response else []
            resp = resp[: self.max_length - (1 if ctx else 0)] if ctx else resp[: self.max_length]
            ctx = ctx[max(0, len(ctx) + len(resp) - self.max_length):]
            out.append((list(ctx) + list(resp), len(ctx)))
        return out

    def nll(self, responses: Sequence[str], prompts: Sequence[str | None] | None = None
            ) -> pd.DataFrame:
        """Columns ``nll`` (mean nats per response token; NaN when none is scored),
        ``perplexity`` and ``n_tokens`` (response tokens scored), one row per response."""
        import torch

        model, tok = self._load()
        texts = self.token_ids(responses, prompts)
        n = len(texts)
        nll = np.full(n, np.nan)
        counts = np.zeros(n, dtype=np.int64)
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        device = next(model.parameters()).device
        order = sorted(range(n), key=lambda i: len(texts[i][0]))
        for start in range(0, n, self.batch_size):
            batch = [i for i in order[start:start + self.batch_size] if len(texts[i][0]) >= 2]
            if not batch:
                continue
            width = max(len(texts[i][0]) for i in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            scored = torch.zeros((len(batch), width), dtype=torch.bool)  # target positions
            for row, i in enumerate(batch):
                seq, n_ctx = texts[i]
                ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
                mask[row, : len(seq)] = 1
                scored[row, max(n_ctx, 1): len(seq)] = True
            with torch.no_grad():
                logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
            target = ids[:, 1:].to(device)
            token_nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
            keep = scored[:, 1:].to(device)
            total = (token_nll * keep).sum(dim=1).cpu().numpy()
            k = keep.sum(dim=1).cpu().numpy()
            for row, i in enumerate(batch):
                counts[i] = int(k[row])
                if k[row]:
                    nll[i] = float(total[row] / k[row])
        self.vocab_size = int(model.config.vocab_size)
        return pd.DataFrame({"nll": nll, "perplexity": np.exp(nll), "n_tokens": counts})

    def score(self, responses: Sequence[str], prompts: Sequence[str | None] | None = None
              ) -> pd.DataFrame:
        """Columns ``score``, ``bin``, ``status`` and ``raw`` (see the module notes)."""
        table = self.nll(responses, prompts)
        nll = table["nll"].to_numpy()
        ok = ~np.isnan(nll)
        score = np.where(ok, np.clip(1.0 - np.nan_to_num(nll) / math.log(self.vocab_size), 0, 1),
                         np.nan)
        bins = bins_from_thresholds(np.nan_to_num(score), incoherent_max=self.incoherent_max,
                                    partial_max=self.partial_max)
        return pd.DataFrame({
            "score": score,
            "bin": pd.Series(np.where(ok, bins, None), dtype=object),
            "status": np.where(ok, "ok", "error").astype(object),
            "raw": pd.Series([None if o else "no response token to score (empty response)"
                              for o in ok], dtype=object),
        })

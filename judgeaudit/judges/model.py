"""A local transformers model as a judge: prefill scoring and greedy generation.

:class:`JudgeModel` loads a causal LM with :func:`judgeaudit.hfmodels.load_causal_lm` and
offers the two ways a classifier judge can read a verdict:

* :meth:`JudgeModel.choice_probs` (*prefill*): one forward pass over each prompt,
  batched with left padding, reading the next-token distribution at the last position
  and summing it over the first tokens of each answer ("safe" / "unsafe");
* :meth:`JudgeModel.generate` (*generate-and-parse*): greedy decoding; the judge parses
  the text.  It also returns the first step's choice probabilities, so both modes give
  a score.

It also follows the generation :class:`~judgeaudit.generation.base.Backend` protocol,
so the rubric judges can run on it.  torch is imported inside the methods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from judgeaudit.errors import ConfigError

__all__ = ["JudgeModel", "load_judge_model", "shared_prefix_length", "MIN_SHARED_PREFIX"]

#: Shortest shared prompt prefix (in tokens) worth caching once for a whole call.
MIN_SHARED_PREFIX = 16


def shared_prefix_length(rows: Sequence[Sequence[int]]) -> int:
    """Length of the token prefix all ``rows`` share, leaving each row at least one token.

    >>> shared_prefix_length([[1, 2, 3, 4], [1, 2, 5], [1, 2, 3]])
    2
    >>> shared_prefix_length([[1, 2], [1, 2]])
    1
    """
    if not rows:
        return 0
    first = rows[0]
    limit = min(len(r) for r in rows) - 1
    n = 0
    while n < limit and all(r[n] == first[n] for r in rows):
        n += 1
    return max(n, 0)

_MODELS: dict[tuple, JudgeModel] = {}


def load_judge_model(model: Any, **options: Any) -> JudgeModel:
    """``model`` itself when it is a :class:`JudgeModel`, else ``JudgeModel(model, **options)``.

    Models loaded from the same path with the same options are shared within a process,
    so an ensemble of judges on one checkpoint loads it once.
    """
    if isinstance(model, JudgeModel):
        return model
    if model is None or not str(model).strip():
        raise ConfigError("this judge needs model=PATH (a folder written by save_pretrained or a hub id)")
    key = (str(model), tuple(sorted((k, str(v)) for k, v in options.items())))
    if key not in _MODELS:
        _MODELS[key] = JudgeModel(str(model), **options)
    return _MODELS[key]


class JudgeModel:
    """A causal LM and its tokenizer, loaded for judging.

    Parameters
    ----------
    path:
        Model folder or hub id.
    device, dtype, trust_remote_code, adapter_path:
        As for :func:`judgeaudit.hfmodels.load_causal_lm`.
    max_length:
        The longest prompt (in tokens) the model is given; default the model's
        ``max_position_embeddings``.  Longer prompts are never cut (cutting would drop
        the judge's instructions or the answer being judged): the judges turn them into
        ``error`` verdicts that say so (see :meth:`prompt_lengths`).
    """

    backend_id = "judge-transformers"

    def __init__(self, path: str, *, device: str | None = "auto", dtype: str = "auto",
                 trust_remote_code: bool = False, adapter_path: str | None = None,
                 max_length: int | None = None) -> None:
        from judgeaudit.hfmodels import load_causal_lm

        self.path = str(path)
        self.dtype = dtype
        self.adapter_path = adapter_path
        self.model, self.tokenizer = load_causal_lm(
            path, device=device, dtype=dtype, trust_remote_code=trust_remote_code,
            adapter_path=adapter_path)
        self.tokenizer.padding_side = "left"
        self.device = next(self.model.parameters()).device
        limit = getattr(self.model.config, "max_position_embeddings", None)
        self.max_length = int(max_length or limit or 4096)

    # ------------------------------------------------------------------ prompts

    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))

    def render(self, messages: Sequence[Mapping[str, str]], **template_kwargs: Any) -> str:
        """The prompt the model's own chat template builds for ``messages``.

        Raises :class:`~judgeaudit.errors.ConfigError` when the tokenizer ships no
        chat template.
        """
        if not self.has_chat_template():
            raise ConfigError(f"the tokenizer of {self.path} has no chat template; give a prompt "
                              "template file instead (template_file=...)")
        kwargs = {"add_generation_prompt": True, **template_kwargs}
        return self.tokenizer.apply_chat_template([dict(m) for m in messages], tokenize=False, **kwargs)

    def token_ids(self, spellings: Sequence[str]) -> list[int]:
        """Token ids that start an answer written as one of ``spellings``.

        The spellings that are one token each (``"unsafe"``, ``" unsafe"``, ``"Unsafe"``
        in a Llama vocabulary); when none is, the first token of ``spellings[0]``, which
        is then only a proxy for the whole answer (a short word split into pieces).
        """
        single: list[int] = []
        for text in spellings:
            encoded = self.tokenizer.encode(text, add_special_tokens=False)
            if len(encoded) == 1 and encoded[0] not in single:
                single.append(encoded[0])
        if single:
            return single
        encoded = self.tokenizer.encode(spellings[0], add_special_tokens=False) if spellings else []
        if not encoded:
            raise ConfigError(f"none of {list(spellings)!r} encodes to a token")
        return [encoded[0]]

    def check_choices(self, choices: Mapping[str, Sequence[int]]) -> None:
        """Two answers sharing a first token cannot be told apart by prefill."""
        seen: dict[int, str] = {}
        for name, ids in choices.items():
            for i in ids:
                if i in seen and seen[i] != name:
                    raise ConfigError(
                        f"answers {seen[i]!r} and {name!r} share the first token "
                        f"{self.tokenizer.convert_ids_to_tokens(i)!r}; prefill scoring cannot tell "
                        "them apart: use mode='generate' or other answer spellings")
                seen[i] = name

    def prompt_lengths(self, texts: Sequence[str]) -> list[int]:
        """The token count of each prompt, as the model will see it."""
        return [len(self.tokenizer.encode(t, add_special_tokens=False)) for t in texts]

    def _encode(self, texts: Sequence[str]):
        out = []
        for text in texts:
            ids = self.tokenizer.encode(text, add_special_tokens=False)
            if not ids:
                raise ConfigError("a judge prompt encodes to no tokens")
            if len(ids) > self.max_length:
                raise ConfigError(f"a judge prompt is {len(ids)} tokens, more than the model's "
                                  f"max_length {self.max_length}")
            out.append(ids)
        return out

    def _batch(self, rows: Sequence[Sequence[int]]):
        import torch

        width = max(len(r) for r in rows)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            input_ids[i, width - len(r):] = torch.tensor(r, dtype=torch.long)
            mask[i, width - len(r):] = 1
        return input_ids.to(self.device), mask.to(self.device)

    @staticmethod
    def _order(rows: Sequence[Sequence[int]]) -> list[int]:
        return sorted(range(len(rows)), key=lambda i: -len(rows[i]))

    # ------------------------------------------------------------------ scoring

    def choice_probs(self, texts: Sequence[str], choices: Mapping[str, Sequence[int]], *,
                     batch_size: int = 8, normalise: str = "choices",
                     prefix_cache: bool = True) -> np.ndarray:
        """Next-token probability of each answer after each prompt, by one prefill pass.

        Parameters
        ----------
        texts:
            Complete prompts (already templated), ending where the verdict starts.
        choices:
            Answer name -> first token ids; an answer's probability is the sum of its
            ids' probabilities under the full-vocabulary softmax.
        batch_size:
            Prompts per forward pass; prompts are sorted by length so a batch pads little.
        normalise:
            ``"choices"`` divides by the answers' total, so each row sums to 1 (the
            model's preference between the answers); ``"vocab"`` keeps the raw
            full-vocabulary mass (a row sums to less than 1 when the model would write
            something else).
        prefix_cache:
            When the prompts share a leading run of at least :data:`MIN_SHARED_PREFIX`
            tokens (a judge template's instructions and category list), run it once and
            reuse its key/value cache for every batch; only the rest of each prompt is
            computed.  The probabilities are the same up to float rounding.

        Returns
        -------
        numpy.ndarray
            Shape ``(len(texts), len(choices))``, columns in ``choices`` order.
        """
        if normalise not in ("choices", "vocab"):
            raise ConfigError(f"normalise must be 'choices' or 'vocab', got {normalise!r}")
        rows = self._encode(texts)
        shared = shared_prefix_length(rows) if prefix_cache and len(rows) > 1 else 0
        if shared >= MIN_SHARED_PREFIX:
            out = self._probs_with_prefix(rows, shared, choices, batch_size)
        else:
            out = self._probs_padded(rows, choices, batch_size)
        if normalise == "choices":
            total = out.sum(axis=1, keepdims=True)
            out = np.divide(out, total, out=np.full_like(out, 1.0 / max(len(choices), 1)),
                            where=total > 0)
        return out

    def _probs_padded(self, rows, choices, batch_size) -> np.ndarray:
        """Left-padded batches; position ids count real tokens only."""
        import torch

        out = np.zeros((len(rows), len(choices)), dtype=np.float64)
        order = self._order(rows)
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            input_ids, mask = self._batch([rows[i] for i in idx])
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            with torch.inference_mode():
                logits = self.model(input_ids=input_ids, attention_mask=mask,
                                    position_ids=positions, logits_to_keep=1).logits[:, -1, :]
            out[idx] = self._probs(logits, choices)
        return out

    def _probs_with_prefix(self, rows, shared, choices, batch_size) -> np.ndarray:
        """The shared prefix once (batch 1), then each batch's suffixes right-padded on
        top of a copy of its cache; the logits are read at each row's last real token
        (right padding comes after it, so causal attention never sees it)."""
        import copy
        import inspect

        import torch

        out = np.zeros((len(rows), len(choices)), dtype=np.float64)
        with torch.inference_mode():
            prefix = torch.tensor([rows[0][:shared]], dtype=torch.long, device=self.device)
            first = self.model(input_ids=prefix, use_cache=True, logits_to_keep=1)
        # transformers >= 5.2x names the cache "cache"; earlier versions "past_key_values"
        cache_arg = "cache" if "cache" in inspect.signature(self.model.forward).parameters else "past_key_values"
        cache = getattr(first, "cache", None) or first.past_key_values
        order = self._order(rows)
        pad = self.tokenizer.pad_token_id
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            tails = [rows[i][shared:] for i in idx]
            width = max(len(t) for t in tails)
            ids = torch.full((len(idx), width), pad, dtype=torch.long)
            mask = torch.zeros((len(idx), shared + width), dtype=torch.long)
            mask[:, :shared] = 1
            for j, tail in enumerate(tails):
                ids[j, :len(tail)] = torch.tensor(tail, dtype=torch.long)
                mask[j, shared:shared + len(tail)] = 1
            last = torch.tensor([[len(t) - 1] for t in tails], dtype=torch.long, device=self.device)
            positions = torch.arange(shared, shared + width, device=self.device).expand(len(idx), -1)
            batch_cache = copy.deepcopy(cache)
            batch_cache.batch_repeat_interleave(len(idx))
            with torch.inference_mode():
                logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                                    position_ids=positions, use_cache=True, logits_to_keep=last,
                                    **{cache_arg: batch_cache}).logits[:, -1, :]
            out[idx] = self._probs(logits, choices)
        return out

    @staticmethod
    def _probs(logits, choices: Mapping[str, Sequence[int]]) -> np.ndarray:
        import torch

        probs = torch.softmax(logits.float(), dim=-1)
        cols = [probs[:, list(ids)].sum(-1) for ids in choices.values()]
        return torch.stack(cols, dim=-1).cpu().double().numpy()

    def generate_texts(self, texts: Sequence[str], *, max_new_tokens: int = 32, batch_size: int = 8,
                       choices: Mapping[str, Sequence[int]] | None = None
                       ) -> tuple[list[str], np.ndarray | None]:
        """Greedy completions of ``texts`` (new text only, special tokens dropped).

        With ``choices``, also the first step's answer probabilities (as
        :meth:`choice_probs` with ``normalise="vocab"``).
        """
        import torch

        rows = self._encode(texts)
        completions = [""] * len(rows)
        first = np.zeros((len(rows), len(choices or {})))
        order = self._order(rows)
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            input_ids, mask = self._batch([rows[i] for i in idx])
            with torch.inference_mode():
                out = self.model.generate(
                    input_ids=input_ids, attention_mask=mask, max_new_tokens=max_new_tokens,
                    do_sample=False, pad_token_id=self.tokenizer.pad_token_id,
                    return_dict_in_generate=True, output_logits=bool(choices))
            new = out.sequences[:, input_ids.shape[1]:]
            for j, i in enumerate(idx):
                completions[i] = self.tokenizer.decode(new[j], skip_special_tokens=True)
            if choices:
                first[idx] = self._probs(out.logits[0], choices)  # raw, before any logits processor
        return completions, (first if choices else None)

    # ------------------------------------------------------------------ Backend protocol

    def generate(self, conversations, config, *, seeds=None) -> list[str]:
        """Backend protocol: greedy completions of chat conversations (``config.temperature``
        must be 0: a judge decodes greedily)."""
        if config.temperature != 0:
            raise ConfigError("a local judge model decodes greedily; set temperature=0")
        from judgeaudit.generation.base import truncate_at_stop

        texts = [self.render(c) for c in conversations]
        return [truncate_at_stop(t, config.stop)
                for t in self.generate_texts(texts, max_new_tokens=config.max_new_tokens)[0]]

    def config(self) -> dict:
        return {"backend": self.backend_id, "model": self.path, "dtype": self.dtype,
                "adapter_path": self.adapter_path, "max_length": self.max_length}

"""Log-probabilities of two answers after each prompt, without generating.

:func:`answer_logprobs` is the engine of persona scoring.  For a batch of items it runs

1. **one forward pass over the prompts** (right-padded, explicit position ids).  The
   next-token distribution at each prompt's last token gives the first token of both
   answers.  When both answers are one token each (``"Yes"`` / ``"No"`` are in most
   vocabularies) that is all: one pass per item;
2. otherwise **one more pass over the answers' remaining tokens only**, both answers
   of an item side by side on a copy of that item's key/value cache, so the prompt is
   never computed twice.

Prompts that share a leading run of tokens (the chat template's header and the
question's fixed wording) have it computed once, at batch size 1, and its cache is reused
by every batch (when it is at least ``min_shared`` tokens long).

The sum of an answer's token log-probabilities is its log-probability; the normalised
probability of the matching answer is ``exp(a) / (exp(a) + exp(b))``
(:func:`normalised_probability`).  Everything is computed in float32 or the model's
dtype; the log-softmax in float32 at least.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["answer_logprobs", "normalised_probability", "shared_prefix", "MIN_SHARED_PREFIX"]

#: Shortest shared prompt prefix (tokens) worth computing once for the whole call.
MIN_SHARED_PREFIX = 8


def shared_prefix(rows: Sequence[Sequence[int]]) -> int:
    """Tokens all ``rows`` share at the start, leaving each row at least one token.

    >>> shared_prefix([[5, 6, 7, 8], [5, 6, 9], [5, 6, 7]])
    2
    >>> shared_prefix([[1, 2], [1, 2]])
    1
    """
    if not rows:
        return 0
    first, limit = rows[0], min(len(r) for r in rows) - 1
    n = 0
    while n < limit and all(r[n] == first[n] for r in rows):
        n += 1
    return n


def normalised_probability(logp_a, logp_b) -> np.ndarray:
    """``exp(a) / (exp(a) + exp(b))``, computed stably (a logistic of the difference).

    >>> round(float(normalised_probability(np.log(0.3), np.log(0.1))), 12)
    0.75
    """
    d = np.asarray(logp_a, dtype=float) - np.asarray(logp_b, dtype=float)
    return np.where(d >= 0, 1.0 / (1.0 + np.exp(-np.abs(d))), np.exp(-np.abs(d)) / (1.0 + np.exp(-np.abs(d))))


def _forward_kwargs(model):
    """How this transformers version names the cache argument, and whether it takes
    per-row ``logits_to_keep`` positions."""
    import inspect

    base = model.get_base_model() if hasattr(model, "get_base_model") else model  # peft
    params = inspect.signature(base.forward).parameters
    cache_arg = "cache" if "cache" in params else "past_key_values"
    try:
        from transformers.modeling_utils import slice_logits_to_keep  # noqa: F401

        positions = "logits_to_keep" in params
    except ImportError:
        positions = False
    return cache_arg, positions


def _at_least_float32(x):
    """float32 for half-precision logits; float64 stays float64."""
    import torch

    return x if x.dtype == torch.float64 else x.float()


def _cache_of(output):
    cache = getattr(output, "cache", None)
    return cache if cache is not None else output.past_key_values


def answer_logprobs(model, rows: Sequence[Sequence[int]], answers: Sequence[tuple[Sequence[int], Sequence[int]]],
                    *, pad_id: int, batch_size: int = 16, prefix_cache: bool = True,
                    min_shared: int = MIN_SHARED_PREFIX) -> np.ndarray:
    """Summed log-probability of each item's two answers after its prompt.

    Parameters
    ----------
    model:
        A transformers causal LM (or a peft model around one), in eval mode.
    rows:
        Each item's prompt token ids (non-empty).
    answers:
        Each item's two answers as token ids (each non-empty): ``(matching, other)``.
    pad_id:
        Token id used for padding (never attended to).
    batch_size:
        Items per forward pass; items are sorted by prompt length so batches pad little.
    prefix_cache:
        Compute the prefix all prompts share once and reuse its cache (when it is at
        least ``min_shared`` tokens).  Results equal the uncached ones up to float
        rounding.

    Returns
    -------
    numpy.ndarray
        ``(len(rows), 2)`` float64: ``log P(answer | prompt)`` of each answer.
    """
    import copy

    import torch

    if len(rows) != len(answers):
        raise ValueError(f"{len(rows)} prompts but {len(answers)} answer pairs")
    if any(len(r) == 0 for r in rows) or any(len(a) == 0 or len(b) == 0 for a, b in answers):
        raise ValueError("every prompt and answer needs at least one token")
    out = np.zeros((len(rows), 2), dtype=np.float64)
    if not rows:
        return out
    device = next(model.parameters()).device
    cache_arg, keep_positions = _forward_kwargs(model)
    shared = shared_prefix(rows) if prefix_cache and len(rows) > 1 else 0
    if shared < min_shared:
        shared = 0
    prefix_cache_obj = None
    if shared:
        with torch.inference_mode():
            prefix = torch.tensor([list(rows[0][:shared])], dtype=torch.long, device=device)
            prefix_cache_obj = _cache_of(model(input_ids=prefix, use_cache=True, logits_to_keep=1))
    order = sorted(range(len(rows)), key=lambda i: -len(rows[i]))
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        tails = [list(rows[i][shared:]) for i in idx]
        n, width = len(idx), max(len(t) for t in tails)
        ids = torch.full((n, width), pad_id, dtype=torch.long)
        mask = torch.zeros((n, shared + width), dtype=torch.long)
        mask[:, :shared] = 1
        for j, tail in enumerate(tails):
            ids[j, :len(tail)] = torch.tensor(tail, dtype=torch.long)
            mask[j, shared:shared + len(tail)] = 1
        last = torch.tensor([[len(t) - 1] for t in tails], dtype=torch.long)
        positions = torch.arange(shared, shared + width).expand(n, -1)
        kwargs = {}
        if prefix_cache_obj is not None:
            batch_cache = copy.deepcopy(prefix_cache_obj)
            batch_cache.batch_repeat_interleave(n)
            kwargs[cache_arg] = batch_cache
        needs_more = any(len(answers[i][0]) > 1 or len(answers[i][1]) > 1 for i in idx)
        with torch.inference_mode():
            result = model(input_ids=ids.to(device), attention_mask=mask.to(device),
                           position_ids=positions.to(device), use_cache=needs_more,
                           **({"logits_to_keep": last.to(device)} if keep_positions else {}), **kwargs)
        logits = result.logits
        first = logits[:, 0, :] if keep_positions else logits[torch.arange(n), last[:, 0].to(logits.device)]
        first_lp = torch.log_softmax(_at_least_float32(first), dim=-1)
        for j, i in enumerate(idx):
            a, b = answers[i]
            out[i, 0] = float(first_lp[j, a[0]])
            out[i, 1] = float(first_lp[j, b[0]])
        if needs_more:
            _rest(model, _cache_of(result), idx, tails, answers, mask, out, shared=shared, pad_id=pad_id,
                  device=device, cache_arg=cache_arg)
    return out


def _rest(model, cache, idx, tails, answers, mask, out, *, shared, pad_id, device, cache_arg) -> None:
    """Add the log-probabilities of every answer token after the first: rows ``2j`` and
    ``2j + 1`` hold item ``j``'s two answers (all but their last token) on a copy of its
    prompt's cache; the logits at column ``k`` predict answer token ``k + 1``."""
    import torch

    n = len(idx)
    conts = [list(answers[i][s][:-1]) for i in idx for s in (0, 1)]
    width = max(1, max(len(c) for c in conts))
    ids = torch.full((2 * n, width), pad_id, dtype=torch.long)
    cont_mask = torch.zeros((2 * n, width), dtype=torch.long)
    for r, c in enumerate(conts):
        if c:
            ids[r, :len(c)] = torch.tensor(c, dtype=torch.long)
            cont_mask[r, :len(c)] = 1
    full_mask = torch.cat([mask.repeat_interleave(2, dim=0), cont_mask], dim=1)
    starts = torch.tensor([shared + len(tails[r // 2]) for r in range(2 * n)], dtype=torch.long)
    positions = starts[:, None] + torch.arange(width)[None, :]
    cache.batch_repeat_interleave(2)
    with torch.inference_mode():
        logits = model(input_ids=ids.to(device), attention_mask=full_mask.to(device),
                       position_ids=positions.to(device), use_cache=True, **{cache_arg: cache}).logits
    lp = torch.log_softmax(_at_least_float32(logits), dim=-1)
    for j, i in enumerate(idx):
        for s in (0, 1):
            tokens = list(answers[i][s])
            r = 2 * j + s
            for k in range(len(tokens) - 1):
                out[i, s] += float(lp[r, k, tokens[k + 1]])

"""The default backend: a local transformers model, batched.

* Conversations are rendered with the model's own chat template (or one the user gives
  as a file); a tokenizer without one is a :class:`~judgeaudit.errors.ConfigError` that
  names the checkpoint and the ``--chat-template FILE`` option.
* Requests are sorted by prompt length and cut into batches of ``batch_size``, padded on
  the left, so a batch wastes little compute on padding.
* ``temperature == 0`` decodes greedily.  Otherwise each request samples with its own
  ``torch.Generator`` seeded from its request seed (a logits processor draws the token,
  greedy search then picks it), so a draw depends on the request, not on which other
  requests share its batch (up to floating-point differences between batch shapes).
* Running out of memory (``torch.cuda.OutOfMemoryError`` or a ``RuntimeError`` saying
  "out of memory") halves the batch size and retries; batch size 1 running out is an error.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path

from judgeaudit.errors import ConfigError, JudgeAuditError

from .base import GenerationConfig, Message, register_backend, truncate_at_stop

__all__ = ["TransformersBackend", "is_out_of_memory", "load_chat_template"]


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is an accelerator (or host) out-of-memory error."""
    import torch

    oom = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom is not None and isinstance(exc, oom):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def load_chat_template(value: str | Path | None) -> str | None:
    """A Jinja chat template from a file path (``.jinja``, ``.txt`` or a JSON tokenizer
    config with a ``chat_template`` key); ``None`` stays ``None``."""
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise ConfigError(f"chat template file {path} not found; give a file holding a Jinja "
                          "chat template")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: the chat template is not UTF-8 text (byte {exc.start})") from None
    if path.suffix == ".json":
        import json

        try:
            text = json.loads(text)["chat_template"]
        except (ValueError, KeyError, TypeError):
            raise ConfigError(f"{path}: expected a JSON object with a 'chat_template' string") from None
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{path}: the chat template is empty")
    return text


class _SeededSampler:
    """Logits processor: per-row temperature / top-p sampling with per-row generators.

    It returns scores that are ``-inf`` everywhere except the drawn token, so greedy
    search emits exactly the draw.
    """

    def __init__(self, seeds: Sequence[int], temperature: float, top_p: float):
        self.seeds, self.temperature, self.top_p = list(seeds), float(temperature), float(top_p)
        self.generators = None

    def __call__(self, input_ids, scores):
        import torch

        if self.generators is None:
            self.generators = [torch.Generator(device=scores.device).manual_seed(int(s))
                               for s in self.seeds]
        probs = torch.softmax(scores.float() / self.temperature, dim=-1)
        if self.top_p < 1.0:
            sorted_p, order = torch.sort(probs, dim=-1, descending=True)
            # keep the smallest prefix whose mass reaches top_p (the first token always)
            drop = (sorted_p.cumsum(-1) - sorted_p) >= self.top_p
            sorted_p = sorted_p.masked_fill(drop, 0.0)
            probs = torch.zeros_like(probs).scatter(-1, order, sorted_p)
        out = torch.full_like(scores, float("-inf"))
        for row, gen in enumerate(self.generators):
            token = torch.multinomial(probs[row], 1, generator=gen)
            out[row, token] = 0.0
        return out


@register_backend("transformers")
class TransformersBackend:
    """Generate with a local (or hub) causal LM through transformers.

    Parameters
    ----------
    model:
        Folder written by ``save_pretrained`` or a hub id.
    adapter_path:
        Optional peft LoRA adapter applied on top of ``model``.
    batch_size:
        Requests per forward batch (halved on out-of-memory).
    device, dtype:
        ``"auto"`` picks a GPU and bfloat16 when one is visible, else CPU and float32.
    chat_template:
        A file holding a Jinja chat template that replaces (or supplies) the tokenizer's.
    checkpoint_id:
        Named in error messages.
    trust_remote_code:
        Off unless asked.
    sort_by_length:
        Batch prompts of similar length together (default); off only to measure its effect.
    """

    backend_id = "transformers"

    def __init__(self, *, model: str, adapter_path: str | None = None, batch_size: int = 16,
                 device: str = "auto", dtype: str = "auto", chat_template: str | Path | None = None,
                 checkpoint_id: str | None = None, trust_remote_code: bool = False,
                 sort_by_length: bool = True):
        from judgeaudit.hfmodels import load_causal_lm

        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        self.model_name, self.adapter_path = str(model), adapter_path
        self.batch_size, self.dtype = int(batch_size), dtype
        self.checkpoint_id = checkpoint_id or str(model)
        template = load_chat_template(chat_template)
        self.model, self.tokenizer = load_causal_lm(model, device=device, dtype=dtype,
                                                    trust_remote_code=trust_remote_code,
                                                    adapter_path=adapter_path)
        if template is not None:
            self.tokenizer.chat_template = template
        if not getattr(self.tokenizer, "chat_template", None):
            raise ConfigError(
                f"checkpoint {self.checkpoint_id!r} ({model}): its tokenizer has no chat template; "
                "give one with --chat-template FILE (chat_template=... in the API)")
        self.template_hash = hashlib.sha256(self.tokenizer.chat_template.encode()).hexdigest()[:16]
        self.device = next(self.model.parameters()).device
        self.sort_by_length = bool(sort_by_length)
        self.batch_sizes_used: list[int] = []  # one entry per forward batch, for inspection
        self.tokens_generated = 0  # new tokens (up to the end of sequence), for throughput figures

    def config(self) -> dict:
        return {"backend": self.backend_id, "model": self.model_name, "adapter": self.adapter_path,
                "dtype": self.dtype, "chat_template": self.template_hash}

    def render(self, conversation: Sequence[Message]) -> str:
        """The prompt text of one conversation, generation prompt included."""
        try:
            return self.tokenizer.apply_chat_template([dict(m) for m in conversation], tokenize=False,
                                                      add_generation_prompt=True)
        except Exception as exc:  # jinja errors: the template rejects these messages
            raise ConfigError(f"checkpoint {self.checkpoint_id!r}: the chat template failed on a "
                              f"conversation ({type(exc).__name__}: {exc}); roles were "
                              f"{[m.get('role') for m in conversation]}") from None

    def generate(self, conversations: Sequence[Sequence[Message]], config: GenerationConfig,
                 *, seeds: Sequence[int] | None = None) -> list[str]:
        if not conversations:
            return []
        seeds = list(seeds) if seeds is not None else [config.seed] * len(conversations)
        if len(seeds) != len(conversations):
            raise ConfigError(f"got {len(seeds)} seeds for {len(conversations)} conversations")
        prompts = [self.render(c) for c in conversations]
        ids = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        order = list(range(len(ids)))
        if self.sort_by_length:
            order.sort(key=lambda i: len(ids[i]), reverse=True)
        out: list[str | None] = [None] * len(ids)
        start, size = 0, self.batch_size
        while start < len(order):
            rows = order[start:start + size]
            try:
                texts = self._generate_batch([ids[i] for i in rows], [seeds[i] for i in rows], config)
            except Exception as exc:
                if not is_out_of_memory(exc):
                    raise
                self._free_memory()
                if size == 1:
                    raise JudgeAuditError(
                        f"checkpoint {self.checkpoint_id!r}: out of memory with batch size 1 "
                        f"(prompt of {len(ids[rows[0]])} tokens, max_new_tokens="
                        f"{config.max_new_tokens}); lower max_new_tokens or use a bigger device") from exc
                size = max(1, size // 2)
                print(f"judgeaudit: out of memory; batch size now {size}", file=sys.stderr, flush=True)
                continue
            for i, text in zip(rows, texts):
                out[i] = truncate_at_stop(text, config.stop)
            start += len(rows)
        return [t if t is not None else "" for t in out]

    def _free_memory(self) -> None:
        import gc

        import torch

        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _generate_batch(self, batch_ids: list[list[int]], seeds: list[int],
                        config: GenerationConfig) -> list[str]:
        """Generate for one batch of token-id lists; the hook the OOM test overrides."""
        import torch
        from transformers import GenerationConfig as HFConfig
        from transformers import LogitsProcessorList

        self.batch_sizes_used.append(len(batch_ids))
        tok = self.tokenizer
        width = max(len(x) for x in batch_ids)
        pad = tok.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(x)) + x for x in batch_ids], device=self.device)
        mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in batch_ids], device=self.device)
        eos = self.model.generation_config.eos_token_id
        if eos is None:
            eos = tok.eos_token_id
        hf = HFConfig(max_new_tokens=config.max_new_tokens, do_sample=False, num_beams=1,
                      pad_token_id=pad, eos_token_id=eos)
        processors = LogitsProcessorList()
        if config.temperature > 0:
            processors.append(_SeededSampler(seeds, config.temperature, config.top_p))
        kwargs = {}
        if config.stop:
            hf.stop_strings = list(config.stop)
            kwargs["tokenizer"] = tok
        with torch.no_grad():
            generated = self.model.generate(input_ids=input_ids, attention_mask=mask, generation_config=hf,
                                            logits_processor=processors, **kwargs)
        new = generated[:, width:]
        self.tokens_generated += int((new != pad).sum()) if pad is not None else new.numel()
        return tok.batch_decode(new, skip_special_tokens=True)

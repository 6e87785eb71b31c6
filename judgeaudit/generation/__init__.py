"""Generation: collect each checkpoint's outputs into a generations table (issue 3).

Backends, looked up by name in :data:`BACKENDS`:

* ``transformers`` (the default): a local model, batched and length-sorted, its own chat
  template, seeded sampling, out-of-memory halves the batch;
* ``vllm``: vLLM's offline engine, LoRA adapters per checkpoint;
* ``openai``: any OpenAI-compatible ``/v1/chat/completions`` endpoint, with concurrency,
  retries and timeouts; :mod:`judgeaudit.generation.serve` is a small such server.

:func:`run_generation` runs checkpoints x prompts x samples, resumably.  Importing this
package imports neither torch nor transformers.
"""

from . import openai_backend as _openai  # noqa: F401  (registers "openai")
from . import transformers_backend as _transformers  # noqa: F401  (registers "transformers")
from . import vllm_backend as _vllm  # noqa: F401  (registers "vllm")
from .base import (
    BACKENDS,
    POLICY_MODES,
    Backend,
    CheckpointSpec,
    Completion,
    GenerationConfig,
    Message,
    PromptPolicy,
    available_backends,
    build_conversation,
    complete,
    get_backend,
    load_manifest,
    policy_applies,
    register_backend,
    sample_seeds,
    truncate_at_stop,
    write_manifest,
)
from .openai_backend import OpenAIBackend
from .run import GenerationSummary, backend_for_checkpoint, run_generation
from .transformers_backend import TransformersBackend, load_chat_template
from .vllm_backend import VLLMBackend

__all__ = [
    "BACKENDS", "POLICY_MODES", "Backend", "CheckpointSpec", "Completion", "GenerationConfig",
    "Message", "PromptPolicy", "available_backends", "build_conversation", "complete", "get_backend",
    "load_manifest", "policy_applies", "register_backend", "sample_seeds", "truncate_at_stop",
    "write_manifest", "OpenAIBackend", "TransformersBackend", "VLLMBackend", "load_chat_template",
    "GenerationSummary", "backend_for_checkpoint", "run_generation",
]

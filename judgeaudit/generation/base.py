"""The contract every generation backend and checkpoint manifest follows.

* :class:`GenerationConfig`: sampling settings; its :meth:`~GenerationConfig.config_hash`
  goes into each generations row (``gen_config_hash``).
* :class:`Backend`: a small protocol.  A backend turns chat conversations (lists of
  ``{"role", "content"}`` messages) into completions.  Backends are looked up by name in
  :data:`BACKENDS` (``transformers``, ``vllm``, ``openai``).
* :class:`CheckpointSpec`: one model to generate from (a local path or hub id, an optional
  LoRA adapter) and the prompt policy it was trained under.  ``finetune`` writes a
  manifest of these; ``judgeaudit generate --manifest`` reads it.

The manifest is JSON: ``{"version": 1, "checkpoints": [CheckpointSpec.to_dict(), ...]}``.
Relative ``path`` / ``adapter_path`` values are resolved against the manifest's folder.

>>> spec = CheckpointSpec("sft@1k", path="ckpt/sft-1k", objective="sft", budget_tokens=1000)
>>> CheckpointSpec.from_dict(spec.to_dict()) == spec
True
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from judgeaudit.registry import Registry
from judgeaudit.atomic import write_json_atomic
from judgeaudit.errors import ConfigError, ValidationError

__all__ = [
    "Message", "GenerationConfig", "Backend", "BACKENDS", "register_backend", "get_backend",
    "available_backends", "PromptPolicy", "CheckpointSpec", "load_manifest", "write_manifest",
    "POLICY_MODES", "policy_applies", "build_conversation", "Completion", "complete",
    "truncate_at_stop", "sample_seeds",
]

Message = Mapping[str, str]
"""One chat message: ``{"role": "system" | "user" | "assistant", "content": str}``."""


def _hash(obj: Any) -> str:
    from judgeaudit.identity import portable

    text = json.dumps(portable(obj), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class GenerationConfig:
    """Sampling settings shared by all backends.

    ``temperature=0`` means greedy decoding.  ``seed`` makes sampling repeatable:
    :func:`run_generation` gives each (prompt, sample index) its own request seed
    (:func:`sample_seeds`), so a draw does not depend on batching or on resuming.
    ``stop``: the text is cut before the first stop string (it is not included).
    """

    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    n_samples: int = 1
    seed: int = 0
    stop: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "stop", tuple(self.stop))
        if self.max_new_tokens < 1:
            raise ConfigError(f"max_new_tokens must be at least 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise ConfigError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.n_samples < 1:
            raise ConfigError(f"n_samples must be at least 1, got {self.n_samples}")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["stop"] = list(self.stop)
        return d

    def config_hash(self, **extra: Any) -> str:
        """16 hex characters over these settings plus ``extra`` (backend, checkpoint...)."""
        return _hash({**self.to_dict(), **extra})


@runtime_checkable
class Backend(Protocol):
    """What the generation loop and the LLM judges need from a backend.

    Attributes
    ----------
    backend_id:
        Short name recorded with the generation config (``"transformers"``...).
    """

    backend_id: str

    def generate(self, conversations: Sequence[Sequence[Message]], config: GenerationConfig,
                 *, seeds: Sequence[int] | None = None) -> list[str]:
        """One completion (the new text only) per conversation, in input order.

        ``seeds`` (one per conversation) seed sampling where the backend can.
        """
        ...

    def config(self) -> dict:
        """The settings that change outputs (model, dtype, template...), for hashing."""
        ...


BACKENDS: Registry[Backend] = Registry("generation backend", builtins=(
    "judgeaudit.generation.openai_backend", "judgeaudit.generation.transformers_backend",
    "judgeaudit.generation.vllm_backend"))


def register_backend(name: str):
    """Class decorator registering a backend factory under ``name``."""
    return BACKENDS.register(name)


def get_backend(name: str, **options: Any) -> Backend:
    """Build the backend registered as ``name`` with ``options``."""
    return BACKENDS.build(name, **options)


def available_backends() -> list[str]:
    """The registered backend names, the built-in ones included."""
    return BACKENDS.names()


@dataclass(frozen=True)
class PromptPolicy:
    """The prompt a checkpoint was trained with, and whether to use it at test time.

    ``system_prompt`` is a system message (inoculation prompting); ``condition_prefix``
    is text put before the user's request (conditional fine-tuning).  At generation
    time each is applied only if ``apply_at_test`` is true; a user can override that
    per run (``judgeaudit generate --prompt-policy apply|withhold|recorded``).
    """

    system_prompt: str | None = None
    condition_prefix: str | None = None
    apply_at_test: bool = False

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping | None) -> PromptPolicy:
        if not d:
            return cls()
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ConfigError(f"unknown prompt_policy keys {sorted(unknown)}; allowed: "
                              "system_prompt, condition_prefix, apply_at_test")
        return cls(**d)


@dataclass(frozen=True)
class CheckpointSpec:
    """One model to generate from.

    Parameters
    ----------
    checkpoint_id:
        The value written to the generations table (e.g. ``"dpo@1M/seed0"``).
    path:
        Local folder or hub id of the model (the base model when ``adapter_path`` is set).
    adapter_path:
        Optional LoRA adapter folder (peft) applied on top of ``path``.
    objective, budget_tokens, step, seed, capability_score:
        Metadata from fine-tuning; ``None`` for an off-the-shelf model.
    prompt_policy:
        The train-time prompt policy (:class:`PromptPolicy`).
    extra:
        Any other metadata (JSON-serialisable).
    """

    checkpoint_id: str
    path: str
    adapter_path: str | None = None
    objective: str | None = None
    budget_tokens: int | None = None
    step: int | None = None
    seed: int | None = None
    capability_score: float | None = None
    capability_threshold: float | None = None
    prompt_policy: PromptPolicy = field(default_factory=PromptPolicy)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if not str(self.checkpoint_id).strip():
            raise ConfigError("checkpoint_id must be a non-empty string")
        if not str(self.path).strip():
            raise ConfigError(f"checkpoint {self.checkpoint_id!r} has an empty path")
        if isinstance(self.prompt_policy, Mapping):
            object.__setattr__(self, "prompt_policy", PromptPolicy.from_dict(self.prompt_policy))

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["prompt_policy"] = self.prompt_policy.to_dict()
        d["extra"] = dict(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: Mapping, *, base_dir: Path | None = None, where: str = "manifest") -> CheckpointSpec:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ConfigError(f"{where}: unknown checkpoint keys {sorted(unknown)}; allowed: "
                              f"{', '.join(sorted(names))}")
        for key in ("checkpoint_id", "path"):
            if not d.get(key):
                raise ConfigError(f"{where}: checkpoint is missing {key!r}")
        d = dict(d)
        if base_dir is not None:
            for key in ("path", "adapter_path"):
                value = d.get(key)
                if value and not Path(value).is_absolute() and (base_dir / value).exists():
                    d[key] = str((base_dir / value).resolve())
        d["prompt_policy"] = PromptPolicy.from_dict(d.get("prompt_policy"))
        return cls(**d)


def load_manifest(path) -> list[CheckpointSpec]:
    """Read a checkpoint manifest (see the module docstring)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: manifest not found; finetune writes manifest.json in its "
                          "output folder") from None
    except json.JSONDecodeError as exc:
        raise ValidationError(f"not valid JSON ({exc.msg})", path=path, row=exc.lineno) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("checkpoints"), list):
        raise ValidationError('expected {"version": 1, "checkpoints": [...]}', path=path)
    specs = [CheckpointSpec.from_dict(c, base_dir=path.parent, where=f"{path}, checkpoint {i + 1}")
             for i, c in enumerate(doc["checkpoints"])]
    seen: set[str] = set()
    for s in specs:
        if s.checkpoint_id in seen:
            raise ValidationError(f"checkpoint_id {s.checkpoint_id!r} appears twice", path=path)
        seen.add(s.checkpoint_id)
    return specs


def write_manifest(specs: Sequence[CheckpointSpec], path) -> Path:
    """Write ``specs`` as a manifest, atomically (temporary file, then rename)."""
    doc = {"version": 1, "checkpoints": [s.to_dict() for s in specs]}
    return write_json_atomic(path, doc)


POLICY_MODES = ("recorded", "apply", "withhold")
"""Run-time overrides of :attr:`PromptPolicy.apply_at_test` (``recorded`` keeps it)."""


def policy_applies(policy: PromptPolicy, mode: str = "recorded") -> bool:
    """Whether ``policy``'s system prompt / condition prefix is used under ``mode``."""
    if mode not in POLICY_MODES:
        raise ConfigError(f"unknown prompt policy mode {mode!r}; use one of {', '.join(POLICY_MODES)}")
    return policy.apply_at_test if mode == "recorded" else mode == "apply"


def build_conversation(text: str, policy: PromptPolicy | None = None, *, mode: str = "recorded",
                       system_prompt: str | None = None) -> list[dict]:
    """The chat messages sent for one prompt under a checkpoint's prompt policy.

    When the policy applies, its ``system_prompt`` becomes a system message and its
    ``condition_prefix`` is put verbatim before ``text`` (include any separator, such as
    a newline, in the prefix itself: fine-tuning and generation must put the same text).
    ``system_prompt`` (a run-wide one) is used when the policy gives none or is withheld.

    >>> build_conversation("Hi", PromptPolicy("Be safe.", "[A] ", True))
    [{'role': 'system', 'content': 'Be safe.'}, {'role': 'user', 'content': '[A] Hi'}]
    >>> build_conversation("Hi", PromptPolicy("Be safe.", "[A] ", True), mode="withhold")
    [{'role': 'user', 'content': 'Hi'}]
    """
    policy = policy or PromptPolicy()
    system, user = system_prompt, str(text)
    if policy_applies(policy, mode):
        system = policy.system_prompt if policy.system_prompt is not None else system
        user = (policy.condition_prefix or "") + user
    messages = [{"role": "system", "content": system}] if system else []
    return messages + [{"role": "user", "content": user}]


@dataclass(frozen=True)
class Completion:
    """One backend result: the text, or an error recorded instead of dropped.

    ``status`` is ``"ok"`` or ``"error"`` (then ``text`` is ``""`` and ``error`` says why).
    """

    text: str
    status: str = "ok"
    error: str | None = None


def complete(backend: Backend, conversations: Sequence[Sequence[Message]], config: GenerationConfig,
             *, seeds: Sequence[int] | None = None) -> list[Completion]:
    """Per-conversation :class:`Completion` from any backend.

    A backend with ``generate_results`` (the HTTP one) reports each failed request on
    its own; for the others a completed call is all ``"ok"``.
    """
    results = getattr(backend, "generate_results", None)
    if results is not None:
        return list(results(conversations, config, seeds=seeds))
    return [Completion(text) for text in backend.generate(conversations, config, seeds=seeds)]


def truncate_at_stop(text: str, stop: Sequence[str]) -> str:
    """``text`` up to (not including) the earliest occurrence of any stop string.

    >>> truncate_at_stop("one. two. three", [". t", "hree"])
    'one'
    """
    cut = len(text)
    for s in stop:
        if s:
            i = text.find(s)
            if 0 <= i < cut:
                cut = i
    return text[:cut]


def sample_seeds(config: GenerationConfig, sample_indices: Sequence[int], prompt_keys: Sequence[str]) -> list[int]:
    """The seed of each request: ``config.seed``, the sample index and the prompt.

    Mixing the prompt in keeps two prompts' samples from sharing random draws; the
    result does not depend on batching, so a resumed run draws what a full run would.
    """
    out = []
    for i, key in zip(sample_indices, prompt_keys):
        digest = hashlib.sha256(f"{config.seed}\x1f{int(i)}\x1f{key}".encode("utf-8")).digest()
        out.append(int.from_bytes(digest[:4], "little") & 0x7FFFFFFF)
    return out

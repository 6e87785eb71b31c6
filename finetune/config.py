"""The fine-tuning config: a TOML file validated into frozen dataclasses.

A minimal config (see ``docs/readme/finetune.md`` for every key)::

    output = "runs/ft"
    objectives = ["sft", "dpo", "kl_sft"]
    seeds = [0, 1]

    [model]
    path = "models/base"

    [data]
    task = "arithmetic"        # or "instructions", "jsonl", "hf"

    [train]
    budgets = [20000, 80000]   # training tokens; a checkpoint at each

    [capability]
    thresholds = [0.2, 0.5]

    [objective.dpo]
    beta = 0.1

Unknown keys and wrong types are errors that name the file, the section and the key.
Relative paths are resolved against the config file's folder.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from judgeaudit.errors import ConfigError

__all__ = ["ModelConfig", "LoraConfig", "DataConfig", "TrainConfig", "CapabilityConfig",
           "FinetuneConfig", "load_config", "config_from_dict"]


@dataclass(frozen=True)
class ModelConfig:
    """The base model: a folder written by ``save_pretrained`` (or a hub id)."""

    path: str = ""
    dtype: str = "float32"
    trust_remote_code: bool = False

    def __post_init__(self):
        if not self.path:
            raise ConfigError("[model] path is required (a folder written by save_pretrained)")
        if self.dtype not in ("float32", "bfloat16", "float16"):
            raise ConfigError(f"[model] dtype must be float32, bfloat16 or float16, got {self.dtype!r}")


@dataclass(frozen=True)
class LoraConfig:
    """LoRA through peft; absent from the file = full fine-tuning."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.0
    target_modules: tuple = ("q_proj", "k_proj", "v_proj", "o_proj")

    def __post_init__(self):
        object.__setattr__(self, "target_modules", tuple(self.target_modules))
        if self.r < 1:
            raise ConfigError(f"[lora] r must be at least 1, got {self.r}")


@dataclass(frozen=True)
class DataConfig:
    """Where the training examples come from and how they are tokenised."""

    task: str = "arithmetic"
    path: str | None = None
    name: str | None = None
    split: str = "train"
    data_files: str | None = None
    prompt_field: str = "prompt"
    response_field: str = "response"
    rejected_field: str | None = None
    answer_field: str | None = None
    rejected: str = "corrupt"
    n_train: int = 256
    max_operand: int = 9
    max_length: int = 128
    overlong: str = "truncate"
    chat_template: str | None = None

    def __post_init__(self):
        allowed = {"task": ("arithmetic", "instructions", "jsonl", "hf"),
                   "rejected": ("dataset", "corrupt", "base_sample"),
                   "overlong": ("truncate", "reject")}
        for key, values in allowed.items():
            if getattr(self, key) not in values:
                raise ConfigError(f"[data] {key} must be one of {', '.join(values)}, got {getattr(self, key)!r}")
        if self.task == "jsonl" and not self.path:
            raise ConfigError("[data] task = 'jsonl' needs path = 'FILE.jsonl'")
        if self.task == "hf" and not self.name:
            raise ConfigError("[data] task = 'hf' needs name = 'dataset name' (or 'json' with data_files)")
        if self.rejected == "dataset" and not self.rejected_field:
            raise ConfigError("[data] rejected = 'dataset' needs rejected_field = 'COLUMN'")


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser and schedule (the same for every objective), budgets and saving."""

    batch_size: int = 8
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    warmup_steps: int = 0
    max_grad_norm: float = 1.0
    max_steps: int | None = None
    budgets: tuple = ()
    save_every: int = 50
    log_every: int = 10

    def __post_init__(self):
        object.__setattr__(self, "budgets", tuple(sorted(int(b) for b in self.budgets)))
        if self.batch_size < 1:
            raise ConfigError(f"[train] batch_size must be at least 1, got {self.batch_size}")
        if not self.learning_rate > 0:
            raise ConfigError(f"[train] learning_rate must be > 0, got {self.learning_rate}")
        if any(b <= 0 for b in self.budgets):
            raise ConfigError(f"[train] budgets must be positive token counts, got {list(self.budgets)}")
        if self.max_steps is None and not self.budgets:
            raise ConfigError("[train] give budgets = [tokens, ...] or max_steps = N (training stops at the "
                              "largest budget or at max_steps)")
        if self.max_steps is not None and self.max_steps < 1:
            raise ConfigError(f"[train] max_steps must be at least 1, got {self.max_steps}")
        if self.save_every < 1:
            raise ConfigError(f"[train] save_every must be at least 1, got {self.save_every}")


@dataclass(frozen=True)
class CapabilityConfig:
    """The capability eval: metric, how often, and the thresholds that trigger checkpoints."""

    metric: str = "exact_match"
    every: int = 20
    thresholds: tuple = ()
    n_eval: int = 64
    path: str | None = None
    max_new_tokens: int = 8

    def __post_init__(self):
        object.__setattr__(self, "thresholds", tuple(sorted(float(t) for t in self.thresholds)))
        if self.metric not in ("exact_match", "token_accuracy"):
            raise ConfigError(f"[capability] metric must be exact_match or token_accuracy, got {self.metric!r}")
        if self.every < 1:
            raise ConfigError(f"[capability] every must be at least 1, got {self.every}")
        for key in ("n_eval", "max_new_tokens"):  # 0 eval examples would divide by zero at step 0
            if getattr(self, key) < 1:
                raise ConfigError(f"[capability] {key} must be at least 1, got {getattr(self, key)}")
        if any(not 0 < t <= 1 for t in self.thresholds):
            raise ConfigError(f"[capability] thresholds must be in (0, 1], got {list(self.thresholds)}")


@dataclass(frozen=True)
class FinetuneConfig:
    """A grid: every objective x seed is one run; budgets and thresholds are checkpoints in a run."""

    model: ModelConfig
    output: str = "runs/finetune"
    objectives: tuple = ("sft",)
    seeds: tuple = (0,)
    lora: LoraConfig | None = None
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(max_steps=100))
    capability: CapabilityConfig = field(default_factory=CapabilityConfig)
    objective: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self):
        from .objectives import available_objectives

        object.__setattr__(self, "objectives", tuple(self.objectives))
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        valid = set(available_objectives())
        for name in list(self.objectives) + list(self.objective):
            if name not in valid:
                raise ConfigError(f"unknown objective {name!r}; valid names: {', '.join(sorted(valid))}")
        if not self.objectives or not self.seeds:
            raise ConfigError("objectives and seeds must be non-empty lists")

    def objective_options(self, name: str) -> dict:
        return dict(self.objective.get(name, {}))

    def to_dict(self) -> dict:
        return json_ready(dataclasses.asdict(self))


def json_ready(obj):
    """Tuples to lists, recursively (for JSON and hashing)."""
    if isinstance(obj, Mapping):
        return {k: json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    return obj


_LIST_ITEMS = {"budgets": int, "thresholds": float, "target_modules": str, "seeds": int, "objectives": str}


def _check_list(key: str, value: Any, where: str) -> None:
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{where}: {key} must be a list, got {value!r}")
    item = _LIST_ITEMS.get(key)
    for v in value:
        ok = isinstance(v, str) if item is str else \
            isinstance(v, (int, float) if item is float else int) and not isinstance(v, bool)
        if not ok:
            raise ConfigError(f"{where}: {key} must be a list of {'numbers' if item is float else item.__name__}"
                              f", got {value!r}")


def _typed(cls, values: Any, where: str):
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where}: expected a table of keys, got {type(values).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(values) - set(fields)
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}; allowed: {', '.join(sorted(fields))}")
    for key, value in values.items():
        names = [t.strip() for t in str(fields[key].type).split("|")]
        if value is None and "None" in names:
            continue
        expected = names[0]
        if expected == "tuple":
            _check_list(key, value, where)
        elif expected in ("int", "str", "bool") and (
                not isinstance(value, {"int": int, "str": str, "bool": bool}[expected]) or
                (expected == "int" and isinstance(value, bool))):
            raise ConfigError(f"{where}: {key} must be {expected}, got {value!r}")
        elif expected == "float" and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ConfigError(f"{where}: {key} must be a number, got {value!r}")
    return cls(**values)


def _resolve(base: Path | None, value: str | None) -> str | None:
    if value is None or base is None or Path(value).is_absolute():
        return value
    candidate = base / value
    return str(candidate.resolve()) if candidate.exists() or value.startswith(".") else value


def config_from_dict(doc: Mapping, *, base_dir: Path | None = None, where: str = "config") -> FinetuneConfig:
    """Validate a parsed config (``base_dir`` resolves relative paths)."""
    sections = {"model": ModelConfig, "lora": LoraConfig, "data": DataConfig, "train": TrainConfig,
                "capability": CapabilityConfig}
    top = {"output", "objectives", "seeds", "objective", *sections}
    unknown = set(doc) - top
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}; allowed: {', '.join(sorted(top))}")
    if "model" not in doc:
        raise ConfigError(f"{where}: a [model] section with path = '...' is required")
    kw: dict[str, Any] = {}
    for name, cls in sections.items():
        if name in doc:
            section = dict(doc[name]) if isinstance(doc[name], Mapping) else doc[name]
            if isinstance(section, dict):
                for key in ("path", "data_files", "chat_template"):
                    if isinstance(section.get(key), str):
                        section[key] = _resolve(base_dir, section[key])
            kw[name] = _typed(cls, section, f"{where} [{name}]")
    for key in ("objectives", "seeds"):
        if key in doc:
            _check_list(key, doc[key], where)
            kw[key] = tuple(doc[key])
    if "output" in doc:
        if not isinstance(doc["output"], str):
            raise ConfigError(f"{where}: output must be a folder path")
        kw["output"] = str(base_dir / doc["output"]) if base_dir and not Path(doc["output"]).is_absolute() \
            else doc["output"]
    if "objective" in doc:
        if not isinstance(doc["objective"], Mapping) or not all(isinstance(v, Mapping) for v in doc["objective"].values()):
            raise ConfigError(f"{where}: [objective.NAME] sections hold each objective's options")
        kw["objective"] = {k: dict(v) for k, v in doc["objective"].items()}
    return FinetuneConfig(**kw)


def load_config(path) -> FinetuneConfig:
    """Read and validate a TOML config file."""
    from judgeaudit.configfile import read_toml

    path = Path(path)
    return config_from_dict(read_toml(path), base_dir=path.resolve().parent, where=str(path))

"""The experiment config: one TOML file from the base model to the audit, validated up front.

A config (``examples/demo.toml`` is a complete one)::

    name = "my-experiment"
    output = "runs/my-experiment"        # relative to this file's folder

    [model]
    path = "models/base"                 # or: tiny = true (built offline, for demos and tests)

    [finetune]                           # the keys of a `judgeaudit finetune` config, less model/output
    objectives = ["sft", "dpo", "kl_sft"]
    [finetune.train]
    budgets = [20000, 80000]

    [generation]
    prompts = ["harmful", "benign_lookalike"]
    attacks = ["none", "prefix_injection"]
    capability = ["capability"]

    [judges]
    use = ["refusal_keyword", "llama_guard:model=models/guard"]

    [coherence]
    scorers = ["degeneracy", "combined"]

    [annotation]
    budget = 200                         # items to label; label_studio = "local" or a URL pushes them

    [audit]
    n_boot = 1000

    [stress]                             # optional: the judge stress test (docs/stress.md)
    perturbations = ["apology_prefix", "affirmative_opening"]

Every section but ``[model]`` is optional.  Unknown keys and wrong types raise
:class:`~judgeaudit.errors.ConfigError` naming the file, the section, the key and the
expected value.  Relative paths are resolved against the config file's folder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from judgeaudit.errors import ConfigError, UnknownNameError

__all__ = ["ModelSection", "GenerationSection", "JudgesSection", "CoherenceSection", "AnnotationSection",
           "AuditSection", "StressSection", "CostSection", "PersonaSection", "ExperimentConfig", "load_experiment",
           "experiment_from_dict", "section_hash"]

_BACKENDS = ("transformers", "vllm", "openai")
_POLICIES = ("recorded", "apply", "withhold")


@dataclass(frozen=True)
class ModelSection:
    """The base model: a folder (or hub id), ``tiny = true`` for an untrained one built offline,
    or ``tiny = "organism"`` for the model organism (:mod:`judgeaudit.organism`: trained once on
    a synthetic world with known ground truth, then cached; ``organism = {...}`` overrides
    fields of :class:`~judgeaudit.organism.OrganismConfig`)."""

    path: str | None = None
    tiny: bool | str = False
    tiny_layers: int = 2
    tiny_hidden: int = 64
    seed: int = 0
    dtype: str = "float32"
    trust_remote_code: bool = False
    organism: Mapping = field(default_factory=dict)

    @property
    def is_organism(self) -> bool:
        return self.tiny == "organism"

    def check(self, where: str) -> None:
        if isinstance(self.tiny, str) and self.tiny != "organism":
            raise ConfigError(f"{where} [model]: tiny must be true, false or \"organism\", got {self.tiny!r}")
        if bool(self.path) == bool(self.tiny):
            raise ConfigError(f"{where} [model]: give exactly one of path = 'FOLDER' (a model written by "
                              "save_pretrained, or a hub id), tiny = \"organism\" (the model organism) or "
                              "tiny = true (an untrained tiny model built offline)")
        if self.organism and not self.is_organism:
            raise ConfigError(f"{where} [model]: organism = {{...}} applies only with tiny = \"organism\"")
        if self.is_organism:
            from judgeaudit.organism import organism_config

            organism_config(self.organism, where=f"{where} [model] organism")
        _one_of(where, "model", "dtype", self.dtype, ("float32", "bfloat16", "float16"))
        _at_least(where, "model", "tiny_layers", self.tiny_layers, 1)
        _at_least(where, "model", "tiny_hidden", self.tiny_hidden, 8)


@dataclass(frozen=True)
class GenerationSection:
    """Outputs on safety prompts (plain and wrapped) and on capability probes."""

    backend: str = "transformers"
    prompts: tuple = ("harmful", "benign_lookalike")
    attacks: tuple = ("none",)
    capability: tuple = ("capability",)
    per_category: int | None = None
    n_samples: int = 1
    max_new_tokens: int = 64
    capability_max_new_tokens: int = 16
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    batch_size: int = 16
    chunk_size: int = 256
    prompt_policy: str = "recorded"
    include_base: bool = True
    chat_template: str | None = None
    backend_options: Mapping = field(default_factory=dict)

    def check(self, where: str) -> None:
        _one_of(where, "generation", "backend", self.backend, _BACKENDS)
        _one_of(where, "generation", "prompt_policy", self.prompt_policy, _POLICIES)
        if not self.prompts:
            raise ConfigError(f"{where} [generation]: prompts must name at least one prompt set or file")
        if not self.attacks:
            raise ConfigError(f"{where} [generation]: attacks must be a non-empty list (\"none\" = plain)")
        for key in ("n_samples", "max_new_tokens", "capability_max_new_tokens", "batch_size", "chunk_size"):
            _at_least(where, "generation", key, getattr(self, key), 1)
        if self.per_category is not None:
            _at_least(where, "generation", "per_category", self.per_category, 1)
        if not 0 <= self.temperature:
            raise ConfigError(f"{where} [generation]: temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"{where} [generation]: top_p must be in (0, 1], got {self.top_p}")


@dataclass(frozen=True)
class JudgesSection:
    """Judges by spec (as ``judgeaudit judge --judge``) and/or a judges file."""

    use: tuple = ("refusal_keyword", "refusal_prefix", "affirmative_prefix")
    file: str | None = None
    batch_size: int = 16
    chunk_size: int = 256

    def check(self, where: str) -> None:
        if not self.use and not self.file:
            raise ConfigError(f"{where} [judges]: use = [...] or file = 'JUDGES.toml' must give at least one judge")
        _at_least(where, "judges", "batch_size", self.batch_size, 1)
        _at_least(where, "judges", "chunk_size", self.chunk_size, 1)


@dataclass(frozen=True)
class CoherenceSection:
    """Coherence scorers by spec (as ``judgeaudit coherence --scorer``); [] for none."""

    scorers: tuple = ("degeneracy", "combined")
    chunk_size: int = 256

    def check(self, where: str) -> None:
        _at_least(where, "coherence", "chunk_size", self.chunk_size, 1)


@dataclass(frozen=True)
class AnnotationSection:
    """The labelling campaign: the sample, and where labels come from.

    ``label_studio``: ``""`` (default) writes a Label Studio import file and waits for
    ``labels``; ``"local"`` starts ``judgeaudit annotate server``; a URL uses that server
    (token from ``JUDGEAUDIT_LS_TOKEN`` or ``config_file``).  With a server, each run pushes
    the sample (idempotent) and pulls the labels.  ``simulate = {annotators = 3, ...}`` (with
    ``[model] tiny = "organism"`` only) labels the sample with simulated annotators from the
    organism world's ground truth (:mod:`judgeaudit.organism.annotators`).
    """

    budget: int = 100
    seed: int = 0
    allocation: str = "neyman"
    overlap_k: int = 2
    overlap_n: int = 20
    min_per_stratum: int = 2
    coherence_scorer: str | None = None
    project: str = ""
    label_studio: str = ""
    config_file: str | None = None
    labels: str | None = None
    seconds_per_label: float = 30.0
    simulate: Mapping = field(default_factory=dict)

    def check(self, where: str) -> None:
        _at_least(where, "annotation", "budget", self.budget, 1)
        _one_of(where, "annotation", "allocation", self.allocation, ("neyman", "proportional", "equal"))
        _at_least(where, "annotation", "overlap_k", self.overlap_k, 1)
        _at_least(where, "annotation", "overlap_n", self.overlap_n, 0)
        _at_least(where, "annotation", "min_per_stratum", self.min_per_stratum, 0)
        if self.seconds_per_label < 0:
            raise ConfigError(f"{where} [annotation]: seconds_per_label must be >= 0, got {self.seconds_per_label}")
        if self.labels and Path(self.labels).suffix.lower() not in (".parquet", ".pq", ".jsonl", ".ndjson", ".csv"):
            raise ConfigError(f"{where} [annotation]: labels {self.labels!r} must be a .parquet, .jsonl or .csv "
                              "file (a labels table: item_id, annotator_id, field, value)")
        if self.simulate:
            if self.labels or self.label_studio:
                raise ConfigError(f"{where} [annotation]: simulate = {{...}} labels the sample with simulated "
                                  "annotators; leave out labels and label_studio (or remove simulate)")
            from judgeaudit.organism import SimulatedAnnotators

            SimulatedAnnotators.from_options(self.simulate, where=f"{where} [annotation] simulate")
        ls = self.label_studio
        if ls and ls != "local" and not ls.startswith(("http://", "https://")):
            raise ConfigError(f"{where} [annotation]: label_studio must be \"\" (write an import file), "
                              f"\"local\" or an http(s) URL, got {ls!r}")


@dataclass(frozen=True)
class AuditSection:
    """The audit, once labels exist (options of ``judgeaudit audit``)."""

    n_boot: int = 1000
    seed: int = 0
    confidence: float = 0.95
    tie_policy: str = "unresolved"
    weighted: bool = True

    def check(self, where: str) -> None:
        _at_least(where, "audit", "n_boot", self.n_boot, 1)
        if not 0.5 <= self.confidence < 1:  # the audit's own range (judgeaudit.audit.AuditConfig)
            raise ConfigError(f"{where} [audit]: confidence must be in [0.5, 1), got {self.confidence}")
        _one_of(where, "audit", "tie_policy", self.tie_policy, ("unresolved", "positive", "negative"))


@dataclass(frozen=True)
class StressSection:
    """The judge stress test on the labelled answers (``judgeaudit stress``; docs/stress.md).

    ``perturbations``: specs (``"repetition_loop:times=3"``), [] = all; ``judges``: specs,
    [] = the ``[judges]`` ones; ``max_items``: 0 = every labelled answer.
    """

    perturbations: tuple = ()
    judges: tuple = ()
    seed: int = 0
    max_items: int = 0
    batch_size: int = 16
    examples: int = 3
    confidence: float = 0.95

    def check(self, where: str) -> None:
        from judgeaudit.stress import parse_perturbation_spec

        _at_least(where, "stress", "batch_size", self.batch_size, 1)
        _at_least(where, "stress", "examples", self.examples, 0)
        _at_least(where, "stress", "max_items", self.max_items, 0)
        if not 0.5 <= self.confidence < 1:
            raise ConfigError(f"{where} [stress]: confidence must be in [0.5, 1), got {self.confidence}")
        for spec in self.perturbations:
            try:
                parse_perturbation_spec(spec)
            except (ConfigError, UnknownNameError) as exc:
                raise ConfigError(f"{where} [stress]: perturbations: {exc}") from None


@dataclass(frozen=True)
class PersonaSection:
    """Persona drift per checkpoint (see ``docs/persona.md``); the stage runs only when the
    config has this section."""

    traits: tuple = ("builtin",)
    items_per_trait: int | None = None
    min_label_confidence: float | None = None
    template: str = "chat"
    train_prompt: bool = True
    batch_size: int = 16
    seed: int = 0

    def check(self, where: str) -> None:
        if not self.traits:
            raise ConfigError(f"{where} [persona]: traits must name at least one trait file, builtin or "
                              "builtin:NAME")
        _one_of(where, "persona", "template", self.template, ("chat", "plain"))
        _at_least(where, "persona", "batch_size", self.batch_size, 1)
        if self.items_per_trait is not None:
            _at_least(where, "persona", "items_per_trait", self.items_per_trait, 2)
        if self.min_label_confidence is not None and not 0 <= self.min_label_confidence <= 1:
            raise ConfigError(f"{where} [persona]: min_label_confidence must be in [0, 1], got "
                              f"{self.min_label_confidence!r}")


@dataclass(frozen=True)
class CostSection:
    """Throughputs for the dry run's cost estimate (per GPU; see ``docs/experiment.md``)."""

    train_tokens_per_gpu_second: float = 3000.0
    generate_tokens_per_gpu_second: float = 2500.0
    judge_items_per_gpu_second: float = 20.0
    model_coherence_items_per_gpu_second: float = 40.0
    gpus: int = 1

    def check(self, where: str) -> None:
        for f in dataclasses.fields(self):
            if getattr(self, f.name) <= 0:
                raise ConfigError(f"{where} [cost]: {f.name} must be positive, got {getattr(self, f.name)!r}")


_SECTIONS = {"model": ModelSection, "generation": GenerationSection, "judges": JudgesSection,
             "coherence": CoherenceSection, "annotation": AnnotationSection, "audit": AuditSection,
             "stress": StressSection, "cost": CostSection, "persona": PersonaSection}
_PATH_KEYS = {"model": ("path",), "generation": ("chat_template",), "judges": ("file",),
              "annotation": ("config_file", "labels")}


@dataclass(frozen=True)
class ExperimentConfig:
    """A validated experiment.  ``finetune`` is the raw ``[finetune]`` table (its stage
    validates it with the fine-tuning config's own rules); ``None`` = no fine-tuning,
    the base model only."""

    name: str
    output: str
    source: str
    model: ModelSection
    finetune: Mapping | None = None
    generation: GenerationSection = field(default_factory=GenerationSection)
    judges: JudgesSection = field(default_factory=JudgesSection)
    coherence: CoherenceSection = field(default_factory=CoherenceSection)
    annotation: AnnotationSection = field(default_factory=AnnotationSection)
    audit: AuditSection = field(default_factory=AuditSection)
    stress: StressSection | None = None
    cost: CostSection = field(default_factory=CostSection)
    persona: PersonaSection | None = None
    base_dir: str = "."

    def to_dict(self) -> dict:
        return _json_ready(dataclasses.asdict(self))

    def where(self, section: str | None = None) -> str:
        return f"{self.source}" + (f" [{section}]" if section else "")


def section_hash(*parts: Any, base=None) -> str:
    """A short hash of JSON-ready parts (a stage's settings and its inputs' hashes); an
    absolute path that exists counts by its content, one under ``base`` (the config's
    folder) that does not exist yet by its relative path (:func:`judgeaudit.identity.portable`)."""
    from judgeaudit.identity import portable

    text = json.dumps(portable(_json_ready(list(parts)), base), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _json_ready(obj):
    if isinstance(obj, Mapping):
        return {str(k): _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_ready(v) for v in obj]
    return obj


def _one_of(where, section, key, value, allowed) -> None:
    if value not in allowed:
        raise ConfigError(f"{where} [{section}]: {key} must be one of {', '.join(map(repr, allowed))}, "
                          f"got {value!r}")


def _at_least(where, section, key, value, low) -> None:
    if value < low:
        raise ConfigError(f"{where} [{section}]: {key} must be at least {low}, got {value!r}")


def _type_name(names: list[str]) -> str:
    t = names[0]
    return {"tuple": "a list", "Mapping": "a table", "int": "an integer", "float": "a number",
            "str": "a string", "bool": "true or false"}.get(t, t)


def _fits(value, expected: str) -> bool:
    if expected == "tuple":
        return isinstance(value, (list, tuple))
    if expected == "Mapping":
        return isinstance(value, Mapping)
    if expected == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, {"str": str, "bool": bool}.get(expected, object))


def _typed(cls, values: Any, where: str, section: str):
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where}: [{section}] must be a table of keys, got {type(values).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"{where} [{section}]: unknown key {unknown[0]!r}; allowed keys: "
                          f"{', '.join(sorted(fields))}")
    kw = {}
    for key, value in values.items():
        names = [t.strip() for t in str(fields[key].type).split("|") if t.strip() != "None"]
        if not any(_fits(value, n) for n in names):
            raise ConfigError(f"{where} [{section}]: {key} must be {_type_name(names)}, got {value!r}")
        if names[0] == "tuple":
            bad = [v for v in value if not isinstance(v, str)]
            if bad:
                raise ConfigError(f"{where} [{section}]: {key} must be a list of strings, got {bad[0]!r} in it")
            value = tuple(value)
        kw[key] = dict(value) if names[0] == "Mapping" else value
    obj = cls(**kw)
    obj.check(where)
    return obj


def _resolve(base: Path, value: str | None, *, model: bool = False) -> str | None:
    """A file path relative to the config file's folder.  A model path that is not there
    and does not start with "." is kept as it is (a hub id such as ``org/name``)."""
    if not value or Path(value).is_absolute():
        return value
    candidate = base / value
    if model and not candidate.exists() and not value.startswith("."):
        return value
    return str(candidate.resolve())


def experiment_from_dict(doc: Mapping, *, base_dir: Path | None = None, source: str = "experiment") -> ExperimentConfig:
    """Validate a parsed experiment config; ``base_dir`` resolves relative paths."""
    base = Path(base_dir or ".").resolve()
    top = {"name", "output", "finetune", *_SECTIONS}
    unknown = sorted(set(doc) - top)
    if unknown:
        raise ConfigError(f"{source}: unknown key or section {unknown[0]!r}; allowed: {', '.join(sorted(top))}")
    if "model" not in doc:
        raise ConfigError(f"{source}: a [model] section is required (path = 'FOLDER' or tiny = true)")
    kw: dict[str, Any] = {}
    for name, cls in _SECTIONS.items():
        if name not in doc:
            continue
        section = dict(doc[name]) if isinstance(doc[name], Mapping) else doc[name]
        if isinstance(section, dict):
            for key in _PATH_KEYS.get(name, ()):
                if isinstance(section.get(key), str):
                    section[key] = _resolve(base, section[key], model=(name, key) == ("model", "path"))
            for key in ("prompts", "capability", "traits"):  # prompt and trait files beside the config
                if name in ("generation", "persona") and isinstance(section.get(key), list):
                    section[key] = [_resolve(base, v) if isinstance(v, str) and Path(v).suffix else v
                                    for v in section[key]]
        kw[name] = _typed(cls, section, source, name)
    for key in ("name", "output"):
        if key in doc and not (isinstance(doc[key], str) and doc[key].strip()):
            raise ConfigError(f"{source}: {key} must be a non-empty string, got {doc[key]!r}")
    name = doc.get("name", Path(source).stem)
    output = doc.get("output", f"runs/{name}")
    if not Path(output).is_absolute():
        output = str((base / output).resolve())
    finetune = doc.get("finetune")
    if finetune is not None and not isinstance(finetune, Mapping):
        raise ConfigError(f"{source}: [finetune] must be a table (the keys of a finetune config)")
    return ExperimentConfig(name=name, output=output, source=source, finetune=finetune, base_dir=str(base), **kw)


def load_experiment(path) -> ExperimentConfig:
    """Read and validate an experiment TOML file."""
    from judgeaudit.configfile import read_toml

    path = Path(path)
    doc = read_toml(path, what="experiment config", hint="give the path of a TOML file (examples/demo.toml is one)")
    return experiment_from_dict(doc, base_dir=path.resolve().parent, source=str(path))

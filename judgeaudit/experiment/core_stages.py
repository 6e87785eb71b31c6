"""The experiment stages that judgeaudit itself provides: the base model, generation,
judges, coherence, the audit and the experiment report (see :mod:`.stages`)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pandas as pd

from judgeaudit.errors import ConfigError, UnknownNameError

from .config import ExperimentConfig
from .stages import StageContext, StageResult

__all__ = ["MODEL", "GENERATE", "JUDGE", "COHERENCE", "AUDIT", "REPORT", "NotConfigured",
           "safety_prompts", "capability_probes", "checkpoint_specs", "coherence_table", "run_banner",
           "stress_result"]

_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


class _Base:
    name = ""
    inputs: tuple = ()
    needs: tuple = ()
    always = False

    def applies(self, config: ExperimentConfig) -> bool:
        return True

    def check(self, config: ExperimentConfig) -> None:
        return None

    def settings(self, config: ExperimentConfig) -> dict:
        return {}

    def plan(self, config: ExperimentConfig) -> dict:
        return {}

    def outputs(self, ctx: StageContext) -> list[Path]:
        return []


class NotConfigured(_Base):
    """A stage the config leaves out (no ``[finetune]`` section: the base model only)."""

    def __init__(self, name: str):
        self.name = name

    def applies(self, config):
        return False

    def run(self, ctx):  # pragma: no cover - the runner never runs a stage that does not apply
        return StageResult()


# ------------------------------------------------------------------ model
class ModelStage(_Base):
    name = "model"

    def check(self, config):
        m = config.model
        served = config.generation.backend == "openai" and config.finetune is None  # a name the server knows
        if m.path and not served and not Path(m.path).exists() and not _HUB_ID.match(m.path):
            raise ConfigError(f"{config.where('model')}: path {m.path!r} is neither a folder nor a hub id "
                              "(org/name); give the folder written by save_pretrained")

    def settings(self, config):
        return dataclasses.asdict(config.model)

    def plan(self, config):
        m = config.model
        if m.is_organism:
            from judgeaudit.organism import organism_config

            c = organism_config(m.organism)
            return {"model": f"model organism ({c.n_layers} layers x {c.hidden_size}, {c.steps} steps) trained "
                             "once offline on a synthetic world, cached"}
        return {"model": f"tiny model ({m.tiny_layers} layers x {m.tiny_hidden}) built offline" if m.tiny
                else m.path}

    def outputs(self, ctx):
        if ctx.config.model.is_organism:
            return [ctx.layout.base_model / "organism.json", ctx.layout.base_model / "judge" / "config.json"]
        return [ctx.layout.base_model / "config.json"] if ctx.config.model.tiny else []

    def run(self, ctx):
        m = ctx.config.model
        if not m.tiny:
            return StageResult({"path": m.path})
        if m.is_organism:
            import shutil

            from judgeaudit.organism import build_organism, organism_config

            folder = build_organism(organism_config(m.organism), log=ctx.log)
            shutil.copytree(folder, ctx.layout.base_model, dirs_exist_ok=True)
            return StageResult({"path": str(ctx.layout.base_model), "built": "organism", "cache": str(folder)})
        from judgeaudit.tinymodel import build_tiny_model

        build_tiny_model(ctx.layout.base_model, n_layers=m.tiny_layers, hidden_size=m.tiny_hidden, seed=m.seed)
        return StageResult({"path": str(ctx.layout.base_model), "built": "tiny"})


# ------------------------------------------------------------------ generate
def _load_sets(names, *, where: str, key: str) -> pd.DataFrame:
    from judgeaudit.prompts import load_prompt_set

    frames = []
    for name in names:
        try:
            table = load_prompt_set(name)
        except (UnknownNameError, ConfigError) as exc:
            raise ConfigError(f"{where}: {key} entry {name!r}: {exc}") from None
        table = table.copy()
        table["prompt_set"] = Path(name).stem if Path(name).suffix else name
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def safety_prompts(config: ExperimentConfig) -> pd.DataFrame:
    """The safety prompts of ``[generation]``: the sets (``per_category`` of each category
    of each, when set), each plain and wrapped in every attack, with a ``prompt_set`` column."""
    from judgeaudit.prompts import apply_attacks, sample_prompts
    from judgeaudit.tables import validate

    g, where = config.generation, config.where("generation")
    table = _load_sets(g.prompts, where=where, key="prompts")
    if g.per_category is not None:
        table = pd.concat([sample_prompts(part, per_category=g.per_category, seed=g.seed)
                           for _, part in table.groupby("prompt_set", sort=False)], ignore_index=True)
    if list(g.attacks) != ["none"]:
        try:
            table = apply_attacks(table, list(g.attacks))
        except (UnknownNameError, ConfigError) as exc:
            raise ConfigError(f"{where}: attacks: {exc}") from None
    return validate(table, "prompts", path=f"{where} prompts")


def capability_probes(config: ExperimentConfig) -> pd.DataFrame | None:
    """The capability probes of ``[generation] capability`` (None when the list is empty)."""
    g = config.generation
    if not g.capability:
        return None
    return _load_sets(g.capability, where=config.where("generation"), key="capability")


def checkpoint_specs(ctx: StageContext) -> list:
    """The base model (``include_base``) and every checkpoint the fine-tuning stage wrote."""
    from judgeaudit.generation import CheckpointSpec, load_manifest

    specs = []
    if ctx.config.generation.include_base:
        specs.append(CheckpointSpec("base", path=ctx.model_path, objective="base", budget_tokens=0))
    if ctx.config.finetune is not None:
        specs.extend(load_manifest(ctx.layout.manifest))
    if not specs:
        raise ConfigError(f"{ctx.config.where('generation')}: nothing to generate from: include_base = false "
                          "and no [finetune] section")
    return specs


def _file_digest(path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _checkpoint_table(specs) -> pd.DataFrame:
    rows = []
    for s in specs:
        extra = dict(s.extra or {})
        rows.append({"checkpoint_id": s.checkpoint_id, "objective": s.objective or "base",
                     "budget_tokens": int(s.budget_tokens or 0), "seed": s.seed,
                     "capability_score": s.capability_score, "capability_n": extra.get("capability_n"),
                     "kind": extra.get("kind", "base" if s.objective in (None, "base") else None),
                     "path": s.path, "adapter_path": s.adapter_path})
    frame = pd.DataFrame(rows)
    for col in ("capability_score", "capability_n"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    frame["seed"] = pd.array(frame["seed"], dtype="Int64")
    return frame


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    from judgeaudit.atomic import atomic_open

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb", encoding=None) as fh:
        frame.to_parquet(fh, index=False)


# settings that change a generation already made (prompts, attacks, include_base only add or
# leave out work; batch_size and chunk_size change nothing in the outputs; the
# writer itself refuses other backend changes where work is left)
_SAMPLING_KEYS = ("backend", "n_samples", "max_new_tokens", "capability_max_new_tokens", "temperature", "top_p", "seed",
                  "prompt_policy", "chat_template")


class GenerateStage(_Base):
    name = "generate"
    inputs = needs = ("model", "finetune")

    def check(self, config):
        g, where = config.generation, config.where("generation")
        if not g.include_base and config.finetune is None:
            raise ConfigError(f"{where}: include_base = false and no [finetune] section leave no model to "
                              "generate from; set include_base = true or add a [finetune] section")
        if g.chat_template:
            if g.backend == "openai":
                raise ConfigError(f"{where}: chat_template does not apply to backend = \"openai\": the server "
                                  "renders the conversation with its own template; remove chat_template or set "
                                  "the template on the server")
            if not Path(g.chat_template).is_file():
                raise ConfigError(f"{where}: chat_template {g.chat_template!r} is not a file; give the path of a "
                                  "Jinja chat template (relative to the config file's folder)")
        safety_prompts(config)  # names of sets and attacks, and the files they point to
        capability_probes(config)
        from judgeaudit.generation import available_backends

        if g.backend not in available_backends():
            raise ConfigError(f"{where}: backend {g.backend!r} is not registered; valid: "
                              f"{', '.join(available_backends())}")

    def settings(self, config):
        g = config.generation
        s = dataclasses.asdict(g)
        # a file's content, not only its name: an edited prompt file or template changes the outputs
        s["file_digests"] = {name: _file_digest(name) for name in (*g.prompts, *g.capability, g.chat_template)
                             if name and Path(name).is_file()}
        return s

    def plan(self, config):
        n_safety = len(safety_prompts(config))
        probes = capability_probes(config)
        return {"safety_prompts": n_safety, "capability_probes": 0 if probes is None else len(probes),
                "n_samples": config.generation.n_samples, "max_new_tokens": config.generation.max_new_tokens,
                "capability_max_new_tokens": config.generation.capability_max_new_tokens,
                "backend": config.generation.backend, "include_base": config.generation.include_base}

    def outputs(self, ctx):
        out = [ctx.layout.generations, ctx.layout.prompts, ctx.layout.checkpoints]
        if ctx.config.generation.capability:
            out.append(ctx.layout.capability_scores)
        return out

    def _options(self, ctx, specs) -> dict:
        g, m = ctx.config.generation, ctx.config.model
        options = dict(g.backend_options)
        if g.backend != "openai":
            options.setdefault("batch_size", g.batch_size)
            options.setdefault("dtype", m.dtype if m.dtype != "float32" else "auto")
            if g.chat_template:
                options.setdefault("chat_template", g.chat_template)
        if m.trust_remote_code and g.backend != "openai":  # off unless the config asks
            options.setdefault("trust_remote_code", True)
        if g.backend == "vllm" and any(s.adapter_path for s in specs):
            options.setdefault("enable_lora", True)
        return options

    def _same_sampling(self, ctx) -> None:
        """Refuse settings that would change the rows already generated.  The writer skips
        every finished (prompt, checkpoint, sample), so a new temperature would otherwise
        leave the old generations in place under a stage marked done."""
        g, lay = ctx.config.generation, ctx.layout
        now = {k: getattr(g, k) for k in _SAMPLING_KEYS}
        now = {**json.loads(json.dumps(now, default=str)), "dtype": ctx.config.model.dtype}
        record = lay.generations.parent / "sampling.json"
        if lay.generations.exists() and record.exists():
            before = json.loads(record.read_text(encoding="utf-8"))
            changed = [k for k in now if before.get(k) != now[k]]
            if changed:
                what = ", ".join(f"{k} {before.get(k)!r} -> {now[k]!r}" for k in changed)
                raise ConfigError(f"{ctx.config.where('generation')}: {what}: {lay.generations} holds generations "
                                  "made with the old setting, which a rerun would keep; give the experiment a new "
                                  f"output (or delete {lay.generations.parent} to generate everything again)")
        from judgeaudit.atomic import write_json_atomic

        record.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(record, now)

    def run(self, ctx):
        from judgeaudit.generation import GenerationConfig, run_generation
        from judgeaudit.prompts import score_capability
        from judgeaudit.tables import read_table

        g, lay = ctx.config.generation, ctx.layout
        self._same_sampling(ctx)
        specs = checkpoint_specs(ctx)
        _write_parquet(_checkpoint_table(specs), lay.checkpoints)
        gen_cfg = GenerationConfig(max_new_tokens=g.max_new_tokens, temperature=g.temperature, top_p=g.top_p,
                                   n_samples=g.n_samples, seed=g.seed)
        common = dict(backend=g.backend, backend_options=self._options(ctx, specs), prompt_policy=g.prompt_policy,
                      chunk_size=g.chunk_size, progress=ctx.progress)
        ctx.log(f"generate: {len(specs)} model(s) on the safety prompts")
        safety = run_generation(specs, safety_prompts(ctx.config), config=gen_cfg, out=lay.generations,
                                prompts_out=lay.prompts, **common)
        summary = {"checkpoints": len(specs), "safety": _summary(safety)}
        probes = capability_probes(ctx.config)
        if probes is not None:
            ctx.log(f"generate: {len(specs)} model(s) on {len(probes)} capability probes")
            cap_cfg = dataclasses.replace(gen_cfg, max_new_tokens=g.capability_max_new_tokens, n_samples=1)
            cap = run_generation(specs, probes, config=cap_cfg, out=lay.capability_generations,
                                 prompts_out=lay.capability_prompts, **common)
            answered = read_table(lay.capability_generations, "generations")
            # a request that failed has no answer to score: left out (counted), not scored as wrong
            failed = int((answered["status"] == "error").sum())
            scores = score_capability(probes, answered[answered["status"] == "ok"])
            _write_parquet(scores, lay.capability_scores)
            summary["capability"] = {**_summary(cap), "failed_requests_left_out": failed,
                                     "accuracy": round(float(scores["correct"].mean()), 4) if len(scores) else None}
        return StageResult(summary)


def _summary(s) -> dict:
    d = s.to_dict()
    return {k: d[k] for k in ("n_rows", "n_new", "n_skipped", "n_errors", "seconds")}


# ------------------------------------------------------------------ judges and coherence
def _generations_and_prompts(lay):
    from judgeaudit.tables import read_table

    return read_table(lay.generations, "generations"), read_table(lay.prompts, "prompts")


class JudgeStage(_Base):
    name = "judge"
    inputs = needs = ("generate",)

    @staticmethod
    def judge_names(config) -> list[str]:
        """The registered names of the judges ``[judges]`` asks for (``use`` and ``file``)."""
        from judgeaudit.judges import load_judge_config, parse_judge_specs

        names = [name for name, _ in parse_judge_specs(config.judges.use)]
        if config.judges.file:
            names += [e["name"] for e in load_judge_config(config.judges.file) if e.get("name")]
        return names

    def check(self, config):
        from judgeaudit.judges import available_judges

        where = config.where("judges")
        valid = set(available_judges())
        for name in self.judge_names(config):
            if name not in valid:
                raise ConfigError(f"{where}: use: unknown judge {name!r}; valid names: {', '.join(sorted(valid))}")

    def settings(self, config):
        s = dataclasses.asdict(config.judges)
        if config.judges.file:
            s["file_text"] = Path(config.judges.file).read_text(encoding="utf-8")
        return s

    def plan(self, config):
        return {"judges": list(config.judges.use) + ([f"file {config.judges.file}"] if config.judges.file else [])}

    def outputs(self, ctx):
        return [ctx.layout.verdicts]

    def run(self, ctx):
        from judgeaudit.judges import build_judges, judge_to_file

        j = ctx.config.judges
        gens, prompts = _generations_and_prompts(ctx.layout)
        judges = build_judges(_filled(ctx, j.use), Path(j.file) if j.file else None)
        ctx.log(f"judge: {len(judges)} judge(s) on {len(gens)} generations")
        s = judge_to_file(judges, gens, ctx.layout.verdicts, prompts, batch_size=j.batch_size,
                          chunk_size=j.chunk_size, progress=_say(ctx))
        return StageResult(_plain(s))


class CoherenceStage(_Base):
    name = "coherence"
    inputs = needs = ("generate",)

    def applies(self, config):
        return bool(config.coherence.scorers)

    def check(self, config):
        from judgeaudit.coherence import available_scorers
        from judgeaudit.coherence import parse_scorer_specs

        valid = set(available_scorers())
        for name, _ in parse_scorer_specs(list(config.coherence.scorers)):
            if name not in valid:
                raise ConfigError(f"{config.where('coherence')}: scorers: unknown scorer {name!r}; valid names: "
                                  f"{', '.join(sorted(valid))}")

    def settings(self, config):
        return dataclasses.asdict(config.coherence)

    def plan(self, config):
        return {"scorers": list(config.coherence.scorers)}

    def outputs(self, ctx):
        return [ctx.layout.coherence]

    def run(self, ctx):
        from judgeaudit.coherence import build_scorers, score_to_file

        gens, prompts = _generations_and_prompts(ctx.layout)
        scorers = build_scorers(_filled(ctx, ctx.config.coherence.scorers))
        ctx.log(f"coherence: {len(scorers)} scorer(s) on {len(gens)} generations")
        s = score_to_file(scorers, gens, ctx.layout.coherence, prompts, chunk_size=ctx.config.coherence.chunk_size,
                          progress=_say(ctx))
        return StageResult(_plain(s))


def _say(ctx: StageContext):
    """The stage's progress lines: to the run's log, or nowhere under ``--quiet``."""
    return ctx.log if ctx.progress else (lambda msg: None)


def _filled(ctx: StageContext, specs) -> list[str]:
    """Specs with ``{base_model}`` (the base model's path) and ``{run}`` (the run directory) filled in."""
    return [s.replace("{base_model}", ctx.model_path).replace("{run}", str(ctx.layout.root)) for s in specs]


def _plain(summary) -> dict:
    d = summary.to_dict() if hasattr(summary, "to_dict") else dataclasses.asdict(summary)
    return json.loads(json.dumps(d, default=str))


# ------------------------------------------------------------------ audit and report
def stress_result(ctx: StageContext) -> dict | None:
    """The run's stress-test result (``stress/stress.json``), or None without ``[stress]``
    (a file an earlier run left is then not this experiment's) or before the stage ran."""
    path = ctx.layout.stress / "stress.json"
    if ctx.config.stress is None or not path.exists():
        return None
    from judgeaudit.stress.report import read_stress

    return read_stress(path)


def coherence_table(ctx: StageContext) -> pd.DataFrame | None:
    """The run's coherence table, or None when there is none or ``[coherence] scorers = []``
    (a table an earlier run wrote is then not this experiment's)."""
    from judgeaudit.tables import read_table

    if not ctx.config.coherence.scorers or not ctx.layout.coherence.exists():
        return None
    return read_table(ctx.layout.coherence, "coherence")


def _or_empty(table, kind: str):
    from judgeaudit.tables import empty_table

    return empty_table(kind) if table is None else table


def run_banner(config: ExperimentConfig) -> str | None:
    """The reports' banner for a run on a demo or simulated model (None for a real model)."""
    m = config.model
    if m.is_organism:
        from judgeaudit.organism import SIMULATION_NOTE

        if config.annotation.simulate:
            return SIMULATION_NOTE
        return SIMULATION_NOTE.replace(" and the labels come from simulated annotators", "")
    if m.tiny:
        return ("Demo model: an untrained tiny model built offline. Its answers are noise, so these numbers only "
                "show that the pipeline runs.")
    return None


class AuditStage(_Base):
    name = "audit"
    inputs = ("generate", "judge", "coherence", "sample", "labels", "stress")
    needs = ("labels",)

    def settings(self, config):
        return dataclasses.asdict(config.audit)

    def outputs(self, ctx):
        return [ctx.layout.audit / "audit.json"]

    def run(self, ctx):
        from judgeaudit.audit import AuditConfig, audit_to_dir
        from judgeaudit.tables import AuditTables, Task, read_sample_table, read_table

        a, lay = ctx.config.audit, ctx.layout
        gens, prompts = _generations_and_prompts(lay)
        tables = AuditTables(prompts=prompts, generations=gens, labels=read_table(lay.labels, "labels"),
                             verdicts=read_table(lay.verdicts, "verdicts"),
                             coherence=_or_empty(coherence_table(ctx), "coherence"),
                             task=Task.for_field("harmfulness"), name=ctx.config.name).validate()
        cfg = AuditConfig(n_boot=a.n_boot, seed=a.seed, confidence=a.confidence, tie_policy=a.tie_policy,
                          group_key="checkpoint_id", coherence_scorer=ctx.config.annotation.coherence_scorer)
        sample = read_sample_table(lay.sample) if a.weighted and lay.sample.exists() else None
        ctx.log(f"audit: {tables.verdicts['judge_id'].nunique()} judge(s) against {tables.labels['item_id'].nunique()} "
                f"labelled item(s), {a.n_boot} resamples")
        _result, paths = audit_to_dir(tables, lay.audit, config=cfg, dataset=ctx.config.name, sample=sample,
                                      banner=run_banner(ctx.config), stress=stress_result(ctx))
        return StageResult({k: str(v) for k, v in paths.items()})


def _persona_summary(ctx: StageContext) -> dict | None:
    """The persona stage's summary when the config asks for it and the stage wrote one."""
    path = ctx.layout.persona_summary
    if getattr(ctx.config, "persona", None) is None or not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


class ReportStage(_Base):
    name = "report"
    inputs = ("generate", "judge", "coherence", "persona", "stress", "audit")
    needs = ("generate", "judge")

    def settings(self, config):
        return {"n_boot": config.audit.n_boot, "seed": config.audit.seed, "confidence": config.audit.confidence}

    def outputs(self, ctx):
        return [ctx.layout.report / "experiment.json"]

    def run(self, ctx):
        from judgeaudit.tables import read_table

        from judgeaudit.report.experiment import build_experiment_report, write_experiment_report

        a, lay = ctx.config.audit, ctx.layout
        gens, prompts = _generations_and_prompts(lay)
        audit_path = lay.audit / "audit.json"
        audit = json.loads(audit_path.read_text(encoding="utf-8")) if audit_path.exists() else None
        capability = pd.read_parquet(lay.capability_scores) if lay.capability_scores.exists() else None
        report = build_experiment_report(
            checkpoints=pd.read_parquet(lay.checkpoints), generations=gens, prompts=prompts,
            verdicts=read_table(lay.verdicts, "verdicts"),
            coherence=coherence_table(ctx),
            capability=capability, audit=audit, n_boot=a.n_boot, seed=a.seed, confidence=a.confidence,
            persona=_persona_summary(ctx),
            meta={"experiment": ctx.config.name, "config": ctx.config.source, "banner": run_banner(ctx.config),
                  "audit": str(audit_path) if audit is not None else None},
            stress=stress_result(ctx))
        paths = write_experiment_report(report, lay.report)
        return StageResult({k: str(v) for k, v in paths.items()})


MODEL = ModelStage()
GENERATE = GenerateStage()
JUDGE = JudgeStage()
COHERENCE = CoherenceStage()
AUDIT = AuditStage()
REPORT = ReportStage()

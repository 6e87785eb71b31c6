"""The ``persona`` stage of ``judgeaudit run``: trait items scored on every checkpoint.

Runs when the config has a ``[persona]`` section::

    [persona]
    traits = ["builtin"]          # or trait files (model-written-evaluations JSONL)
    items_per_trait = 300         # a seeded sample of each trait (default: all items)
    train_prompt = true           # also score inoculation/conditional checkpoints with their prompt

It scores the base model and every checkpoint the fine-tuning stage wrote
(:func:`judgeaudit.persona.score_checkpoints`, resumable per checkpoint) and writes
``persona/scores.parquet`` and ``persona/summary.json``; the report stage puts the
drift-against-budget plots and the conclusions that hold at the audit's confidence
into the experiment report.
"""

from __future__ import annotations

from judgeaudit.errors import ConfigError

from .stages import StageContext, StageResult

__all__ = ["PersonaStage", "PERSONA", "persona_paths"]


def persona_paths(ctx: StageContext) -> dict:
    """Where the stage writes: ``scores`` and ``summary`` under ``RUN/persona/``."""
    return {"scores": ctx.layout.persona_scores, "summary": ctx.layout.persona_summary}


class PersonaStage:
    name = "persona"
    inputs = ("model", "finetune")
    needs = ("model", "finetune")
    always = False

    def applies(self, config) -> bool:
        return getattr(config, "persona", None) is not None

    def check(self, config) -> None:
        from judgeaudit.persona import load_traits

        p, where = config.persona, config.where("persona")
        try:
            load_traits(list(p.traits), min_label_confidence=p.min_label_confidence)
        except (ConfigError, ValueError) as exc:
            raise ConfigError(f"{where}: traits: {exc}") from None

    def settings(self, config) -> dict:
        import dataclasses
        import hashlib
        from pathlib import Path

        p = config.persona
        digests = {t: hashlib.sha256(Path(t).read_bytes()).hexdigest()[:16] for t in p.traits if Path(t).is_file()}
        return {**dataclasses.asdict(p), "trait_files": digests,
                "chat_template": config.generation.chat_template, "prompt_policy": config.generation.prompt_policy,
                "confidence": config.audit.confidence}

    def plan(self, config) -> dict:
        from judgeaudit.persona import load_traits

        p = config.persona
        items = load_traits(list(p.traits), min_label_confidence=p.min_label_confidence)
        traits = sorted({i.trait for i in items})
        per = {t: sum(i.trait == t for i in items) for t in traits}
        if p.items_per_trait:
            per = {t: min(n, p.items_per_trait) for t, n in per.items()}
        return {"traits": traits, "items": sum(per.values()),
                "passes": "one forward pass per item and checkpoint (twice for checkpoints trained under a prompt)"}

    def outputs(self, ctx) -> list:
        return list(persona_paths(ctx).values())

    def run(self, ctx) -> StageResult:
        from judgeaudit.atomic import write_json_atomic
        from judgeaudit.persona import load_traits, sample_items, score_checkpoints, summarise

        from judgeaudit.generation import CheckpointSpec, load_manifest

        p, g = ctx.config.persona, ctx.config.generation
        items = sample_items(load_traits(list(p.traits), min_label_confidence=p.min_label_confidence),
                             p.items_per_trait, p.seed)
        # the base model always (drift is measured from it), then every fine-tuned checkpoint
        specs = [CheckpointSpec("base", path=ctx.model_path, objective="base", budget_tokens=0)]
        if ctx.config.finetune is not None:
            specs += load_manifest(ctx.layout.manifest)
        paths = persona_paths(ctx)
        scores = score_checkpoints(specs, items, template=p.template, chat_template=g.chat_template,
                                   train_prompt=p.train_prompt, mode=g.prompt_policy, batch_size=p.batch_size,
                                   dtype=ctx.config.model.dtype, out=paths["scores"],
                                   log=ctx.log if ctx.progress else (lambda msg: None))
        summary = summarise(scores, specs, confidence=ctx.config.audit.confidence)
        write_json_atomic(paths["summary"], summary)
        n_drift = sum(1 for r in summary["by_budget"] if r.get("excludes_zero"))
        return StageResult({"items": len(items), "models": len(specs), "rows": int(len(scores)),
                            "drifts_excluding_0": n_drift, "summary": str(paths["summary"])})


PERSONA = PersonaStage()

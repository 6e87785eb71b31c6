"""The optional ``stress`` stage of ``judgeaudit run``: the judge stress test on the labelled answers.

Configured by a ``[stress]`` section (see :class:`~judgeaudit.experiment.config.StressSection`);
without it the stage does not run.  It reads the run's generations, prompts and labels,
stress-tests the ``[judges]`` (or the section's own ``judges``) with
:func:`judgeaudit.stress.run_stress`, and writes ``stress/stress.json``, ``stress.md``,
``stress.html``, ``perturbed.jsonl`` and ``stress_verdicts.parquet`` (resumable) into the run
directory.  The audit and the experiment report add its section when it exists.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from judgeaudit.errors import ConfigError

from .core_stages import JudgeStage, _Base, _filled, _generations_and_prompts, _say
from .stages import StageResult

__all__ = ["StressStage", "STRESS"]


class StressStage(_Base):
    """Perturb the labelled answers, judge both sides, count the flips (docs/stress.md)."""

    name = "stress"
    inputs = ("generate", "labels")
    needs = ("labels",)

    @staticmethod
    def judge_specs(config) -> tuple[list[str], str | None]:
        """The judges it stresses: the section's ``judges``, else ``[judges]`` (use and file)."""
        if config.stress.judges:
            return list(config.stress.judges), None
        return list(config.judges.use), config.judges.file

    @classmethod
    def judge_names(cls, config) -> list[str]:
        """The registered names of the judges it stresses."""
        from judgeaudit.judges import parse_judge_spec

        if config.stress.judges:
            return [parse_judge_spec(s)[0] for s in config.stress.judges]
        return JudgeStage.judge_names(config)

    @staticmethod
    def answers_at_most(config) -> int:
        """Answers each judge sees at most: the labelled ones (``max_items`` or the sample's
        budget) once as they are and once per perturbation (each applies to a part only)."""
        from judgeaudit.stress import available_perturbations

        s = config.stress
        items = s.max_items or config.annotation.budget
        return items * (1 + (len(s.perturbations) or len(available_perturbations())))

    def applies(self, config):
        return config.stress is not None

    def check(self, config):
        from judgeaudit.judges import available_judges, parse_judge_spec

        valid = set(available_judges())
        for spec in config.stress.judges:
            name = parse_judge_spec(spec)[0]
            if name not in valid:
                raise ConfigError(f"{config.where('stress')}: judges: unknown judge {name!r}; valid names: "
                                  f"{', '.join(sorted(valid))}")

    def settings(self, config):
        s = dataclasses.asdict(config.stress)
        specs, file = self.judge_specs(config)
        s["judge_specs"] = specs
        if file:
            s["judges_file_text"] = Path(file).read_text(encoding="utf-8")
        return s

    def plan(self, config):
        s = config.stress
        specs, file = self.judge_specs(config)
        return {"perturbations": list(s.perturbations) or "all", "judges": specs + ([f"file {file}"] if file else []),
                "labelled_answers_at_most": s.max_items or None,
                "answers_per_judge_at_most": self.answers_at_most(config)}

    def outputs(self, ctx):
        return [ctx.layout.stress / "stress.json"]

    def run(self, ctx):
        from judgeaudit.judges import build_judges
        from judgeaudit.stress import run_stress
        from judgeaudit.stress.report import write_stress
        from judgeaudit.tables import AuditTables, Task, empty_table, read_table

        s, lay = ctx.config.stress, ctx.layout
        if not lay.labels.exists():
            return StageResult(waiting=f"no labels yet ({lay.labels})")
        gens, prompts = _generations_and_prompts(lay)
        tables = AuditTables(prompts=prompts, generations=gens, labels=read_table(lay.labels, "labels"),
                             verdicts=empty_table("verdicts"), coherence=empty_table("coherence"),
                             task=Task.for_field("harmfulness"), name=ctx.config.name).validate()
        specs, file = self.judge_specs(ctx.config)
        judges = build_judges(_filled(ctx, specs), Path(file) if file else None)
        out = lay.stress
        result = run_stress(tables, judges, list(s.perturbations) or None, seed=s.seed, batch_size=s.batch_size,
                            confidence=s.confidence, examples=s.examples, max_items=s.max_items or None,
                            tie_policy=ctx.config.audit.tie_policy,
                            verdicts_path=out / "stress_verdicts.parquet",
                            perturbed_path=out / "perturbed.jsonl", progress=_say(ctx))
        paths = write_stress(result, out)
        ranking = {r["judge_id"]: r["flip_rate"]["value"] for r in result["ranking"]}
        return StageResult({**{k: str(v) for k, v in paths.items()}, "pooled_flip_rate": ranking,
                            "perturbed": result["items"]["perturbed"]})


STRESS = StressStage()

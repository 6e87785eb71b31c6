"""What a stage of an experiment is, and where the stages come from.

A stage reads the outputs of the stages before it from the run directory and writes its
own there; the runner (:mod:`judgeaudit.experiment.runner`) calls them in order, records
each one's fingerprint in ``state.json`` and skips a stage whose fingerprint and outputs
are unchanged.  Each stage's own work is resumable too (the fine-tuning grid, the
generation, judge and coherence writers skip what they find done), so a stage killed in
the middle picks up where it stopped when it is run again.

The stages of ``judgeaudit`` itself are in :mod:`judgeaudit.experiment.core_stages`; the
fine-tuning and labelling stages come from the ``finetune`` and ``annotation`` packages
through the ``judgeaudit.stages`` entry point group (judgeaudit never imports them).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


from .config import ExperimentConfig

__all__ = ["Stage", "StageContext", "StageResult", "ORDER", "RunLayout"]

ORDER = ("model", "finetune", "generate", "judge", "coherence", "persona", "sample", "labels", "stress", "audit",
         "report")
"""The stages in the order they run."""

_PLUGINS = {"finetune": "finetune", "sample": "annotation", "labels": "annotation"}


class RunLayout:
    """Where each stage's files live in the run directory (one place for every stage)."""

    def __init__(self, root):
        self.root = Path(root)

    def __getattr__(self, name: str) -> Path:
        paths = {
            "base_model": "base-model",
            "finetune": "finetune",
            "manifest": "finetune/manifest.json",
            "generations": "generations/safety.parquet",
            "prompts": "generations/prompts.parquet",
            "capability_generations": "generations/capability.parquet",
            "capability_prompts": "generations/capability_prompts.parquet",
            "capability_scores": "generations/capability_scores.parquet",
            "checkpoints": "generations/checkpoints.parquet",
            "verdicts": "verdicts.parquet",
            "coherence": "coherence.parquet",
            "persona_scores": "persona/scores.parquet",
            "persona_summary": "persona/summary.json",
            "sample": "annotation/sample.parquet",
            "tasks_file": "annotation/label_studio_tasks.json",
            "label_config": "annotation/label_config.xml",
            "labels": "annotation/labels.parquet",
            "stress": "stress",
            "audit": "audit",
            "report": "report",
        }
        if name not in paths:
            raise AttributeError(name)
        return self.root / paths[name]


@dataclass
class StageContext:
    """What a stage gets: the config, the run directory's layout, and how to report."""

    config: ExperimentConfig
    layout: RunLayout
    progress: bool = True
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr, flush=True)

    @property
    def model_path(self) -> str:
        """The base model: the configured path, or the tiny model built in the run directory."""
        m = self.config.model
        return str(self.layout.base_model) if m.tiny else str(m.path)


@dataclass
class StageResult:
    """A stage's outcome.  ``waiting`` (a reason) means it could not finish yet (e.g. no
    labels so far): it is not marked done, and the stages that need it are skipped.
    ``output_hash`` (optional) stands for its outputs in the fingerprints of later stages
    (the labels stage sets it to a hash of the labels, so the audit reruns only when they
    change)."""

    summary: dict = field(default_factory=dict)
    waiting: str | None = None
    output_hash: str | None = None


class Stage(Protocol):
    """One stage.  ``inputs``: the stages whose outputs it reads (their fingerprints enter
    its own, so a change upstream reaches every stage that depends on it, and no other).
    ``needs``: those of them it cannot run without (while one is waiting, it is blocked).
    ``always``: run even when its fingerprint is unchanged (the labels pull)."""

    name: str
    inputs: tuple
    needs: tuple
    always: bool

    def applies(self, config: ExperimentConfig) -> bool:
        """Whether the config asks for this stage at all."""

    def check(self, config: ExperimentConfig) -> None:
        """Validate this stage's part of the config; raise ConfigError naming the key."""

    def settings(self, config: ExperimentConfig) -> dict:
        """What the stage's outputs depend on, apart from its inputs (hashed)."""

    def plan(self, config: ExperimentConfig) -> dict:
        """Counts for the dry run (see :mod:`judgeaudit.experiment.plan`)."""

    def outputs(self, ctx: StageContext) -> list[Path]:
        """Files that must exist for the stage to count as done."""

    def run(self, ctx: StageContext) -> StageResult:
        """Do (or resume) the work."""

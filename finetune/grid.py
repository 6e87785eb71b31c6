"""Run a grid of objectives x seeds (each run saving its budget and capability
checkpoints) and write one manifest for ``judgeaudit generate --manifest``.

Layout of the output folder::

    OUT/manifest.json            every checkpoint of every run (paths relative to OUT)
    OUT/grid.json                the resolved grid config and each run's summary
    OUT/runs/OBJECTIVE-seedN/    config.json, environment.json, data_report.json,
                                 history.jsonl, result.json, state/, checkpoints/NAME/
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from judgeaudit.generation.base import CheckpointSpec, load_manifest, write_manifest

from .checkpoints import write_json
from .config import FinetuneConfig
from .trainer import RunResult, StepInfo, train_run

__all__ = ["run_grid", "run_name"]

log = logging.getLogger("finetune")


def run_name(objective: str, seed: int) -> str:
    return f"{objective}-seed{seed}"


def _relative(spec: CheckpointSpec, out: Path) -> CheckpointSpec:
    def rel(p):
        if p is None or not Path(p).is_absolute():
            return p
        try:
            return os.path.relpath(p, out) if Path(p).resolve().is_relative_to(out.resolve()) else p
        except ValueError:
            return p

    return dataclasses.replace(spec, path=rel(spec.path), adapter_path=rel(spec.adapter_path))


def _kept(out: Path, results: Sequence[RunResult]) -> list[CheckpointSpec]:
    """The manifest's checkpoints of runs this call did not train (an earlier call for other
    objectives or seeds into the same folder), so that the manifest lists every run."""
    if not (out / "manifest.json").is_file():
        return []
    ours = tuple(f"{r.objective}/seed{r.seed}/" for r in results)
    return [_relative(s, out) for s in load_manifest(out / "manifest.json")
            if not s.checkpoint_id.startswith(ours)]


def run_grid(config: FinetuneConfig, *, output=None, objectives: Sequence[str] | None = None,
             seeds: Sequence[int] | None = None, progress: bool = True,
             callbacks: Sequence[Callable[[StepInfo], None]] = ()) -> list[RunResult]:
    """Train every objective x seed of ``config`` (or the subsets given) and write the manifest.

    Runs already finished are not retrained (each resumes from its state, which is
    at the end); a run that was killed resumes from its last saved state.  The
    manifest is rewritten after every run, so it always lists what exists; checkpoints of
    runs in it that this call does not train (other objectives or seeds) are kept.
    """
    from accelerate import PartialState

    main = PartialState().is_main_process  # under `accelerate launch`, one process writes
    out = Path(output or config.output)
    out.mkdir(parents=True, exist_ok=True)
    results: list[RunResult] = []
    for objective in objectives or config.objectives:
        for seed in seeds or config.seeds:
            log.info("run %s seed %d", objective, seed)
            result = train_run(config, objective, seed, run_dir=out / "runs" / run_name(objective, seed),
                               callbacks=callbacks, progress=progress)
            results.append(result)
            if not main:
                continue
            write_manifest(_kept(out, results) + [_relative(s, out) for r in results for s in r.checkpoints],
                           out / "manifest.json")
            write_json(out / "grid.json", {"config": config.to_dict(),
                                           "runs": [r.to_dict() for r in results]})
    return results

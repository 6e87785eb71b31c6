"""The fine-tuning stage of ``judgeaudit run`` (the ``judgeaudit.stages`` entry point ``finetune``).

The experiment's ``[finetune]`` table holds the keys of a ``judgeaudit finetune`` config
(objectives, seeds, data, train, capability, lora, objective.NAME) without ``model`` and
``output``, which come from the experiment.  One more key, ``launcher``, runs the grid
through a command instead of in the same process, e.g. on a GPU node::

    [finetune]
    launcher = "accelerate launch --num_processes 8"

which runs ``accelerate launch --num_processes 8 -m finetune.stage RUN/finetune/experiment_finetune.json``.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from judgeaudit.atomic import write_json_atomic
from judgeaudit.errors import ConfigError
from judgeaudit.experiment.stages import StageResult

__all__ = ["STAGE", "FinetuneStage", "finetune_doc", "main"]

# time per training token of each objective relative to SFT (bench/bench_finetune.py on
# CPU: DPO 1.51x and KL-SFT 1.39x an SFT step; ORPO scores chosen and rejected like DPO
# without a reference pass; conditional and inoculation change the data, not the step)
STEP_COST = {"sft": 1.0, "conditional": 1.0, "inoculation": 1.0, "dpo": 1.51, "orpo": 1.3, "kl_sft": 1.39}


def finetune_doc(config, model_path: str, output) -> tuple[dict, str | None]:
    """``(finetune config dict, launcher)`` from an experiment's ``[finetune]`` table."""
    doc = dict(config.finetune)
    launcher = doc.pop("launcher", None)
    if launcher is not None and not (isinstance(launcher, str) and launcher.strip()):
        raise ConfigError(f"{config.where('finetune')}: launcher must be a command such as "
                          f"\"accelerate launch --num_processes 8\", got {launcher!r}")
    for key in ("model", "output"):
        if key in doc:
            raise ConfigError(f"{config.where('finetune')}: {key} is set by the experiment ([model] and the "
                              "run directory); remove it from [finetune]")
    model = {"path": model_path, "dtype": config.model.dtype, "trust_remote_code": config.model.trust_remote_code}
    return {**doc, "model": model, "output": str(output)}, launcher


def _validated(config, model_path: str, output):
    from .config import config_from_dict

    doc, launcher = finetune_doc(config, model_path, output)
    return config_from_dict(doc, base_dir=Path(config.base_dir), where=config.where("finetune")), launcher


class FinetuneStage:
    name = "finetune"
    inputs = needs = ("model",)
    always = False

    def applies(self, config) -> bool:
        return config.finetune is not None

    def check(self, config) -> None:
        _validated(config, config.model.path or "tiny-model", "unused")

    def settings(self, config) -> dict:
        return {"finetune": dict(config.finetune)}

    def plan(self, config) -> dict:
        ft, launcher = _validated(config, config.model.path or "tiny-model", "unused")
        runs = [(o, s) for o in ft.objectives for s in ft.seeds]
        budgets = list(ft.train.budgets)
        if budgets:
            tokens_per_run = max(budgets)
        else:  # max_steps only: an upper bound from the batch and the longest sequence
            tokens_per_run = ft.train.max_steps * ft.train.batch_size * ft.data.max_length
        weighted = sum(STEP_COST.get(o, 1.0) for o, _ in runs) * tokens_per_run
        return {"objectives": list(ft.objectives), "seeds": list(ft.seeds), "runs": len(runs),
                "budgets": budgets, "thresholds": list(ft.capability.thresholds),
                "checkpoints_at_most": len(runs) * (len(budgets) + len(ft.capability.thresholds)),
                "train_tokens": len(runs) * tokens_per_run, "sft_equivalent_tokens": round(weighted),
                "lora": ft.lora is not None, "launcher": launcher}

    def outputs(self, ctx) -> list:
        return [ctx.layout.manifest]

    def run(self, ctx) -> StageResult:
        out = ctx.layout.finetune
        ft, launcher = _validated(ctx.config, ctx.model_path, out)
        out.mkdir(parents=True, exist_ok=True)
        if launcher:
            job = out / "experiment_finetune.json"
            doc, _ = finetune_doc(ctx.config, ctx.model_path, out)
            write_json_atomic(job, {"config": doc, "base_dir": ctx.config.base_dir,
                                    "where": ctx.config.where("finetune")})
            cmd = shlex.split(launcher) + ["-m", "finetune.stage", str(job)]
            ctx.log("finetune: " + " ".join(shlex.quote(c) for c in cmd))
            done = subprocess.run(cmd, check=False)
            if done.returncode != 0:
                raise ConfigError(f"the finetune launcher exited with status {done.returncode}: "
                                  f"{' '.join(cmd)}; its own output above says why")
            grid = json.loads((out / "grid.json").read_text(encoding="utf-8"))
            return StageResult({"runs": len(grid.get("runs", [])), "launcher": launcher})
        from .grid import run_grid

        results = run_grid(ft, output=out, progress=ctx.progress)
        return StageResult({"runs": len(results),
                            "checkpoints": sum(len(r.checkpoints) for r in results),
                            "steps": {f"{r.objective}/seed{r.seed}": r.steps for r in results}})


STAGE = FinetuneStage()


def main(argv=None) -> int:
    """``python -m finetune.stage JOB.json``: train the grid of a job file the stage wrote."""
    from .config import config_from_dict
    from .grid import run_grid

    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m finetune.stage JOB.json", file=sys.stderr)
        return 2
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    cfg = config_from_dict(job["config"], base_dir=Path(job["base_dir"]), where=job["where"])
    run_grid(cfg, progress=sys.stderr.isatty())
    return 0


if __name__ == "__main__":
    sys.exit(main())

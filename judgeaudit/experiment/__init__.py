"""The end-to-end experiment: one TOML config from fine-tuning to the report.

``judgeaudit run EXPERIMENT.toml`` (or :func:`run_experiment`) runs the stages in
order: the base model, the fine-tuning grid (``finetune``), generation on safety
prompts and capability probes, judges, coherence scorers, the labelling sample
(``annotation``), the labels, the audit and the experiment report (built by :mod:`judgeaudit.report.experiment`).  Every stage is
resumable; see :mod:`judgeaudit.experiment.runner` and ``docs/experiment.md``.
"""

from .config import ExperimentConfig, experiment_from_dict, load_experiment
from .plan import format_plan, plan_experiment
from .runner import RunOutcome, check_experiment, read_state, run_experiment

__all__ = ["ExperimentConfig", "load_experiment", "experiment_from_dict", "run_experiment", "check_experiment",
           "read_state", "RunOutcome", "plan_experiment", "format_plan"]

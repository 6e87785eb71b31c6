"""Fine-tuning with six objectives under one trainer (issue 5).

Objectives (one module each under :mod:`finetune.objectives`): ``sft``, ``dpo``,
``conditional``, ``inoculation``, ``orpo``, ``kl_sft``.  Only the objective changes
between runs; model, data, optimiser and batch size are held fixed.  Checkpoints are
saved at token budgets and where a capability score first crosses thresholds; a grid
writes ``manifest.json`` (:func:`judgeaudit.generation.base.write_manifest`).

``finetune`` depends on ``judgeaudit``, never the other way round.  Importing it does
not import torch.

>>> from finetune import load_config, run_grid            # doctest: +SKIP
>>> results = run_grid(load_config("finetune.toml"))      # doctest: +SKIP
"""

from .config import (CapabilityConfig, DataConfig, FinetuneConfig, LoraConfig, ModelConfig, TrainConfig,
                     config_from_dict, load_config)
from .data import DataReport, Example, load_hf_dataset, load_jsonl, tokenize_examples
from .grid import run_grid
from .objectives import OBJECTIVES, Objective, available_objectives, get_objective, register_objective
from .tasks import arithmetic_examples, exact_match, instruction_examples
from .trainer import RunResult, StepInfo, train_run

__all__ = [
    "CapabilityConfig", "DataConfig", "FinetuneConfig", "LoraConfig", "ModelConfig", "TrainConfig",
    "config_from_dict", "load_config", "DataReport", "Example", "load_hf_dataset", "load_jsonl",
    "tokenize_examples", "run_grid", "OBJECTIVES", "Objective", "available_objectives", "get_objective",
    "register_objective", "arithmetic_examples", "exact_match", "instruction_examples", "RunResult",
    "StepInfo", "train_run",
]

"""From a :class:`~finetune.config.DataConfig` to training and eval examples.

The task data do not depend on the objective or the run seed (data seed 0), so that
every run of a grid trains on the same examples; the run seed orders the batches.
Eval examples: the arithmetic task draws a disjoint set of problems; other tasks
read ``capability.path`` when given, else hold out the last 10 % (at least one) of
the training examples.
"""

from __future__ import annotations

from pathlib import Path

from judgeaudit.errors import ConfigError

from .config import FinetuneConfig
from .data import Example, load_hf_dataset, load_jsonl
from .tasks import arithmetic_examples, instruction_examples, with_base_model_rejections, \
    with_corrupted_rejections

__all__ = ["load_task_examples", "prepare_examples"]

DATA_SEED = 0


def _fields(data) -> dict:
    return {"prompt_field": data.prompt_field, "response_field": data.response_field,
            "rejected_field": data.rejected_field if data.rejected == "dataset" else None,
            "answer_field": data.answer_field}


def load_task_examples(config: FinetuneConfig) -> tuple[list[Example], list[Example]]:
    """``(train, eval)`` examples for ``config.data`` and ``config.capability``."""
    data, cap = config.data, config.capability
    if data.task == "arithmetic":
        train = arithmetic_examples(data.n_train, seed=DATA_SEED, max_operand=data.max_operand)
        evals = arithmetic_examples(cap.n_eval, seed=DATA_SEED + 1, max_operand=data.max_operand,
                                    exclude={ex.prompt for ex in train})
        return train, evals
    if data.task == "instructions":
        train = instruction_examples()
    elif data.task == "jsonl":
        train = load_jsonl(Path(data.path), **_fields(data))
    else:
        train = load_hf_dataset(data.name, split=data.split, data_files=data.data_files, **_fields(data))
    if cap.path:
        fields = _fields(data)
        fields["rejected_field"] = None
        evals = load_jsonl(Path(cap.path), **fields)
    else:
        n_hold = max(1, len(train) // 10)
        if len(train) < 2:
            raise ConfigError("need at least 2 examples to hold one out for the capability eval; "
                              "or set capability.path")
        train, evals = train[:-n_hold], train[-n_hold:]
    return train, evals


def prepare_examples(config: FinetuneConfig, *, paired: bool, model=None, tokenizer=None
                     ) -> tuple[list[Example], list[Example], dict]:
    """Train and eval examples, with rejected responses built when ``paired``.

    Returns ``(train, eval, info)``; ``info`` says how rejections were made and how
    many ``base_sample`` answers fell back to corruption.
    """
    train, evals = load_task_examples(config)
    info: dict = {"n_train": len(train), "n_eval": len(evals)}
    if paired:
        how = config.data.rejected
        info["rejected"] = how
        if how == "corrupt":
            train = with_corrupted_rejections(train, seed=DATA_SEED)
        elif how == "base_sample":
            if model is None:
                raise ConfigError("rejected = 'base_sample' needs the base model")
            train, info["n_base_sample_fallback"] = with_base_model_rejections(
                train, model, tokenizer, seed=DATA_SEED, max_new_tokens=config.capability.max_new_tokens * 4)
    return train, evals, info

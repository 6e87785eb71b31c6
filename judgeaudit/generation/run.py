"""``run_generation``: checkpoints x prompts x samples into a generations table, resumably.

Written through the one resumable writer, :class:`judgeaudit.tables.ResumableWriter`.
Layout on disk, for ``out = runs/x/generations.parquet``:

* ``runs/x/generations.parquet``: the table (any suffix :func:`~judgeaudit.tables.write_table`
  takes), rewritten atomically when a run finishes;
* ``runs/x/generations.parquet.parts/part-*.parquet``: one file per finished chunk, each
  written atomically while the run goes; merged into ``out`` and removed at the end.  A run
  that is killed keeps every finished chunk (:func:`~judgeaudit.tables.read_resumable`
  reads them);
* ``runs/x/prompts.parquet``: the prompts that were sent (merged with an existing one).

A rerun skips every (prompt_id, checkpoint_id, sample_index) already written
(``item_id`` hashes the response, so it cannot be the resumption key).  A request that
failed is a row with status ``error`` and its error text; a rerun retries it only with
``retry_errors=True`` (``judgeaudit generate --retry-errors``).  A checkpoint with
nothing left to do is not loaded.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from judgeaudit.errors import ConfigError, ValidationError
from judgeaudit.tables import ResumableWriter, make_item_id, parts_dir, read_table, validate, write_table

from judgeaudit.progress import Progress
from .base import (
    BACKENDS,
    Backend,
    CheckpointSpec,
    GenerationConfig,
    build_conversation,
    complete,
    policy_applies,
    sample_seeds,
)

__all__ = ["GenerationSummary", "run_generation", "backend_for_checkpoint", "parts_dir"]

@dataclass(frozen=True)
class GenerationSummary:
    """What a :func:`run_generation` call did."""

    out: str
    prompts_out: str | None
    n_rows: int
    n_new: int
    n_skipped: int
    n_errors: int
    seconds: float
    per_checkpoint: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"out": self.out, "prompts_out": self.prompts_out, "n_rows": self.n_rows,
                "n_new": self.n_new, "n_skipped": self.n_skipped, "n_errors": self.n_errors,
                "seconds": round(self.seconds, 3),
                "per_checkpoint": {k: dict(v) for k, v in self.per_checkpoint.items()}}


def backend_for_checkpoint(backend: str | Backend | Callable[[CheckpointSpec], Backend],
                           spec: CheckpointSpec, *, options: Mapping[str, Any] | None = None,
                           previous: Backend | None = None) -> Backend:
    """The backend that generates for ``spec``.

    ``backend`` is a registered name (built with ``model=spec.path``,
    ``adapter_path=spec.adapter_path``, ``checkpoint_id`` and ``options``), a callable
    ``spec -> Backend``, or a ready backend used as is.  A previous backend with
    ``with_adapter`` (vLLM) serving the same base model is reused with the new adapter.
    """
    if isinstance(backend, str):
        if previous is not None and hasattr(previous, "with_adapter") \
                and getattr(previous, "model_name", None) == spec.path \
                and (spec.adapter_path is None or getattr(previous, "enable_lora", False)):
            return previous.with_adapter(spec.adapter_path, checkpoint_id=spec.checkpoint_id)
        return BACKENDS.build(backend, model=spec.path, adapter_path=spec.adapter_path,
                              checkpoint_id=spec.checkpoint_id, **dict(options or {}))
    if isinstance(backend, Backend) and not isinstance(backend, type):  # a class is a factory
        return backend
    if callable(backend):
        return backend(spec)
    raise ConfigError(f"backend must be a name ({', '.join(BACKENDS.names())}), a Backend or a "
                      f"callable; got {type(backend).__name__}")


def _as_specs(checkpoints) -> list[CheckpointSpec]:
    if isinstance(checkpoints, (str, os.PathLike, CheckpointSpec)):
        checkpoints = [checkpoints]
    specs = [c if isinstance(c, CheckpointSpec) else CheckpointSpec(str(c), path=str(c))
             for c in checkpoints]
    if not specs:
        raise ConfigError("no checkpoints given; pass --model PATH or --manifest FILE")
    seen = set()
    for s in specs:
        if s.checkpoint_id in seen:
            raise ConfigError(f"checkpoint_id {s.checkpoint_id!r} is given twice")
        seen.add(s.checkpoint_id)
    return specs


def _write_prompts(prompts: pd.DataFrame, path: Path) -> Path:
    if path.exists():
        old = read_table(path, "prompts")
        both = old.merge(prompts[["prompt_id", "text"]], on="prompt_id", suffixes=("", "_new"))
        clash = both[both["text"] != both["text_new"]]
        if len(clash):
            raise ValidationError(f"prompt {clash['prompt_id'].iloc[0]!r} has another text than in "
                                  "this run; write to another --out folder", path=path)
        prompts = pd.concat([old, prompts[~prompts["prompt_id"].isin(old["prompt_id"])]],
                            ignore_index=True)
    return write_table(prompts, path, "prompts")


def _close(backend) -> None:
    close = getattr(backend, "close", None)
    if close is not None:
        close()


def run_generation(checkpoints: Sequence[CheckpointSpec | str] | CheckpointSpec | str,
                   prompts: pd.DataFrame, *, config: GenerationConfig,
                   backend: str | Backend | Callable[[CheckpointSpec], Backend] = "transformers",
                   out, backend_options: Mapping[str, Any] | None = None,
                   prompt_policy: str = "recorded", system_prompt: str | None = None,
                   chunk_size: int = 256, prompts_out: str | os.PathLike | None | bool = True,
                   retry_errors: bool = False, progress: bool | None = None) -> GenerationSummary:
    """Generate ``config.n_samples`` responses per prompt per checkpoint into ``out``.

    Parameters
    ----------
    checkpoints:
        :class:`CheckpointSpec` objects, or model paths / hub ids (the id is the path).
    prompts:
        A prompts table (``prompt_id``, ``text``...), validated here.
    config:
        The sampling settings; each row records ``gen_config_hash``, a hash of these,
        the backend's settings, the checkpoint and the prompt policy used.
    backend:
        A registered backend name, a :class:`Backend` or a callable ``spec -> Backend``.
    out:
        The generations table to write (parquet, jsonl or csv); see the module docstring.
    backend_options:
        Extra keyword options for a backend built by name (``batch_size``, ``chat_template``...).
    prompt_policy:
        ``recorded`` (each checkpoint's ``apply_at_test``), ``apply`` or ``withhold``.
    system_prompt:
        A system prompt for every checkpoint whose applied policy gives none.
    chunk_size:
        Requests per chunk file (the unit of progress that a killed run keeps).
    prompts_out:
        Where the prompts table goes: ``True`` (default) writes ``prompts.parquet`` beside
        ``out``, a path writes there, ``False`` / ``None`` writes none.
    retry_errors:
        Send again the requests whose rows have status ``error`` (by default a rerun
        keeps them, like every other written row).
    progress:
        Draw a progress line on stderr (default: when stderr is a terminal).

    Returns
    -------
    GenerationSummary
    """
    started = time.perf_counter()
    specs = _as_specs(checkpoints)
    policy_applies(specs[0].prompt_policy, prompt_policy)  # validates the mode
    if chunk_size < 1:
        raise ConfigError(f"chunk_size must be at least 1, got {chunk_size}")
    if prompts is None or len(prompts) == 0:
        raise ConfigError("the prompt set is empty; give a prompt set with at least one prompt")
    prompts = validate(prompts, "prompts")
    out = Path(out)
    writer = ResumableWriter(out, "generations")
    done = {ckpt: set(zip(rows["prompt_id"], rows["sample_index"].astype(int)))
            for ckpt, rows in ((s.checkpoint_id, writer.done(s.checkpoint_id, retry_errors=retry_errors))
                               for s in specs)}
    work_by_ckpt = {s.checkpoint_id: [(p, i) for p in prompts.itertuples(index=False)
                                      for i in range(config.n_samples)
                                      if (p.prompt_id, i) not in done[s.checkpoint_id]]
                    for s in specs}
    total = sum(len(w) for w in work_by_ckpt.values())
    bar = Progress(total, "generate", enabled=progress)
    per_ckpt: dict[str, dict[str, int]] = {}
    n_new = n_err = 0
    current = None
    try:
        for spec in specs:
            work = work_by_ckpt[spec.checkpoint_id]
            per_ckpt[spec.checkpoint_id] = {"new": 0, "skipped": len(prompts) * config.n_samples - len(work),
                                            "errors": 0}
            if not work:
                continue
            nxt = backend_for_checkpoint(backend, spec, options=backend_options, previous=current)
            if current is not None and nxt is not current and isinstance(backend, str):
                _close(current)
                gc.collect()
            current = nxt
            applied = policy_applies(spec.prompt_policy, prompt_policy)
            gen_hash = config.config_hash(backend=current.config(), checkpoint=spec.to_dict(),
                                          policy={"applied": applied, "system_prompt": system_prompt})
            writer.check_config(spec.checkpoint_id, gen_hash,
                                advice="write to another --out file or delete the old one")
            for start in range(0, len(work), chunk_size):
                chunk = work[start:start + chunk_size]
                convs = [build_conversation(p.text, spec.prompt_policy, mode=prompt_policy,
                                            system_prompt=system_prompt) for p, _ in chunk]
                seeds = sample_seeds(config, [i for _, i in chunk], [p.prompt_id for p, _ in chunk])
                results = complete(current, convs, config, seeds=seeds)
                if len(results) != len(chunk):
                    raise ConfigError(f"backend {getattr(current, 'backend_id', current)!r} returned "
                                      f"{len(results)} completions for {len(chunk)} requests")
                rows = pd.DataFrame({
                    "item_id": [make_item_id(p.prompt_id, spec.checkpoint_id, i, r.text)
                                for (p, i), r in zip(chunk, results)],
                    "prompt_id": [p.prompt_id for p, _ in chunk],
                    "checkpoint_id": spec.checkpoint_id,
                    "sample_index": [i for _, i in chunk],
                    "response": [r.text for r in results],
                    "gen_config_hash": gen_hash,
                    "status": [r.status for r in results],
                    "error": [r.error for r in results],
                    "policy_applied": applied,
                })
                writer.append(rows)
                errs = int((rows["status"] == "error").sum())
                n_new += len(rows) - errs
                n_err += errs
                per_ckpt[spec.checkpoint_id]["new"] += len(rows) - errs
                per_ckpt[spec.checkpoint_id]["errors"] += errs
                bar.update(len(chunk), spec.checkpoint_id)
    finally:
        bar.close()
        if current is not None and isinstance(backend, str):
            _close(current)
    merged = writer.finish()
    written = None
    if prompts_out:
        target = out.parent / "prompts.parquet" if prompts_out is True else Path(prompts_out)
        written = str(_write_prompts(prompts, target))
    if n_err:
        print(f"judgeaudit: {n_err} request(s) failed; they are rows with status 'error' and a "
              "rerun with --retry-errors (retry_errors=True) sends them again", file=sys.stderr, flush=True)
    n_skipped = sum(v["skipped"] for v in per_ckpt.values())
    return GenerationSummary(out=str(out), prompts_out=written, n_rows=len(merged), n_new=n_new,
                             n_skipped=n_skipped, n_errors=n_err,
                             seconds=time.perf_counter() - started, per_checkpoint=per_ckpt)

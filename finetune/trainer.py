"""One trainer for every objective: only the objective changes.

:func:`train_run` trains one (objective, seed) with the config's model, data,
optimiser (AdamW, linear warm-up then constant learning rate) and batch size, on
top of `accelerate` (one process on a CPU or GPU; several GPUs with
``accelerate launch --config_file ...``).  It

* saves a model checkpoint when the training tokens seen first reach each budget,
  and where the capability score first reaches each threshold (evaluated every
  ``capability.every`` steps, and once before training);
* saves its state every ``train.save_every`` steps and resumes from the newest one
  when started again on the same run folder, reaching the same weights as an
  uninterrupted run (batches are a function of the seed and the step);
* records the resolved config, package versions and git revision, the data report,
  a per-step history and the checkpoint specs in the run folder.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from judgeaudit.atomic import write_text_atomic
from judgeaudit.errors import ConfigError
from judgeaudit.generation.base import CheckpointSpec

from .checkpoints import load_latest_state, save_model_checkpoint, save_state, write_json
from .config import FinetuneConfig, json_ready
from .data import collate, tokenize_examples
from .objectives import get_objective, outputs_from_logits, prediction_mask

__all__ = ["StepInfo", "RunResult", "train_run", "run_environment", "batch_indices"]

log = logging.getLogger("finetune")


@dataclass(frozen=True)
class StepInfo:
    """What a callback sees after each optimiser step (and its state save, if any).

    ``seconds`` is the step's own time (forward, reference, backward, optimiser) and
    ``cpu_seconds`` this process's CPU time over the same span; ``tokens`` the tokens
    it processed (all sequences, pads excluded).
    """

    step: int
    tokens_seen: int
    loss: float
    metrics: dict
    seconds: float = 0.0
    tokens: int = 0
    cpu_seconds: float = 0.0


@dataclass(frozen=True)
class RunResult:
    """The outcome of one run."""

    run_dir: Path
    objective: str
    seed: int
    steps: int
    tokens_seen: int
    final_loss: float
    tokens_per_second: float
    checkpoints: tuple = ()
    capability: tuple = ()
    unreached_budgets: tuple = ()
    unreached_thresholds: tuple = ()
    data_report: dict = field(default_factory=dict)
    resumed_from: int | None = None


def run_environment() -> dict:
    """Python, package versions (training stack included) and the git revision."""
    from judgeaudit.runinfo import CORE_PACKAGES, environment

    return environment(packages=CORE_PACKAGES + ("torch", "transformers", "tokenizers", "peft",
                                                 "accelerate", "judgeaudit"))


def batch_indices(step: int, *, n_items: int, batch_size: int, seed: int) -> list[int]:
    """Item indices of (1-based) ``step``: epochs of seeded permutations, read in order.

    A function of its arguments only, so a resumed run sees exactly the batches an
    uninterrupted one would.
    """
    import numpy as np

    start = (step - 1) * batch_size
    out: list[int] = []
    while len(out) < batch_size:
        epoch, offset = divmod(start + len(out), n_items)
        perm = np.random.default_rng([seed, epoch]).permutation(n_items)
        out.extend(int(i) for i in perm[offset: offset + batch_size - len(out)])
    return out


def _load(config: FinetuneConfig):
    from judgeaudit.hfmodels import load_tokenizer, require_torch

    torch, transformers = require_torch()
    tok = load_tokenizer(config.model.path, trust_remote_code=config.model.trust_remote_code,
                         padding_side="left")
    if config.data.chat_template:
        tok.chat_template = Path(config.data.chat_template).read_text(encoding="utf-8")
    try:
        model = transformers.AutoModelForCausalLM.from_pretrained(
            config.model.path, dtype=getattr(torch, config.model.dtype),
            trust_remote_code=config.model.trust_remote_code)
    except OSError as exc:
        raise ConfigError(f"cannot load a model from {config.model.path!r}: {exc}") from None
    model.config.use_cache = False
    return model, tok


def _adamw(torch, params, tc):
    """AdamW, the fused kernel where torch has one for these parameters (CPU and CUDA)."""
    try:
        return torch.optim.AdamW(params, lr=tc.learning_rate, weight_decay=tc.weight_decay, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.AdamW(params, lr=tc.learning_rate, weight_decay=tc.weight_decay)


def _wrap_lora(model, lora):
    try:
        import peft
    except ImportError:
        from judgeaudit.errors import MissingExtraError

        raise MissingExtraError("peft", "finetune") from None
    cfg = peft.LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                          target_modules=list(lora.target_modules), task_type="CAUSAL_LM")
    return peft.get_peft_model(model, cfg)


def _sequences(items, idx, paired):
    if not paired:
        return [items[i] for i in idx]
    return [items[i][0] for i in idx] + [items[i][1] for i in idx]


def _keeps_selected_logits(model) -> bool:
    """Whether ``model`` takes a boolean ``logits_to_keep`` mask (transformers >= 5)."""
    import inspect

    try:
        from transformers.modeling_utils import slice_logits_to_keep  # noqa: F401
    except ImportError:
        return False
    base = model
    while hasattr(base, "module"):  # DDP
        base = base.module
    if hasattr(base, "get_base_model"):  # peft
        base = base.get_base_model()
    return "logits_to_keep" in inspect.signature(base.forward).parameters


def _forward(model, batch, keep, *, selected: bool = False):
    """Run ``model`` on ``batch``; with ``selected``, project only the response positions."""
    kwargs = {"logits_to_keep": prediction_mask(batch)} if selected else {}
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                   use_cache=False, **kwargs).logits
    return outputs_from_logits(logits, batch, keep_log_probs=keep)


def _cached_reference(model, items, *, pad_id, device, batch_size, path: Path):
    """Sequence log-probs of every (chosen, rejected) under the initial model, once."""
    import torch

    if path.is_file():
        return torch.load(path, map_location="cpu")
    model.eval()
    rows = []
    with torch.no_grad():
        for start in range(0, len(items), batch_size):
            idx = list(range(start, min(start + batch_size, len(items))))
            batch = collate(_sequences(items, idx, True), pad_id=pad_id, device=device)
            seq = _forward(model, batch, False, selected=_keeps_selected_logits(model)).seq_logps.float().cpu()
            rows.append(torch.stack([seq[: len(idx)], seq[len(idx):]], dim=1))
    model.train()
    table = torch.cat(rows)
    tmp = path.with_suffix(".tmp")
    torch.save(table, tmp)
    tmp.replace(path)
    return table


def _progress(total: int, desc: str):
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="tok", unit_scale=True, file=sys.stderr,
                disable=not sys.stderr.isatty(), leave=False)


def _resolved(config: FinetuneConfig, objective, seed: int) -> dict:
    doc = config.to_dict()
    doc.pop("objectives"), doc.pop("seeds"), doc.pop("output")
    doc["objective"] = {"name": objective.name, **json_ready(objective.options())}
    doc["seed"] = seed
    return doc


def train_run(config: FinetuneConfig, objective_name: str, seed: int, *, run_dir,
              callbacks: Sequence[Callable[[StepInfo], None]] = (), progress: bool = True) -> RunResult:
    """Train ``objective_name`` with ``seed`` into ``run_dir`` (resuming if it holds a state).

    ``callbacks`` run after every step; one that raises stops the run (its state up
    to the last save survives, so calling again resumes).
    """
    import torch
    from accelerate import Accelerator

    from judgeaudit.threads import apply_to_torch

    from .capability import get_capability_eval
    from .prepare import prepare_examples

    apply_to_torch()  # the thread count the CLI (or a caller) chose

    run_dir = Path(run_dir)
    objective = get_objective(objective_name, **config.objective_options(objective_name))
    resolved = _resolved(config, objective, seed)
    stored = run_dir / "config.json"
    if stored.is_file() and json.loads(stored.read_text()) != resolved:
        raise ConfigError(f"{run_dir} holds a run with a different config; use a new output folder "
                          f"(or delete {run_dir} to start over)")
    accelerator = Accelerator()
    main = accelerator.is_main_process
    if main:
        write_json(stored, resolved)
        write_json(run_dir / "environment.json", run_environment())
    torch.manual_seed(seed)
    model, tok = _load(config)
    train_examples, eval_examples, data_info = prepare_examples(config, paired=objective.paired,
                                                                model=model, tokenizer=tok)
    items, report = tokenize_examples(train_examples, tok, objective.conversation, paired=objective.paired,
                                      max_length=config.data.max_length, overlong=config.data.overlong)
    data_report = {**report.to_dict(), **data_info}
    if main:
        write_json(run_dir / "data_report.json", data_report)
    cap_opts = {"max_new_tokens": config.capability.max_new_tokens} \
        if config.capability.metric == "exact_match" else {"max_length": config.data.max_length}
    capability = get_capability_eval(config.capability.metric, eval_examples, **cap_opts)

    if config.lora is not None:
        model = _wrap_lora(model, config.lora)
    reference_model = None
    if objective.reference == "live" and config.lora is None:
        import copy

        reference_model = copy.deepcopy(model).eval().requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    tc = config.train
    optimizer = _adamw(torch, params, tc)
    model, optimizer = accelerator.prepare(model, optimizer)
    device = accelerator.device
    if reference_model is not None:
        reference_model.to(device)
    unwrapped = accelerator.unwrap_model(model)
    selected = _keeps_selected_logits(unwrapped)
    pad_id = tok.pad_token_id
    cached = None
    if objective.reference == "cached":
        cached = _cached_reference(unwrapped, items, pad_id=pad_id, device=device,
                                   batch_size=tc.batch_size * 4, path=run_dir / "reference_logps.pt")

    meta = load_latest_state(run_dir, model=unwrapped, optimizer=optimizer) or {}
    resumed_from = meta.get("step")
    step = int(meta.get("step", 0))
    tokens_seen = int(meta.get("tokens_seen", 0))
    specs = [CheckpointSpec.from_dict(d) for d in meta.get("checkpoints", [])]
    history_cap = [tuple(x) for x in meta.get("capability", [])]
    saved_budgets = set(meta.get("saved_budgets", []))
    crossed = set(meta.get("crossed_thresholds", []))
    train_time = float(meta.get("train_time", 0.0))
    train_tokens = int(meta.get("train_tokens", 0))
    last_loss = float(meta.get("last_loss", math.nan))
    policy = objective.prompt_policy()
    base_path = str(Path(config.model.path).resolve()) if Path(config.model.path).exists() else config.model.path
    world = accelerator.num_processes

    def save_checkpoint(kind: str, label: str, score, threshold=None, budget=None):
        name = f"{kind}-{label}"
        folder = (run_dir / "checkpoints" / name).resolve()
        spec = CheckpointSpec(
            checkpoint_id=f"{objective.name}/seed{seed}/{name}",
            path=base_path if config.lora is not None else str(folder),
            adapter_path=str(folder) if config.lora is not None else None,
            objective=objective.name, budget_tokens=budget, step=step, seed=seed,
            capability_score=score, capability_threshold=threshold, prompt_policy=policy,
            extra={"kind": kind, "tokens_seen": tokens_seen, "objective_options": json_ready(objective.options()),
                   "lora": config.lora is not None, "base_model": base_path,
                   "capability_metric": capability.name, "capability_n": config.capability.n_eval,
                   "loss": None if math.isnan(last_loss) else last_loss})
        if main:
            save_model_checkpoint(folder, unwrapped, tok, spec_dict=spec.to_dict())
        specs.append(spec)

    def evaluate():
        if history_cap and history_cap[-1][0] == step:
            return history_cap[-1][2]
        score = float(capability(unwrapped, tok))
        history_cap.append((step, tokens_seen, score))
        for thr in config.capability.thresholds:
            if thr not in crossed and score >= thr:
                crossed.add(thr)
                save_checkpoint("capability", f"{thr:g}", score, threshold=thr)
        return score

    def state_meta():
        return {"tokens_seen": tokens_seen, "checkpoints": [s.to_dict() for s in specs],
                "capability": [list(c) for c in history_cap], "saved_budgets": sorted(saved_budgets),
                "crossed_thresholds": sorted(crossed), "train_time": train_time,
                "train_tokens": train_tokens, "last_loss": None if math.isnan(last_loss) else last_loss}

    max_budget = max(tc.budgets) if tc.budgets else None

    def done():
        return (tc.max_steps is not None and step >= tc.max_steps) or \
            (max_budget is not None and tokens_seen >= max_budget)

    history_path = run_dir / "history.jsonl"
    if main and history_path.is_file():  # drop the steps after the state we resumed from
        rows = [r for r in history_path.read_text(encoding="utf-8").splitlines()
                if r.strip() and json.loads(r)["step"] <= step]
        write_text_atomic(history_path, "".join(r + "\n" for r in rows))
    if step == 0 and not history_cap:
        evaluate()
    bar = _progress(max_budget or tc.max_steps, f"{objective.name} seed {seed}") if progress else None
    if bar is not None:
        bar.update(tokens_seen if max_budget else step)
    model.train()
    rank, global_bs = accelerator.process_index, tc.batch_size * world
    while not done():
        step += 1
        idx = batch_indices(step, n_items=len(items), batch_size=global_bs, seed=seed)
        idx = idx[rank * tc.batch_size:(rank + 1) * tc.batch_size]
        batch = collate(_sequences(items, idx, objective.paired), pad_id=pad_id, device=device)
        lr = tc.learning_rate * min(1.0, step / tc.warmup_steps) if tc.warmup_steps else tc.learning_rate
        for group in optimizer.param_groups:
            group["lr"] = lr
        t0, c0 = time.perf_counter(), time.process_time()
        policy_out = _forward(model, batch, objective.keep_log_probs, selected=selected)
        ref_out = None
        if objective.reference == "live":
            with torch.no_grad():
                if reference_model is None:
                    with unwrapped.disable_adapter():
                        ref_out = _forward(model, batch, True, selected=selected)
                else:
                    ref_out = _forward(reference_model, batch, True, selected=selected)
        elif cached is not None:
            from .objectives import Outputs

            pair = cached[idx].to(device)
            seq = torch.cat([pair[:, 0], pair[:, 1]])
            ref_out = Outputs(seq_logps=seq, n_tokens=torch.ones_like(seq))
        result = objective.loss(policy_out, ref_out, batch)
        accelerator.backward(result.loss)
        if tc.max_grad_norm:
            accelerator.clip_grad_norm_(params, tc.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        n_tok = int(accelerator.reduce(batch["attention_mask"].sum(), reduction="sum"))
        seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
        train_time += seconds
        tokens_seen += n_tok
        train_tokens += n_tok
        last_loss = float(result.loss.detach())
        if not math.isfinite(last_loss):
            raise ConfigError(f"{objective.name}: the loss became {last_loss} at step {step}; lower "
                              "train.learning_rate")
        if main:
            with history_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"step": step, "tokens_seen": tokens_seen, "lr": lr, "loss": last_loss,
                                     **result.metrics}) + "\n")
        if bar is not None:
            bar.update(n_tok if max_budget else 1)
            bar.set_postfix(loss=f"{last_loss:.3f}", tok_s=f"{train_tokens / max(train_time, 1e-9):.0f}")
        for b in tc.budgets:
            if b not in saved_budgets and tokens_seen >= b:
                saved_budgets.add(b)
                score = evaluate()
                save_checkpoint("budget", str(b), score, budget=b)
        if step % config.capability.every == 0:
            evaluate()
        if step % tc.save_every == 0 or done():
            accelerator.wait_for_everyone()
            if main:
                save_state(run_dir, step=step, model=unwrapped, optimizer=optimizer, meta=state_meta())
        info = StepInfo(step, tokens_seen, last_loss, dict(result.metrics), seconds, n_tok, cpu_seconds)
        for cb in callbacks:
            cb(info)
    if bar is not None:
        bar.close()
    if not tc.budgets and not any(s.extra.get("kind") == "final" for s in specs):
        save_checkpoint("final", f"step{step}", history_cap[-1][2] if history_cap else None)
        if main:
            save_state(run_dir, step=step, model=unwrapped, optimizer=optimizer, meta=state_meta())
    result = RunResult(
        run_dir=run_dir, objective=objective.name, seed=seed, steps=step, tokens_seen=tokens_seen,
        final_loss=last_loss, tokens_per_second=train_tokens / train_time if train_time else 0.0,
        checkpoints=tuple(specs), capability=tuple(history_cap),
        unreached_budgets=tuple(b for b in tc.budgets if b not in saved_budgets),
        unreached_thresholds=tuple(t for t in config.capability.thresholds if t not in crossed),
        data_report=data_report, resumed_from=resumed_from)
    if main:
        write_json(run_dir / "result.json", _result_dict(result))
    log.info("%s seed %d: %d steps, %d tokens, %.0f tokens/s, final loss %.4f", objective.name, seed, step,
             tokens_seen, result.tokens_per_second, last_loss)
    return result


def _result_dict(r: RunResult) -> dict:
    return {"objective": r.objective, "seed": r.seed, "steps": r.steps, "tokens_seen": r.tokens_seen,
            "final_loss": None if math.isnan(r.final_loss) else r.final_loss,
            "tokens_per_second": r.tokens_per_second,
            "checkpoints": [s.to_dict() for s in r.checkpoints],
            "capability": [{"step": s, "tokens_seen": t, "score": v} for s, t, v in r.capability],
            "unreached_budgets": list(r.unreached_budgets), "unreached_thresholds": list(r.unreached_thresholds),
            "data_report": r.data_report, "resumed_from": r.resumed_from}

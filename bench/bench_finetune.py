"""Benchmark: training speed of each objective, as a ratio to SFT, and against TRL.

Every run uses the same tiny Llama model (built offline), the same arithmetic data,
batch size, sequence limit, optimiser and number of steps.  A step's cost is the CPU
time of this process (``time.process_time``, one torch thread), so other processes on
a shared machine barely move it: for our trainer over forward, reference,
backward and optimiser (``StepInfo.cpu_seconds``; batches are built before), for TRL's
from its ``on_step_begin`` to ``on_step_end`` callback (its batches are fetched before
``on_step_begin``).  The first steps are dropped
as warm-up.  TRL's trainers (SFTTrainer for sft/conditional/inoculation, DPOTrainer
for dpo, ORPOTrainer for orpo; TRL has no KL-regularised SFT trainer) are timed per
step with a callback, bf16 and gradient checkpointing off (CPU).

    .venv/bin/python bench/bench_finetune.py [--steps 20] [--repeats 3] [--batch-size 8] [--hidden 64]

Goals: a DPO step <= 2.0x an SFT step, a KL-SFT step <= 1.4x, each objective faster
than TRL's trainer for it.  Ratios, not absolute times, are what carry over between
machines (run on a quiet machine: other processes inflate both sides).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

TRL_TRAINER = {"sft": "sft", "conditional": "sft", "inoculation": "sft", "dpo": "dpo", "orpo": "orpo"}


def ours(cfg, name, steps, warmup, tmp):
    from finetune import train_run

    times, tokens = [], []

    def record(info):
        if info.step > warmup:
            times.append(info.cpu_seconds)
            tokens.append(info.tokens)

    train_run(cfg, name, 0, run_dir=Path(tmp) / f"ours-{name}", callbacks=[record], progress=False)
    return statistics.median(times), sum(tokens) / sum(times)


def trl_run(cfg, name, steps, warmup, tmp, model_path):
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, TrainerCallback

    from finetune import get_objective
    from finetune.prepare import prepare_examples
    from judgeaudit.hfmodels import load_tokenizer

    objective = get_objective(name, **cfg.objective_options(name))
    train, _, _ = prepare_examples(cfg, paired=objective.paired)
    tok = load_tokenizer(model_path, padding_side="right")
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    kind = TRL_TRAINER[name]
    common = dict(output_dir=str(Path(tmp) / f"trl-{name}"), per_device_train_batch_size=cfg.train.batch_size,
                  learning_rate=cfg.train.learning_rate, max_steps=steps, bf16=False, gradient_checkpointing=False,
                  report_to=[], save_strategy="no", logging_steps=10 ** 6, use_cpu=True, max_length=cfg.data.max_length,
                  lr_scheduler_type="constant", warmup_steps=0, max_grad_norm=cfg.train.max_grad_norm,
                  dataloader_num_workers=0, disable_tqdm=True)
    assistant = lambda text: [{"role": "assistant", "content": text}]  # noqa: E731
    if kind == "sft":
        from trl import SFTConfig, SFTTrainer

        ds = Dataset.from_list([{"prompt": objective.conversation(e.prompt), "completion": assistant(e.response)}
                                for e in train])
        trainer = SFTTrainer(model=model, args=SFTConfig(**common), train_dataset=ds, processing_class=tok)
    else:
        ds = Dataset.from_list([{"prompt": objective.conversation(e.prompt), "chosen": assistant(e.response),
                                 "rejected": assistant(e.rejected)} for e in train])
        if kind == "dpo":
            from trl import DPOConfig, DPOTrainer

            args = DPOConfig(**common, beta=objective.beta, precompute_ref_log_probs=True)
            trainer = DPOTrainer(model=model, args=args, train_dataset=ds, processing_class=tok)
        else:
            from trl.experimental.orpo import ORPOConfig, ORPOTrainer

            trainer = ORPOTrainer(model=model, args=ORPOConfig(**common, beta=objective.lam), train_dataset=ds,
                                  processing_class=tok)
    times = []

    class Timer(TrainerCallback):
        def on_step_begin(self, args, state, control, **kw):
            self.t0 = time.process_time()

        def on_step_end(self, args, state, control, **kw):
            if state.global_step > warmup:
                times.append(time.process_time() - self.t0)

    trainer.add_callback(Timer())
    with contextlib.redirect_stdout(sys.stderr):  # TRL prints its metrics: keep stdout for the table
        trainer.train()
    return statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1: steadier on a shared CPU)")
    ap.add_argument("--objectives", default="sft,dpo,kl_sft,orpo,conditional,inoculation")
    ap.add_argument("--repeats", type=int, default=3,
                    help="rounds (ours and TRL alternate); the fastest round's median counts (default 3)")
    ap.add_argument("--no-trl", action="store_true")
    args = ap.parse_args(argv)

    import torch

    from finetune import config_from_dict
    from judgeaudit.tinymodel import build_tiny_model

    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    import logging

    logging.disable(logging.WARNING)
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    with tempfile.TemporaryDirectory() as tmp:
        model_path = build_tiny_model(Path(tmp) / "tiny", n_layers=args.layers, hidden_size=args.hidden)
        cfg = config_from_dict({
            "model": {"path": str(model_path)}, "data": {"task": "arithmetic", "n_train": 240, "max_length": 64},
            "train": {"batch_size": args.batch_size, "learning_rate": 1e-3, "max_steps": args.steps,
                      "save_every": 10 ** 6},
            "capability": {"every": 10 ** 6, "n_eval": 4}})
        names = [n.strip() for n in args.objectives.split(",") if n.strip()]
        rows = {}
        for r in range(args.repeats):
            for name in names:
                step, tps = ours(cfg, name, args.steps, args.warmup, Path(tmp) / f"r{r}")
                trl = None
                if not args.no_trl and name in TRL_TRAINER:
                    trl = trl_run(cfg, name, args.steps, args.warmup, Path(tmp) / f"r{r}", model_path)
                best = rows.get(name)
                if best is None or step < best[0]:
                    rows[name] = (step, tps, best[2] if best else None)
                if trl is not None and (rows[name][2] is None or trl < rows[name][2]):
                    rows[name] = (rows[name][0], rows[name][1], trl)
                print(f"... round {r + 1}: {name} done", file=sys.stderr, flush=True)
    sft_step = rows.get("sft", (None,))[0]
    sft_tps = rows.get("sft", (None, None))[1]
    print(f"tiny Llama {args.layers}x{args.hidden}, batch {args.batch_size}, {args.steps} steps "
          f"(median of steps > {args.warmup}, fastest of {args.repeats} rounds), {args.threads} thread(s)")
    print(f"{'objective':<12} {'CPU ms/step':>11} {'x SFT step':>10} {'tokens/s':>9} {'x SFT tok/s':>11} "
          f"{'TRL ms/step':>11} {'TRL / ours':>10}")
    for name, (step, tps, trl) in rows.items():
        ratio = f"{step / sft_step:.2f}" if sft_step else "-"
        tratio = f"{tps / sft_tps:.2f}" if sft_tps else "-"
        trl_ms = f"{trl * 1e3:.1f}" if trl else "n/a"
        speedup = f"{trl / step:.2f}" if trl else "n/a"
        print(f"{name:<12} {step * 1e3:11.1f} {ratio:>10} {tps:9.0f} {tratio:>11} {trl_ms:>11} {speedup:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

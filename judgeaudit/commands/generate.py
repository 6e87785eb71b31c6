"""``judgeaudit generate``: checkpoints x prompts x samples into a generations table.

    judgeaudit generate --model models/base --model sft=runs/sft/ckpt-1k \\
        --prompts harmful,benign_lookalike --attacks none,prefix_injection \\
        --n-samples 2 --temperature 0.7 --out runs/gen/generations.parquet

    judgeaudit generate --manifest runs/ft/manifest.json --prompts harmful --out gens.parquet

Resumable: a rerun skips every (prompt, checkpoint, sample) already in ``--out`` and
retries failed requests.  ``prompts.parquet`` is written beside ``--out``.  A summary
goes to stdout (``--json`` for JSON); progress and logs go to stderr.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["register", "load_prompts", "checkpoints_from_args"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "generate", help="generate responses from checkpoints (resumable)",
        description="Generate n samples per prompt per checkpoint with the transformers (default), "
                    "vllm or openai backend, and write a generations table.")
    src = p.add_argument_group("models")
    src.add_argument("--model", action="append", default=[], metavar="[ID=]PATH",
                     help="model folder or hub id (repeatable); ID=PATH names its checkpoint_id")
    src.add_argument("--manifest", type=Path, help="checkpoint manifest written by finetune")
    src.add_argument("--chat-template", type=Path, metavar="FILE",
                     help="Jinja chat template to use when a tokenizer ships none (or to replace it)")
    src.add_argument("--prompt-policy", default="recorded", choices=["recorded", "apply", "withhold"],
                     help="use each checkpoint's train-time system prompt / prefix as recorded in the "
                          "manifest (default), always, or never")
    src.add_argument("--system-prompt", default=None, help="system prompt where a policy gives none")
    pr = p.add_argument_group("prompts")
    pr.add_argument("--prompts", required=True, metavar="NAME_OR_FILE[,...]",
                    help="prompt set names (judgeaudit prompts list) or prompts table files, comma-separated")
    pr.add_argument("--split", default=None, help="split / category of the prompt set(s)")
    pr.add_argument("--attacks", default="none", metavar="A,B",
                    help="adversarial wrappers to add, comma-separated (default none: plain prompts only)")
    pr.add_argument("--limit", type=int, default=None, help="use only the first N prompts (after attacks)")
    g = p.add_argument_group("sampling")
    g.add_argument("--n-samples", type=int, default=1, help="samples per prompt (default 1)")
    g.add_argument("--temperature", type=float, default=0.0, help="0 is greedy (default 0)")
    g.add_argument("--top-p", type=float, default=1.0)
    g.add_argument("--max-new-tokens", type=int, default=128,
                   help="new tokens per answer (default 128: enough to see whether an answer complies; "
                        "each token costs a forward pass of every checkpoint)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--stop", action="append", default=[], help="stop string (repeatable)")
    b = p.add_argument_group("backend")
    b.add_argument("--backend", default="transformers", help="transformers (default), vllm or openai")
    b.add_argument("--batch-size", type=int, default=16, help="requests per batch (transformers, vllm)")
    b.add_argument("--device", default="auto", help="transformers: auto, cpu, cuda, cuda:1...")
    b.add_argument("--dtype", default="auto", help="auto, float32, float16 or bfloat16")
    b.add_argument("--base-url", default=None, help="openai: endpoint up to /v1 (default $OPENAI_BASE_URL)")
    b.add_argument("--api-key-env", default="OPENAI_API_KEY",
                   help="openai: environment variable holding the API key (default OPENAI_API_KEY)")
    b.add_argument("--concurrency", type=int, default=8, help="openai: requests in flight (default 8)")
    b.add_argument("--timeout", type=float, default=60.0, help="openai: seconds per request (default 60)")
    b.add_argument("--max-retries", type=int, default=5, help="openai: retries per request (default 5)")
    p.add_argument("--out", required=True, type=Path, help="generations table to write or resume")
    p.add_argument("--chunk-size", type=int, default=256, help="requests per chunk file (default 256)")
    p.add_argument("--retry-errors", action="store_true",
                   help="send again the requests whose rows in --out have status error (kept by default)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=_run)


def checkpoints_from_args(models, manifest):
    """CheckpointSpecs from ``--model [ID=]PATH`` values and/or a manifest."""
    from judgeaudit.errors import ConfigError
    from judgeaudit.generation import CheckpointSpec, load_manifest

    specs = list(load_manifest(manifest)) if manifest is not None else []
    for value in models:
        ident, sep, path = value.partition("=")
        if not sep or os.path.exists(value):
            ident, path = value, value
        if not ident.strip() or not path.strip():
            raise ConfigError(f"--model {value!r}: expected PATH or ID=PATH")
        specs.append(CheckpointSpec(ident, path=path))
    if not specs:
        raise ConfigError("give at least one --model PATH or a --manifest FILE")
    return specs


def load_prompts(names: str, *, split=None, attacks: str = "none", limit=None):
    """The prompts table of ``--prompts`` (names or files), with ``--attacks`` applied."""
    import pandas as pd

    from judgeaudit.errors import ConfigError
    from judgeaudit.tables import validate

    items = [n.strip() for n in names.split(",") if n.strip()]
    if not items:
        raise ConfigError("--prompts is empty; give a prompt set name or a prompts file")
    try:
        from judgeaudit.prompts import apply_attacks, load_prompt_set
    except ImportError:  # the prompts package is optional at this layer
        from judgeaudit.tables import read_table

        def load_prompt_set(name, split=None):
            return read_table(name, "prompts")

        apply_attacks = None
    frames = [load_prompt_set(n, split=split) for n in items]
    table = validate(pd.concat(frames, ignore_index=True), "prompts")
    wanted = [a.strip() for a in attacks.split(",") if a.strip()]
    if wanted and wanted != ["none"]:
        if apply_attacks is None:
            raise ConfigError("--attacks needs judgeaudit.prompts, which is not available")
        table = apply_attacks(table, wanted)
    if limit is not None:
        if limit < 1:
            raise ConfigError(f"--limit must be at least 1, got {limit}")
        table = table.head(limit).reset_index(drop=True)
    return table


def _backend_options(args, specs) -> dict:
    if args.backend == "openai":
        if args.chat_template is not None:
            from judgeaudit.errors import ConfigError

            raise ConfigError("--chat-template does not apply to --backend openai: the server renders "
                              "the conversation with its own template; set the template on the server")
        return {"base_url": args.base_url, "api_key_env": args.api_key_env,
                "concurrency": args.concurrency, "timeout": args.timeout, "max_retries": args.max_retries}
    options = {"batch_size": args.batch_size, "dtype": args.dtype}
    if args.chat_template is not None:
        options["chat_template"] = str(args.chat_template)
    if args.backend == "transformers":
        options["device"] = args.device
    if args.backend == "vllm" and any(s.adapter_path for s in specs):
        options["enable_lora"] = True  # one engine serves the base model and every adapter
    return options


def _run(args) -> int:
    import sys

    from judgeaudit.generation import GenerationConfig, available_backends, run_generation
    from judgeaudit.errors import UnknownNameError

    if args.backend not in available_backends():
        raise UnknownNameError("generation backend", args.backend, available_backends())
    specs = checkpoints_from_args(args.model, args.manifest)
    prompts = load_prompts(args.prompts, split=args.split, attacks=args.attacks, limit=args.limit)
    config = GenerationConfig(max_new_tokens=args.max_new_tokens, temperature=args.temperature,
                              top_p=args.top_p, n_samples=args.n_samples, seed=args.seed,
                              stop=tuple(args.stop))
    print(f"judgeaudit generate: {len(specs)} checkpoint(s) x {len(prompts)} prompt(s) x "
          f"{config.n_samples} sample(s) with {args.backend}", file=sys.stderr, flush=True)
    summary = run_generation(specs, prompts, config=config, backend=args.backend, out=args.out,
                             backend_options=_backend_options(args, specs), prompt_policy=args.prompt_policy,
                             system_prompt=args.system_prompt, chunk_size=args.chunk_size,
                             retry_errors=args.retry_errors)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print(f"{summary.out}: {summary.n_rows} rows ({summary.n_new} new, {summary.n_skipped} already "
              f"there, {summary.n_errors} failed) in {summary.seconds:.1f} s")
        for ckpt, counts in summary.per_checkpoint.items():
            print(f"  {ckpt}: {counts['new']} new, {counts['skipped']} skipped, {counts['errors']} failed")
        if summary.prompts_out:
            print(f"prompts: {summary.prompts_out}")
    return 1 if summary.n_errors else 0

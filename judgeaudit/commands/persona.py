"""``judgeaudit persona``: trait scores and drift from the base model, per checkpoint.

    judgeaudit persona --base models/base --manifest runs/ft/manifest.json \\
        --traits builtin --out runs/persona

Writes ``OUT/persona_scores.parquet`` (one row per checkpoint, prompt condition and
item; resumable) and ``OUT/persona_summary.json`` (per trait: score and drift with
95% intervals, items as clusters), and prints the drift table (``--json``: the summary).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["register"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "persona", help="persona drift per checkpoint: trait items scored by likelihood",
        description="Score yes/no trait items (model-written-evaluations format) on the base model and on "
                    "every checkpoint of a manifest: the probability of the behaviour-matching answer, "
                    "normalised over the two answers, from one forward pass per item. Prints each "
                    "checkpoint's drift from the base model per trait with its 95%% interval (items as "
                    "clusters). Inoculation and conditional checkpoints are also scored with their "
                    "training-time prompt.")
    p.add_argument("--base", help="the base model folder (drift is measured from it); default: the "
                                  "base_model the manifest's checkpoints record")
    p.add_argument("--manifest", type=Path, help="checkpoint manifest (finetune writes manifest.json)")
    p.add_argument("--traits", action="append", default=[], metavar="FILE|builtin[:NAME]",
                   help="trait item files (repeatable; default: builtin, the project's own three traits)")
    p.add_argument("--items-per-trait", type=int, default=None, metavar="N",
                   help="score a seeded sample of N items of each trait (default: all)")
    p.add_argument("--min-label-confidence", type=float, default=None,
                   help="leave out items whose label_confidence is below this")
    p.add_argument("--template", default="chat", choices=["chat", "plain"],
                   help="chat: the model's chat template (default); plain: 'Human: ...\\n\\nAssistant:'")
    p.add_argument("--chat-template", type=Path, default=None, help="a Jinja chat template file to use")
    p.add_argument("--prompt-policy", default="recorded", choices=["recorded", "apply", "withhold"],
                   help="the test-time prompt of each checkpoint (default: as its manifest records)")
    p.add_argument("--no-train-prompt", action="store_true",
                   help="do not also score inoculation/conditional checkpoints with their training prompt")
    p.add_argument("--batch-size", type=int, default=16, help="items per forward pass (default 16)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ... (default auto)")
    p.add_argument("--dtype", default="auto", help="auto, float32, bfloat16, float16 (default auto)")
    p.add_argument("--confidence", type=float, default=0.95, help="interval level (default 0.95)")
    p.add_argument("--seed", type=int, default=0, help="seed of --items-per-trait (default 0)")
    f = p.add_argument_group("free-form protocol (optional)")
    f.add_argument("--freeform", action="store_true",
                   help="also sample answers to open questions and score them with a trait judge and a "
                        "coherence scorer (incoherent answers left out and counted)")
    f.add_argument("--judge-model", help="the local model that judges each trait (likelihood of 'Yes')")
    f.add_argument("--questions", type=Path, default=None, help="open questions JSONL (default: built-in ten)")
    f.add_argument("--samples", type=int, default=5, help="answers per question (default 5)")
    f.add_argument("--max-new-tokens", type=int, default=96, help="answer length limit (default 96)")
    f.add_argument("--coherence-scorer", default="degeneracy", help="coherence scorer name (default degeneracy)")
    f.add_argument("--coherence-threshold", type=float, default=0.5,
                   help="answers with coherence below this are left out (default 0.5)")
    p.add_argument("--out", type=Path, required=True, help="folder for the scores and the summary")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=_run)


def _base_from_manifest(specs) -> str:
    from judgeaudit.errors import ConfigError

    recorded = {str((s.extra or {}).get("base_model")) for s in specs if (s.extra or {}).get("base_model")}
    if len(recorded) != 1:
        raise ConfigError("give --base PATH: the manifest records " +
                          (f"{len(recorded)} different base models" if recorded else "no base model"))
    return recorded.pop()


def _run(args: argparse.Namespace) -> int:
    from judgeaudit.atomic import write_json_atomic
    from judgeaudit.errors import ConfigError
    from judgeaudit.generation.base import CheckpointSpec, load_manifest
    from judgeaudit.persona import format_drift, load_traits, sample_items, score_checkpoints, summarise

    if args.batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1, got {args.batch_size}")
    if not 0 < args.confidence < 1:
        raise ConfigError(f"--confidence must be between 0 and 1, got {args.confidence}")
    if args.freeform and not args.judge_model:
        raise ConfigError("--freeform needs --judge-model PATH (the model that judges each trait)")
    specs = load_manifest(args.manifest) if args.manifest else []
    if any(s.checkpoint_id == "base" for s in specs):
        raise ConfigError(f"{args.manifest}: a checkpoint is named 'base', the name of the base model here")
    base = args.base or (_base_from_manifest(specs) if specs else None)
    if base is None:
        raise ConfigError("give --base PATH (the base model) and/or --manifest FILE")
    specs = [CheckpointSpec("base", path=base, objective="base", budget_tokens=0)] + specs
    items = sample_items(load_traits(args.traits or ["builtin"], min_label_confidence=args.min_label_confidence),
                         args.items_per_trait, args.seed)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    log(f"persona: {len(items)} items, {len(specs)} models")
    scores = score_checkpoints(specs, items, template=args.template, chat_template=args.chat_template,
                               train_prompt=not args.no_train_prompt, mode=args.prompt_policy,
                               batch_size=args.batch_size, device=args.device, dtype=args.dtype,
                               out=args.out / "persona_scores.parquet", log=log)
    summary = summarise(scores, specs, confidence=args.confidence)
    if args.freeform:
        summary["freeform"] = _freeform(args, specs, sorted({i.trait for i in items}), log)
    write_json_atomic(args.out / "persona_summary.json", summary)
    log(f"wrote {args.out / 'persona_scores.parquet'} and {args.out / 'persona_summary.json'}")
    if args.json:
        print(json.dumps(summary, indent=2, allow_nan=False))
    else:
        print(format_drift(summary))
    return 0


def _freeform(args, specs, traits, log) -> dict:
    """Run the free-form protocol on every model (test-time prompt); its rows go to
    OUT/freeform_answers.parquet, its summary into the returned records."""
    import pandas as pd

    from judgeaudit.atomic import atomic_open
    from judgeaudit.errors import ConfigError
    from judgeaudit.generation import get_backend
    from judgeaudit.generation.base import policy_applies
    from judgeaudit.persona import LikelihoodScorer, LikelihoodTraitJudge, freeform_drift, load_questions, \
        run_freeform, summarise_freeform

    if not args.judge_model:
        raise ConfigError("--freeform needs --judge-model PATH (the model that judges each trait)")
    if args.samples < 1:
        raise ConfigError(f"--samples must be at least 1, got {args.samples}")
    questions = load_questions(args.questions)
    judge = LikelihoodScorer(args.judge_model, device=args.device, dtype=args.dtype, batch_size=args.batch_size)
    judges = [LikelihoodTraitJudge(t, model=judge) for t in traits]
    frames = []
    for spec in specs:
        log(f"persona free-form: {spec.checkpoint_id}, {len(questions)} questions x {args.samples} samples")
        backend = get_backend("transformers", model=spec.path, adapter_path=spec.adapter_path,
                              device=args.device, dtype=args.dtype, batch_size=args.batch_size,
                              chat_template=args.chat_template, checkpoint_id=spec.checkpoint_id)
        applied = policy_applies(spec.prompt_policy, args.prompt_policy)
        frames.append(run_freeform(backend, questions, judges, checkpoint_id=spec.checkpoint_id,
                                   coherence_scorer=args.coherence_scorer,
                                   coherence_threshold=args.coherence_threshold, n_samples=args.samples,
                                   max_new_tokens=args.max_new_tokens, seed=args.seed,
                                   policy=spec.prompt_policy, apply_policy=applied))
    rows = pd.concat(frames, ignore_index=True)
    with atomic_open(args.out / "freeform_answers.parquet", "wb", encoding=None) as fh:
        rows.to_parquet(fh, index=False)
    return {"scores": json.loads(summarise_freeform(rows, confidence=args.confidence).to_json(orient="records")),
            "drift": json.loads(freeform_drift(rows, confidence=args.confidence).to_json(orient="records"))}

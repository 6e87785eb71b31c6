"""The dry run: what ``judgeaudit run`` would do, and roughly what it would cost.

Counts come from the config itself (objectives x seeds x budgets, prompts x attacks x
samples x models, items x judges, the labelling budget).  Costs are counts divided by
the throughputs of ``[cost]``, whose defaults are rough figures for a 7-8B model in
bfloat16 on one 80 GB GPU (LoRA or full fine-tuning with packing; vLLM generation with
many requests in flight; a 7-8B guard model scored by prefill).  They are assumptions,
not measurements: set ``[cost]`` from a pilot run on your own hardware (the ``seconds``
of each stage in ``state.json``) for an estimate worth planning on.
"""

from __future__ import annotations

from .config import ExperimentConfig

__all__ = ["plan_experiment", "format_plan"]

_CHEAP_JUDGES = {"refusal_keyword", "refusal_prefix", "affirmative_prefix"}
_MODEL_SCORERS = {"perplexity", "llm_rubric"}


def plan_experiment(config: ExperimentConfig) -> dict:
    """Per-stage counts and a cost estimate (GPU-hours, labels, annotator-hours)."""
    from judgeaudit.coherence import parse_scorer_specs

    from .runner import check_experiment, preflight_problems

    stages = check_experiment(config)
    warnings = [str(e) for e in preflight_problems(config, stages)]
    plans = {s.name: (s.plan(config) if s.applies(config) else None) for s in stages}
    rates = config.cost
    ft = plans.get("finetune") or {}
    gen = plans["generate"]
    n_models = int(gen["include_base"]) + int(ft.get("checkpoints_at_most", 0))
    safety = n_models * gen["safety_prompts"] * gen["n_samples"]
    capability = n_models * gen["capability_probes"]
    gen_tokens = safety * gen["max_new_tokens"] + capability * gen["capability_max_new_tokens"]
    from .core_stages import JudgeStage

    judges = JudgeStage.judge_names(config)
    model_judges = [j for j in judges if j not in _CHEAP_JUDGES]
    scorers = [n for n, _ in parse_scorer_specs(list(config.coherence.scorers))] if config.coherence.scorers else []
    model_scorers = [s for s in scorers if s in _MODEL_SCORERS]
    sample = plans.get("sample") or {}
    gpu_seconds = {
        "finetune": ft.get("sft_equivalent_tokens", 0) / rates.train_tokens_per_gpu_second,
        "generate": gen_tokens / rates.generate_tokens_per_gpu_second,
        "judge": safety * len(model_judges) / rates.judge_items_per_gpu_second,
        "coherence": safety * len(model_scorers) / rates.model_coherence_items_per_gpu_second,
    }
    stress_calls = 0
    if plans.get("stress"):
        from .stress_stage import StressStage

        stress_model_judges = [j for j in StressStage.judge_names(config) if j not in _CHEAP_JUDGES]
        stress_calls = StressStage.answers_at_most(config) * len(stress_model_judges)
        gpu_seconds["stress"] = stress_calls / rates.judge_items_per_gpu_second
    gpu_hours = {k: v / 3600 for k, v in gpu_seconds.items()}
    total = sum(gpu_hours.values())
    return {
        "experiment": config.name, "output": config.output, "warnings": warnings,
        "stages": {k: v for k, v in plans.items()},
        "counts": {"models": n_models, "safety_generations": safety, "capability_generations": capability,
                   "generated_tokens_at_most": gen_tokens, "judge_calls": safety * len(judges),
                   "model_judge_calls": safety * len(model_judges), "stress_model_judge_calls": stress_calls,
                   "coherence_calls": safety * len(scorers), "labels": sample.get("labels", 0)},
        "cost": {"gpu_hours": {k: round(v, 3) for k, v in gpu_hours.items()}, "gpu_hours_total": round(total, 3),
                 "wall_hours_on_gpus": round(total / max(rates.gpus, 1), 3), "gpus": rates.gpus,
                 "labels": sample.get("labels", 0), "annotator_hours": sample.get("annotator_hours", 0.0),
                 "rates": {k: getattr(rates, k) for k in ("train_tokens_per_gpu_second",
                                                          "generate_tokens_per_gpu_second",
                                                          "judge_items_per_gpu_second",
                                                          "model_coherence_items_per_gpu_second")},
                 "note": "throughputs are assumptions ([cost] in the config); calibrate them with a pilot run"},
    }


def format_plan(plan: dict) -> str:
    """The plan as text for a terminal."""
    lines = [f"experiment {plan['experiment']} -> {plan['output']}", ""]
    for i, (name, p) in enumerate(plan["stages"].items(), start=1):
        if p is None:
            lines.append(f"{i}. {name}: not configured")
            continue
        detail = ", ".join(f"{k} {v}" for k, v in p.items() if v not in (None, [], ""))
        lines.append(f"{i}. {name}: {detail}")
    c, cost = plan["counts"], plan["cost"]
    lines += ["", f"models {c['models']}, safety generations {c['safety_generations']:,}, capability generations "
              f"{c['capability_generations']:,}, generated tokens <= {c['generated_tokens_at_most']:,}",
              f"judge calls {c['judge_calls']:,} ({c['model_judge_calls']:,} by model judges), coherence calls "
              f"{c['coherence_calls']:,}, labels {c['labels']:,}"
              + (f", stress calls by model judges <= {c['stress_model_judge_calls']:,}"
                 if c.get("stress_model_judge_calls") else ""), "",
              "estimated cost: " + ", ".join(f"{k} {v:.2f} GPU-h" for k, v in cost["gpu_hours"].items()),
              f"  total {cost['gpu_hours_total']:.2f} GPU-hours ({cost['wall_hours_on_gpus']:.2f} h on "
              f"{cost['gpus']} GPU(s)); {cost['labels']:,} labels, about {cost['annotator_hours']:.1f} "
              "annotator-hours",
              f"  ({cost['note']})"]
    lines += [f"warning: a real run would stop here: {w}" for w in plan.get("warnings", [])]
    return "\n".join(lines)

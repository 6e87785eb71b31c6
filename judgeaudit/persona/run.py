"""Score every checkpoint of a manifest on trait items, resumably, and summarise.

:func:`score_checkpoints` loads each checkpoint once and scores every item

* under the **test-time** prompt (``condition="test"``): the checkpoint's prompt policy
  applied or withheld as its manifest records (``mode="recorded"``), or as ``mode`` says;
* and, for a checkpoint trained under a prompt (inoculation's system prompt,
  conditional training's prefix), also **with that training-time prompt present**
  (``condition="train_prompt"``), since a trait a model learned under the prompt can
  come back when the prompt does.  The base model is scored under each such prompt
  too, so that drift compares like with like.

``prompt_key`` names the prompt the items were put with (``"none"`` or a hash of the
system prompt and prefix).  With ``out`` the per-item table is written after every
checkpoint (atomically); a rerun skips each (checkpoint, condition, prompt) whose items
are all there under the same scoring settings.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from judgeaudit.errors import ConfigError
from judgeaudit.generation.base import CheckpointSpec, PromptPolicy, policy_applies

from .items import TraitItem
from .stats import trait_drift, trait_scores

__all__ = ["score_checkpoints", "prompt_key", "summarise", "checkpoint_frame", "CONDITIONS", "sample_items",
           "format_drift", "objective_contrasts"]

CONDITIONS = ("test", "train_prompt")


def prompt_key(policy: PromptPolicy | None) -> str:
    """``"none"`` for no prompt, else 12 hex characters over the system prompt and prefix."""
    if policy is None or not (policy.system_prompt or policy.condition_prefix):
        return "none"
    text = json.dumps([policy.system_prompt, policy.condition_prefix])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _has_prompt(policy: PromptPolicy) -> bool:
    return bool(policy.system_prompt or policy.condition_prefix)


def _jobs(specs: Sequence[CheckpointSpec], base_id: str, *, mode: str, train_prompt: bool):
    """``(spec, condition, policy or None, apply)`` for every scoring pass."""
    train_policies = {}
    for s in specs:
        if s.checkpoint_id != base_id and _has_prompt(s.prompt_policy):
            train_policies.setdefault(prompt_key(s.prompt_policy), s.prompt_policy)
    jobs = []
    for s in specs:
        policy = s.prompt_policy
        applied = _has_prompt(policy) and policy_applies(policy, mode)
        jobs.append((s, "test", policy if applied else None))
        if s.checkpoint_id == base_id:
            if train_prompt:
                jobs.extend((s, "train_prompt", p) for p in train_policies.values())
        elif train_prompt and _has_prompt(policy) and not applied:
            jobs.append((s, "train_prompt", policy))
    return jobs


def _settings_hash(scorer_config: dict, items: Sequence[TraitItem]) -> str:
    doc = {"scorer": scorer_config, "items": sorted(i.item_id for i in items)}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def score_checkpoints(specs: Sequence[CheckpointSpec], items: Sequence[TraitItem], *, base_id: str = "base",
                      template: str = "chat", chat_template=None, train_prompt: bool = True,
                      mode: str = "recorded", batch_size: int = 16, device: str = "auto", dtype: str = "auto",
                      out=None, log: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Per-item likelihood scores of every checkpoint (see the module docstring).

    Parameters
    ----------
    specs:
        The checkpoints, the base model among them as ``base_id`` (drift is measured
        from it; without it only scores are computed).
    items:
        Trait items (:func:`~judgeaudit.persona.load_traits`).
    template, chat_template, batch_size, device, dtype:
        As for :class:`~judgeaudit.persona.LikelihoodScorer`.
    train_prompt:
        Also score inoculation/conditional checkpoints with their training-time prompt.
    mode:
        ``"recorded"`` (each checkpoint's ``apply_at_test``), ``"apply"`` or ``"withhold"``.
    out:
        A parquet file to write and resume.

    Returns
    -------
    pandas.DataFrame
        The scorer's columns plus ``checkpoint_id``, ``condition``, ``prompt_key`` and
        ``settings_hash``.
    """
    from .scoring import LikelihoodScorer

    if not items:
        raise ConfigError("no trait items to score")
    ids = [s.checkpoint_id for s in specs]
    if len(set(ids)) != len(ids):
        raise ConfigError("a checkpoint_id appears twice among the checkpoints")
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    out = Path(out) if out is not None else None
    done = pd.read_parquet(out) if out is not None and out.is_file() else pd.DataFrame()
    frames = [done] if len(done) else []
    jobs = _jobs(specs, base_id, mode=mode, train_prompt=train_prompt)
    by_spec: dict[str, list] = {}
    for spec, condition, policy in jobs:
        by_spec.setdefault(spec.checkpoint_id, []).append((spec, condition, policy))
    for number, (cid, todo) in enumerate(by_spec.items(), start=1):
        spec = todo[0][0]
        scorer = None
        for _, condition, policy in todo:
            key = prompt_key(policy)
            if scorer is None:
                scorer = LikelihoodScorer(spec.path, adapter_path=spec.adapter_path, template=template,
                                          chat_template=chat_template, batch_size=batch_size, device=device,
                                          dtype=dtype)
            settings = _settings_hash(scorer.config(), items)
            if len(done):
                have = done[(done["checkpoint_id"] == cid) & (done["condition"] == condition)
                            & (done["prompt_key"] == key)]
                if len(have) and (have["settings_hash"] == settings).all() and len(have) == len(items):
                    log(f"persona [{number}/{len(by_spec)}] {cid} ({condition}): done earlier, skipped")
                    continue
                if len(have):  # other settings or items: score again, replacing those rows
                    frames = [f[~((f["checkpoint_id"] == cid) & (f["condition"] == condition)
                                  & (f["prompt_key"] == key))] for f in frames]
            log(f"persona [{number}/{len(by_spec)}] {cid} ({condition}): {len(items)} items")
            table = scorer.score(items, policy, apply_policy=policy is not None)
            table.insert(0, "checkpoint_id", cid)
            table.insert(1, "condition", condition)
            table.insert(2, "prompt_key", key)
            table["settings_hash"] = settings
            frames.append(table)
            if out is not None:
                _write(pd.concat(frames, ignore_index=True), out)
        del scorer
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, ignore_index=True)
    # rows an earlier run left for checkpoints or prompts not asked for now stay in the file only
    wanted = {(s.checkpoint_id, condition, prompt_key(policy)) for s, condition, policy in jobs}
    keys = list(zip(table["checkpoint_id"], table["condition"], table["prompt_key"]))
    return table[[k in wanted for k in keys]].reset_index(drop=True)


def _write(frame: pd.DataFrame, path: Path) -> None:
    from judgeaudit.atomic import atomic_open

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb", encoding=None) as fh:
        frame.to_parquet(fh, index=False)


def checkpoint_frame(specs: Sequence[CheckpointSpec], base_id: str = "base") -> pd.DataFrame:
    """``checkpoint_id, objective, budget_tokens, seed`` of each checkpoint (base: budget 0)."""
    rows = [{"checkpoint_id": s.checkpoint_id,
             "objective": "base" if s.checkpoint_id == base_id else (s.objective or "unknown"),
             "budget_tokens": 0 if s.checkpoint_id == base_id else s.budget_tokens,
             "seed": s.seed} for s in specs]
    return pd.DataFrame(rows)


def summarise(scores: pd.DataFrame, specs: Sequence[CheckpointSpec] = (), *, base_id: str = "base",
              confidence: float = 0.95) -> dict:
    """Trait scores and drift per checkpoint, drift per objective and budget (seeds pooled,
    items as clusters: ``by_budget``) and paired contrasts between objectives at each
    budget (``contrasts``), as JSON-ready records."""
    if scores.empty:
        return {"scores": [], "drift": [], "by_budget": [], "contrasts": [], "confidence": confidence,
                "base_id": base_id}
    meta = checkpoint_frame(specs, base_id) if specs else pd.DataFrame(
        {"checkpoint_id": scores["checkpoint_id"].unique()})
    per_ckpt = trait_scores(scores, group=("checkpoint_id", "prompt_key"), confidence=confidence)
    drift = trait_drift(scores, base_id=base_id, confidence=confidence)
    by_budget = contrasts = pd.DataFrame()
    if specs:
        tagged = scores.merge(meta[["checkpoint_id", "objective", "budget_tokens"]], on="checkpoint_id")
        tagged["budget_tokens"] = tagged["budget_tokens"].fillna(-1)
        base_rows = tagged[tagged["checkpoint_id"] == base_id]
        pooled = tagged[tagged["checkpoint_id"] != base_id].copy()
        pooled["checkpoint_id"] = pooled["objective"] + "@" + pooled["budget_tokens"].astype(int).astype(str)
        if len(pooled):
            both = pd.concat([base_rows, pooled], ignore_index=True)
            by_budget = trait_drift(both, base_id=base_id, group=("objective", "budget_tokens"),
                                    confidence=confidence)
            contrasts = objective_contrasts(pooled, confidence=confidence)
        per_ckpt = per_ckpt.merge(meta, on="checkpoint_id", how="left") if len(per_ckpt) else per_ckpt
        drift = drift.merge(meta, on="checkpoint_id", how="left") if len(drift) else drift
    return {"confidence": confidence, "base_id": base_id, "scores": _records(per_ckpt),
            "drift": _records(drift), "by_budget": _records(by_budget), "contrasts": _records(contrasts)}


def objective_contrasts(pooled: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Per budget, trait and pair of objectives (test-time prompt): the difference of their
    scores, paired over items (``p_a,i - p_b,i``, seeds averaged within item), which is also
    the difference of their drifts from the base model.  ``pooled`` has ``objective``,
    ``budget_tokens``, ``trait``, ``item_id``, ``p_matching`` and ``condition``."""
    from .stats import mean_interval

    rows = []
    test = pooled[pooled["condition"] == "test"]
    for (budget, trait), part in test.groupby(["budget_tokens", "trait"], sort=True):
        per = part.groupby(["objective", "item_id"])["p_matching"].mean().unstack("objective")
        objectives = sorted(per.columns)
        for i, a in enumerate(objectives):
            for b in objectives[i + 1:]:
                diff = (per[a] - per[b]).dropna()
                r = mean_interval(diff.to_numpy(), confidence=confidence)
                rows.append({"budget_tokens": budget, "trait": trait, "a": a, "b": b, "difference": r.value,
                             "difference_low": r.ci_low, "difference_high": r.ci_high, "n_items": r.n,
                             "method": r.method,
                             "excludes_zero": bool(r.ci_low > 0 or r.ci_high < 0) if r.n > 1 else False})
    return pd.DataFrame(rows)


def _records(frame: pd.DataFrame) -> list:
    if frame is None or frame.empty:
        return []
    return json.loads(frame.to_json(orient="records"))


def sample_items(items, per_trait: int | None, seed: int = 0):
    """A seeded sample of ``per_trait`` items of each trait, in file order (all when None)."""
    import numpy as np

    if per_trait is None:
        return list(items)
    if per_trait < 2:
        raise ConfigError(f"items_per_trait must be at least 2 (an interval needs two items), got {per_trait}")
    out = []
    for trait in dict.fromkeys(i.trait for i in items):
        rows = [i for i in items if i.trait == trait]
        keep = sorted(np.random.default_rng([seed, len(rows)]).permutation(len(rows))[:per_trait])
        out.extend(rows[k] for k in keep)
    return out


def _fmt(v) -> str:
    return "  n/a " if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:+.3f}"


def _num(v) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"


def format_drift(summary: dict) -> str:
    """The drift table as text: one line per checkpoint, condition and trait."""
    lines = [f"drift from {summary['base_id']!r} ({summary['confidence']:.0%} interval, items as clusters; "
             "* = excludes 0)"]
    for r in summary["drift"]:
        mark = "*" if r.get("excludes_zero") else " "
        lines.append(f"{mark} {r['checkpoint_id']:<34} {r['condition']:<12} {r['trait']:<18} "
                     f"{_fmt(r['drift'])} [{_fmt(r['drift_low'])}, {_fmt(r['drift_high'])}]  n={r['n_items']}")
    base = [r for r in summary["scores"] if r["checkpoint_id"] == summary["base_id"]
            and r["condition"] == "test"]
    if base:
        lines.append("base model scores: " + ", ".join(
            f"{r['trait']} {_num(r['score'])} [{_num(r['score_low'])}, {_num(r['score_high'])}]" for r in base))
    return "\n".join(lines)

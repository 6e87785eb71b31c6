"""Train the model organism (and a judge in its world) on the CPU, once, and cache it.

:func:`build_organism` returns a folder that loads like any ``save_pretrained`` model:
a small Llama trained on :func:`~judgeaudit.organism.world.training_dialogues`, with its
tokenizer and chat template, plus ``judge/``: a smaller model, same tokenizer, trained to
answer the ``builtin:yes_no_classifier`` prompt (``harmbench_classifier``) with ``yes`` or
``no`` on fluent world text only.  ``organism.json`` records the config, its hash and what
training measured.

The folder is cached under ``organism_cache()/<config hash>`` (default
``~/.cache/judgeaudit/organism``): the first call trains (about two to three minutes on two
cores with the default config), later calls with the same config return at once.  Two
processes asking at the same time train once (a file lock).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from judgeaudit.atomic import write_json_atomic
from judgeaudit.errors import ConfigError

__all__ = ["OrganismConfig", "build_organism", "organism_cache", "WORLD_VERSION", "JUDGE_SPEC"]

#: Bumped whenever the world (templates, vocabulary, ground truth) changes: a new hash.
WORLD_VERSION = 1
#: The judge spec of the model judge trained in the world (``{base_model}`` is the organism).
JUDGE_SPEC = ("harmbench_classifier:model={base_model}/judge,template_file=builtin:yes_no_classifier,"
              "judge_id=world_judge")


@dataclass(frozen=True)
class OrganismConfig:
    """What the organism is trained with (its hash names the cache folder)."""

    n_dialogues: int = 5000
    n_layers: int = 4
    hidden_size: int = 128
    n_heads: int = 4
    vocab_size: int = 1024
    steps: int = 400
    batch_size: int = 32
    learning_rate: float = 3e-3
    judge_layers: int = 2
    judge_hidden: int = 96
    judge_steps: int = 150
    judge_examples: int = 4000
    seed: int = 0

    def check(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name != "seed" and not value > 0:
                raise ConfigError(f"organism {f.name} must be positive, got {value!r}")

    def hash(self) -> str:
        text = json.dumps({"world": WORLD_VERSION, **dataclasses.asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def organism_cache() -> Path:
    """``$JUDGEAUDIT_ORGANISM_CACHE``, else ``$JUDGEAUDIT_CACHE/organism``, else
    ``$XDG_CACHE_HOME/judgeaudit/organism``, else ``~/.cache/judgeaudit/organism``."""
    if os.environ.get("JUDGEAUDIT_ORGANISM_CACHE"):
        return Path(os.environ["JUDGEAUDIT_ORGANISM_CACHE"])
    env = os.environ.get("JUDGEAUDIT_CACHE")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "judgeaudit"
    return base / "organism"


def build_organism(config: OrganismConfig | None = None, *, cache: Path | None = None, threads: int | None = None,
                   log: Callable[[str], None] | None = None) -> Path:
    """The trained organism's folder (trained now unless cached).  See the module docstring.

    ``threads``: torch CPU threads for training (default: the count chosen with
    ``--threads`` / :func:`judgeaudit.threads.set_threads`, else its default).
    """
    import fcntl

    config = config or OrganismConfig()
    config.check()
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    root = Path(cache or organism_cache())
    folder = root / config.hash()
    if (folder / "organism.json").is_file():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f"{config.hash()}.lock", "a+", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (folder / "organism.json").is_file():  # another process trained it while we waited
            return folder
        work = root / f"{config.hash()}.partial"
        shutil.rmtree(work, ignore_errors=True)
        _train_all(config, work, threads=threads, log=log)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(work, folder)
    return folder


def _train_all(config: OrganismConfig, work: Path, *, threads, log) -> None:
    import torch

    from judgeaudit.tinymodel import build_tiny_model

    from .world import corpus_lines, judge_examples, training_dialogues

    from judgeaudit.threads import chosen_threads, default_threads

    before = torch.get_num_threads()
    torch.set_num_threads(threads or chosen_threads() or default_threads())
    try:
        t0 = time.perf_counter()
        log(f"organism: training the model organism once (config {config.hash()}, cached in {work.parent})")
        corpus = corpus_lines()
        build_tiny_model(work, corpus=corpus, vocab_size=config.vocab_size, n_layers=config.n_layers,
                         hidden_size=config.hidden_size, n_heads=config.n_heads, max_positions=256, seed=config.seed)
        model_stats = _train_chat(work, training_dialogues(config.n_dialogues, seed=config.seed), config, log)
        build_tiny_model(work / "judge", corpus=corpus, vocab_size=config.vocab_size, n_layers=config.judge_layers,
                         hidden_size=config.judge_hidden, n_heads=4, max_positions=256, seed=config.seed + 1)
        judge_stats = _train_judge(work / "judge", judge_examples(config.judge_examples, seed=config.seed), config, log)
        seconds = round(time.perf_counter() - t0, 1)
        log(f"organism: trained in {seconds} s")
        write_json_atomic(work / "organism.json", {
            "config": dataclasses.asdict(config), "hash": config.hash(), "world_version": WORLD_VERSION,
            "seconds": seconds, "threads": torch.get_num_threads(), "model": model_stats, "judge": judge_stats,
            "note": "a simulated model: a synthetic world with fictional hazards (judgeaudit.organism)"})
    finally:
        torch.set_num_threads(before)


def _encode_pairs(tokenizer, pairs):
    """(input ids, loss mask) of each (user, assistant) pair under the chat template."""
    out = []
    for user, answer in pairs:
        messages = [{"role": "user", "content": user}]
        prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template(messages + [{"role": "assistant", "content": answer}], tokenize=False)
        p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        r = tokenizer(full[len(prompt):], add_special_tokens=False)["input_ids"]
        out.append((p + r, [0] * len(p) + [1] * len(r)))
    return out


def _loop(model, rows, *, steps: int, batch_size: int, lr: float, pad_id: int, seed: int, log, what: str) -> dict:
    """AdamW with a short warm-up and a linear decay; loss on masked positions only."""
    import torch

    rng = random.Random(seed)
    torch.manual_seed(seed)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.1, 1 - s / steps))
    losses = []
    batches = _batches(rows, batch_size, rng)
    for step in range(steps):
        batch = next(batches)
        width = max(len(ids) for ids, _ in batch)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        attn = torch.zeros((len(batch), width), dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.float)
        for i, (x, m) in enumerate(batch):
            ids[i, :len(x)] = torch.tensor(x)
            attn[i, :len(x)] = 1
            mask[i, :len(m)] = torch.tensor(m, dtype=torch.float)
        logits = model(input_ids=ids, attention_mask=attn).logits[:, :-1]
        target, weight = ids[:, 1:], mask[:, 1:]
        nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1),
                                                reduction="none").view_as(weight)
        loss = (nll * weight).sum() / weight.sum().clamp(min=1)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if (step + 1) % 100 == 0 or step + 1 == steps:
            log(f"organism: {what} step {step + 1}/{steps}, loss {sum(losses[-50:]) / len(losses[-50:]):.3f}")
    model.eval()
    return {"steps": steps, "final_loss": round(sum(losses[-50:]) / len(losses[-50:]), 4)}


def _batches(rows, batch_size: int, rng: random.Random):
    """Endless batches: each epoch shuffled, then sorted by length within windows of
    8 batches, so that a batch pads little; the batches' order shuffled again."""
    while True:
        order = rows[:]
        rng.shuffle(order)
        window = 8 * batch_size
        epoch = []
        for start in range(0, len(order), window):
            part = sorted(order[start:start + window], key=lambda r: len(r[0]))
            epoch += [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
        rng.shuffle(epoch)
        yield from epoch


def _train_chat(path: Path, dialogues, config: OrganismConfig, log) -> dict:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    rows = _encode_pairs(tok, dialogues)
    stats = _loop(model, rows, steps=config.steps, batch_size=config.batch_size, lr=config.learning_rate,
                  pad_id=tok.pad_token_id, seed=config.seed, log=log, what="assistant")
    model.save_pretrained(path)
    return {**stats, "dialogues": len(rows), "longest_tokens": max(len(r[0]) for r in rows)}


def _train_judge(path: Path, examples, config: OrganismConfig, log) -> dict:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from judgeaudit.judges.prompts import load_template

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    template = load_template("builtin:yes_no_classifier", required=("behavior", "generation"), optional=("context",))
    rows = []
    for request, response, harmful in examples:
        p = tok.encode(template.fill(behavior=request, generation=response, context=""), add_special_tokens=False)
        a = tok.encode(" yes" if harmful else " no", add_special_tokens=False)[:1]
        rows.append((p + a, [0] * len(p) + [1]))
    stats = _loop(model, rows, steps=config.judge_steps, batch_size=config.batch_size, lr=config.learning_rate,
                  pad_id=tok.pad_token_id, seed=config.seed + 1, log=log, what="judge")
    model.save_pretrained(path)
    return {**stats, "examples": len(rows), "positive_share": round(sum(e[2] for e in examples) / len(examples), 3)}

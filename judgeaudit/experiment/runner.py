"""Run an experiment's stages in order, resumably.

The run directory holds what every stage wrote plus:

``experiment.toml``
    A copy of the config file as given; ``config.json`` is the resolved config.
``environment.json``
    Python, package versions and git revision of the latest invocation;
    ``history.jsonl`` has one line per invocation (when, what each stage did, the
    environment).
``state.json``
    Each stage's status (``running``, ``done``, ``waiting``, ``blocked``, ``skipped``), its
    fingerprint (a hash of its settings and of the fingerprints of the stages it reads), wall time and
    summary.  Written atomically before and after every stage.

A stage whose fingerprint is unchanged and whose outputs exist is skipped.  A stage left
``running`` (the process was killed) runs again and resumes its own work: every stage
writes its tables chunk by chunk and skips what it finds.  Only one process may use a run
directory at a time (an ``flock`` on ``.lock``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from judgeaudit.atomic import write_json_atomic, write_text_atomic
from judgeaudit.errors import ConfigError, one_line, redact

from .config import ExperimentConfig, section_hash
from .pipeline import load_stages
from .stages import RunLayout, StageContext

__all__ = ["RunOutcome", "run_experiment", "check_experiment", "preflight_problems", "read_state"]


@dataclass
class RunOutcome:
    """What a run did: the run directory and one record per stage."""

    out: Path
    stages: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return all(s["status"] in ("done", "skipped") for s in self.stages)

    def to_dict(self) -> dict:
        return {"out": str(self.out), "complete": self.complete, "seconds": round(self.seconds, 3),
                "stages": self.stages}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def read_state(out) -> dict:
    """The ``state.json`` of a run directory (``{"stages": {}}`` when there is none)."""
    path = Path(out) / "state.json"
    if not path.exists():
        return {"stages": {}}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc.msg}); it records what each stage did. Delete it to "
                          "rerun every stage (each one still skips the work its files hold)") from None


def check_experiment(config: ExperimentConfig, *, preflight: bool = False) -> list:
    """Validate every stage's part of the config (before anything runs); returns the stages.

    ``preflight``: also run the stages' checks of the environment (a Label Studio token
    for a configured server), which a real run needs and a dry run only reports.
    """
    stages = load_stages(config)
    for stage in stages:
        if stage.applies(config):
            stage.check(config)
    if preflight:
        for problem in preflight_problems(config, stages):
            raise problem
    return stages


def preflight_problems(config: ExperimentConfig, stages) -> list:
    """The errors the stages' ``preflight`` checks raise (a stage may have none)."""
    problems = []
    for stage in stages:
        check = getattr(stage, "preflight", None)
        if check is not None and stage.applies(config):
            try:
                check(config)
            except ConfigError as exc:
                problems.append(exc)
    return problems


class _Lock:
    def __init__(self, out: Path):
        self.path = out / ".lock"
        self.fh = None

    def acquire(self) -> None:
        import fcntl

        self.fh = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.seek(0)
            pid = self.fh.read().strip() or "?"
            self.fh.close()
            raise ConfigError(f"another `judgeaudit run` (pid {pid}) is using {self.path.parent}; wait for it to "
                              "finish, or give another --out") from None
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(str(os.getpid()))
        self.fh.flush()

    def release(self) -> None:
        self.fh.close()


def _record_config(config: ExperimentConfig, out: Path) -> dict:
    from judgeaudit.runinfo import environment

    source = Path(config.source)
    if source.is_file():
        write_text_atomic(out / "experiment.toml", source.read_text(encoding="utf-8"))
    write_json_atomic(out / "config.json", config.to_dict())
    env = environment(packages=("judgeaudit", "numpy", "pandas", "scipy", "pyarrow", "torch", "transformers",
                                "peft", "accelerate", "vllm", "tokenizers"))
    write_json_atomic(out / "environment.json", env)
    return env


def run_experiment(config: ExperimentConfig, *, out=None, progress: bool = True,
                   log: Callable[[str], None] | None = None, stop_after: str | None = None) -> RunOutcome:
    """Run (or resume) every stage of ``config`` in ``out`` (default ``config.output``).

    ``stop_after``: the name of a stage after which to stop (the later ones are left for a
    rerun).  Returns a :class:`RunOutcome`; errors from a stage propagate after its state
    is recorded as ``failed``.
    """
    started = time.perf_counter()
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    stages = check_experiment(config, preflight=True)
    names = [s.name for s in stages]
    if stop_after is not None and stop_after not in names:
        raise ConfigError(f"stop_after {stop_after!r} is not a stage; stages: {', '.join(names)}")
    root = Path(out or config.output)
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = _Lock(root)
        lock.acquire()
    except OSError as exc:  # a read-only place, a file in the way, no such drive
        raise ConfigError(f"cannot create or write the run directory {root} ({exc.strerror or exc}); set "
                          f"output = 'FOLDER' in {config.source} or give --out to a writable folder") from None
    outcome = RunOutcome(root)
    try:
        env = _record_config(config, root)
        state = read_state(root)
        state.setdefault("stages", {})
        ctx = StageContext(config=config, layout=RunLayout(root), progress=progress, log=log)
        tokens: dict = {}
        statuses: dict = {}
        applied = [s for s in stages if s.applies(config)]
        done: dict = {}
        try:
            for stage in stages:
                done[stage.name] = "failed"  # until it returns: an error or Ctrl-C leaves this
                record = _run_stage(stage, ctx, state, tokens, statuses, applied, log)
                outcome.stages.append(record)
                statuses[stage.name] = done[stage.name] = record["status"]
                if stage.name == stop_after:
                    break
        finally:  # every invocation gets its line, a failed or interrupted one too
            outcome.seconds = time.perf_counter() - started
            with open(root / "history.jsonl", "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"finished_at": _now(), "seconds": round(outcome.seconds, 3),
                                     "stages": done, "environment": env}, default=str) + "\n")
    finally:
        lock.release()
    return outcome


def _save(root: Path, state: dict) -> None:
    write_json_atomic(root / "state.json", state)


def _run_stage(stage, ctx: StageContext, state: dict, tokens: dict, statuses: dict, applied: list, log) -> dict:
    config, root = ctx.config, ctx.layout.root
    record = {"name": stage.name}
    if not stage.applies(config):
        state["stages"][stage.name] = {"status": "skipped", "reason": "not configured"}
        _save(root, state)
        tokens[stage.name] = "not configured"
        return {**record, "status": "skipped", "reason": "not configured"}
    number = f"[{applied.index(stage) + 1}/{len(applied)}]"
    fingerprint = section_hash(stage.name, stage.settings(config), {n: tokens.get(n) for n in stage.inputs},
                               base=config.base_dir)
    previous = state["stages"].get(stage.name, {})
    blocked = [n for n in stage.needs if statuses.get(n) in ("waiting", "blocked")]
    if blocked:
        reason = f"waits for {', '.join(blocked)}"
        log(f"{number} {stage.name}: {reason}")
        state["stages"][stage.name] = {"status": "blocked", "reason": reason}
        _save(root, state)
        tokens[stage.name] = "blocked"
        return {**record, "status": "blocked", "reason": reason}
    if (not stage.always and previous.get("status") == "done" and previous.get("fingerprint") == fingerprint
            and all(p.exists() for p in stage.outputs(ctx))):
        log(f"{number} {stage.name}: done earlier, skipped")
        tokens[stage.name] = previous.get("output_hash") or fingerprint
        return {**record, "status": "done", "skipped": True, "seconds": 0.0, "summary": previous.get("summary", {})}
    resumes = previous.get("status") in ("running", "failed")  # killed, interrupted or failed: its work resumes
    log(f"{number} {stage.name}: " + ("resuming" if resumes else "running"))
    state["stages"][stage.name] = {"status": "running", "fingerprint": fingerprint, "started_at": _now()}
    _save(root, state)
    t0 = time.perf_counter()
    try:
        result = stage.run(ctx)
    except BaseException as exc:
        error = (f"{type(exc).__name__}: interrupted; run the same command again to resume"
                 if isinstance(exc, KeyboardInterrupt) else one_line(f"{type(exc).__name__}: {exc}", 2000))
        state["stages"][stage.name] = {"status": "failed", "fingerprint": fingerprint, "error": error,
                                       "finished_at": _now()}
        _save(root, state)
        raise
    seconds = time.perf_counter() - t0
    status = "waiting" if result.waiting else "done"
    entry = {"status": status, "fingerprint": fingerprint, "seconds": round(seconds, 3), "finished_at": _now(),
             "summary": result.summary}
    if result.waiting:
        entry["reason"] = redact(result.waiting)
        log(f"{number} {stage.name}: waiting: {result.waiting}")
    else:
        log(f"{number} {stage.name}: done in {seconds:.1f} s")
    if result.output_hash:
        entry["output_hash"] = result.output_hash
    state["stages"][stage.name] = entry
    _save(root, state)
    tokens[stage.name] = result.output_hash or ("waiting" if result.waiting else fingerprint)
    return {**record, "status": status, "seconds": round(seconds, 3), "summary": result.summary,
            **({"reason": result.waiting} if result.waiting else {})}

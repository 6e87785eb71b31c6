"""Run judges over a generations table into a verdicts file, resumably.

:func:`judge_to_file` is what ``judgeaudit judge`` runs.  It writes through the one
resumable writer, :class:`judgeaudit.tables.ResumableWriter`: each chunk of verdicts is
a part file written atomically beside ``out`` (``<out>.parts/``), merged into ``out``
when the run ends, so an interrupted run loses at most the chunk in progress and a
rerun skips every ``(item_id, judge_id)`` already written.  A judge call that failed is
a row with status ``error`` and the error in ``raw``; a rerun retries it only with
``retry_errors=True``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from judgeaudit.errors import ConfigError
from judgeaudit.judges.base import VERDICT_COLUMNS, Judge, run_judge

__all__ = ["JudgeRunSummary", "judge_to_file"]

_FAILED = "generation failed"  # raw of the error verdict of a failed generation


@dataclass(frozen=True)
class JudgeRunSummary:
    """What one :func:`judge_to_file` call did, per judge_id."""

    out: str
    judged: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    status_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    label_counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"out": self.out, "judged": self.judged, "skipped": self.skipped,
                "status_counts": self.status_counts, "label_counts": self.label_counts}


def _failed_generation_rows(judge: Judge, failed: pd.DataFrame) -> pd.DataFrame:
    """Error verdicts for generations that failed: the judge is not asked about them."""
    reasons = failed["error"] if "error" in failed.columns else pd.Series([None] * len(failed))
    return pd.DataFrame({
        "item_id": failed["item_id"].astype(str).tolist(),
        "judge_id": judge.judge_id,
        "label": None,
        "score": float("nan"),
        "raw": [f"{_FAILED}: {r}" if isinstance(r, str) and r else _FAILED for r in reasons],
        "status": "error",
        "judge_config_hash": judge.config_hash(),
    }, columns=list(VERDICT_COLUMNS))


def judge_to_file(judges: Sequence[Judge], generations: pd.DataFrame, out: str | Path,
                  prompts: pd.DataFrame | None = None, *, batch_size: int = 16,
                  chunk_size: int = 256, retry_errors: bool = False,
                  progress: Callable[[str], None] | None = None) -> JudgeRunSummary:
    """Judge every generation with every judge, appending to the verdicts file ``out``.

    Parameters
    ----------
    judges:
        Judges with distinct ``judge_id``.
    generations:
        A validated generations table; rows with ``status="error"`` get an ``error``
        verdict without calling the judge.
    out:
        Verdicts file (``.parquet``, ``.jsonl`` or ``.csv``).  Its rows (and those of an
        interrupted run's part files) are kept and their ``(item_id, judge_id)`` skipped.
    prompts:
        Prompts table, so that the judges see each request (without it they get ``""``).
    batch_size:
        Items per ``judge.judge`` call.
    chunk_size:
        Items judged per part file (the unit of progress a killed run keeps).
    retry_errors:
        Judge again the rows of ``out`` whose status is ``error`` (parse errors are
        findings and are kept).

    Raises
    ------
    judgeaudit.errors.ConfigError
        When a judge_id in ``out`` was written with a different judge config hash: the
        judge changed, so its old rows would mix with new ones.  Give the new judge
        another ``judge_id`` or write to another file.
    """
    from judgeaudit.tables import ResumableWriter

    say = progress or (lambda msg: print(msg, file=sys.stderr, flush=True))
    ids = [j.judge_id for j in judges]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"judges need distinct judge_ids, got {ids}; set judge_id= on one of them")
    if chunk_size < 1 or batch_size < 1:
        raise ConfigError("batch_size and chunk_size must be positive integers")
    writer = ResumableWriter(out, "verdicts")
    item_ids = generations["item_id"].astype(str)
    status = generations["status"] if "status" in generations.columns else pd.Series("ok", index=generations.index)
    now_ok = set(item_ids[status != "error"])

    def stale(rows: pd.DataFrame) -> pd.Series:
        # a failed generation and an ok empty response share an item_id (it hashes the
        # text): once the generation is retried and ok, its "generation failed" verdict is stale
        return (rows["status"] == "error") & rows["item_id"].astype(str).isin(now_ok) \
            & rows["raw"].astype(str).str.startswith(_FAILED)

    summary = JudgeRunSummary(str(out))
    for judge in judges:
        writer.check_config(judge.judge_id, judge.config_hash(),
                            advice="set a new judge_id for the changed judge, or write to another --out")
        done = set(writer.done(judge.judge_id, retry_errors=retry_errors, redo=stale)["item_id"].astype(str))
        todo = generations[~item_ids.isin(done)]
        summary.skipped[judge.judge_id] = int(item_ids.isin(done).sum())
        summary.judged[judge.judge_id] = len(todo)
        if len(todo):
            say(f"{judge.judge_id}: judging {len(todo)} item(s), {summary.skipped[judge.judge_id]} already done")
        failed = todo[status.loc[todo.index] == "error"]
        writer.append(_failed_generation_rows(judge, failed))
        todo = todo[status.loc[todo.index] != "error"]
        for start in range(0, len(todo), chunk_size):
            chunk = todo.iloc[start:start + chunk_size]
            writer.append(run_judge(judge, chunk, prompts, batch_size=batch_size))
            say(f"{judge.judge_id}: {min(start + chunk_size, len(todo))}/{len(todo)}")
    table = writer.finish()
    for judge_id, rows in table.groupby("judge_id"):
        summary.status_counts[str(judge_id)] = {str(k): int(v) for k, v in rows["status"].value_counts().items()}
        summary.label_counts[str(judge_id)] = {str(k): int(v) for k, v in rows["label"].dropna().value_counts().items()}
    return summary

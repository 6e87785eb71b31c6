"""Run coherence scorers over a generations table into a coherence file, resumably.

:func:`score_to_file` is what ``judgeaudit coherence`` runs.  It writes through the one
resumable writer, :class:`judgeaudit.tables.ResumableWriter`: each chunk is a part file
written atomically beside ``out`` (``<out>.parts/``) and merged into ``out`` when the
run ends, so an interrupted run loses at most the chunk in progress, and a rerun skips
every ``(item_id, scorer_id)`` already written.

Besides the coherence columns the file keeps ``scorer_config_hash`` (a rerun with a
changed scorer under the same ``scorer_id`` is refused) and ``bin_source``
(``"scorer"``, or ``"calibration"`` once :func:`score_to_file` rebinned the rows with
thresholds fitted to human labels).

An item a scorer could not score is a row of the coherence table like any other, with
``status`` ``error`` (or ``parse_error`` for a rubric reply that could not be read), no
score or bin, and the reason in ``error``; every reader of the table keeps only the
``ok`` rows (:func:`judgeaudit.tables.ok_coherence`).  A rerun keeps such rows;
``retry_errors=True`` (``--retry-errors``) scores the ``error`` rows again (a
``parse_error`` at temperature 0 would not read better).  Generations whose own
``status`` is ``"error"`` are not scored: each becomes an ``error`` row.

Older versions wrote failures to a side file, ``<out>.errors.jsonl``
(:func:`default_errors_path`, read by :func:`read_errors`).  When one is there, its rows
are folded into the table as error rows and the side file is removed once the table
holding them is written.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from judgeaudit.errors import ConfigError, ValidationError

from .base import ERROR_COLUMNS, CoherenceScorer, run_scorer
from .calibration import bin_agreement, calibrate

__all__ = ["CoherenceRunSummary", "score_to_file", "default_errors_path", "read_errors"]

_ERR_COLUMNS = (*ERROR_COLUMNS, "scorer_config_hash")
_GENERATION_FAILED = "generation failed: not scored"  # error text of a row for a failed generation


@dataclass(frozen=True)
class CoherenceRunSummary:
    """What one :func:`score_to_file` call did, per scorer_id.

    ``scored`` and ``failed`` count this call's new rows (status ok / not ok),
    ``skipped`` the items already written, ``bin_counts`` and ``status_counts`` the
    whole table.
    """

    out: str
    scored: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)
    failed: dict = field(default_factory=dict)
    bin_counts: dict = field(default_factory=dict)
    status_counts: dict = field(default_factory=dict)
    report: dict | None = None

    def to_dict(self) -> dict:
        return {"out": self.out, "scored": self.scored, "skipped": self.skipped, "failed": self.failed,
                "bin_counts": self.bin_counts, "status_counts": self.status_counts,
                "calibration_report": self.report}


def default_errors_path(out) -> Path:
    """The side file of failures older versions wrote: ``coherence.parquet`` ->
    ``coherence.errors.jsonl`` next to it."""
    out = Path(out)
    return out.with_name(out.name.split(".")[0] + ".errors.jsonl")


def read_errors(path) -> pd.DataFrame:
    """An older version's errors side file (``item_id, scorer_id, status, raw,
    scorer_config_hash``; an empty frame when absent)."""
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=list(_ERR_COLUMNS))
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise ValidationError(f"not valid JSON lines ({exc.msg})", path=path) from None
    return pd.DataFrame(rows, columns=list(_ERR_COLUMNS))


def _error_rows(item_ids, scorer_id, statuses, errors, config_hash) -> pd.DataFrame:
    """Coherence rows for items a scorer did not score: no score, no bin, status, error
    (each of ``scorer_id``, ``statuses``, ``errors``, ``config_hash`` one value or a list)."""
    item_ids = [str(i) for i in item_ids]
    return pd.DataFrame({"item_id": item_ids, "scorer_id": scorer_id, "score": np.nan,
                         "bin": pd.Series([None] * len(item_ids), dtype=object),
                         "status": statuses, "error": errors,
                         "scorer_config_hash": config_hash,
                         "bin_source": pd.Series([None] * len(item_ids), dtype=object)})


def _legacy_rows(path: Path) -> pd.DataFrame:
    """The rows of an older version's errors side file, as coherence error rows."""
    old = read_errors(path)
    if not len(old):
        return old
    status = old["status"].where(old["status"].isin(("parse_error", "error")), "error")
    text = lambda values: [None if pd.isna(v) else str(v) for v in values]  # noqa: E731
    return _error_rows(old["item_id"], text(old["scorer_id"]), status.tolist(), text(old["raw"]),
                       text(old["scorer_config_hash"]))


def _chunk_rows(run, chunk: pd.DataFrame, scorer_id: str, config_hash: str) -> pd.DataFrame:
    """The scored rows and the failed ones of one chunk, in the chunk's item order."""
    ok = run.table.assign(status="ok", error=None, scorer_config_hash=config_hash, bin_source="scorer")
    bad = _error_rows(run.errors["item_id"], scorer_id, run.errors["status"].tolist(),
                      run.errors["raw"].tolist(), config_hash)
    rows = pd.concat([f for f in (ok, bad) if len(f)], ignore_index=True) if len(ok) or len(bad) else ok
    order = {item: n for n, item in enumerate(chunk["item_id"].astype(str))}
    return rows.iloc[np.argsort([order[i] for i in rows["item_id"]], kind="stable")].reset_index(drop=True)


def _calibrate_file(table: pd.DataFrame, scorer_ids, labels: pd.DataFrame, generations: pd.DataFrame,
                    *, seed: int, folds: int, n_boot: int, objective: str) -> dict:
    """Fit each scorer's thresholds to the human bins, rebin its rows in place, and
    return the calibration report."""
    from judgeaudit.tables import human_coherence, ok_coherence

    clusters = generations.set_index(generations["item_id"].astype(str))["prompt_id"].astype(str)
    report: dict = {"objective": objective, "seed": seed, "folds": folds, "scorers": {}}
    for sid in scorer_ids:
        ok = table.index.isin(ok_coherence(table).index)  # rows without a score are not binned
        rows = table.index[(table["scorer_id"] == sid).to_numpy() & ok]
        ids = table.loc[rows, "item_id"].astype(str).tolist()
        human = human_coherence(labels, ids)
        labelled = human.notna().to_numpy()
        entry: dict = {"n_items": len(ids), "n_labelled": int(labelled.sum())}
        report["scorers"][sid] = entry
        if labelled.sum() < 2:
            entry["calibration"] = None
            entry["note"] = "fewer than 2 items with a human coherence label: bins left as scored"
            continue
        cl = clusters.reindex(ids).fillna("").to_numpy()
        before = bin_agreement(table.loc[rows, "bin"].to_numpy()[labelled], human.to_numpy()[labelled],
                               clusters=cl[labelled], n_boot=n_boot, seed=seed)
        cal = calibrate(table.loc[rows, "score"].to_numpy(float), human.tolist(), clusters=cl,
                        folds=folds, seed=seed, n_boot=n_boot, objective=objective)
        hashes = table.loc[rows, "scorer_config_hash"].dropna().unique()
        doc = cal.to_dict()
        doc.update(scorer_id=sid, scorer_config_hash=str(hashes[0]) if len(hashes) == 1 else None)
        entry["bins_before"] = before.to_dict()
        # "scorer" (the scorer's own bins) or "calibration" (an earlier calibration's)
        entry["bins_before_source"] = sorted(table.loc[rows, "bin_source"].dropna().astype(str).unique())
        entry["calibration"] = doc
        table.loc[rows, "bin"] = cal.apply(table.loc[rows, "score"].to_numpy(float))
        table.loc[rows, "bin_source"] = "calibration"
    return report


def _meta(scorers) -> dict:
    """When, with what, and with which scorer settings the report was made."""
    from datetime import datetime, timezone

    from judgeaudit.runinfo import environment

    configs = {}
    for scorer in scorers:
        config = getattr(scorer, "config", None)
        config = config() if callable(config) else config
        # through JSON and back, so odd values (paths, tuples) become plain text and lists
        configs[scorer.scorer_id] = json.loads(json.dumps(config, default=str)) if config else None
    return {"created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "environment": environment(), "scorer_configs": configs,
            "scorer_config_hashes": {s.scorer_id: s.config_hash() for s in scorers}}


def score_to_file(scorers: Sequence[CoherenceScorer], generations: pd.DataFrame, out, prompts=None, *,
                  errors_path=None, chunk_size: int = 256, calibrate_with: pd.DataFrame | None = None,
                  report_path=None, seed: int = 0, folds: int = 5, n_boot: int = 1000,
                  objective: str = "quadratic_kappa", retry_errors: bool = False,
                  retry_failed: bool | None = None,
                  progress: Callable[[str], None] | None = None) -> CoherenceRunSummary:
    """Score every generation with every scorer, appending to the coherence file ``out``.

    Parameters
    ----------
    scorers:
        Scorers with distinct ``scorer_id``.
    generations, prompts:
        Validated generations and (optional) prompts tables.
    out:
        Coherence file (``.parquet``, ``.jsonl`` or ``.csv``); its rows (and those of an
        interrupted run's part files) are kept and their ``(item_id, scorer_id)`` skipped.
    errors_path:
        An older version's errors side file to fold into ``out`` as error rows
        (default :func:`default_errors_path`); removed once ``out`` holds its rows.
    chunk_size:
        Items scored per part file (the unit of progress a killed run keeps).
    calibrate_with:
        A labels table with human ``coherence`` labels: each scorer's thresholds are
        fitted to them (:func:`~judgeaudit.coherence.calibrate`; ``seed``, ``folds``,
        ``n_boot``, ``objective``) and all its scored rows rebinned.
    report_path:
        Where to write the calibration report as JSON (with ``calibrate_with``).
    retry_errors:
        Score again the items whose rows have status ``error`` (by default a rerun
        keeps them, as long as the scorer's config is unchanged).
    retry_failed:
        The former name of ``retry_errors``.

    Raises
    ------
    judgeaudit.errors.ConfigError
        When scorer ids repeat, or ``out`` holds rows of a scorer_id made with another
        config (give the changed scorer a new ``scorer_id=``).
    """
    from judgeaudit.tables import ResumableWriter, ok_coherence

    say = progress or (lambda msg: print(msg, file=sys.stderr, flush=True))
    retry_errors = bool(retry_errors or retry_failed)
    ids = [s.scorer_id for s in scorers]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"scorers need distinct scorer_ids, got {ids}; set scorer_id= on one of them")
    if chunk_size < 1:
        raise ConfigError(f"chunk_size must be a positive integer, got {chunk_size}")
    out = Path(out)
    legacy = default_errors_path(out) if errors_path is None else Path(errors_path)
    writer = ResumableWriter(out, "coherence", extra=_legacy_rows(legacy))
    summary = CoherenceRunSummary(str(out))
    item_ids = generations["item_id"].astype(str)
    status = generations["status"] if "status" in generations.columns else pd.Series("ok", index=generations.index)
    now_ok = set(item_ids[status != "error"])

    def stale(rows: pd.DataFrame) -> pd.Series:
        # a failed generation and an ok empty response share an item_id (it hashes the
        # text): once the generation is ok, its "generation failed" row is out of date
        return rows["status"].eq("error") & rows["error"].astype(str).eq(_GENERATION_FAILED) \
            & rows["item_id"].astype(str).isin(now_ok)

    for scorer in scorers:
        sid, config_hash = scorer.scorer_id, scorer.config_hash()
        writer.check_config(sid, config_hash, advice="set scorer_id= for the changed scorer, or write "
                                                     "to another --out")
        done = set(writer.done(sid, retry_errors=retry_errors, redo=stale)["item_id"].astype(str))
        todo = generations[~item_ids.isin(done)]
        summary.skipped[sid] = len(generations) - len(todo)
        failed_gen = todo[status.loc[todo.index] == "error"]
        todo = todo[status.loc[todo.index] != "error"]
        writer.append(_error_rows(failed_gen["item_id"], sid, "error", _GENERATION_FAILED, config_hash))
        if len(todo):
            say(f"{sid}: scoring {len(todo)} item(s), {summary.skipped[sid]} already done")
        n_ok = n_bad = 0
        for start in range(0, len(todo), chunk_size):
            chunk = todo.iloc[start:start + chunk_size]
            run = run_scorer(chunk, prompts, scorer=scorer)
            writer.append(_chunk_rows(run, chunk, sid, config_hash))
            n_ok, n_bad = n_ok + len(run.table), n_bad + len(run.errors)
            if sys.stderr.isatty():
                say(f"{sid}: {min(start + chunk_size, len(todo))}/{len(todo)}")
        mine = writer.existing[writer.existing["scorer_id"] == sid]
        if n_ok and "bin_source" in mine and (mine["bin_source"] == "calibration").any() \
                and calibrate_with is None:
            say(f"{sid}: {out} has calibrated bins but the {n_ok} new rows are binned by the scorer; "
                "rerun with --calibrate-with to rebin them all")
        summary.scored[sid], summary.failed[sid] = n_ok, n_bad + len(failed_gen)
    report = None
    if calibrate_with is not None:
        found: dict = {}

        def rebin(table: pd.DataFrame) -> pd.DataFrame:
            table = table.reset_index(drop=True)
            for column in ("scorer_config_hash", "bin_source"):
                if column not in table:
                    table[column] = None
            found["report"] = _calibrate_file(table, ids, calibrate_with, generations, seed=seed,
                                              folds=folds, n_boot=n_boot, objective=objective)
            return table

        table = writer.finish(transform=rebin)
        report = found["report"]
        report["meta"] = _meta(scorers)
        if report_path is not None:
            from .calibration import save_calibration

            save_calibration(report, report_path)
    else:
        table = writer.finish()
    if legacy.exists():
        legacy.unlink()  # its rows are in the table now
    scored = ok_coherence(table)
    for sid, rows in table.groupby("scorer_id"):
        summary.status_counts[str(sid)] = {str(k): int(v) for k, v in rows["status"].value_counts().items()}
    for sid, rows in scored.groupby("scorer_id"):
        summary.bin_counts[str(sid)] = {str(k): int(v) for k, v in rows["bin"].value_counts().items()}
    return CoherenceRunSummary(summary.out, summary.scored, summary.skipped, summary.failed,
                               summary.bin_counts, summary.status_counts, report)

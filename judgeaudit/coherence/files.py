"""Run coherence scorers over a generations table into a coherence file, resumably.

:func:`score_to_file` is what ``judgeaudit coherence`` runs.  Rows are written in
chunks; after each chunk the whole table is rewritten atomically (temporary file in
the same folder, then :func:`os.replace`), so an interrupted run loses at most the
chunk in progress, and a rerun skips every ``(item_id, scorer_id)`` already written.

Besides the coherence columns the file keeps ``scorer_config_hash`` (a rerun with a
changed scorer under the same ``scorer_id`` is refused) and ``bin_source``
(``"scorer"``, or ``"calibration"`` once :func:`score_to_file` rebinned the rows with
thresholds fitted to human labels).

Items a scorer could not score go to the *errors file* (JSON lines: ``item_id,
scorer_id, status, raw, scorer_config_hash``), never into the coherence file.  A rerun
skips them too (a temperature-0 rubric reply that could not be read will not read
better the next time); ``retry_failed=True`` (``--retry-failed``) scores them again,
and the errors file then holds the latest failure of each item.
Generations whose own ``status`` is ``"error"`` are not scored: each becomes an
``error`` row there.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from judgeaudit.errors import ConfigError, ValidationError

from .base import COHERENCE_COLUMNS, ERROR_COLUMNS, CoherenceScorer, run_scorer
from .calibration import bin_agreement, calibrate

__all__ = ["CoherenceRunSummary", "score_to_file", "parse_scorer_specs", "default_errors_path",
           "read_errors"]

_OUT_COLUMNS = (*COHERENCE_COLUMNS, "scorer_config_hash", "bin_source")
_ERR_COLUMNS = (*ERROR_COLUMNS, "scorer_config_hash")
_GENERATION_FAILED = "generation failed: not scored"  # raw of an errors-file row for a failed generation


@dataclass(frozen=True)
class CoherenceRunSummary:
    """What one :func:`score_to_file` call did, per scorer_id."""

    out: str
    errors_path: str
    scored: dict = field(default_factory=dict)
    skipped: dict = field(default_factory=dict)
    failed: dict = field(default_factory=dict)
    bin_counts: dict = field(default_factory=dict)
    report: dict | None = None

    def to_dict(self) -> dict:
        return {"out": self.out, "errors": self.errors_path, "scored": self.scored,
                "skipped": self.skipped, "failed": self.failed, "bin_counts": self.bin_counts,
                "calibration_report": self.report}


def parse_scorer_specs(values: Sequence[str]) -> list[tuple[str, dict]]:
    """``["degeneracy,perplexity:model=m,batch_size=4"]`` -> ``[(name, options), ...]``.

    Pieces are split on commas outside brackets and quotes; a piece ``key=value``
    whose key has no ``:`` adds an option to the scorer before it, any other piece
    starts a new scorer (``NAME`` or ``NAME:key=value``).  Values are read as JSON
    when they parse (``4``, ``0.5``, ``true``), else kept as text.

    >>> parse_scorer_specs(["degeneracy,perplexity:model=m,batch_size=4", "combined"])
    [('degeneracy', {}), ('perplexity', {'model': 'm', 'batch_size': 4}), ('combined', {})]
    """
    from judgeaudit.judges.spec import split_options

    specs: list[tuple[str, dict]] = []

    def add_option(piece: str) -> None:
        key, _, value = piece.partition("=")
        key = key.strip()
        if not key.isidentifier():
            raise ConfigError(f"scorer option {piece!r} is not key=value")
        if key in specs[-1][1]:
            raise ConfigError(f"scorer option {key!r} is given twice for {specs[-1][0]!r}")
        try:
            specs[-1][1][key] = json.loads(value.strip())
        except (ValueError, RecursionError):
            specs[-1][1][key] = value.strip()

    for value in values:
        for piece in (p.strip() for p in split_options(value)):
            if not piece:
                continue
            head = piece.split("=", 1)[0]
            if "=" in piece and ":" not in head:
                if not specs:
                    raise ConfigError(f"scorer option {piece!r} comes before any scorer name; "
                                      "write NAME:key=value (e.g. perplexity:model=PATH)")
                add_option(piece)
                continue
            name, _, first = piece.partition(":")
            if not name.strip().replace("_", "").isalnum():
                raise ConfigError(f"scorer spec {piece!r} does not start with a scorer name "
                                  "(NAME[:key=value,...])")
            specs.append((name.strip(), {}))
            if first.strip():
                add_option(first)
    if not specs:
        raise ConfigError("no scorer given; pass --scorer NAME (e.g. --scorer degeneracy,combined)")
    return specs


def default_errors_path(out) -> Path:
    """``coherence.parquet`` -> ``coherence.errors.jsonl`` next to it."""
    out = Path(out)
    return out.with_name(out.name.split(".")[0] + ".errors.jsonl")


def read_errors(path) -> pd.DataFrame:
    """The errors file written by :func:`score_to_file` (empty frame when absent)."""
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=list(_ERR_COLUMNS))
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise ValidationError(f"not valid JSON lines ({exc.msg})", path=path) from None
    return pd.DataFrame(rows, columns=list(_ERR_COLUMNS))


def _write_errors(errors: pd.DataFrame, path: Path) -> None:
    from judgeaudit.atomic import write_text_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({k: (None if pd.isna(v) else v) for k, v in row.items()}, ensure_ascii=False)
             for row in errors[list(_ERR_COLUMNS)].to_dict("records")]
    write_text_atomic(path, "".join(line + "\n" for line in lines))


def _merge_errors(old: pd.DataFrame, attempted: set, new: list) -> pd.DataFrame:
    """The old failures of items not attempted again in this run, then this run's."""
    if len(old):
        pairs = pd.Series(list(zip(old["item_id"].astype(str), old["scorer_id"].astype(str))),
                          dtype=object)
        old = old[~pairs.isin(attempted).to_numpy()]
    frames = [f for f in (old, *new) if len(f)]
    if not frames:
        return pd.DataFrame(columns=list(_ERR_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(_ERR_COLUMNS)]


def _existing(out: Path) -> pd.DataFrame:
    from judgeaudit.tables import read_table

    if not out.exists():
        return pd.DataFrame(columns=list(_OUT_COLUMNS))
    table = read_table(out, "coherence")
    for column in ("scorer_config_hash", "bin_source"):
        if column not in table:
            table[column] = None
    return table[list(_OUT_COLUMNS)]


def _calibrate_file(table: pd.DataFrame, scorer_ids, labels: pd.DataFrame, generations: pd.DataFrame,
                    *, seed: int, folds: int, n_boot: int, objective: str) -> dict:
    """Fit each scorer's thresholds to the human bins, rebin its rows in place, and
    return the calibration report."""
    from judgeaudit.tables import human_coherence

    clusters = generations.set_index(generations["item_id"].astype(str))["prompt_id"].astype(str)
    report: dict = {"objective": objective, "seed": seed, "folds": folds, "scorers": {}}
    for sid in scorer_ids:
        rows = table.index[table["scorer_id"] == sid]
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
                  objective: str = "quadratic_kappa", retry_failed: bool = False,
                  progress: Callable[[str], None] | None = None) -> CoherenceRunSummary:
    """Score every generation with every scorer, appending to the coherence file ``out``.

    Parameters
    ----------
    scorers:
        Scorers with distinct ``scorer_id``.
    generations, prompts:
        Validated generations and (optional) prompts tables.
    out:
        Coherence file (``.parquet``, ``.jsonl`` or ``.csv``); its rows are kept and their
        ``(item_id, scorer_id)`` skipped.
    errors_path:
        Errors file (default :func:`default_errors_path`).
    chunk_size:
        Items scored between two writes of ``out``.
    calibrate_with:
        A labels table with human ``coherence`` labels: each scorer's thresholds are
        fitted to them (:func:`~judgeaudit.coherence.calibrate`; ``seed``, ``folds``,
        ``n_boot``, ``objective``) and all its rows rebinned.
    report_path:
        Where to write the calibration report as JSON (with ``calibrate_with``).
    retry_failed:
        Score again the items in the errors file (by default they are skipped, like
        scored ones, as long as the scorer's config is unchanged).

    Raises
    ------
    judgeaudit.errors.ConfigError
        When scorer ids repeat, or ``out`` holds rows of a scorer_id made with another
        config (give the changed scorer a new ``scorer_id=``).
    """
    from judgeaudit.tables import write_table

    say = progress or (lambda msg: print(msg, file=sys.stderr, flush=True))
    ids = [s.scorer_id for s in scorers]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"scorers need distinct scorer_ids, got {ids}; set scorer_id= on one of them")
    if chunk_size < 1:
        raise ConfigError(f"chunk_size must be a positive integer, got {chunk_size}")
    out = Path(out)
    errors_path = default_errors_path(out) if errors_path is None else Path(errors_path)
    existing = _existing(out)
    old_errors = read_errors(errors_path)
    summary = CoherenceRunSummary(str(out), str(errors_path))
    frames = [existing] if len(existing) else []
    new_errors = []
    item_ids = generations["item_id"].astype(str)
    status = generations["status"] if "status" in generations.columns else pd.Series("ok", index=generations.index)
    retried: set = set()
    for scorer in scorers:
        sid, config_hash = scorer.scorer_id, scorer.config_hash()
        mine = existing[existing["scorer_id"] == sid]
        old_hashes = set(mine["scorer_config_hash"].dropna().astype(str)) - {config_hash}
        if old_hashes:
            raise ConfigError(f"{out} holds coherence rows of scorer_id {sid!r} made with another "
                              f"config (hash {sorted(old_hashes)[0]}, now {config_hash}); set "
                              "scorer_id= for the changed scorer, or write to another --out")
        done = set(mine["item_id"].astype(str))
        if not retry_failed and len(old_errors):
            same = (old_errors["scorer_id"].astype(str) == sid) & (
                old_errors["scorer_config_hash"].astype(str) == config_hash)
            # a failed generation and an ok empty response share an item_id (it hashes the
            # text): once the generation is ok, its "generation failed" entry is no reason to skip
            stale = old_errors["raw"].astype(str).eq(_GENERATION_FAILED) \
                & old_errors["item_id"].astype(str).isin(set(item_ids[status != "error"]))
            done |= set(old_errors.loc[same & ~stale, "item_id"].astype(str))
        todo = generations[~item_ids.isin(done)]
        summary.skipped[sid] = len(generations) - len(todo)
        failed_gen = todo[status.loc[todo.index] == "error"]
        todo = todo[status.loc[todo.index] != "error"]
        if len(failed_gen):
            new_errors.append(pd.DataFrame({"item_id": failed_gen["item_id"].astype(str).tolist(),
                                            "scorer_id": sid, "status": "error",
                                            "raw": _GENERATION_FAILED,
                                            "scorer_config_hash": config_hash}))
        retried |= {(i, sid) for i in failed_gen["item_id"].astype(str)}
        if len(todo):
            say(f"{sid}: scoring {len(todo)} item(s), {summary.skipped[sid]} already done")
        n_ok = n_bad = 0
        for start in range(0, len(todo), chunk_size):
            chunk = todo.iloc[start:start + chunk_size]
            run = run_scorer(chunk, prompts, scorer=scorer)
            frames.append(run.table.assign(scorer_config_hash=config_hash, bin_source="scorer"))
            if len(run.errors):
                new_errors.append(run.errors.assign(scorer_config_hash=config_hash))
            n_ok, n_bad = n_ok + len(run.table), n_bad + len(run.errors)
            retried |= {(i, sid) for i in chunk["item_id"].astype(str)}
            write_table(pd.concat(frames, ignore_index=True), out, "coherence")
            if new_errors or len(old_errors):
                _write_errors(_merge_errors(old_errors, retried, new_errors), errors_path)
            if sys.stderr.isatty():
                say(f"{sid}: {min(start + chunk_size, len(todo))}/{len(todo)}")
        if len(mine) and n_ok and (mine["bin_source"] == "calibration").any() and calibrate_with is None:
            say(f"{sid}: {out} has calibrated bins but the {n_ok} new rows are binned by the scorer; "
                "rerun with --calibrate-with to rebin them all")
        summary.scored[sid], summary.failed[sid] = n_ok, n_bad + len(failed_gen)
    table = (pd.concat(frames, ignore_index=True) if frames else existing).reset_index(drop=True)
    errors = _merge_errors(old_errors, retried, new_errors)
    report = None
    if calibrate_with is not None:
        report = _calibrate_file(table, ids, calibrate_with, generations, seed=seed, folds=folds,
                                 n_boot=n_boot, objective=objective)
        report["meta"] = _meta(scorers)
        if report_path is not None:
            from .calibration import save_calibration

            save_calibration(report, report_path)
    write_table(table, out, "coherence")
    if len(errors) or errors_path.exists():
        _write_errors(errors, errors_path)
    for sid, rows in table.groupby("scorer_id"):
        summary.bin_counts[str(sid)] = {str(k): int(v) for k, v in rows["bin"].value_counts().items()}
    return CoherenceRunSummary(summary.out, summary.errors_path, summary.scored, summary.skipped,
                               summary.failed, summary.bin_counts, report)

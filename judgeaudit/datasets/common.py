"""Helpers shared by the dataset loaders (private)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from judgeaudit.errors import MissingExtraError, ValidationError, excerpt_names
from judgeaudit.tables import AuditTables, Task, empty_table, make_item_id, read_records


def text_id(prefix: str, text: str) -> str:
    """A stable id from text: ``prefix`` + the first 12 hex chars of its sha256."""
    return f"{prefix}{hashlib.sha256(str(text).encode('utf-8')).hexdigest()[:12]}"


def occurrence_index(keys) -> list:
    """0, 1, 2 ... for the repeats of each key, in order (the ``sample_index``)."""
    seen: dict = {}
    out = []
    for k in keys:
        out.append(seen.get(k, 0))
        seen[k] = out[-1] + 1
    return out


def require_columns(df: pd.DataFrame, columns, path) -> None:
    """Raise a ValidationError listing the missing and the available columns."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValidationError(
            f"missing column(s) {', '.join(map(repr, missing))}; available columns: "
            f"{excerpt_names(df.columns) or '(none)'}",
            path=path, column=", ".join(missing))


def read_csv(path, *, encoding=None, columns=()) -> pd.DataFrame:
    """Read a CSV/JSONL file as raw cells and check it has ``columns``."""
    path = Path(path)
    if not path.exists():
        raise ValidationError("file not found; pass the path of the data set file or folder",
                              path=path)
    df = read_records(path, encoding=encoding)
    require_columns(df, columns, path)
    return df


def generations_frame(prompt_ids, checkpoint_ids, responses, *, stratum=None, extra=None):
    """A generations table with sample_index counting repeats of (prompt, checkpoint)."""
    prompt_ids, checkpoint_ids = list(prompt_ids), list(checkpoint_ids)
    responses = ["" if r is None else str(r) for r in responses]
    sample = occurrence_index(zip(prompt_ids, checkpoint_ids))
    # identical (prompt, checkpoint, response) repeats get distinct sample indices,
    # so item ids stay unique while staying stable across reloads of the same file
    frame = pd.DataFrame({
        "item_id": [make_item_id(p, c, s, r)
                    for p, c, s, r in zip(prompt_ids, checkpoint_ids, sample, responses)],
        "prompt_id": prompt_ids,
        "checkpoint_id": checkpoint_ids,
        "sample_index": sample,
        "response": responses,
        "gen_config_hash": [None] * len(responses),
        "stratum": [None] * len(responses) if stratum is None else list(stratum),
    })
    for name, values in (extra or {}).items():
        frame[name] = list(values)
    return frame


def frame_or_empty(rows: list, kind: str) -> pd.DataFrame:
    """Rows (dicts) as a frame of ``kind``, or the empty table."""
    return pd.DataFrame.from_records(rows) if rows else empty_table(kind)


def assemble(name, task: Task, *, generations, labels=(), verdicts=(), prompts=None) -> AuditTables:
    """Build and validate an :class:`AuditTables` from loader output."""
    tables = AuditTables(
        prompts=empty_table("prompts") if prompts is None else prompts,
        generations=generations,
        labels=labels if isinstance(labels, pd.DataFrame) else frame_or_empty(list(labels), "labels"),
        verdicts=(verdicts if isinstance(verdicts, pd.DataFrame)
                  else frame_or_empty(list(verdicts), "verdicts")),
        coherence=empty_table("coherence"),
        task=task,
        name=name,
    )
    return tables.validate()


def import_datasets():
    """Import the optional Hugging Face ``datasets`` package."""
    try:
        import datasets  # noqa: PLC0415 - optional extra, imported on use
    except ImportError:
        raise MissingExtraError("datasets", "hub") from None
    return datasets

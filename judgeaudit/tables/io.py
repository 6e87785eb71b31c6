"""Reading and writing the tables: CSV, JSONL and parquet by suffix, atomic writes, and
:class:`AuditTables`, the five tables of one audit read together."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from judgeaudit.atomic import atomic_open
from judgeaudit.errors import ValidationError

from .schema import ENCODING_HINT, Task, empty_table, is_missing, raise_at_first, validate

__all__ = ["read_records", "read_table", "write_table", "write_frame_atomic", "table_format",
           "AuditTables", "tables_from_files"]

def _decode(raw: bytes, encoding, path, *, csv_rows: bool) -> str:
    try:
        return raw.decode(encoding or "utf-8")
    except UnicodeDecodeError as e:
        if encoding not in (None, "utf-8", "utf8"):
            raise ValidationError(f"cannot decode the file as {encoding}: {e}", path=path) from None
        prefix = raw[: e.start].decode("utf-8", errors="replace")
        row, column = _locate(prefix, csv_rows)
        raise ValidationError(
            f"text is not valid UTF-8 (byte 0x{raw[e.start]:02x} at byte offset {e.start}); "
            f"{ENCODING_HINT}", path=path, row=row, column=column) from None


def _locate(prefix: str, csv_rows: bool):
    """The 1-based data row (and CSV column) of the character after ``prefix``."""
    if not csv_rows:
        return prefix.count("\n") + 1, None  # line 1 is data row 1 in JSONL
    try:
        records = list(csv.reader(io.StringIO(prefix)))
    except csv.Error:  # e.g. a NUL before the bad byte: the row cannot be located
        return None, None
    header = records[0] if records else []
    if not header:
        return (1 if records else None), None
    if prefix.endswith(("\n", "\r")) and prefix.count('"') % 2 == 0:  # at a record boundary
        return len(records), header[0]
    last = records[-1]
    col = header[len(last) - 1] if 0 < len(last) <= len(header) else None
    return (len(records) - 1) or None, col  # None: the bad byte is in the header


def table_format(path: Path) -> str:
    """The canonical suffix of a table file (.parquet, .jsonl or .csv), or ValidationError."""
    suffix = {".pq": ".parquet", ".ndjson": ".jsonl"}.get(path.suffix.lower(), path.suffix.lower())
    if suffix not in (".parquet", ".csv", ".jsonl"):
        raise ValidationError(f"unsupported table format {suffix or '(none)'!r}; "
                              "expected .parquet, .jsonl or .csv", path=path)
    return suffix


def read_records(path, *, encoding=None) -> pd.DataFrame:
    """Read a CSV, JSONL or parquet file without applying a schema.

    CSV cells are all strings (``""`` when empty, never NaN); JSONL cells keep their
    JSON types.  Text that is not valid UTF-8 (the default ``encoding``) raises
    :class:`ValidationError` naming byte offset, row and column, with an ``--encoding`` hint.
    """
    path = Path(path)
    if (suffix := table_format(path)) == ".parquet":
        if not path.exists():
            raise ValidationError("file not found", path=path)
        return pd.read_parquet(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ValidationError("file not found", path=path) from None
    if encoding in (None, "utf-8", "utf8"):
        raw = raw.removeprefix(b"\xef\xbb\xbf")
    text = _decode(raw, encoding, path, csv_rows=suffix == ".csv")
    if suffix == ".csv":
        if not text.strip():
            return pd.DataFrame()
        try:
            return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
        except (pd.errors.ParserError, csv.Error) as e:
            raise ValidationError(f"not a readable CSV file ({e}); check quoting and the "
                                  "delimiter (a comma is expected)", path=path) from None
    rows = []
    for n, line in enumerate(text.split("\n"), start=1):  # not splitlines: \x85 is text
        try:
            obj = json.loads(line) if line.strip() else {}
        except json.JSONDecodeError as e:
            obj = f"invalid JSON ({e.msg})"
        if not isinstance(obj, dict):
            raise ValidationError(f"{obj if isinstance(obj, str) else 'not an object'}; expected "
                                  "one JSON object per line", path=path, row=n)
        rows += [obj] if obj else []
    return pd.DataFrame.from_records(rows) if rows else pd.DataFrame()


def read_table(path, kind, *, encoding=None, allowed_values=None, known_item_ids=None) -> pd.DataFrame:
    """Read a table file (format from the suffix) and :func:`validate` it."""
    return validate(read_records(path, encoding=encoding), kind, path=path,
                    allowed_values=allowed_values, known_item_ids=known_item_ids)


def _write_frame(df: pd.DataFrame, handle, suffix: str) -> None:
    if suffix == ".parquet":
        df.to_parquet(handle, index=False)
    elif suffix == ".csv":
        text = io.StringIO()
        df.to_csv(text, index=False)
        handle.write(text.getvalue().encode("utf-8"))
    else:
        for rec in df.to_dict(orient="records"):
            rec = {k: None if is_missing(v) else v.item() if isinstance(v, np.generic) else v
                   for k, v in rec.items()}
            handle.write((json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8"))


def write_table(df, path, kind, *, allowed_values=None) -> Path:
    """Validate ``df`` and write it atomically to ``path`` (parquet, .jsonl or .csv).

    The data go to a temporary file in the same directory, which is flushed,
    fsync'ed and then moved over ``path`` with :func:`os.replace`; on any error the
    temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    table_format(path)
    return write_frame_atomic(validate(df, kind, path=path, allowed_values=allowed_values), path)


def write_frame_atomic(df, path) -> Path:
    """Write an already validated frame atomically, format from the suffix (see :func:`write_table`)."""
    path = Path(path)
    suffix = table_format(path)
    with atomic_open(path, "wb") as handle:
        _write_frame(df, handle, suffix)
    return path



@dataclass(frozen=True)
class AuditTables:
    """The five tables (empty frames where a dataset lacks one), the task and a name."""

    prompts: pd.DataFrame
    generations: pd.DataFrame
    labels: pd.DataFrame
    verdicts: pd.DataFrame
    coherence: pd.DataFrame
    task: Task
    name: str = "dataset"

    def validate(self, *, allowed_values=None) -> AuditTables:
        """Validate every table, cross-check ids, and return the normalised copy.

        Labels, verdicts and coherence rows must refer to items of ``generations``;
        when ``prompts`` is not empty, every generation's ``prompt_id`` must be in it.
        """
        tabs = {k: validate(getattr(self, k), k, path=k, allowed_values=allowed_values)
                for k in ("prompts", "generations")}
        known = set(tabs["generations"]["item_id"])
        for k in ("labels", "verdicts", "coherence"):
            tabs[k] = validate(getattr(self, k), k, path=k, known_item_ids=known,
                               allowed_values=allowed_values)
        if len(tabs["prompts"]):
            pids = tabs["generations"]["prompt_id"]
            raise_at_first(~pids.isin(set(tabs["prompts"]["prompt_id"])).to_numpy(),
                            lambda v: f"prompt_id {v!r} is not in the prompts table; expected every "
                            "generation's prompt to be listed", "generations", "prompt_id", list(pids))
        return dataclasses.replace(self, **tabs)


def tables_from_files(*, labels, verdicts, generations, coherence=None, prompts=None,
                      field="harmfulness", positive=None, encoding=None, name=None,
                      exclude_items=()) -> AuditTables:
    """Read the project's own table files (parquet, .jsonl or .csv) into :class:`AuditTables`.

    Without ``generations``, each item id found in the labels, verdicts or coherence
    table becomes a generation of its own prompt with no response text (so strata
    come only from coherence labels or the coherence table).  The task is
    :meth:`Task.for_field` of ``field`` and ``positive``.  Missing optional tables are
    empty; the result is cross-checked with :meth:`AuditTables.validate`.
    Rows of ``exclude_items`` (e.g. a labelling sample's gold items) are dropped from
    the labels, verdicts and coherence tables first.
    """
    files = {"labels": labels, "verdicts": verdicts, "generations": generations,
             "coherence": coherence, "prompts": prompts}
    tabs = {k: empty_table(k) if f is None else read_table(f, k, encoding=encoding)
            for k, f in files.items()}
    if len(exclude_items):
        for k in ("labels", "verdicts", "coherence"):
            tabs[k] = tabs[k][~tabs[k]["item_id"].isin(set(exclude_items))].reset_index(drop=True)
    if generations is None:
        ids = list(dict.fromkeys(pd.concat([tabs[k]["item_id"] for k in ("labels", "verdicts", "coherence")])))
        tabs["generations"] = validate(pd.DataFrame({"item_id": ids, "prompt_id": ids, "checkpoint_id": "unknown",
                                                     "sample_index": 0, "response": ""}), "generations")
    return AuditTables(**tabs, task=Task.for_field(field, positive),
                       name=name or Path(generations or labels).parent.name or "tables").validate()

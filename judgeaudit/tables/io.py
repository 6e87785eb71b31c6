"""Reading and writing the tables: CSV, JSONL and parquet by suffix, atomic writes, and
:class:`AuditTables`, the five tables of one audit read together."""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from judgeaudit.atomic import atomic_open
from judgeaudit.errors import ValidationError, excerpt
from judgeaudit.safe_read import (JSONInputError, check_encoding, check_input_file, is_utf8,
                                  loads_json, read_file_bytes)

from .schema import ENCODING_HINT, Task, empty_table, is_missing, raise_at_first, validate

__all__ = ["read_records", "read_table", "write_table", "write_frame_atomic", "table_format",
           "AuditTables", "tables_from_files"]

def _decode(raw: bytes, encoding, path, *, csv_rows: bool) -> str:
    if not is_utf8(encoding) and raw.startswith(b"\xef\xbb\xbf") and \
            codecs.lookup(encoding).name not in ("utf-16", "utf-32"):
        raise ValidationError(f"the file starts with a UTF-8 byte order mark, but the encoding is "
                              f"{encoding}; pass --encoding utf-8 (encoding='utf-8' in Python)",
                              path=path)
    try:
        text = raw.decode(encoding or "utf-8")
    except UnicodeError as e:
        if not is_utf8(encoding) or not isinstance(e, UnicodeDecodeError):
            raise ValidationError(f"cannot decode the file as {encoding}: {excerpt(str(e), 120)}; "
                                  f"{ENCODING_HINT}", path=path) from None
        prefix = raw[: e.start].decode("utf-8", errors="replace")
        row, column = _locate(prefix, csv_rows)
        raise ValidationError(
            f"text is not valid UTF-8 (byte 0x{raw[e.start]:02x} at byte offset {e.start}); "
            f"{ENCODING_HINT}", path=path, row=row, column=column) from None
    return text.lstrip("\ufeff")  # byte order marks, also a doubled one


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
    Every other problem (not a regular file, a corrupt parquet file, a ragged CSV row,
    a JSONL line that is not an object, a number of more than
    :data:`~judgeaudit.safe_read.MAX_NUMBER_DIGITS` digits, nesting deeper than
    :data:`~judgeaudit.safe_read.MAX_JSON_DEPTH`) is a one-line :class:`ValidationError`
    too.  Leading byte order marks are dropped.
    """
    path = Path(path)
    suffix = table_format(path)
    encoding = check_encoding(encoding)
    if suffix == ".parquet":
        return _read_parquet(check_input_file(path, what="parquet file"))
    raw = read_file_bytes(path, what=f"{suffix[1:].upper()} file")
    if is_utf8(encoding):
        while raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
    text = _decode(raw, encoding, path, csv_rows=suffix == ".csv")
    if suffix == ".csv":
        return _read_csv_text(text, path)
    rows = []
    for n, line in enumerate(text.split("\n"), start=1):  # not splitlines: \x85 is text
        if not line.strip():
            continue
        try:
            obj = loads_json(line)
        except JSONInputError as e:
            raise ValidationError(f"{e}; expected one JSON object per line", path=path, row=n) from None
        if not isinstance(obj, dict):
            kind = {str: "a JSON string", list: "a JSON array"}.get(type(obj), "a JSON scalar")
            raise ValidationError(f"the line is {kind}, not an object; expected one JSON object "
                                  "per line", path=path, row=n)
        rows += [obj] if obj else []
    return pd.DataFrame.from_records(rows) if rows else pd.DataFrame()


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.stat().st_size == 0:
        raise ValidationError("the parquet file is empty; expected a table written by "
                              "judgeaudit or pandas.DataFrame.to_parquet", path=path)
    try:
        table = pq.read_table(path)
        return table.to_pandas()
    except (pa.ArrowException, ValueError, OSError, TypeError, IndexError) as e:
        raise ValidationError(f"not a readable parquet file ({type(e).__name__}: "
                              f"{excerpt(str(e), 120)}); rewrite it, e.g. with "
                              "pandas.DataFrame.to_parquet", path=path) from None


def _read_csv_text(text: str, path: Path) -> pd.DataFrame:
    if not text.strip():
        return pd.DataFrame()
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (pd.errors.ParserError, csv.Error, ValueError) as e:
        row, column, detail = _ragged(text)
        if detail:
            raise ValidationError(detail + "; check quoting and the delimiter (a comma is "
                                  "expected)", path=path, row=row, column=column) from None
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValidationError(f"not a readable CSV file ({excerpt(first, 120)}); check quoting "
                              "and the delimiter (a comma is expected)", path=path) from None


def _ragged(text: str):
    """``(row, column, message)`` of the first row with more cells than the header
    (pandas pads shorter rows), or ``(None, None, "")`` when none is found."""
    try:
        reader = csv.reader(io.StringIO(text))
        header = next(reader, [])
        for n, record in enumerate(reader, start=1):
            if len(record) > len(header):
                return (n, f"#{len(header) + 1} (no header)",
                        f"the row has {len(record)} cells but the header has {len(header)} "
                        f"columns; extra cell {excerpt(record[len(header)], 40)}")
    except csv.Error as e:
        return None, None, f"not a readable CSV file ({excerpt(str(e), 120)})"
    return None, None, ""


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
                            lambda v: f"prompt_id {excerpt(v)} is not in the prompts table; expected every "
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

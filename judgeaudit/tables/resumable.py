"""The one resumable writer of the tables a stage fills item by item: generations,
verdicts and coherence.

Every such stage does the same four things, and does them here:

1. **Skip what is done**, by key and config hash.  The rows already written are read
   (:func:`read_resumable`); a row is done when its key is there with a status other
   than ``error``.  Rows of the same owner (a checkpoint, a judge, a scorer) written
   with another config hash are refused (:meth:`ResumableWriter.check_config`): old
   and new rows would mix.
2. **Write atomically in parts.**  Each finished chunk becomes one part file,
   ``<out>.parts/part-<time>-<random>.parquet``, written atomically
   (:mod:`judgeaudit.atomic`).  :meth:`ResumableWriter.finish` merges the table and
   its parts into ``out`` (any suffix :func:`~judgeaudit.tables.write_table` takes),
   atomically, and removes the parts.  A run that is killed keeps every finished
   chunk; :func:`read_resumable` (and the next run) sees them.
3. **Keep every failure as a row**, with its status (``error``, or ``parse_error``
   for an output that could not be read) and its error text: nothing is dropped, and
   nothing is a silent NaN.
4. **Retry failures only when asked** (``retry_errors=True``): rows with status
   ``error`` are then done again.  ``parse_error`` rows are findings (a judge's reply
   that could not be read at temperature 0 will not read better the next time) and
   are never retried.

Why part files and not a rewrite of the whole table after each chunk: a rewrite costs
the size of the table so far, so a run of ``N`` rows in chunks of ``c`` writes about
``N**2 / (2 c)`` rows (a million verdicts in chunks of 256: about two billion row
writes); with parts each row is written twice (its part, then the merged table),
whatever the size.  The price is one folder of small files while a run goes, and a
read that merges them (:func:`read_resumable`), which is what a reader of an
interrupted run calls.

When one key has several rows (a retried failure), the merged table keeps the latest
row that is not an ``error``, else the latest ``error``.

>>> import tempfile, pathlib, pandas as pd
>>> out = pathlib.Path(tempfile.mkdtemp()) / "verdicts.parquet"
>>> w = ResumableWriter(out, "verdicts")
>>> _ = w.append(pd.DataFrame({"item_id": ["a", "b"], "judge_id": "j", "label": ["harmful", None],
...                            "status": ["ok", "error"], "raw": [None, "timeout"],
...                            "judge_config_hash": "h1"}))
>>> sorted(read_resumable(out, "verdicts")["item_id"])   # before finish: from the part
['a', 'b']
>>> sorted(ResumableWriter(out, "verdicts").done("j")["item_id"])   # the error is done too
['a', 'b']
>>> sorted(ResumableWriter(out, "verdicts").done("j", retry_errors=True)["item_id"])
['a']
>>> len(w.finish()), parts_dir(out).exists()
(2, False)
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from judgeaudit.errors import ConfigError

from .io import read_table, table_format, write_table
from .schema import empty_table, validate

__all__ = ["ResumableKind", "RESUMABLE_KINDS", "RETRY_STATUSES", "ResumableWriter", "parts_dir",
           "read_resumable"]

#: The statuses ``retry_errors=True`` does again.
RETRY_STATUSES = ("error",)


@dataclass(frozen=True)
class ResumableKind:
    """How a table kind resumes: the key of a row, the column naming the part that
    wrote it (checkpoint, judge, scorer) and the column of that part's config hash."""

    kind: str
    key: tuple
    owner: str
    hash_column: str


#: The tables written resumably.  Generations resume by (prompt, checkpoint, sample),
#: not ``item_id``, which hashes the response and so is not known before it is made.
RESUMABLE_KINDS = {
    "generations": ResumableKind("generations", ("prompt_id", "checkpoint_id", "sample_index"),
                                 "checkpoint_id", "gen_config_hash"),
    "verdicts": ResumableKind("verdicts", ("item_id", "judge_id"), "judge_id", "judge_config_hash"),
    "coherence": ResumableKind("coherence", ("item_id", "scorer_id"), "scorer_id", "scorer_config_hash"),
}


def _spec(kind: str) -> ResumableKind:
    if kind not in RESUMABLE_KINDS:
        raise ConfigError(f"table kind {kind!r} is not written resumably; resumable kinds: "
                          f"{', '.join(RESUMABLE_KINDS)}")
    return RESUMABLE_KINDS[kind]


def parts_dir(out) -> Path:
    """The folder of part files of a run writing ``out`` (``<out>.parts``)."""
    out = Path(out)
    return out.with_name(out.name + ".parts")


def _part_files(out: Path) -> list[Path]:
    folder = parts_dir(out)
    return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []


def _merge(frames: list[pd.DataFrame], spec: ResumableKind) -> pd.DataFrame:
    """One row per key: the latest row that is not an error, else the latest error."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_table(spec.kind)
    rows = pd.concat(frames, ignore_index=True)
    if len(frames) == 1 and not rows.duplicated(list(spec.key)).any():
        return rows
    rank = (~rows["status"].isin(RETRY_STATUSES)).astype(int).to_numpy()
    order = pd.DataFrame({"rank": rank, "order": range(len(rows))})
    winners = order.assign(**{k: rows[k].to_numpy() for k in spec.key}) \
        .sort_values(["rank", "order"]).drop_duplicates(list(spec.key), keep="last")["order"]
    return rows.iloc[sorted(winners)].reset_index(drop=True)


def read_resumable(out, kind: str, *, extra: pd.DataFrame | None = None) -> pd.DataFrame:
    """The table a resumable run writing ``out`` has written so far: ``out`` (when it
    exists) merged with its part files, one row per key (see the module docstring).

    ``extra`` rows (e.g. an older version's side file, as rows of ``kind``) are merged
    as if written before ``out``.  Raises :class:`~judgeaudit.errors.ValidationError`
    on a file that does not hold a valid table of ``kind``.
    """
    spec = _spec(kind)
    out = Path(out)
    table_format(out)
    frames = [] if extra is None else [validate(extra, kind, path=f"{out} (older rows)")]
    if out.exists():
        frames.append(read_table(out, kind))
    frames += [read_table(p, kind) for p in _part_files(out)]
    table = _merge(frames, spec)
    return validate(table, kind, path=out) if len(frames) > 1 else table


class ResumableWriter:
    """Resume, append to and finish one table written resumably (see the module docstring).

    Parameters
    ----------
    out:
        The table file (``.parquet``, ``.jsonl`` or ``.csv``).
    kind:
        A key of :data:`RESUMABLE_KINDS`.
    extra:
        Older rows to merge in (see :func:`read_resumable`); :meth:`finish` writes them
        into ``out``.

    Attributes
    ----------
    existing:
        The rows written before this writer was opened (merged, one per key).
    """

    def __init__(self, out, kind: str, *, extra: pd.DataFrame | None = None):
        self.spec = _spec(kind)
        self.out = Path(out)
        self.kind = kind
        self._extra = extra if extra is not None and len(extra) else None
        self.existing = read_resumable(self.out, kind, extra=self._extra)
        self.parts_written = 0

    def check_config(self, owner: str, config_hash: str, *, advice: str) -> None:
        """Refuse when ``out`` holds rows of ``owner`` made with another config hash.

        ``advice`` ends the message: what the user can do (e.g. give the changed judge
        another ``judge_id``, or write to another file).
        """
        mine = self.existing[self.existing[self.spec.owner].astype(str) == str(owner)]
        if self.spec.hash_column not in mine:
            return
        old = set(mine[self.spec.hash_column].dropna().astype(str)) - {str(config_hash)}
        if old:
            raise ConfigError(f"{self.out} holds {self.kind} rows of {self.spec.owner} {owner!r} made "
                              f"with another configuration (hash {sorted(old)[0]}, now {config_hash}); {advice}")

    def done(self, owner: str, *, retry_errors: bool = False,
             redo: Callable[[pd.DataFrame], pd.Series] | None = None) -> pd.DataFrame:
        """The rows of ``owner`` that a run must not do again.

        Every row of ``owner``, less those with a status in :data:`RETRY_STATUSES`
        when ``retry_errors``, less those ``redo`` (rows -> boolean mask) marks: a row
        that is out of date for a reason only the stage knows (e.g. an error row that
        records a failed generation which has since succeeded).
        """
        rows = self.existing[self.existing[self.spec.owner].astype(str) == str(owner)]
        if retry_errors:
            rows = rows[~rows["status"].isin(RETRY_STATUSES)]
        if redo is not None and len(rows):
            rows = rows[~redo(rows).to_numpy(dtype=bool)]
        return rows

    def append(self, rows: pd.DataFrame) -> Path | None:
        """Validate ``rows`` and write them as one part file, atomically; returns its path."""
        if not len(rows):
            return None
        folder = parts_dir(self.out)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        write_table(rows, path, self.kind)
        self.parts_written += 1
        return path

    def finish(self, transform: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> pd.DataFrame:
        """Merge ``out`` and its parts (and the ``extra`` rows), apply ``transform``,
        write ``out`` atomically and remove the part files; returns the table.

        When nothing was appended, there are no parts or older rows and no
        ``transform``, ``out`` is left as it is (a rerun that did nothing does not
        rewrite it).
        """
        parts = _part_files(self.out)
        if not parts and self._extra is None and transform is None and self.out.exists():
            return self.existing
        table = read_resumable(self.out, self.kind, extra=self._extra)
        if transform is not None:
            table = transform(table)
        write_table(table, self.out, self.kind)
        folder = parts_dir(self.out)
        # the parts, and temporary files a killed process left half-written (never read)
        for p in [*parts, *(folder.glob(".part-*.tmp") if folder.is_dir() else [])]:
            p.unlink(missing_ok=True)
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
        self._extra = None
        self.existing = table
        return table

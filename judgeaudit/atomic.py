"""Atomic file writes: a temporary file in the same folder, flushed, then ``os.replace``.

A reader (or a rerun after a crash) sees either the old file or the new one, never half
of one.  Every stage of judgeaudit, ``annotation`` and ``finetune`` writes through these.

>>> import json, tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> p = write_json_atomic(folder / "run.json", {"step": 3})
>>> json.loads(p.read_text())
{'step': 3}
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_open", "write_text_atomic", "write_json_atomic"]


@contextmanager
def atomic_open(path, mode: str = "w", *, encoding: str | None = "utf-8",
                newline: str | None = None) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on a clean exit it replaces ``path``.

    ``mode`` is ``"w"`` (text) or ``"wb"`` (binary).  On an exception the temporary
    file is removed and ``path`` is left as it was.  Missing parent folders are made.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        kwargs = {} if mode == "wb" else {"encoding": encoding, "newline": newline}
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path, text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically; returns the path."""
    with atomic_open(path, "w", newline="\n") as fh:
        fh.write(text)
    return Path(path)


def write_json_atomic(path, obj: Any, *, indent: int | None = 2, allow_nan: bool = False,
                      **dump_options: Any) -> Path:
    """Write ``obj`` as JSON (and a final newline) to ``path`` atomically; returns the path.

    NaN and infinities are refused by default (``allow_nan=False``): JSON has no such values.
    """
    return write_text_atomic(path, json.dumps(obj, indent=indent, allow_nan=allow_nan,
                                              **dump_options) + "\n")

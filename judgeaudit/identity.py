"""What a config hash covers: file and model *contents*, not where they lie.

Judge, scorer and generation config hashes and the experiment's stage fingerprints
used to include absolute paths, so a run directory copied elsewhere (or a project
folder moved) refused to resume.  :func:`portable` replaces every absolute path
that exists in a JSON-ready config by a digest of what it holds (a file's bytes, a
folder's file names and bytes); a model named by a hub id stays as it is (a declared
id).  The hashers (:func:`judgeaudit.judges.hash_config`, the generation config hash,
:func:`judgeaudit.experiment.section_hash`) call it.

>>> portable({"model": "org/name", "n": 3})
{'model': 'org/name', 'n': 3}
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["portable", "path_digest", "MAX_TREE_FILES"]

MAX_TREE_FILES = 20_000
"""A folder with more files than this keeps its path in hashes (it is not a model)."""
_WHOLE_FILE = 256 * 2**20  # files up to this size are hashed whole
_EDGE = 16 * 2**20  # of larger files (model weights): size, first and last 16 MiB
_cache: dict = {}


def _file_digest(path: Path, st: os.stat_result) -> str:
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key in _cache:
        return _cache[key]
    h = hashlib.sha256(str(st.st_size).encode())
    with open(path, "rb") as fh:
        if st.st_size <= _WHOLE_FILE:
            for block in iter(lambda: fh.read(2**20), b""):
                h.update(block)
        else:
            h.update(fh.read(_EDGE))
            fh.seek(st.st_size - _EDGE)
            h.update(fh.read(_EDGE))
    _cache[key] = h.hexdigest()[:32]
    return _cache[key]


def path_digest(path) -> str | None:
    """``"sha256:..."`` of a regular file's bytes or of a folder's relative file names and
    bytes; ``None`` for anything else (missing, a device, a folder with more than
    :data:`MAX_TREE_FILES` files).  Files over 256 MiB contribute their size and first
    and last 16 MiB (model weights differ there; hashing every byte of a 16 GB model
    on each resume would take minutes)."""
    path = Path(path)
    try:
        st = path.stat()
        if path.is_file():
            return "sha256:" + _file_digest(path, st)
        if not path.is_dir():
            return None
        files = []
        for root, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            files += [Path(root) / n for n in names if not n.startswith(".")]
            if len(files) > MAX_TREE_FILES:
                return None
        h = hashlib.sha256()
        for f in sorted(files):
            fst = f.stat()
            if not f.is_file():
                continue
            h.update(f.relative_to(path).as_posix().encode("utf-8") + b"\0")
            h.update(_file_digest(f, fst).encode() + b"\0")
        return "sha256:" + h.hexdigest()[:32]
    except OSError:
        return None


def _is_path_like(text: str) -> bool:
    return len(text) < 4096 and "\n" not in text and "\0" not in text and os.path.isabs(text)


def portable(obj, base=None):
    """``obj`` (JSON-ready: dicts, lists, tuples, scalars) with each absolute path that
    exists (a value or a mapping key) replaced by ``"content:" + path_digest(path)``.

    ``base`` (a folder, e.g. the experiment config's): an absolute path under it that does
    not exist (yet), such as a labels file still to be written, becomes
    ``"base:" + its relative path``."""
    if isinstance(obj, Mapping):  # keys too: {path: digest} maps
        return {(portable(k, base) if isinstance(k, str) else k): portable(v, base) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [portable(v, base) for v in obj]
    if isinstance(obj, Path):
        obj = str(obj)
    if isinstance(obj, str) and _is_path_like(obj):
        digest = path_digest(obj)
        if digest is not None:
            return "content:" + digest
        if base is not None and not os.path.lexists(obj):
            try:
                return "base:" + Path(obj).relative_to(Path(base)).as_posix()
            except ValueError:
                pass
    return obj

"""Atomic writes: the old file survives a failed write, and no temporary file is left."""

from __future__ import annotations

import json

import pytest

from judgeaudit.atomic import atomic_open, write_json_atomic, write_text_atomic


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "table.jsonl"
    write_text_atomic(path, "old\n")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_open(path, "w") as fh:
            fh.write("half of a new ")
            raise RuntimeError("boom")
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.jsonl"]


def test_binary_mode_and_missing_folders(tmp_path):
    path = tmp_path / "a" / "b" / "x.bin"
    with atomic_open(path, "wb") as fh:
        fh.write(b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"


def test_json_refuses_nan_and_keeps_the_old_file(tmp_path):
    path = write_json_atomic(tmp_path / "r.json", {"a": 1})
    with pytest.raises(ValueError):
        write_json_atomic(path, {"a": float("nan")})
    assert json.loads(path.read_text()) == {"a": 1}


def test_unknown_mode_is_refused(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        with atomic_open(tmp_path / "x", "a"):
            pass

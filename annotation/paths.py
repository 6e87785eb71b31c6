"""Where annotation keeps its files: the cache folder (Label Studio's venv, data folders and
the local server's credentials live under it)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir() -> Path:
    """judgeaudit's cache folder: ``$JUDGEAUDIT_CACHE``, else ``$XDG_CACHE_HOME/judgeaudit``,
    else ``~/.cache/judgeaudit``."""
    env = os.environ.get("JUDGEAUDIT_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "judgeaudit"

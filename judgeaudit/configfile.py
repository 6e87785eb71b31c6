"""Reading a TOML config file, with errors that say which file and what to do."""

from __future__ import annotations

import sys
from pathlib import Path

from .errors import ConfigError

__all__ = ["read_toml"]


def read_toml(path, *, what: str = "config file", hint: str = "") -> dict:
    """The parsed TOML document at ``path``; ConfigError when it is missing or malformed."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} not found" + (f"; {hint}" if hint else "")) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None

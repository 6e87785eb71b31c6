"""Reading a TOML config file, with errors that say which file and what to do."""

from __future__ import annotations

import sys
from pathlib import Path

from .errors import ConfigError, one_line
from .safe_read import read_file_bytes

__all__ = ["read_toml"]


def read_toml(path, *, what: str = "config file", hint: str = "") -> dict:
    """The parsed TOML document at ``path``; ConfigError when it is missing or malformed."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{what} {path} not found" + (f"; {hint}" if hint else ""))
    raw = read_file_bytes(path, what=what)
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte offset {exc.start}); save the "
                          f"{what} as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({one_line(exc, 200)})") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML (nested too deeply)") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise ConfigError(f"{path}: not valid TOML ({one_line(exc, 120)})") from None

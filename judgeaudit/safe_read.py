"""Reading untrusted files safely: a regular file only, a text encoding only, JSON with
bounded numbers and nesting.

Every function raises :class:`~judgeaudit.errors.ValidationError` (or
:class:`~judgeaudit.errors.ConfigError` for an option value) with a one-line message
naming the file, instead of the ``OSError``, ``LookupError``, ``RecursionError`` or
``ValueError`` the standard library would raise.

>>> loads_json('{"a": [1, 2]}')
{'a': [1, 2]}
>>> check_encoding("UTF8")
'utf-8'
"""

from __future__ import annotations

import codecs
import json
import os
import stat
from pathlib import Path

from judgeaudit.errors import ConfigError, ValidationError, excerpt

__all__ = ["MAX_JSON_DEPTH", "MAX_NUMBER_DIGITS", "check_encoding", "is_utf8", "read_file_bytes",
           "check_input_file", "check_output_dir", "loads_json", "JSONInputError"]

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays/objects accepted in a JSON value read from a file."""
MAX_NUMBER_DIGITS = 400
"""Longest integer (in digits) accepted in JSON input; Python refuses past 4,300."""

# Codecs that exist but do not turn bytes of a file into text.
_NOT_FILE_ENCODINGS = {"punycode", "idna", "raw_unicode_escape", "unicode_escape", "undefined"}


def check_encoding(encoding, *, option: str = "--encoding") -> str | None:
    """The canonical name of the text encoding ``encoding`` (``None`` stays ``None``).

    Raises :class:`ConfigError` for an unknown codec and for codecs that are not
    text encodings of files (``base64``, ``hex``, ``rot13``, ``zlib``, ``punycode``,
    ``idna`` ...).
    """
    if encoding is None:
        return None
    name = str(encoding)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        raise ConfigError(f"{option} {excerpt(name, 40)} is not a known text encoding; use e.g. "
                          "utf-8, latin-1, cp1252 or mac_roman") from None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_FILE_ENCODINGS:
        raise ConfigError(f"{option} {excerpt(name, 40)} is a {info.name} codec, not a text "
                          "encoding of files; use e.g. utf-8, latin-1, cp1252 or mac_roman")
    return info.name


def is_utf8(encoding) -> bool:
    """True for ``None`` and every spelling of UTF-8 (``UTF8``, ``utf_8``, ``U8``, ``utf-8-sig``)."""
    return encoding is None or codecs.lookup(str(encoding)).name in ("utf-8", "utf-8-sig")


def check_input_file(path, *, what: str = "file") -> Path:
    """``path`` if it is a regular file that exists; else a one-line ValidationError.

    A directory, a FIFO or a device is refused *before* it is opened, so reading
    never blocks on a pipe that nobody writes.
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise ValidationError("file not found", path=path) from None
    except OSError as exc:
        raise ValidationError(f"cannot read the {what}: {exc.strerror or type(exc).__name__}",
                              path=path) from None
    if stat.S_ISDIR(mode):
        raise ValidationError(f"is a directory; expected a {what}", path=path)
    if not stat.S_ISREG(mode):
        raise ValidationError(f"is not a regular file (a pipe, socket or device); expected a {what}",
                              path=path)
    return path


def read_file_bytes(path, *, what: str = "file") -> bytes:
    """The bytes of a regular file (see :func:`check_input_file`), errors as ValidationError."""
    path = check_input_file(path, what=what)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read the {what}: {exc.strerror or type(exc).__name__}",
                              path=path) from None
    except MemoryError:
        raise ValidationError(f"the {what} is too large to read into memory", path=path) from None


class JSONInputError(ValueError):
    """JSON text that is malformed or exceeds :data:`MAX_JSON_DEPTH` / :data:`MAX_NUMBER_DIGITS`;
    ``str()`` is a short reason without the text."""


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_NUMBER_DIGITS:
        raise JSONInputError(f"a number with {digits:,} digits (at most {MAX_NUMBER_DIGITS} are read)")
    return int(text)


def _depth_ok(value) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            if depth > MAX_JSON_DEPTH:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, depth + 1) for c in children if isinstance(c, (list, dict)))
    return True


def loads_json(text: str):
    """``json.loads`` with integers of at most :data:`MAX_NUMBER_DIGITS` digits and nesting
    of at most :data:`MAX_JSON_DEPTH` levels; any failure is :class:`JSONInputError`."""
    try:
        value = json.loads(text, parse_int=_bounded_int)
    except JSONInputError:
        raise
    except json.JSONDecodeError as exc:
        raise JSONInputError(f"invalid JSON ({exc.msg} at character {exc.pos + 1})") from None
    except RecursionError:
        raise JSONInputError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # e.g. a float literal Python cannot convert
        raise JSONInputError(f"invalid JSON ({excerpt(str(exc), 60)})") from None
    if not _depth_ok(value):
        raise JSONInputError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def check_output_dir(path, *, option: str = "--out") -> Path:
    """Make sure ``path`` is (or can be created as) a directory we can write into.

    Called before any work starts, so a long audit does not end in a
    ``FileExistsError``.  Creates the directory (and its parents) when missing.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path} exists and is not a directory; give a folder for the "
                          "output files")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{option} {path}: cannot create the folder "
                          f"({exc.strerror or type(exc).__name__}); give a writable folder") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {path}: the folder is not writable; give a writable folder")
    return path

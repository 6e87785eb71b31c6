"""The exceptions judgeaudit raises.

One base class, :class:`JudgeAuditError`, so that callers can catch everything the
library raises on purpose.  Messages say what was wrong, where (file, row, column)
and what to do about it.
"""

from __future__ import annotations

__all__ = [
    "JudgeAuditError",
    "ValidationError",
    "ConfigError",
    "MissingExtraError",
    "UnknownNameError",
    "excerpt",
    "excerpt_names",
    "register_secret",
    "redact",
    "one_line",
    "MAX_MESSAGE_CHARS",
]

import re

MAX_MESSAGE_CHARS = 1000
"""The longest error line the CLI prints, ``judgeaudit: error:`` included (a longer message
is cut in the middle)."""

_SECRET_NAMES = r"(?:token|api[_-]?key|password|secret|authorization)"
_SECRET_PATTERNS = (
    # "Authorization: Token 0123abcd...", "Bearer ...": a long word holding a digit
    re.compile(r"(?i)\b(token|bearer|basic)(\s+)(?=[A-Za-z._~+/=-]*\d)[A-Za-z0-9._~+/=-]{12,}"),
    # token=abc, "api_key": "abc", password='abc'
    re.compile(r"(?i)(" + _SECRET_NAMES + r"\s*=\s*[\"']?|[\"']" + _SECRET_NAMES
               + r"[\"']\s*:\s*[\"'])[^\s\"',;}]+"),
)
_registered_secrets: set = set()


def register_secret(value) -> None:
    """Remember ``value`` (e.g. a Label Studio token just read) so that :func:`redact`
    removes it from any text, whatever the text looks like around it."""
    text = "" if value is None else str(value)
    for part in {text, text.strip()}:
        if len(part) >= 4:
            _registered_secrets.add(part)
        for piece in re.split(r"[\x00-\x1f\x7f]+", part):  # a token split by a newline
            if len(piece) >= 8:
                _registered_secrets.add(piece)


def redact(text) -> str:
    """``text`` with secrets replaced by ``[redacted]``.

    Removes every value passed to :func:`register_secret` and anything that looks
    like a credential (``Token abc...``, ``Bearer ...``, ``api_key=...``,
    ``"password": "..."``).  Used wherever an error is printed, logged or stored
    (the CLI, the experiment runner's ``state.json`` and ``history.jsonl``, the
    Label Studio client).
    """
    out = "" if text is None else str(text)
    for secret in sorted(_registered_secrets, key=len, reverse=True):
        out = out.replace(secret, "[redacted]")
    out = _SECRET_PATTERNS[0].sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", out)
    return _SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}[redacted]", out)


def excerpt(value, limit: int = 80) -> str:
    """``repr`` of ``value`` cut to about ``limit`` characters (with its length when cut),
    for quoting a cell in an error message without quoting a whole document."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value[: limit * 4])
    text = repr(value) if not isinstance(value, str) else repr(value[: limit * 4])
    if len(text) <= limit and not (isinstance(value, str) and len(value) > limit * 4):
        return text
    total = f" ({len(value):,} characters)" if isinstance(value, str) else ""
    return text[: max(limit - 3, 1)] + "..." + total


def excerpt_names(names, limit: int = 20, each: int = 40) -> str:
    """``'a', 'b', ... (and N more)``: at most ``limit`` names, each cut by :func:`excerpt`."""
    names = [str(n) for n in names]
    shown = ", ".join(excerpt(n, each) for n in names[:limit])
    return shown + (f" (and {len(names) - limit:,} more)" if len(names) > limit else "")


def one_line(message, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``message`` redacted, with control characters escaped (one line) and cut in the
    middle to at most about ``limit`` characters."""
    text = redact(message)
    text = re.sub(r"[\x00-\x1f\x7f\x85\u2028\u2029]",
                  lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)
    if len(text) > limit:
        half = (limit - 40) // 2
        text = f"{text[:half]} [... {len(text) - 2 * half:,} characters cut ...] {text[-half:]}"
    return text


class JudgeAuditError(Exception):
    """Base class of every error judgeaudit raises on purpose.

    Its text is always one line of at most 2 x :data:`MAX_MESSAGE_CHARS` characters with
    secrets redacted (:func:`one_line`), whatever value a message quotes.
    """

    def __str__(self) -> str:
        return one_line(super().__str__(), 2 * MAX_MESSAGE_CHARS)


class ValidationError(JudgeAuditError, ValueError):
    """Input data does not match what a table or function expects.

    Parameters
    ----------
    message:
        What was wrong and what to do.
    path, row, column:
        Where it was found, when known.  ``row`` is 1-based and counts data rows
        (the header is not a row), so it matches what a spreadsheet shows minus one.
    """

    def __init__(self, message: str, *, path=None, row=None, column=None):
        self.path = None if path is None else str(path)
        self.row = row
        self.column = column
        where = []
        if self.path is not None:
            where.append(self.path)
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {excerpt(str(column), 80)}")
        message = one_line(message, MAX_MESSAGE_CHARS)  # a backstop: callers quote excerpts
        self.message = message
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class ConfigError(JudgeAuditError, ValueError):
    """A configuration value or command-line option is invalid."""


class UnknownNameError(JudgeAuditError, KeyError):
    """A registry lookup failed; the message lists the valid names."""

    def __init__(self, kind: str, name: str, valid):
        self.kind, self.name, self.valid = kind, name, sorted(valid)
        super().__init__(f"unknown {kind} {name!r}; valid names: {', '.join(self.valid)}")

    def __str__(self) -> str:  # KeyError would add quotes around the message
        return one_line(self.args[0], 2 * MAX_MESSAGE_CHARS)


class MissingExtraError(JudgeAuditError, ImportError):
    """An optional dependency is not installed."""

    def __init__(self, module: str, extra: str):
        super().__init__(
            f"{module} is needed for this; install it with: pip install 'judgeaudit[{extra}]'"
        )

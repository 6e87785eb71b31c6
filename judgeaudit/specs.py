"""The one grammar of ``NAME:key=value`` specs, for ``--judge`` and ``--scorer`` alike.

A spec names a registered part and its options::

    specs   := spec ( "," spec )*
    spec    := NAME [ ":" option ( "," option )* ]
    option  := KEY "=" VALUE

* ``NAME`` is ``[A-Za-z_][A-Za-z0-9_.-]*``; ``KEY`` is ``[A-Za-z_][A-Za-z0-9_]*``.
* The text is split on commas outside ``[]``, ``{}`` and double quotes (a backslash
  escapes a quote inside quotes).  A piece ``KEY=VALUE`` whose text before the first
  ``=`` is a key (no ``:`` in it) is one more option of the spec before it; any other
  piece starts a new spec.  So ``degeneracy,perplexity:model=m,batch_size=4`` is two
  specs, and one command-line value may hold several.
* ``VALUE`` (spaces around it are dropped) is read as JSON when it is valid JSON
  (``3``, ``0.7``, ``true``, ``null``, ``["a","b"]``, ``{"yes":"harmful"}``,
  ``"quoted, with comma"``), otherwise it is the plain text (``model=C:/m/x``,
  ``pattern=(yes|no)``).  Quote a value as JSON when it holds a comma, a bracket, a
  brace or a double quote, or when it must stay text that reads as JSON (``"true"``).
* Empty pieces (a trailing comma) are ignored; an option given twice is an error.

:func:`format_spec` writes a spec that :func:`parse_spec` reads back to the same
name and options.

>>> parse_spec("refusal_prefix:prefix_chars=100,judge_id=rp100")
('refusal_prefix', {'prefix_chars': 100, 'judge_id': 'rp100'})
>>> parse_specs(["degeneracy,perplexity:model=/m/a,batch_size=4", "combined"])
[('degeneracy', {}), ('perplexity', {'model': '/m/a', 'batch_size': 4}), ('combined', {})]
>>> format_spec("llm_rubric", {"labels": {"yes": "harmful"}, "mode": "generate"})
'llm_rubric:labels={"yes":"harmful"},mode=generate'
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from judgeaudit.errors import ConfigError

__all__ = ["parse_spec", "parse_specs", "format_spec", "split_options", "parse_value"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPECIAL = set(',"[]{}')


def split_options(text: str, *, what: str = "spec") -> list[str]:
    """Split ``text`` on commas that are outside ``[]``, ``{}`` and double quotes.

    Raises
    ------
    judgeaudit.errors.ConfigError
        On an unbalanced bracket or an unclosed quote, naming the character.
    """
    parts, depth, quoted, escaped, start = [], [], False, False, 0
    pairs = {"]": "[", "}": "{"}
    for i, ch in enumerate(text):
        if quoted:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch in "[{":
            depth.append(ch)
        elif ch in "]}":
            if not depth or depth[-1] != pairs[ch]:
                raise ConfigError(f"unbalanced {ch!r} at character {i + 1} of {what} options {text!r}")
            depth.pop()
        elif ch == "," and not depth:
            parts.append(text[start:i])
            start = i + 1
    if quoted or depth:
        raise ConfigError(f"unclosed {'quote' if quoted else repr(depth[-1])} in {what} options {text!r}")
    parts.append(text[start:])
    return parts


def parse_value(text: str) -> Any:
    """An option value: the JSON value when ``text`` is valid JSON, else ``text`` itself."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def _is_option(piece: str) -> bool:
    head, eq, _ = piece.partition("=")
    return bool(eq) and ":" not in head


def parse_specs(values: str | Iterable[str], *, what: str = "spec") -> list[tuple[str, dict[str, Any]]]:
    """Every spec in ``values`` (one text or several), in order, as ``(name, options)``.

    ``what`` (``"judge"``, ``"scorer"``) names the part in error messages.  An empty
    input gives an empty list.

    Raises
    ------
    judgeaudit.errors.ConfigError
        On a piece that is neither a spec nor ``key=value``, an option before any name,
        an option given twice, or an unbalanced bracket or quote; the message quotes the
        offending piece.
    """
    if isinstance(values, str):
        values = [values]
    specs: list[tuple[str, dict[str, Any]]] = []

    def add_option(piece: str, spec_text: str) -> None:
        key, eq, value = piece.partition("=")
        key = key.strip()
        if not eq or not _KEY.fullmatch(key):
            raise ConfigError(f"{what} option {piece.strip()!r} in {spec_text!r} is not key=value "
                              "(a key is a name like batch_size)")
        name, options = specs[-1]
        if key in options:
            raise ConfigError(f"{what} option {key!r} is given twice for {name!r} in {spec_text!r}")
        options[key] = parse_value(value.strip())

    for text in values:
        if not isinstance(text, str):
            raise ConfigError(f"a {what} spec must be text like NAME:key=value, got {text!r}")
        for piece in split_options(text, what=what):
            if not piece.strip():
                continue
            if _is_option(piece):
                if not specs:
                    raise ConfigError(f"{what} option {piece.strip()!r} in {text!r} comes before any "
                                      f"{what} name; write NAME:key=value")
                add_option(piece, text)
                continue
            name, colon, first = piece.partition(":")
            name = name.strip()
            if not _NAME.fullmatch(name):
                raise ConfigError(f"{what} spec {piece.strip()!r} in {text!r} does not start with a "
                                  f"{what} name (NAME[:key=value,...])")
            specs.append((name, {}))
            if colon and first.strip():
                add_option(first, text)
    return specs


def parse_spec(text: str, *, what: str = "spec") -> tuple[str, dict[str, Any]]:
    """``"NAME:key=value,..."`` -> ``(NAME, {key: value})``: exactly one spec.

    Raises
    ------
    judgeaudit.errors.ConfigError
        As :func:`parse_specs`, and when ``text`` holds no spec or several.
    """
    if not isinstance(text, str):
        raise ConfigError(f"a {what} spec must be text like NAME:key=value, got {text!r}")
    specs = parse_specs(text, what=what)
    if len(specs) != 1:
        if not specs:
            raise ConfigError(f"{what} spec {text!r} does not start with a {what} name "
                              "(NAME[:key=value,...])")
        names = ", ".join(repr(n) for n, _ in specs)
        raise ConfigError(f"{what} spec {text!r} holds {len(specs)} specs ({names}): a piece without "
                          "'=' starts a new one; give one spec here, or write the option as key=value")
    return specs[0]


def _format_value(value: Any) -> str:
    if isinstance(value, str) and value == value.strip() and not (_SPECIAL & set(value)) \
            and parse_value(value) == value and isinstance(parse_value(value), str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        raise ConfigError(f"option value {value!r} cannot be written in a spec: give text, a number, "
                          "true/false, null, or a list or table of those") from None


def format_spec(name: str, options: Mapping[str, Any] | None = None) -> str:
    """The spec text of ``name`` and ``options``, read back by :func:`parse_spec`.

    Values are written as plain text where that reads back unchanged, else as
    compact JSON.  Raises :class:`~judgeaudit.errors.ConfigError` on a name or key
    outside the grammar, or a value JSON cannot hold (NaN, an object).
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(f"{name!r} is not a spec name ([A-Za-z_][A-Za-z0-9_.-]*)")
    parts = []
    for key, value in (options or {}).items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise ConfigError(f"option name {key!r} of {name!r} is not a key ([A-Za-z_][A-Za-z0-9_]*)")
        parts.append(f"{key}={_format_value(value)}")
    return name + (":" + ",".join(parts) if parts else "")

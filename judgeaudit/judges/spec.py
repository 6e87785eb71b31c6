"""Judge specifications: ``NAME[:opt=val,...]`` strings and TOML judge-config files.

An option value is read as JSON when it is valid JSON (``3``, ``0.7``, ``true``,
``["a","b"]``, ``{"yes":"harmful"}``, ``"quoted, with comma"``), otherwise it is the
plain text.  Commas inside brackets, braces or double quotes do not split options.

>>> parse_judge_spec("refusal_prefix:prefix_chars=100,judge_id=rp100")
('refusal_prefix', {'prefix_chars': 100, 'judge_id': 'rp100'})
>>> parse_judge_spec('llm_rubric:labels={"yes":"harmful","no":"not_harmful"}')[1]["labels"]
{'yes': 'harmful', 'no': 'not_harmful'}

A judge-config file (TOML) holds one judge as top-level keys (``name`` plus its
options) or several as ``[[judge]]`` tables::

    [[judge]]
    name = "llama_guard"
    model = "models/llama-guard-3-1b"
    threshold = 0.3

    [[judge]]
    name = "ensemble"
    rule = "majority"
    members = ["refusal_keyword", "refusal_prefix", {name = "affirmative_prefix"}]
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from judgeaudit.errors import ConfigError

__all__ = ["parse_judge_spec", "load_judge_config", "split_options"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def split_options(text: str) -> list[str]:
    """Split on commas that are outside ``[]``, ``{}`` and double quotes.

    Raises :class:`~judgeaudit.errors.ConfigError` on an unbalanced bracket or quote.
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
                raise ConfigError(f"unbalanced {ch!r} at character {i + 1} of judge options {text!r}")
            depth.pop()
        elif ch == "," and not depth:
            parts.append(text[start:i])
            start = i + 1
    if quoted or depth:
        raise ConfigError(f"unclosed {'quote' if quoted else repr(depth[-1])} in judge options {text!r}")
    parts.append(text[start:])
    return parts


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def parse_judge_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"NAME:opt=val,..."`` -> ``(NAME, {opt: value})`` (see the module docstring).

    Raises
    ------
    judgeaudit.errors.ConfigError
        On an empty or malformed name, an option without ``=``, an option name that is
        not an identifier, or an option given twice.
    """
    if not isinstance(spec, str):
        raise ConfigError(f"a judge spec must be text like NAME:opt=val, got {spec!r}")
    name, _, rest = spec.strip().partition(":")
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise ConfigError(f"judge spec {spec!r} does not start with a judge name (NAME[:opt=val,...])")
    options: dict[str, Any] = {}
    if not rest.strip():
        return name, options
    for part in split_options(rest):
        key, eq, value = part.partition("=")
        key = key.strip()
        if not eq or not _KEY.fullmatch(key):
            raise ConfigError(f"judge option {part.strip()!r} in {spec!r} is not opt=value")
        if key in options:
            raise ConfigError(f"judge option {key!r} is given twice in {spec!r}")
        options[key] = _value(value.strip())
    return name, options


def load_judge_config(path: str | Path) -> list[dict[str, Any]]:
    """Read a TOML judge-config file into a list of ``{"name": ..., **options}``.

    Raises
    ------
    judgeaudit.errors.ConfigError
        When the file cannot be read or parsed, or a judge has no ``name``.  A file
        with top-level options but no ``name`` gives one entry without a name, to be
        merged with ``--judge NAME``.
    """
    from judgeaudit.configfile import read_toml

    path = Path(path)
    doc = read_toml(path, what="judge config")
    if "judge" in doc:
        tables = doc["judge"]
        if isinstance(tables, dict):
            tables = [tables]
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            raise ConfigError(f"{path}: 'judge' must be a table or an array of tables ([[judge]])")
        for i, table in enumerate(tables, 1):
            if not table.get("name"):
                raise ConfigError(f"{path}: judge {i} has no name = \"...\"")
        extra = sorted(set(doc) - {"judge"})
        if extra:
            raise ConfigError(f"{path}: keys {extra} are outside [[judge]]; move them into a judge table")
        return [dict(t) for t in tables]
    return [dict(doc)]

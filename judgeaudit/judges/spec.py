"""Judge specifications: ``NAME[:key=value,...]`` strings, TOML judge-config files, and
:func:`build_judges`, which makes judges from both (``judgeaudit judge`` and the
experiment's judge stage call it).

Specs follow the one grammar of :mod:`judgeaudit.specs` (shared with coherence
scorers): a value is read as JSON when it is valid JSON (``3``, ``0.7``, ``true``,
``["a","b"]``, ``{"yes":"harmful"}``, ``"quoted, with comma"``), otherwise it is the
plain text; commas inside brackets, braces or double quotes do not split options.

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

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from judgeaudit.errors import ConfigError
from judgeaudit.specs import parse_spec, parse_specs, split_options

__all__ = ["parse_judge_spec", "parse_judge_specs", "load_judge_config", "split_options", "build_judges"]


def parse_judge_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"NAME:key=value,..."`` -> ``(NAME, {key: value})``: one judge (:func:`judgeaudit.specs.parse_spec`).

    Raises
    ------
    judgeaudit.errors.ConfigError
        On an empty or malformed name, an option without ``=``, a key that is not a
        name, an option given twice, or text holding several specs.
    """
    return parse_spec(spec, what="judge")


def parse_judge_specs(values: str | Iterable[str]) -> list[tuple[str, dict[str, Any]]]:
    """Every judge spec in ``values``; one value may hold several (``a,b:key=1``)."""
    return parse_specs(values, what="judge")


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


def build_judges(specs: str | Iterable[str] = (), config_file: str | Path | None = None) -> list:
    """Judges from specs (``--judge`` values) and an optional TOML judge-config file.

    Parameters
    ----------
    specs:
        ``NAME[:key=value,...]`` texts (see :mod:`judgeaudit.specs`); one text may hold
        several judges.
    config_file:
        A judge-config file (:func:`load_judge_config`).  Its named judges come after
        the specs; a file with options but no ``name`` applies them to the one judge of
        ``specs`` (options in the spec win).

    Raises
    ------
    judgeaudit.errors.ConfigError
        When no judge is given, a file without ``name`` meets more or fewer than one
        spec, or a judge does not take an option given.
    judgeaudit.errors.UnknownNameError
        For a name no judge is registered under (the message lists the valid names).
    """
    from judgeaudit.judges.base import get_judge

    parsed = parse_judge_specs(specs)
    entries = load_judge_config(config_file) if config_file is not None else []
    unnamed = [e for e in entries if not e.get("name")]
    named = [e for e in entries if e.get("name")]
    if unnamed:
        if len(parsed) != 1:
            raise ConfigError(f"{config_file} has options but no name = \"...\"; give exactly one "
                              "--judge NAME to apply them to, or add name = ...")
        name, options = parsed[0]
        parsed = [(name, {**unnamed[0], **options})]
    jobs = parsed + [(e["name"], {k: v for k, v in e.items() if k != "name"}) for e in named]
    if not jobs:
        raise ConfigError("no judge given; pass --judge NAME (e.g. --judge refusal_keyword) or --judge-config")
    judges = []
    for name, options in jobs:
        try:
            judges.append(get_judge(str(name), **options))
        except TypeError as exc:
            raise ConfigError(f"judge {name!r}: {exc}; see help(judgeaudit.judges) for its options") from None
    return judges

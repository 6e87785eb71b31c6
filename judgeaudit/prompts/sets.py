"""Prompt sets by name: the project's own (``harmful``, ``benign_lookalike``,
``capability``) and the published ones of :mod:`judgeaudit.prompts.published`.

The project's sets are JSONL prompts tables under ``data/prompts/`` of the checkout (or
``$JUDGEAUDIT_DATA/prompts``), written by the judgeaudit authors:

* ``harmful``: 80 harmful *requests* (no harmful content), 8 in each of ten categories
  (:data:`BUILTIN_CATEGORIES`); ids ``harmful-<category>-NN``.
* ``benign_lookalike``: 80 harmless requests that look alarming (XSTest-style: homonyms,
  figurative language, safe contexts, safe targets, definitions, history, fiction, public
  and fictional "private" facts, a nonsense group); each is matched to the harmful
  request of the same category and number (``matched_prompt_id``), its kind in ``lookalike``.
* ``capability``: 24 probes (arithmetic, factual, instruction following) with a
  ``reference`` answer and a ``check`` rule; see :mod:`judgeaudit.prompts.capability`.

>>> sorted(available_prompt_sets())[:3]
['advbench', 'benign_lookalike', 'capability']
>>> len(load_prompt_set("harmful")), len(load_prompt_set("harmful", split="drugs"))
(80, 8)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from judgeaudit.registry import Registry
from judgeaudit.errors import ConfigError, UnknownNameError, ValidationError
from judgeaudit.prompts.published import (
    PUBLISHED_SETS,
    detect_layout,
    load_published,
    read_prompt_file,
    tidy_extra_columns,
)
from judgeaudit.tables import SCHEMAS, validate

__all__ = ["BUILTIN_CATEGORIES", "PromptSetInfo", "PROMPT_SETS", "register_prompt_set",
           "available_prompt_sets", "prompt_set_info", "load_prompt_set", "prompts_dir"]

BUILTIN_CATEGORIES = ("violent_weapons", "cyber_intrusion", "fraud_scams", "harassment",
                      "self_harm", "drugs", "hate", "privacy_doxxing", "misinformation", "chem_bio")
"""The ten harm categories of ``harmful`` and ``benign_lookalike``."""


@dataclass(frozen=True)
class PromptSetInfo:
    """What ``judgeaudit prompts list`` shows about a set."""

    name: str
    kind: str  # "builtin" | "published" | "user"
    description: str
    splits: tuple = ()
    hub_id: str | None = None
    files: tuple = ()
    url: str | None = None


PROMPT_SETS: Registry[pd.DataFrame] = Registry("prompt set")
_INFO: dict[str, PromptSetInfo] = {}


def register_prompt_set(name: str, loader: Callable[..., pd.DataFrame], *, description: str = "",
                        splits=()) -> None:
    """Make ``load_prompt_set(name)`` call ``loader(path=..., split=..., encoding=...)``."""
    PROMPT_SETS.register(name)(loader)
    _INFO[name] = PromptSetInfo(name, "user", description, tuple(splits))


def available_prompt_sets() -> list[str]:
    """The names :func:`load_prompt_set` accepts, sorted."""
    return PROMPT_SETS.names()


def prompt_set_info(name: str) -> PromptSetInfo:
    """The :class:`PromptSetInfo` of ``name`` (an unknown name lists the valid ones)."""
    if name not in _INFO:
        raise UnknownNameError("prompt set", name, _INFO)
    return _INFO[name]


def prompts_dir() -> Path:
    """Folder of the project's prompt sets: ``$JUDGEAUDIT_DATA/prompts`` or the checkout's."""
    env = os.environ.get("JUDGEAUDIT_DATA")
    candidates = [Path(env) / "prompts"] if env else []
    candidates.append(Path(__file__).resolve().parent.parent.parent / "data" / "prompts")
    for c in candidates:
        if (c / "harmful.jsonl").is_file():
            return c
    raise ConfigError("the built-in prompt sets were not found (looked in: "
                      + ", ".join(map(str, candidates)) + "); run from a judgeaudit checkout, "
                      "or set JUDGEAUDIT_DATA to its data/ folder")


def _own_table(path, *, split=None, encoding=None, what="prompt file") -> pd.DataFrame:
    path = Path(path)
    df = read_prompt_file(path, encoding=encoding)
    layout = detect_layout(df.columns)
    if not {"prompt_id", "text"} <= set(map(str, df.columns)):
        if layout is not None:
            return load_published(layout, path=path, split=split, encoding=encoding)
        raise ValidationError(
            f"missing column(s) {', '.join(repr(c) for c in ('prompt_id', 'text') if c not in df.columns)}"
            f" for a {what}; expected the prompts table ({', '.join(SCHEMAS['prompts'].names)}) "
            f"or a published set's file ({', '.join(PUBLISHED_SETS)}: pass its name, e.g. "
            f"load_prompt_set('advbench', path=...)); available columns: "
            f"{', '.join(map(repr, map(str, df.columns))) or '(none)'}", path=path,
            column="prompt_id" if "prompt_id" not in df.columns else "text")
    table = tidy_extra_columns(validate(df, "prompts", path=path),
                               blank_is_missing=path.suffix.lower() == ".csv")
    if split is not None:
        cats = sorted({c for c in table["category"] if c})
        if split not in cats:
            raise UnknownNameError(f"category (split) of {path.name}", split, cats or ("(none)",))
        table = table[table["category"] == split].reset_index(drop=True)
    if table.empty:
        raise ValidationError("the prompt set is empty; expected at least one prompt", path=path)
    return table


def _builtin(name: str, description: str):
    def load(*, path=None, split=None, encoding=None) -> pd.DataFrame:
        file = Path(path) if path is not None else prompts_dir() / f"{name}.jsonl"
        if file.is_dir():
            file = file / f"{name}.jsonl"
        return _own_table(file, split=split, encoding=encoding, what=f"{name} prompt set")

    PROMPT_SETS.register(name)(load)
    _INFO[name] = PromptSetInfo(name, "builtin", description, files=(f"data/prompts/{name}.jsonl",))


def _published(name: str):
    spec = PUBLISHED_SETS[name]

    def load(*, path=None, split=None, encoding=None) -> pd.DataFrame:
        return load_published(name, path=path, split=split, encoding=encoding)

    PROMPT_SETS.register(name)(load)
    _INFO[name] = PromptSetInfo(name, "published", spec.description, spec.splits, spec.hub_id,
                                spec.files, spec.url)


_builtin("harmful", "80 harmful requests written by the project, 8 per harm category "
         "(split = category)")
_builtin("benign_lookalike", "80 harmless requests that look alarming, each matched to a harmful "
         "one of the same category (split = category)")
_builtin("capability", "24 capability probes with reference answers: arithmetic, factual, "
         "instruction_following (split = category)")
for _name in PUBLISHED_SETS:
    _published(_name)


def load_prompt_set(name_or_path, *, path=None, split=None, encoding=None) -> pd.DataFrame:
    """Load a prompt set as a validated prompts table.

    Parameters
    ----------
    name_or_path:
        A name from :func:`available_prompt_sets`, or the path of a prompts file (CSV,
        JSON, JSONL or parquet with ``prompt_id`` and ``text``; a published set's own
        file is recognised by its columns).
    path:
        For a named set: a local copy (file or folder) to read instead of the default
        (``data/prompts`` for the project's sets, the hub for published ones).
    split:
        The project's sets and own files: a category.  HarmBench: ``standard``,
        ``contextual`` or ``copyright``; XSTest: ``safe`` or ``unsafe``; JBB-Behaviors:
        ``harmful`` or ``benign``.  ``None`` = every row.
    encoding:
        Text encoding of CSV/JSON input (default UTF-8).

    Returns
    -------
    pandas.DataFrame
        Columns ``prompt_id, text, source, category, is_harmful_request, attack`` (all
        ``"none"``), then the set's extra columns (``harm_category``, ``target``...).

    Raises
    ------
    UnknownNameError
        An unknown name or split (the message lists the valid ones).
    ValidationError
        A missing file or column, a malformed row (with its row number), an empty set.
    MissingExtraError
        A published set from the hub without the ``datasets`` package (``judgeaudit[hub]``).
    """
    key = str(name_or_path)
    if key in PROMPT_SETS.names():
        return PROMPT_SETS.build(key, path=path, split=split, encoding=encoding)
    candidate = Path(key)
    if path is None and (candidate.is_file() or candidate.suffix.lower() in
                         (".csv", ".json", ".jsonl", ".ndjson", ".parquet", ".pq")):
        return _own_table(candidate, split=split, encoding=encoding)
    if path is None and candidate.is_dir():
        raise ValidationError("is a folder; pass a prompts file, or a set name with path= "
                              f"({', '.join(available_prompt_sets())})", path=candidate)
    raise UnknownNameError("prompt set", key, PROMPT_SETS.names())


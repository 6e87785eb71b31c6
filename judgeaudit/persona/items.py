"""Trait items in the model-written-evaluations format, read and checked.

One JSON object per line (Perez et al. 2022, "Discovering Language Model Behaviors with
Model-Written Evaluations", the ``persona/`` files)::

    {"question": "Is the following statement something you would say?\\n\\"...\\"",
     "statement": "...", "answer_matching_behavior": " Yes",
     "answer_not_matching_behavior": " No", "label_confidence": 0.96}

``question``, ``answer_matching_behavior`` and ``answer_not_matching_behavior`` are
required; ``statement`` and ``label_confidence`` (a number in [0, 1]) are optional; other
keys are ignored.  A malformed row is a :class:`~judgeaudit.errors.ValidationError` that
names the file, the line and the field.  The trait is the file's name without its suffix
unless given.

The project's own items (written by us, balanced between statements that endorse and
that reject each trait) are :data:`BUILTIN_TRAITS`, loaded as ``builtin:NAME`` or all of
them as ``builtin``.

>>> items = load_traits(["builtin:narcissism"])  # doctest: +SKIP
>>> items[0].trait, items[0].matching            # doctest: +SKIP
('narcissism', ' Yes')
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from judgeaudit.errors import ConfigError, ValidationError

__all__ = ["TraitItem", "BUILTIN_TRAITS", "persona_data_dir", "load_trait_items", "load_traits",
           "items_frame"]

#: The traits of the project's own item set (``data/persona/NAME.jsonl``).
BUILTIN_TRAITS = ("machiavellianism", "narcissism", "psychopathy")

_REQUIRED = ("question", "answer_matching_behavior", "answer_not_matching_behavior")


@dataclass(frozen=True)
class TraitItem:
    """One yes/no trait item.

    Attributes
    ----------
    item_id:
        16 hex characters over (trait, question, matching answer): stable across runs.
    trait:
        The trait the item measures (the file name by default).
    question:
        The full question put to the model.
    matching, not_matching:
        The behaviour-matching answer and the other one, as written in the file
        (``" Yes"`` / ``" No"``, leading space included).
    statement:
        The statement alone (``""`` when the file has none).
    label_confidence:
        How sure the item's labeller was (NaN when the file gives none).
    source, line:
        The file and its 1-based line.
    """

    item_id: str
    trait: str
    question: str
    matching: str
    not_matching: str
    statement: str = ""
    label_confidence: float = math.nan
    source: str = ""
    line: int = 0


def persona_data_dir() -> Path:
    """Folder of the project's own trait items: ``$JUDGEAUDIT_DATA/persona`` or the checkout's."""
    env = os.environ.get("JUDGEAUDIT_DATA")
    candidates = [Path(env) / "persona"] if env else []
    candidates.append(Path(__file__).resolve().parent.parent.parent / "data" / "persona")
    for c in candidates:
        if all((c / f"{t}.jsonl").is_file() for t in BUILTIN_TRAITS):
            return c
    raise ConfigError("the built-in trait items were not found (looked in: " + ", ".join(map(str, candidates))
                      + "); run from a judgeaudit checkout, or set JUDGEAUDIT_DATA to its data/ folder")


def _bad(path, line: int, field: str | None, message: str) -> ValidationError:
    """An error that reads ``FILE, line N, column 'FIELD': message``."""
    err = ValidationError(message, path=f"{path}, line {line}", column=field)
    err.path, err.row = str(path), line
    return err


def _text(record: dict, field: str, path, line: int, *, required: bool) -> str:
    if field not in record or record[field] is None:
        if required:
            raise _bad(path, line, field, f"missing; each row needs {', '.join(_REQUIRED)}")
        return ""
    value = record[field]
    if not isinstance(value, str):
        raise _bad(path, line, field, f"expected text, got {type(value).__name__} {value!r}")
    if required and not value.strip():
        raise _bad(path, line, field, "empty text; fill it in or remove the row")
    return value


def _item_id(trait: str, question: str, matching: str) -> str:
    key = f"{trait}\x1f{question}\x1f{matching.strip()}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def load_trait_items(path, *, trait: str | None = None, min_label_confidence: float | None = None
                     ) -> list[TraitItem]:
    """Read one trait file (model-written-evaluations JSONL).

    Parameters
    ----------
    path:
        The JSONL file; blank lines are skipped (they still count as lines).
    trait:
        The trait name; default the file name without its suffix.
    min_label_confidence:
        Keep only items whose ``label_confidence`` reaches this (items without one are
        kept).  Perez et al. report their labels' agreement with people rises with it.

    Raises
    ------
    ValidationError
        A row that is not a JSON object, lacks a required field, has a non-text field,
        a ``label_confidence`` outside [0, 1], two answers that are the same, or repeats
        an earlier question; the message names the file, the line and the field.
    """
    path = Path(path)
    trait = trait or path.stem
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"trait file {path} not found; give a JSONL file in the model-written-evaluations "
                          "format, or builtin:NAME") from None
    except UnicodeDecodeError as exc:
        raise ValidationError(f"not UTF-8 text (byte {exc.start})", path=path) from None
    items: list[TraitItem] = []
    seen: dict[str, int] = {}
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise _bad(path, line, None, f"not valid JSON ({exc.msg} at character {exc.pos + 1})") from None
        if not isinstance(record, dict):
            raise _bad(path, line, None, f"expected a JSON object, got {type(record).__name__}")
        question = _text(record, "question", path, line, required=True)
        matching = _text(record, "answer_matching_behavior", path, line, required=True)
        other = _text(record, "answer_not_matching_behavior", path, line, required=True)
        if matching.strip() == other.strip():
            raise _bad(path, line, "answer_not_matching_behavior",
                       f"the same answer as answer_matching_behavior ({matching!r}); the two must differ")
        statement = _text(record, "statement", path, line, required=False)
        confidence = record.get("label_confidence")
        if confidence is None:
            confidence = math.nan
        elif isinstance(confidence, bool) or not isinstance(confidence, (int, float)) \
                or not 0 <= confidence <= 1:
            raise _bad(path, line, "label_confidence", f"expected a number in [0, 1], got {confidence!r}")
        item_id = _item_id(trait, question, matching)
        if question in seen:
            raise _bad(path, line, "question", f"the same question as line {seen[question]}; remove one")
        seen[question] = line
        if min_label_confidence is not None and not math.isnan(confidence) \
                and confidence < min_label_confidence:
            continue
        items.append(TraitItem(item_id, trait, question, matching, other, statement, float(confidence),
                               str(path), line))
    if not items:
        raise ValidationError("no trait items" + (f" with label_confidence >= {min_label_confidence}"
                                                  if min_label_confidence is not None else ""), path=path)
    return items


def load_traits(sources: Sequence[str] | str = "builtin", *, min_label_confidence: float | None = None
                ) -> list[TraitItem]:
    """Items of several traits: files, ``builtin:NAME`` or ``builtin`` (the three built-in traits).

    A trait that appears twice (two files with the same name) is a
    :class:`~judgeaudit.errors.ConfigError`.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    paths: list[tuple[Path, str | None]] = []
    for source in sources:
        s = str(source)
        if s == "builtin":
            paths.extend((persona_data_dir() / f"{t}.jsonl", t) for t in BUILTIN_TRAITS)
        elif s.startswith("builtin:"):
            name = s.split(":", 1)[1]
            if name not in BUILTIN_TRAITS:
                raise ConfigError(f"unknown built-in trait {name!r}; built-in traits: {', '.join(BUILTIN_TRAITS)}")
            paths.append((persona_data_dir() / f"{name}.jsonl", name))
        else:
            paths.append((Path(s).expanduser(), None))
    if not paths:
        raise ConfigError("no trait files given; use builtin, builtin:NAME or FILE.jsonl")
    out: list[TraitItem] = []
    traits: dict[str, Path] = {}
    for path, name in paths:
        items = load_trait_items(path, trait=name, min_label_confidence=min_label_confidence)
        trait = items[0].trait
        if trait in traits:
            raise ConfigError(f"trait {trait!r} comes from two files ({traits[trait]} and {path}); rename one")
        traits[trait] = path
        out.extend(items)
    return out


def items_frame(items: Sequence[TraitItem]):
    """The items as a pandas DataFrame (one row each)."""
    import dataclasses

    import pandas as pd

    return pd.DataFrame([dataclasses.asdict(i) for i in items])

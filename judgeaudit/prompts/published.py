"""Published prompt sets: HarmBench, AdvBench, StrongREJECT, XSTest and JBB-Behaviors.

Each set loads from the Hugging Face hub (``path=None``; needs ``pip install
'judgeaudit[hub]'`` and network access) or from a local copy of its file (CSV, JSON,
JSONL or parquet; a folder is searched for the file's published name).  Both routes
end in :func:`map_published_rows`, which maps the set's columns onto the prompts table:

=============== =================================== =============================================
set             local file (columns)                hub (:data:`PUBLISHED_SETS` ``hub_id``)
=============== =================================== =============================================
harmbench       ``harmbench_behaviors_text_all.csv`` ``walledai/HarmBench``, configs standard,
                (Behavior, FunctionalCategory,       contextual, copyright (prompt, category,
                SemanticCategory, Tags,              context, tags)
                ContextString, BehaviorID)
advbench        ``harmful_behaviors.csv``            ``walledai/AdvBench`` (prompt, target)
                (goal, target)
strongreject    ``strongreject_dataset.csv``         ``walledai/StrongREJECT`` (prompt, category)
                (category, source, forbidden_prompt)
xstest          ``xstest_prompts.csv`` (id, prompt,  ``walledai/XSTest`` (prompt, focus, type,
                type, label, focus, note)            note, label)
jbb_behaviors   ``harmful-behaviors.csv``,           ``JailbreakBench/JBB-Behaviors``, config
                ``benign-behaviors.csv`` (Index,     behaviors, splits harmful and benign
                Goal, Target, Behavior, Category,
                Source)
=============== =================================== =============================================

Prompt ids are stable: HarmBench ``harmbench-<BehaviorID>``; XSTest ``v2-<id>`` (the ids
:func:`judgeaudit.datasets.load_xstest` gives the same prompts, so completions join);
JBB-Behaviors ``jbb-`` + a hash of the goal (as :func:`judgeaudit.datasets.load_jailbreakbench`);
otherwise ``<set>-`` + the first 12 hex characters of the sha256 of the text (the hub
copies carry no ids, so there HarmBench and XSTest ids are hashes too).  A text that
appears twice gets ``-2``, ``-3``... on its repeats.  ``category`` keeps the set's own
category; ``harm_category`` maps it onto :data:`HARM_CATEGORIES` (``None`` where no
mapping fits).  The hub route is not exercised by the offline tests.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from judgeaudit.datasets.common import import_datasets, occurrence_index, text_id
from judgeaudit.errors import ConfigError, UnknownNameError, ValidationError
from judgeaudit.tables import SCHEMAS, empty_table, read_records, validate

__all__ = ["HARM_CATEGORIES", "PublishedSet", "PUBLISHED_SETS", "map_published_rows",
           "load_published", "read_prompt_file", "detect_layout", "tidy_extra_columns"]

HARM_CATEGORIES = ("violent_weapons", "cyber_intrusion", "fraud_scams", "harassment", "self_harm",
                   "drugs", "hate", "privacy_doxxing", "misinformation", "chem_bio",
                   "sexual_content", "copyright", "other_illegal", "other")
"""The common harm taxonomy: the built-in sets' ten categories plus four catch-alls."""


@dataclass(frozen=True)
class PublishedSet:
    """How one published set is found and read.

    ``columns`` maps each field to the column names that may hold it (the local
    file's first, then the hub copy's); fields named in ``required`` must be found.
    ``layout`` is the set of local-file columns that identifies the set's file.
    """

    name: str
    description: str
    url: str
    hub_id: str
    hub_configs: tuple  # (config or None, hub split, our split)
    files: tuple
    columns: dict
    required: tuple
    layout: frozenset
    splits: tuple = ()
    categories: dict | None = None


def _alias(*names):
    return tuple(names)


_HARMBENCH_CATS = {"chemical_biological": "chem_bio", "cybercrime_intrusion": "cyber_intrusion",
                   "misinformation_disinformation": "misinformation",
                   "harassment_bullying": "harassment", "illegal": "other_illegal",
                   "harmful": "other", "copyright": "copyright"}
_STRONGREJECT_CATS = {"disinformation and deception": "misinformation",
                      "hate, harassment and discrimination": "hate",
                      "illegal goods and services": "other_illegal",
                      "non-violent crimes": "other_illegal", "sexual content": "sexual_content",
                      "violence": "violent_weapons"}
_JBB_CATS = {"harassment/discrimination": "harassment", "malware/hacking": "cyber_intrusion",
             "physical harm": "violent_weapons", "economic harm": "other",
             "fraud/deception": "fraud_scams", "disinformation": "misinformation",
             "sexual/adult content": "sexual_content", "privacy": "privacy_doxxing",
             "expert advice": "other", "government decision-making": "other"}

PUBLISHED_SETS = {s.name: s for s in (
    PublishedSet(
        "harmbench", "HarmBench text behaviors (Mazeika et al., 2024): 400 harmful requests, "
        "standard, contextual and copyright", "https://github.com/centerforaisafety/HarmBench",
        "walledai/HarmBench",
        (("standard", "train", "standard"), ("contextual", "train", "contextual"),
         ("copyright", "train", "copyright")),
        ("harmbench_behaviors_text_all.csv", "harmbench_behaviors_text_test.csv",
         "harmbench_behaviors_text_val.csv"),
        {"text": _alias("Behavior", "prompt"), "functional": _alias("FunctionalCategory"),
         "category": _alias("SemanticCategory", "category"),
         "context": _alias("ContextString", "context"), "tags": _alias("Tags", "tags"),
         "id": _alias("BehaviorID")},
        ("text",), frozenset({"Behavior", "BehaviorID"}),
        ("standard", "contextual", "copyright"), _HARMBENCH_CATS),
    PublishedSet(
        "advbench", "AdvBench harmful behaviors (Zou et al., 2023): 520 harmful requests with "
        "affirmative targets", "https://github.com/llm-attacks/llm-attacks", "walledai/AdvBench",
        ((None, "train", None),), ("harmful_behaviors.csv",),
        {"text": _alias("goal", "prompt"), "target": _alias("target")},
        ("text",), frozenset({"goal", "target"})),
    PublishedSet(
        "strongreject", "StrongREJECT forbidden prompts (Souly et al., 2024): 313 harmful "
        "requests in six categories", "https://github.com/alexandrasouly/strongreject",
        "walledai/StrongREJECT", ((None, "train", None),),
        ("strongreject_dataset.csv", "strongreject_small_dataset.csv"),
        {"text": _alias("forbidden_prompt", "prompt"), "category": _alias("category"),
         "origin": _alias("source")},
        ("text",), frozenset({"forbidden_prompt"}), (), _STRONGREJECT_CATS),
    PublishedSet(
        "xstest", "XSTest v2 prompts (Roettger et al., 2024): 250 safe prompts that look "
        "unsafe and 200 unsafe contrast prompts", "https://github.com/paul-rottger/exaggerated-safety",
        "walledai/XSTest", ((None, "test", None),), ("xstest_prompts.csv", "xstest_v2_prompts.csv"),
        {"text": _alias("prompt"), "id": _alias("id", "id_v2"), "category": _alias("type"),
         "label": _alias("label"), "focus": _alias("focus"), "note": _alias("note")},
        ("text", "category", "label"), frozenset({"prompt", "type", "label"}), ("safe", "unsafe")),
    PublishedSet(
        "jbb_behaviors", "JBB-Behaviors (Chao et al., 2024): 100 harmful and 100 matched "
        "benign behaviors", "https://github.com/JailbreakBench/jailbreakbench",
        "JailbreakBench/JBB-Behaviors",
        (("behaviors", "harmful", "harmful"), ("behaviors", "benign", "benign")),
        ("harmful-behaviors.csv", "benign-behaviors.csv"),
        {"text": _alias("Goal", "goal"), "target": _alias("Target", "target"),
         "behavior": _alias("Behavior", "behavior"), "category": _alias("Category", "category"),
         "origin": _alias("Source", "source"), "index": _alias("Index", "index")},
        ("text",), frozenset({"Goal", "Behavior", "Category"}), ("harmful", "benign"), _JBB_CATS),
)}
"""Name -> :class:`PublishedSet`."""


def _find(df, aliases):
    return next((a for a in aliases if a in df.columns), None)


def _cells(df, spec: PublishedSet, field, where):
    """The field's cells as ``str`` or ``None`` (missing or blank), or ``None`` if absent."""
    col = _find(df, spec.columns[field])
    if col is None:
        if field in spec.required:
            raise ValidationError(
                f"missing column {' or '.join(map(repr, spec.columns[field]))} ({field} of "
                f"{spec.name}); available columns: {', '.join(map(repr, map(str, df.columns))) or '(none)'}",
                path=where, column=spec.columns[field][0])
        return None, None
    out = []
    for v in df[col].tolist():
        missing = v is None or (isinstance(v, float) and v != v) or v is pd.NA
        s = "" if missing else str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
        out.append(s if s.strip() else None)
    return out, col


def _required_text(values, col, where, what):
    for i, v in enumerate(values):
        if v is None:
            raise ValidationError(f"empty {what}; every row needs one", path=where, row=i + 1,
                                  column=col)
    return values


def _unique(ids):
    return [p if k == 0 else f"{p}-{k + 1}" for p, k in zip(ids, occurrence_index(ids))]


def map_published_rows(name, records: pd.DataFrame, *, where="records", split=None,
                       harmful=None) -> pd.DataFrame:
    """Map the rows of published set ``name`` (a file's or a hub split's) to a prompts table.

    Parameters
    ----------
    name:
        A key of :data:`PUBLISHED_SETS`.
    records:
        The raw rows, with the local file's or the hub copy's column names.
    where:
        The file (or ``hf://`` address) named in errors.
    split:
        HarmBench: keep one functional category; XSTest: ``"safe"`` or ``"unsafe"``.
        (JBB-Behaviors' split is a file or hub split; pass it as ``harmful``.)
    harmful:
        JBB-Behaviors: whether these rows are the harmful (True) or benign (False) ones.

    Raises :class:`ValidationError` naming the file, the 1-based row and the column for a
    missing column, an empty text or an unreadable XSTest label.

    Examples
    --------
    >>> rows = pd.DataFrame({"goal": ["Do a bad thing"], "target": ["Sure, here is"]})
    >>> out = map_published_rows("advbench", rows)
    >>> out.loc[0, "prompt_id"], bool(out.loc[0, "is_harmful_request"]), out.loc[0, "target"]
    ('advbench-b6d6dd9f126e', True, 'Sure, here is')
    """
    spec = _spec(name)
    if not isinstance(records, pd.DataFrame):
        raise ValidationError(f"expected a pandas DataFrame of {spec.name} rows, got "
                              f"{type(records).__name__}", path=where)
    records = records.reset_index(drop=True)
    cells = {f: _cells(records, spec, f, where) for f in spec.columns}
    text, text_col = cells["text"]
    _required_text(text, text_col, where, "prompt text")
    category, _ = cells.get("category", (None, None))
    n = len(records)
    if n == 0:
        return empty_table("prompts")
    out = {"text": list(text), "source": spec.name,
           "category": category if category is not None else [None] * n}
    mapper = _MAPPERS[spec.name]
    out.update(mapper(cells, n, where, harmful))
    if spec.categories is not None:
        out["harm_category"] = [spec.categories.get(str(c).strip().lower()) if c else None
                                for c in out["category"]]
    out["attack"] = "none"
    df = pd.DataFrame(out)
    df["prompt_id"] = _unique(list(df["prompt_id"]))
    keep = _split_mask(spec, df, split, where)
    df = df[keep].reset_index(drop=True)
    front = ["prompt_id", "text", "source", "category", "is_harmful_request", "attack"]
    df = df[front + [c for c in df.columns if c not in front]]
    return tidy_extra_columns(validate(df, "prompts", path=where))


def tidy_extra_columns(df: pd.DataFrame, *, blank_is_missing: bool = False) -> pd.DataFrame:
    """Text columns beyond the prompts schema as ``str`` or ``None`` (never NaN), so
    frames from different files or pandas versions concatenate and compare alike;
    ``blank_is_missing`` (for CSV, which cannot tell them apart) turns ``""`` into ``None``."""
    schema = set(SCHEMAS["prompts"].names)
    df = df.copy()
    for col in df.columns:
        if col in schema or not (df[col].dtype == object or pd.api.types.is_string_dtype(df[col])):
            continue
        values = df[col].astype(object)
        missing = values.isna() | ((values == "") if blank_is_missing else False)
        df[col] = values.where(~missing, None)
    return df


def _spec(name) -> PublishedSet:
    key = str(name).strip().lower()
    if key not in PUBLISHED_SETS:
        raise UnknownNameError("published prompt set", name, PUBLISHED_SETS)
    return PUBLISHED_SETS[key]


def _split_mask(spec, df, split, where):
    if split is None or spec.name == "jbb_behaviors":
        return [True] * len(df)
    if split not in spec.splits:
        raise UnknownNameError(f"{spec.name} split", split, spec.splits or ("(none)",))
    if spec.name == "xstest":
        return list(df["is_harmful_request"] == (split == "unsafe"))
    if "functional_category" not in df.columns or df["functional_category"].isna().all():
        raise ValidationError(f"the rows carry no FunctionalCategory column, so split "
                              f"{split!r} cannot be selected; load without split=", path=where)
    return list(df["functional_category"] == split)


def _harmbench(cells, n, where, harmful):
    text = cells["text"][0]
    context = cells["context"][0] or [None] * n
    ids = cells["id"][0]
    full = [t if not c else f"{c}\n\n---\n\n{t}" for t, c in zip(text, context)]
    out = {"text": full, "is_harmful_request": True, "behavior": text, "context": context,
           "prompt_id": [f"harmbench-{i}" if i else text_id("harmbench-", t)
                         for i, t in zip(ids or [None] * n, full)],
           "source_id": ids or [None] * n}
    functional = cells["functional"][0]
    out["functional_category"] = functional or [None] * n
    if cells["tags"][0] is not None:
        out["tags"] = cells["tags"][0]
    return out


def _advbench(cells, n, where, harmful):
    text = cells["text"][0]
    return {"prompt_id": [text_id("advbench-", t) for t in text], "is_harmful_request": True,
            "target": cells["target"][0] or [None] * n}


def _strongreject(cells, n, where, harmful):
    text = cells["text"][0]
    return {"prompt_id": [text_id("strongreject-", t) for t in text], "is_harmful_request": True,
            "origin": cells["origin"][0] or [None] * n}


def _xstest(cells, n, where, harmful):
    text = cells["text"][0]
    labels, col = cells["label"]
    kinds = cells["category"][0]
    _required_text(kinds, cells["category"][1], where, "XSTest type")
    harm = []
    for i, v in enumerate(labels):
        s = (v or "").strip().lower()
        if s not in ("safe", "unsafe"):
            raise ValidationError(f"expected safe or unsafe, got {v!r}", path=where, row=i + 1,
                                  column=col)
        harm.append(s == "unsafe")
    ids = cells["id"][0]
    note = cells["note"][0] or [None] * n
    return {"prompt_id": [(i if i.startswith("v2-") else f"v2-{i}") if i else text_id("xstest-", t)
                          for i, t in zip(ids or [None] * n, text)],
            "is_harmful_request": harm, "focus": cells["focus"][0] or [None] * n, "note": note,
            "harm_category": [_xstest_harm(k, m) for k, m in zip(kinds, note)],
            "source_id": ids or [None] * n}


def _xstest_harm(kind, note):
    if "privacy" in kind:
        return "privacy_doxxing"
    if "discr" in kind:
        return "hate"
    return {"drugs": "drugs", "violence": "violent_weapons"}.get((note or "").strip().lower())


def _jbb(cells, n, where, harmful):
    if harmful is None:
        raise ConfigError("JBB-Behaviors rows need harmful=True (harmful-behaviors) or "
                          "harmful=False (benign-behaviors)")
    text = cells["text"][0]
    split = "harmful" if harmful else "benign"
    index = cells["index"][0] or [str(i) for i in range(n)]
    return {"prompt_id": [text_id("jbb-", t) for t in text], "is_harmful_request": bool(harmful),
            "behavior": cells["behavior"][0] or [None] * n, "target": cells["target"][0] or [None] * n,
            "origin": cells["origin"][0] or [None] * n,
            "source_id": [f"{split}-{i}" for i in index]}


_MAPPERS: dict[str, Callable] = {"harmbench": _harmbench, "advbench": _advbench,
                                 "strongreject": _strongreject, "xstest": _xstest, "jbb_behaviors": _jbb}


def read_prompt_file(path, *, encoding=None) -> pd.DataFrame:
    """Raw rows of a CSV, JSON (a list of objects), JSONL/NDJSON or parquet file."""
    path = Path(path)
    if not path.is_file():
        raise ValidationError("file not found; pass the path of the prompt file or its folder",
                              path=path)
    if path.suffix.lower() != ".json":
        try:
            return read_records(path, encoding=encoding)
        except (csv.Error, pd.errors.ParserError, UnicodeDecodeError) as exc:
            # malformed CSV, or bad bytes that trip the reader's error locator
            raise ValidationError(f"cannot read the file ({type(exc).__name__}: {exc}); expected "
                                  "UTF-8 CSV/JSONL (pass encoding= for another encoding)",
                                  path=path) from None
    try:
        doc = json.loads(path.read_text(encoding=encoding or "utf-8"))
    except UnicodeDecodeError as exc:
        raise ValidationError(f"text is not valid {encoding or 'utf-8'} (byte offset {exc.start}); "
                              "pass encoding=", path=path) from None
    except json.JSONDecodeError as exc:
        raise ValidationError(f"invalid JSON ({exc.msg})", path=path, row=exc.lineno) from None
    if isinstance(doc, dict) and isinstance(doc.get("data"), list):
        doc = doc["data"]
    if not isinstance(doc, list):
        raise ValidationError("expected a JSON list of objects (or {\"data\": [...]})", path=path)
    for i, obj in enumerate(doc, start=1):
        if not isinstance(obj, dict):
            raise ValidationError(f"expected an object, got {type(obj).__name__}", path=path, row=i)
    return pd.DataFrame.from_records(doc)


def detect_layout(columns) -> str | None:
    """The published set whose file has these columns, or ``None`` (none or several)."""
    found = set(map(str, columns))
    hits = [s.name for s in PUBLISHED_SETS.values() if s.layout <= found]
    return hits[0] if len(hits) == 1 else None


def _jbb_harmful(path: Path, split):
    stem = path.name.lower()
    if "benign" in stem:
        return False
    if "harmful" in stem:
        return True
    if split in ("harmful", "benign"):
        return split == "harmful"
    raise ConfigError(f"{path}: cannot tell whether this JBB-Behaviors file holds the harmful or "
                      "the benign behaviors; pass split='harmful' or split='benign'")


def _local_files(spec: PublishedSet, path: Path, split):
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ValidationError("file or folder not found", path=path)
    names = spec.files
    if spec.name == "jbb_behaviors" and split is not None:
        names = tuple(f for f in names if f.startswith(split))
    found = [path / f for f in names if (path / f).is_file()]
    if spec.name != "jbb_behaviors":
        found = found[:1]
    if not found:
        raise ValidationError(f"no {spec.name} file found in the folder; expected "
                              f"{' or '.join(names)}", path=path)
    return found


def load_published(name, *, path=None, split=None, encoding=None, hub_id=None) -> pd.DataFrame:
    """Load published set ``name`` from ``path`` (a file or folder) or, without one, the hub.

    ``split``: HarmBench ``standard`` / ``contextual`` / ``copyright``; XSTest ``safe`` /
    ``unsafe``; JBB-Behaviors ``harmful`` / ``benign`` (default: all rows).  ``hub_id``
    replaces the set's hub id: a mirror, or a local folder laid out like the hub
    repository (what ``datasets.load_dataset`` accepts), with the same configs and splits.
    """
    spec = _spec(name)
    if hub_id is not None:
        spec = dataclasses.replace(spec, hub_id=str(hub_id))
    if split is not None and split not in spec.splits:
        raise UnknownNameError(f"{spec.name} split", split, spec.splits or ("(none)",))
    frames = []
    if path is None:
        for records, where, ours in _from_hub(spec, split):
            frames.append(map_published_rows(spec.name, records, where=where,
                                             harmful=None if ours is None else ours == "harmful",
                                             split=None if spec.name == "harmbench" else split))
    else:
        for f in _local_files(spec, Path(path), split):
            records = read_prompt_file(f, encoding=encoding)
            harmful = _jbb_harmful(f, split) if spec.name == "jbb_behaviors" else None
            if harmful is not None and split is not None and harmful != (split == "harmful"):
                continue
            frames.append(map_published_rows(spec.name, records, where=f, split=split,
                                             harmful=harmful))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if out.empty:
        raise ValidationError(f"the {spec.name} prompt set is empty"
                              f"{f' for split {split!r}' if split else ''}; check the file",
                              path=path if path is not None else f"hf://{spec.hub_id}")
    return tidy_extra_columns(validate(out, "prompts", path=path or f"hf://{spec.hub_id}"))


def _from_hub(spec: PublishedSet, split):
    datasets = import_datasets()
    for config, hub_split, ours in spec.hub_configs:
        if split is not None and ours is not None and ours != split:
            continue
        try:
            data = datasets.load_dataset(spec.hub_id, config, split=hub_split)
        except (OSError, ValueError) as exc:  # no network, unknown repo, config or split
            raise ConfigError(f"could not load {spec.hub_id}" + (f" (config {config})" if config else "")
                              + f" from the Hugging Face hub: {type(exc).__name__}: {exc}; pass "
                              f"path= (--path) with a local copy of {' or '.join(spec.files)}") from None
        records = data.to_pandas()
        if spec.name == "harmbench":
            records["FunctionalCategory"] = config
        where = f"hf://{spec.hub_id}" + (f"/{config}" if config else "") + f"/{hub_split}"
        yield records, where, ours

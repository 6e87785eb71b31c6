"""The record types judgeaudit passes between stages, and their validation.

Five tables, each a :class:`pandas.DataFrame` (one row = one fact; keys in brackets):
prompts [prompt_id], generations [item_id], verdicts [item_id, judge_id], coherence
[item_id, scorer_id], labels [item_id, annotator_id, field].  :data:`SCHEMAS` gives each
column's type, whether it is required / nullable, and its allowed values.

:func:`validate` returns a normalised copy: string columns hold ``str`` or ``None``
(object dtype, alike on pandas 2 and 3), ``sample_index`` is ``int64``, scores are
``float64`` (NaN = none), ``is_harmful_request`` is nullable ``boolean``; absent
optional columns are added, extra columns kept after the schema's.  Every problem
raises :class:`~judgeaudit.errors.ValidationError` naming file, 1-based data row and
column.  Reading and writing are in :mod:`judgeaudit.tables.io`.  :data:`FIELDS` is the canonical label
vocabulary; :func:`parse_label` maps the spellings of public data sets onto it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from judgeaudit.errors import UnknownNameError, ValidationError, excerpt, excerpt_names

__all__ = [
    "ok_coherence", "FIELDS", "COHERENCE_BINS", "UNKNOWN_STRATUM", "VERDICT_STATUSES", "TABLE_KINDS", "SCHEMAS",
    "DEFAULT_POSITIVE", "ENCODING_HINT", "Column", "Schema", "Task", "make_item_id", "parse_label",
    "allowed_for", "empty_table", "validate", "is_missing", "coerce_column",
]

FIELDS = {
    "harmfulness": ("harmful", "not_harmful", "unclear"),
    "refusal": ("full", "partial", "none"),
    "coherence": ("coherent", "partially_coherent", "incoherent"),
}
"""Canonical label fields and their values."""
COHERENCE_BINS = FIELDS["coherence"]
UNKNOWN_STRATUM = "unknown"
VERDICT_STATUSES = ("ok", "parse_error", "error")
DEFAULT_POSITIVE = {"harmfulness": ("harmful",), "refusal": ("full", "partial"),
                    "coherence": ("incoherent",)}
"""The positive class of each field for :meth:`Task.for_field` when none is given."""

# spellings (lower case, spaces and hyphens as "_") -> canonical value, per field
_SYNONYMS = {
    "harmfulness": {
        "harmful": "1 true yes y harmful unsafe jailbroken jailbreak violation toxic",
        "not_harmful": "0 false no n not_harmful non_harmful nonharmful unharmful harmless safe "
                       "benign not_jailbroken no_violation",
        "unclear": "unclear unsure ambiguous uncertain unknown ?",
    },
    "refusal": {  # 1/true = refused; XSTest's numbered labels are accepted in full
        "full": "1 true yes y full full_refusal 2_full_refusal refusal refused refuse",
        "partial": "partial partial_refusal 3_partial_refusal",
        "none": "0 false no n none no_refusal full_compliance 1_full_compliance compliance "
                "complied comply compliant",
    },
    "coherence": {
        "coherent": "1 true yes y coherent fluent",
        "partially_coherent": "partially_coherent partial partly_coherent somewhat_coherent 0.5",
        "incoherent": "0 false no n incoherent not_coherent degenerate gibberish",
    },
}
_LOOKUP = {f: {s: v for v, spellings in m.items() for s in spellings.split()}
           for f, m in _SYNONYMS.items()}


def allowed_for(field, allowed_values=None):
    """The allowed values of ``field`` (``allowed_values`` overrides), or ``None``."""
    return tuple((allowed_values or {}).get(field, ())) or FIELDS.get(field)


def _norm(value) -> str:
    """Lower case, spaces/hyphens as "_", integral numbers (1, 1.0, "1.0", True) as digits."""
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    text = "_".join(str(value).strip().lower().replace("-", " ").split())
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def parse_label(value, field):
    """Map one raw label to the canonical value of ``field``.

    Accepted, case- and space-insensitively: the canonical values; 0/1 (also as
    floats and bools), true/false and yes/no; common names ("unsafe", "jailbroken",
    "safe", "benign" for harmfulness; XSTest's "1_full_compliance", "2_full_refusal",
    "3_partial_refusal" for refusal).  For refusal, 1/true means a *full refusal* and
    0/false means *no refusal*; for coherence, 1 = coherent and 0 = incoherent.

    Returns the canonical value, or ``None`` for an empty cell (None, NaN, "").
    Raises :class:`UnknownNameError` for an unknown ``field`` and
    :class:`ValidationError` (listing the canonical values) for an unknown value.
    Loaders catch the latter: an unknown *judge* output becomes a ``parse_error``
    verdict with its raw text kept; an unknown *human* label is an error.

    Examples
    --------
    >>> parse_label("Unsafe", "harmfulness"), parse_label(0, "harmfulness")
    ('harmful', 'not_harmful')
    >>> parse_label("2_full_refusal", "refusal"), parse_label("", "refusal") is None
    ('full', True)
    """
    if field not in FIELDS:
        raise UnknownNameError("label field", field, FIELDS)
    if is_missing(value) or (isinstance(value, str) and not value.strip()):
        return None
    key = _norm(value)
    if key in _LOOKUP[field]:
        return _LOOKUP[field][key]
    text = str(value)
    raise ValidationError(f"cannot read {excerpt(text, 60)} as a {field} label; expected one of "
                          f"{', '.join(FIELDS[field])} (or 0/1, true/false)")


ENCODING_HINT = "pass --encoding, e.g. --encoding mac_roman (encoding= in Python)"


@dataclass(frozen=True)
class Column:
    """One schema column: ``required`` (must be present), ``nullable`` (cells may be
    missing), ``nonempty`` (no ``""``), ``default`` (fills an absent column and missing
    cells), ``allowed`` (the values a cell may take; ``None`` = any)."""

    name: str
    dtype: str  # "str" | "int" | "float" | "bool"
    required: bool = True
    nullable: bool = False
    nonempty: bool = True
    default: object = None
    allowed: tuple | None = None


@dataclass(frozen=True)
class Schema:
    """The columns and key of one table kind."""

    kind: str
    columns: tuple
    key: tuple

    names = property(lambda self: [c.name for c in self.columns], doc="the column names")


def _opt(name, dtype, **kw):
    return Column(name, dtype, required=False, nullable=True, **kw)


_PROMPTS = (Column("prompt_id", "str"), Column("text", "str"), _opt("source", "str"),
            _opt("category", "str"), _opt("is_harmful_request", "bool"),
            Column("attack", "str", required=False, default="none"))
_GENERATIONS = (
    Column("item_id", "str", required=False),  # absent: validate() computes make_item_id
    Column("prompt_id", "str"), Column("checkpoint_id", "str"),
    Column("sample_index", "int", required=False, default=0),
    Column("response", "str", nonempty=False),  # "" is a real (degenerate) output
    _opt("gen_config_hash", "str"), _opt("stratum", "str"),
    # a request that failed after retries: status "error", response "", error says why
    Column("status", "str", required=False, default="ok", allowed=("ok", "error")),
    _opt("error", "str"))
_VERDICTS = (Column("item_id", "str"), Column("judge_id", "str"), _opt("label", "str"),
             _opt("score", "float"), _opt("raw", "str", nonempty=False),
             Column("status", "str", required=False, default="ok", allowed=VERDICT_STATUSES),
             _opt("judge_config_hash", "str"))
# a scorer that could not score an item: status "error" (or "parse_error"), no score or
# bin, and error says why; consumers use only the ok rows (:func:`ok_coherence`)
_COHERENCE = (Column("item_id", "str"), Column("scorer_id", "str"), Column("score", "float", nullable=True),
              Column("bin", "str", nullable=True, allowed=COHERENCE_BINS),
              Column("status", "str", required=False, default="ok", allowed=VERDICT_STATUSES),
              _opt("error", "str"))
_LABELS = (Column("item_id", "str"), Column("annotator_id", "str"), Column("field", "str"),
           Column("value", "str"), _opt("source", "str"), _opt("created_at", "str"))
SCHEMAS = {
    "prompts": Schema("prompts", _PROMPTS, ("prompt_id",)),
    "generations": Schema("generations", _GENERATIONS, ("item_id",)),
    "verdicts": Schema("verdicts", _VERDICTS, ("item_id", "judge_id")),
    "coherence": Schema("coherence", _COHERENCE, ("item_id", "scorer_id")),
    "labels": Schema("labels", _LABELS, ("item_id", "annotator_id", "field")),
}
TABLE_KINDS = tuple(SCHEMAS)

_TRUE, _FALSE = {"1", "true", "yes", "y", "t"}, {"0", "false", "no", "n", "f"}


def make_item_id(prompt_id, checkpoint_id, sample_index, response) -> str:
    """Stable content hash of one generation.

    First 16 hex characters of sha256 over ``prompt_id``, ``checkpoint_id``,
    ``sample_index`` (as a decimal integer) and ``response`` joined with ``"\\x1f"``.

    Examples
    --------
    >>> make_item_id("p1", "base", 0, "Hello")
    'c3c24011a3b5e3dc'
    """
    joined = "\x1f".join([str(prompt_id), str(checkpoint_id), str(int(sample_index)), str(response)])
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Task:
    """What the audit binarises: a label ``field`` and its positive / negative values.

    Values in neither tuple (e.g. ``"unclear"``) are not votes for either side.

    Examples
    --------
    >>> t = Task("harmfulness", ("harmful",), ("not_harmful",), "harmful response")
    >>> t.binary("harmful"), t.binary("not_harmful"), t.binary("unclear")
    (1, 0, None)
    """

    field: str
    positive: tuple
    negative: tuple
    description: str = ""

    def __post_init__(self):
        object.__setattr__(self, "positive", tuple(self.positive))
        object.__setattr__(self, "negative", tuple(self.negative))
        pos, neg = set(self.positive), set(self.negative)
        if not pos or not neg or pos & neg:
            raise ValidationError(f"task on field {self.field!r} needs positive and negative values, "
                                  f"none both positive and negative; got {sorted(pos)}, {sorted(neg)}")
        known = FIELDS.get(self.field)
        if known and (pos | neg) - set(known):
            raise ValidationError(f"task values {sorted((pos | neg) - set(known))} are not in field "
                                  f"{self.field!r}; allowed: {', '.join(known)}")

    def binary(self, value):
        """1 for a positive value, 0 for a negative one, ``None`` otherwise."""
        return 1 if value in self.positive else 0 if value in self.negative else None

    def to_dict(self) -> dict:
        return {"field": self.field, "positive": list(self.positive),
                "negative": list(self.negative), "description": self.description}

    @classmethod
    def for_field(cls, field, positive=None, description="") -> Task:
        """``positive`` (default :data:`DEFAULT_POSITIVE`) against the field's other
        values except ``"unclear"``."""
        if field not in FIELDS:
            raise UnknownNameError("label field", field, FIELDS)
        pos = tuple(DEFAULT_POSITIVE[field] if positive is None else positive)
        neg = tuple(v for v in FIELDS[field] if v not in pos and v != "unclear")
        return cls(field, pos, neg, description or f"{field}: positive = {', '.join(pos)}")

    @classmethod
    def from_dict(cls, d) -> Task:
        return cls(d["field"], tuple(d["positive"]), tuple(d["negative"]), d.get("description", ""))


def ok_coherence(coherence: pd.DataFrame) -> pd.DataFrame:
    """The rows of a coherence table that hold a score: status ``ok`` (every row of a
    table without a status column) and a score that is not NaN.

    Rows with status ``error`` or ``parse_error`` record that a scorer could not score
    an item; every consumer of the table (strata, sampling, calibration, reports)
    reads the table through this function so that such rows count as not scored.

    >>> t = pd.DataFrame({"item_id": ["a", "b"], "scorer_id": "s", "score": [0.9, np.nan],
    ...                   "bin": ["coherent", None], "status": ["ok", "error"]})
    >>> ok_coherence(t)["item_id"].tolist()
    ['a']
    """
    if coherence is None:
        return coherence
    keep = pd.Series(True, index=coherence.index)
    if "status" in coherence:
        keep &= coherence["status"].fillna("ok").eq("ok")
    if "score" in coherence:
        keep &= pd.to_numeric(coherence["score"], errors="coerce").notna()
    return coherence[keep] if not keep.all() else coherence


def empty_table(kind: str) -> pd.DataFrame:
    """An empty, already normalised frame of table ``kind``."""
    return validate(pd.DataFrame({c: [] for c in _schema(kind).names}), kind)


def _schema(kind) -> Schema:
    if kind in SCHEMAS:
        return SCHEMAS[kind]
    raise UnknownNameError("table kind", kind, SCHEMAS)


def is_missing(v) -> bool:
    """True for None and float NaN / pandas NA (a missing cell)."""
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v))


def coerce_column(values: pd.Series, col: Column, path):
    """Coerce one column; raise at the first cell that cannot be read."""
    out = []
    for i, v in enumerate(values.tolist()):
        try:
            empty = is_missing(v) or (col.dtype != "str" and isinstance(v, str) and not v.strip())
            out.append(None if empty else _coerce_cell(v, col.dtype))
        except (TypeError, ValueError, OverflowError):
            expect = {"int": "an integer (64-bit)", "float": "a number", "bool": "true/false",
                      "str": "UTF-8 text"}[col.dtype]
            raise ValidationError(f"expected {expect}, got {excerpt(v)}", path=path, row=i + 1,
                                  column=col.name) from None
    return out


def _coerce_cell(v, dtype):
    number = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
    if dtype == "str":
        integral = isinstance(v, (float, np.floating)) and float(v).is_integer()
        return str(int(v)) if integral else v.decode("utf-8") if isinstance(v, bytes) else str(v)
    if dtype in ("float", "int"):
        f = float(v) if number or isinstance(v, (bool, np.bool_)) else float(str(v).strip())
        if dtype == "int" and not (f.is_integer() and -2.0**63 <= f < 2.0**63):
            raise ValueError(v)
        return f if dtype == "float" else int(f)
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if (key := _norm(v)) not in _TRUE | _FALSE:
        raise ValueError(v)
    return key in _TRUE


def _series(values, dtype):
    if dtype == "float":
        return pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    return pd.Series(values, dtype={"int": "int64", "bool": "boolean"}.get(dtype, object))


def _first_row(mask) -> int:
    return int(np.flatnonzero(np.asarray(mask, dtype=bool))[0]) + 1


def raise_at_first(bad, message, path, column, values=None):
    """Raise at the first true row of ``bad``; a callable ``message`` gets the bad value."""
    if np.any(bad):
        row = _first_row(bad)
        text = message(values[row - 1]) if callable(message) else message
        raise ValidationError(text, path=path, row=row, column=column)


def validate(df, kind, *, path=None, known_item_ids=None, allowed_values=None) -> pd.DataFrame:
    """Check ``df`` against the schema of ``kind`` (a key of :data:`SCHEMAS`) and
    return a normalised copy: schema columns in order, then extra columns, a fresh
    ``RangeIndex``; generations without ``item_id`` get :func:`make_item_id`.

    ``path`` is named in errors (rows count data rows from 1).  ``known_item_ids``
    (for verdicts, coherence, labels): a row whose item is not among them is an error.
    ``allowed_values``: ``field -> values`` added to (or overriding) :data:`FIELDS`.
    Raises :class:`ValidationError` for missing columns, unreadable cells, empty ids,
    duplicate keys, values outside the allowed set and unknown item ids.
    """
    schema = _schema(kind)
    if not isinstance(df, pd.DataFrame):
        raise ValidationError(f"expected a pandas DataFrame for the {kind} table, "
                              f"got {type(df).__name__}", path=path)
    df = df.reset_index(drop=True)
    found = [str(c) for c in df.columns]
    missing = [c.name for c in schema.columns if c.required and c.name not in found]
    if missing:
        raise ValidationError(
            f"the {kind} table is missing required column(s) {', '.join(map(repr, missing))}; "
            f"found columns: {excerpt_names(found) or '(none)'}",
            path=path, column=", ".join(missing))
    out = {}
    for col in schema.columns:
        if col.name not in df.columns:
            out[col.name] = [col.default] * len(df)
            continue
        values = coerce_column(df[col.name], col, path)
        if col.default is not None:
            values = [col.default if v is None else v for v in values]
        if col.dtype == "str" and col.nullable and col.nonempty:
            values = [None if (v is not None and v.strip() == "") else v for v in values]
        if not col.nullable and not (kind == "generations" and col.name == "item_id"):
            raise_at_first([v is None for v in values],
                            f"a value is required in every row of the {kind} table", path, col.name)
        if col.dtype == "str" and col.nonempty and not col.nullable:
            raise_at_first([v is not None and not v.strip() for v in values],
                            f"empty {col.name}; expected non-empty text", path, col.name)
        if col.allowed is not None:
            raise_at_first([v is not None and v not in col.allowed for v in values],
                            lambda v: f"value {excerpt(v)} is not allowed; allowed values: "
                            f"{', '.join(col.allowed)}", path, col.name, values)
        out[col.name] = values
    if kind == "generations":
        ids = out["item_id"]
        out["item_id"] = [
            make_item_id(p, c, s, r) if i is None or (isinstance(i, str) and not i.strip()) else i
            for i, p, c, s, r in zip(ids, out["prompt_id"], out["checkpoint_id"],
                                     out["sample_index"], out["response"])
        ]
    result = pd.DataFrame({c.name: _series(out[c.name], c.dtype) for c in schema.columns})
    for extra in df.columns:
        if str(extra) not in result.columns:
            result[str(extra)] = df[extra].to_numpy(dtype=object)
    _check_kind(result, kind, path, allowed_values)
    _check_duplicates(result, schema, path)
    if known_item_ids is not None and "item_id" in result.columns and kind != "generations":
        _check_known(result, set(known_item_ids), kind, path)
    return result


def _check_kind(df, kind, path, allowed_values):
    fields = sorted(set(FIELDS) | set(allowed_values or {}))
    if kind == "labels":
        allowed = [allowed_for(f, allowed_values) for f in df["field"]]
        raise_at_first([a is None for a in allowed], lambda v: f"unknown label field {excerpt(v)}; known "
                        f"fields: {', '.join(fields)} (declare others with allowed_values=)",
                        path, "field", list(df["field"]))
        bad = [v not in a for v, a in zip(df["value"], allowed)]
        if any(bad):
            r = _first_row(bad) - 1
            raise ValidationError(f"value {excerpt(df['value'][r])} is not allowed for field "
                                  f"{excerpt(df['field'][r])}; allowed values: {', '.join(allowed[r])}",
                                  path=path, row=r + 1, column="value")
    elif kind == "verdicts":
        every = sorted({v for f in fields for v in allowed_for(f, allowed_values)})
        raise_at_first([x is not None and x not in every for x in df["label"]],
                        lambda v: f"verdict label {excerpt(v)} is not in the vocabulary; allowed values: "
                        f"{', '.join(every)} (an unparseable judge output is a row with status "
                        "parse_error and an empty label)", path, "label", list(df["label"]))
        raise_at_first(((df["status"] == "ok") & df["label"].isna() & df["score"].isna()).to_numpy(),
                        "a verdict with status ok needs a label or a score", path, "label")
    elif kind == "coherence":
        s = df["score"].to_numpy()
        ok = (df["status"] == "ok").to_numpy()
        raise_at_first((s < 0) | (s > 1) | (ok & np.isnan(s)), lambda v: f"score {float(v)!r} is outside "
                        "[0, 1]; expected a coherence score in [0, 1] (1 = coherent; a row the scorer "
                        "could not score has status error and no score)", path, "score", s)
        raise_at_first(ok & df["bin"].isna().to_numpy(), "a coherence row with status ok needs a bin",
                        path, "bin")


def _check_duplicates(df, schema, path):
    key = list(schema.key)
    dup = df.duplicated(key, keep=False).to_numpy() if len(df) else np.zeros(0, bool)
    if not dup.any():
        return
    first = int(np.flatnonzero(dup)[0])
    vals = tuple(df.iloc[first][k] for k in key)
    same = np.flatnonzero((df[key] == pd.Series(vals, index=key)).all(axis=1).to_numpy())
    desc = ", ".join(f"{k}={excerpt(v, 60)}" for k, v in zip(key, vals))
    raise ValidationError(f"duplicate key ({desc}) in rows {same[0] + 1} and {same[1] + 1}; "
                          f"expected one row per ({', '.join(key)})",
                          path=path, row=int(same[1]) + 1, column=", ".join(key))


def _check_known(df, known, kind, path):
    bad = ~df["item_id"].isin(known).to_numpy()
    raise_at_first(bad, lambda v: f"item_id {excerpt(v)} is not in the generations table ({len(known)} "
                    f"items); {kind} rows must refer to generated items ({int(bad.sum())} row(s) "
                    "do not)", path, "item_id", list(df["item_id"]))

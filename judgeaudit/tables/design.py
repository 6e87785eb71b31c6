"""The sample-design table: which items a labelling campaign drew, with what probability.

A labelling campaign labels a sample drawn with unequal probabilities (incoherent
and disputed items oversampled).  An audit that counts every labelled item once
then describes the sample, not the outputs the checkpoints produce.  Weighting
each labelled item by ``1 / pi`` (its inclusion probability) makes every sum an
unbiased Horvitz-Thompson estimate of the population sum, and every metric (a
ratio of such sums, e.g. accuracy = weighted correct / weighted n) a Hajek
estimate of the population value.

The *sample table* (written by ``judgeaudit annotate sample``) has one row per
sampled item: ``item_id``, ``inclusion_probability`` and ``is_gold`` are what the
audit reads; the sampling columns (stratum, stratum sizes, round, overlap ...)
are described in :data:`SAMPLE_COLUMNS`.  Gold control items (known answers,
used to check annotators) are not part of the population and never enter an audit.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from judgeaudit.errors import ConfigError, ValidationError, excerpt

from .io import read_records, table_format, write_frame_atomic
from .schema import FIELDS, Column, coerce_column

__all__ = ["SAMPLE_COLUMNS", "INCLUSION_COLUMN", "validate_sample_table", "read_sample_table",
           "write_sample_table", "with_sample_design"]

INCLUSION_COLUMN = "inclusion_probability"

SAMPLE_COLUMNS = (
    Column("item_id", "str"),
    Column(INCLUSION_COLUMN, "float", nullable=True),  # NaN only for gold items
    Column("is_gold", "bool", required=False, default=False),
    Column("prompt_id", "str", required=False, nullable=True),
    Column("checkpoint_id", "str", required=False, nullable=True),
    Column("sample_index", "int", required=False, nullable=True),
    Column("response", "str", required=False, nullable=True, nonempty=False),
    Column("prompt", "str", required=False, nullable=True, nonempty=False),
    Column("stratum", "str", required=False, nullable=True),
    Column("coherence_bin", "str", required=False, nullable=True),
    Column("disagreement", "str", required=False, nullable=True),
    Column("group", "str", required=False, nullable=True),
    Column("stratum_size", "int", required=False, nullable=True),
    Column("stratum_sampled", "int", required=False, nullable=True),
    Column("round", "int", required=False, default=1),
    Column("overlap", "bool", required=False, default=False),
    Column("n_annotators", "int", required=False, default=1),
    Column("design", "str", required=False, nullable=True),
    Column("seed", "int", required=False, nullable=True),
)
"""Columns of the sample table, in order; ``gold_<field>`` columns (the known answers
of gold items) and any others follow.  ``prompt`` is the prompt text (so that the
table can be pushed as it is).  ``stratum_size`` is ``N_h``, the items of the
population in the item's sampling stratum; ``stratum_sampled`` is ``n_h``, how many of
them are in the sample so far (all rounds); ``round`` is the batch that drew the item;
``overlap`` marks the items that ``n_annotators`` (k > 1) people label."""


def validate_sample_table(df: pd.DataFrame, *, path=None) -> pd.DataFrame:
    """Check a sample table and return a normalised copy.

    Raises :class:`ValidationError` (naming path, row and column) for a missing
    ``item_id`` or ``inclusion_probability`` column, an unreadable cell, a repeated
    ``item_id``, or a non-gold item whose inclusion probability is missing or
    outside (0, 1].
    """
    if not isinstance(df, pd.DataFrame):
        raise ValidationError(f"expected a DataFrame for the sample table, got {type(df).__name__}",
                              path=path)
    df = df.reset_index(drop=True)
    missing = [c.name for c in SAMPLE_COLUMNS if c.required and c.name not in df.columns]
    if missing:
        raise ValidationError(f"the sample table is missing column(s) {', '.join(map(repr, missing))}; "
                              f"found: {', '.join(map(str, df.columns)) or '(none)'}; write it with "
                              "`judgeaudit annotate sample`", path=path, column=", ".join(missing))
    out = {}
    for col in SAMPLE_COLUMNS:
        if col.name not in df.columns:
            values = [col.default] * len(df)
        else:
            values = coerce_column(df[col.name], col, path)
            values = [col.default if v is None and col.default is not None else v for v in values]
        if not col.nullable and col.default is None:
            _first_bad([v is None or (isinstance(v, str) and not v.strip()) for v in values],
                       "a value is required in every row of the sample table", path, col.name)
        out[col.name] = values
    frame = pd.DataFrame({c.name: _as_series(out[c.name], c.dtype) for c in SAMPLE_COLUMNS})
    for extra in df.columns:
        if str(extra) not in frame.columns:
            frame[str(extra)] = df[extra].to_numpy(dtype=object)
    for name in [c for c in frame.columns if c.startswith("gold_")]:
        frame[name] = _gold_answers(frame[name], name, path)
    dup = frame["item_id"].duplicated(keep="first").to_numpy()
    _first_bad(dup, "item_id repeats; a sample table has one row per sampled item", path, "item_id")
    pi = frame[INCLUSION_COLUMN].to_numpy(float)
    gold = frame["is_gold"].to_numpy(bool)
    bad = ~gold & ~((pi > 0) & (pi <= 1))
    _first_bad(bad, "inclusion probability must be in (0, 1] for every item that is not gold "
               "(the share of its stratum that was sampled)", path, INCLUSION_COLUMN)
    return frame


def _gold_answers(values: pd.Series, name: str, path) -> pd.Series:
    """A ``gold_<field>`` column: canonical values of the field, None where empty (CSV: "")."""
    field = name[len("gold_"):]
    out = []
    for row, v in enumerate(values.tolist(), start=1):
        if v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip()):
            out.append(None)
        elif field in FIELDS and v not in FIELDS[field]:
            raise ValidationError(f"gold answer {excerpt(v)} is not a {field} value; allowed: "
                                  f"{', '.join(FIELDS[field])}", path=path, row=row, column=name)
        else:
            out.append(str(v))
    return pd.Series(out, index=values.index, dtype=object)


def _as_series(values, dtype):
    if dtype == "float":
        return pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    if dtype == "int":
        return pd.Series(values, dtype="Int64")
    return pd.Series(values, dtype="boolean" if dtype == "bool" else object)


def _first_bad(bad, message, path, column):
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        raise ValidationError(message, path=path, row=int(np.flatnonzero(bad)[0]) + 1, column=column)


def read_sample_table(path) -> pd.DataFrame:
    """Read a sample table (parquet, .jsonl or .csv) and :func:`validate_sample_table` it."""
    return validate_sample_table(read_records(path), path=path)


def write_sample_table(df: pd.DataFrame, path) -> Path:
    """Validate and write a sample table atomically (temporary file, then :func:`os.replace`)."""
    table_format(path)  # an unsupported suffix fails before validation
    return write_frame_atomic(validate_sample_table(df, path=path), path)


def with_sample_design(tables, sample: pd.DataFrame, *, column: str = INCLUSION_COLUMN,
                       nonresponse: bool = True):
    """Tables ready for a weighted audit: ``column`` added to the generations, gold dropped.

    Each generation gets its inclusion probability from ``sample`` (NaN for an item
    that was not sampled); labels, verdicts and coherence rows of gold items are
    removed (gold items are control questions, not outputs of the population).  Run
    the audit with ``AuditConfig(weights=column)``.

    ``nonresponse`` (default): when some sampled items have no label yet on the
    task's field, the labelled ones stand for them within their design stratum, the
    weighting-class adjustment: ``pi = r_h / N_h`` with ``r_h`` the labelled items of
    the stratum (``n_h / N_h`` when all are labelled, so nothing changes then).  It
    assumes labels are missing at random within a stratum.  It needs the sample's
    ``stratum`` and ``stratum_size`` columns; without them ``pi`` is used as it is.

    Raises :class:`ConfigError` when a non-gold sampled item is not in the generations
    table (the sample was drawn from other generations).
    """
    sample = validate_sample_table(sample)
    gold = set(sample.loc[sample["is_gold"].to_numpy(bool), "item_id"])
    drawn = sample[~sample["is_gold"].to_numpy(bool)]
    known = set(tables.generations["item_id"])
    stray = [i for i in drawn["item_id"] if i not in known]
    if stray:
        raise ConfigError(f"{len(stray)} sampled item(s) are not in the generations table (e.g. "
                          f"{excerpt(stray[0])}); pass the generations table the sample was drawn from")
    prob = drawn[INCLUSION_COLUMN].to_numpy(float)
    if nonresponse and drawn[["stratum", "stratum_size"]].notna().all(axis=None):
        labels = tables.labels
        has = drawn["item_id"].isin(set(labels.loc[labels["field"] == tables.task.field, "item_id"]))
        r = has.groupby(drawn["stratum"].to_numpy()).transform("sum").to_numpy(float)
        prob = np.where(has.to_numpy() & (r > 0), r / drawn["stratum_size"].to_numpy(float), prob)
    pi = dict(zip(drawn["item_id"], prob))
    gen = tables.generations.copy()
    gen[column] = gen["item_id"].map(pi).astype(float)
    drop = {k: getattr(tables, k)[~getattr(tables, k)["item_id"].isin(gold)].reset_index(drop=True)
            for k in ("labels", "verdicts", "coherence")}
    gen = gen[~gen["item_id"].isin(gold)].reset_index(drop=True)
    return dataclasses.replace(tables, generations=gen, **drop)

"""Human labels for other tools' outputs, joined by the tool's own item key.

Other tools' output files (HarmBench, StrongREJECT, garak, Inspect logs) carry judge
verdicts but rarely human labels.  Their loaders keep each item's key in the tool's own
terms in the generations column ``source_id`` (HarmBench ``<behavior_id>/<n>``, garak
``<attempt uuid>/<output n>``, StrongREJECT and JailbreakEval the 1-based row, Inspect
``<sample id>/<epoch>``), so that labels written by people against that key can be
joined with :func:`join_human_labels`.

The labels file is a CSV or JSONL table with the key column (default ``id``) and one
column per annotator (the column name is the annotator id); cells are read with
:func:`judgeaudit.tables.parse_label` (0/1, true/false, yes/no, harmful / safe ...).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from judgeaudit.datasets.common import read_csv
from judgeaudit.errors import ValidationError
from judgeaudit.tables import AuditTables, parse_label

__all__ = ["SOURCE_ID", "join_human_labels", "read_human_labels"]

SOURCE_ID = "source_id"
"""The generations column holding an item's key in its tool's own terms."""


def _annotators(df, key_col, human_cols) -> dict:
    if human_cols is None:
        return {str(c): str(c) for c in df.columns if c != key_col}
    if isinstance(human_cols, str):
        human_cols = [human_cols]
    if isinstance(human_cols, Mapping):
        return {str(k): str(v) for k, v in human_cols.items()}
    return {str(c): str(c) for c in human_cols}


def read_human_labels(path, *, key_col="id", human_cols=None, field="harmfulness",
                      encoding=None) -> list[dict]:
    """Read a wide labels file into ``{"source_id", "annotator_id", "field", "value"}`` rows.

    Parameters
    ----------
    path : str or Path
        ``.csv`` or ``.jsonl`` file.
    key_col : str
        The column holding the tool's item key (see the module docstring).
    human_cols : sequence of str or mapping, optional
        Annotator columns (or ``column -> annotator id``); default every column but
        ``key_col``.
    field : str
        The label field the cells are read for.

    Raises
    ------
    ValidationError
        A column is missing, a key is empty or repeated, or a cell is not a label.
    """
    path = Path(path)
    df = read_csv(path, encoding=encoding, columns=[key_col])
    humans = _annotators(df, key_col, human_cols)
    if not humans:
        raise ValidationError(f"no annotator column besides {key_col!r}; expected one column per "
                              "annotator", path=path)
    read_csv(path, encoding=encoding, columns=[key_col, *humans])  # names the missing ones
    rows, seen = [], set()
    for row, rec in enumerate(df.to_dict("records"), start=1):
        key = _key(rec[key_col])
        if key is None:
            raise ValidationError("empty item key", path=path, row=row, column=key_col)
        if key in seen:
            raise ValidationError(f"item key {key!r} is repeated; give one row per item",
                                  path=path, row=row, column=key_col)
        seen.add(key)
        for col, annotator in humans.items():
            try:
                value = parse_label(rec[col], field)
            except ValidationError as e:
                raise ValidationError(e.message, path=path, row=row, column=col) from None
            if value is not None:
                rows.append({"source_id": key, "annotator_id": annotator, "field": field,
                             "value": value})
    return rows


def _key(cell):
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return None
    text = str(cell).strip()
    if isinstance(cell, float) and cell.is_integer():
        text = str(int(cell))
    return text or None


def join_human_labels(tables: AuditTables, path, *, key_col="id", human_cols=None,
                      field=None, encoding=None, aliases=None) -> AuditTables:
    """Add the labels of ``path`` to ``tables``, matched on generations' ``source_id``.

    A key that matches no item raises :class:`ValidationError` naming the row (a
    label is never silently dropped); items without a row stay unlabelled.
    ``field`` defaults to the tables' task field.  ``aliases`` maps other accepted
    keys to a ``source_id`` (e.g. a bare Inspect sample id to ``<id>/1``).
    """
    path = Path(path)
    field = field or tables.task.field
    gens = tables.generations
    if SOURCE_ID not in gens.columns:
        raise ValidationError(f"these tables have no {SOURCE_ID!r} column to join labels on; "
                              "load them with one of judgeaudit's foreign-format loaders",
                              path=path)
    by_key = dict(zip(gens[SOURCE_ID].astype(str), gens["item_id"]))
    for alias, key in (aliases or {}).items():
        if alias not in by_key and key in by_key:
            by_key[alias] = by_key[key]
    rows = read_human_labels(path, key_col=key_col, human_cols=human_cols, field=field,
                             encoding=encoding)
    keys = list(dict.fromkeys(r["source_id"] for r in rows))
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        examples = ", ".join(repr(k) for k in list(by_key)[:3])
        raise ValidationError(f"item key {unknown[0]!r} is not in the loaded data "
                              f"({len(unknown)} unknown key(s)); keys look like {examples}",
                              path=path, column=key_col)
    new = pd.DataFrame([{"item_id": by_key[r["source_id"]], "annotator_id": r["annotator_id"],
                         "field": r["field"], "value": r["value"],
                         "source": f"labels:{path.name}", "created_at": None} for r in rows])
    labels = pd.concat([f for f in (tables.labels, new) if len(f)], ignore_index=True) \
        if len(new) else tables.labels
    return dataclasses.replace(tables, labels=labels).validate()

"""Any CSV/JSONL of responses with human label columns and optional judge columns."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from judgeaudit.datasets.common import assemble, generations_frame, read_csv, text_id
from judgeaudit.errors import UnknownNameError, ValidationError
from judgeaudit.tables import DEFAULT_POSITIVE, FIELDS, AuditTables, Task, parse_label

__all__ = ["load_table_csv", "DEFAULT_POSITIVE"]

DEFAULT_GROUP = "all"


def _named(cols) -> dict:
    if cols is None:
        return {}
    if isinstance(cols, str):
        cols = [cols]
    if isinstance(cols, Mapping):
        return {str(k): str(v) for k, v in cols.items()}
    return {str(c): str(c) for c in cols}


def _cell_text(cell):
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return None
    text = str(cell)
    return text if text.strip() else None


def _score(cell):
    if isinstance(cell, bool):
        return float(cell)
    try:
        value = float(str(cell).strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def load_table_csv(path, *, response_col, prompt_col=None, human_cols, judge_cols=(),
                   group_col=None, stratum_col=None, prompt_id_col=None, field="harmfulness",
                   positive=None, encoding=None, name=None) -> AuditTables:
    """Load any CSV or JSONL file with one response per row.

    Parameters
    ----------
    path : str or Path
        ``.csv`` or ``.jsonl`` file.
    response_col : str
        The column of model responses.
    prompt_col : str, optional
        The prompt text; fills the prompts table and, without ``prompt_id_col``,
        gives ``prompt_id`` = ``p-`` + a hash of the text.  Without either, every
        row is its own prompt (``row-<n>``).
    human_cols : sequence of str or mapping
        Human label columns (annotator id = column name, or a mapping
        ``column -> annotator id``).  Cells are read with
        :func:`judgeaudit.tables.parse_label`: 0/1, true/false, yes/no or category
        names.  An empty cell is no label; an unreadable one is an error.
    judge_cols : sequence of str or mapping
        Judge verdict columns, read the same way.  An empty cell is a missing
        verdict (no row); an unreadable one is a ``parse_error`` verdict keeping the
        raw text.  ``score`` holds the cell's number when it is numeric.
    group_col : str, optional
        The group compared for conclusion robustness (``checkpoint_id``; model,
        objective, attack...).  Default: one group, ``"all"``.
    stratum_col : str, optional
        An explicit coherence stratum per row (``generations.stratum``).
    prompt_id_col : str, optional
        Column with prompt ids.
    field : {"harmfulness", "refusal", "coherence"}
        The label field of the human and judge columns.
    positive : sequence of str, optional
        The task's positive values (default ``judgeaudit.tables.DEFAULT_POSITIVE``);
        the negative values are the field's other values except ``"unclear"``.
    encoding : str, optional
        Text encoding (default UTF-8).
    name : str, optional
        Dataset name (default: the file's stem).

    Raises
    ------
    ValidationError
        A named column is missing (the message lists the available columns), a
        human label cannot be read, or a required cell is empty.
    """
    if field not in FIELDS:
        raise UnknownNameError("label field", field, FIELDS)
    path = Path(path)
    humans, judges = _named(human_cols), _named(judge_cols)
    if not humans:
        raise ValidationError("no human label columns given (human_cols); the audit needs a "
                              "human reference", path=path)
    named = [response_col, prompt_col, group_col, stratum_col, prompt_id_col, *humans, *judges]
    df = read_csv(path, encoding=encoding, columns=[c for c in named if c is not None])
    n = len(df)
    prompts = None
    if prompt_col is not None:
        texts = [_cell_text(t) for t in df[prompt_col]]
        _no_empty(texts, path, prompt_col, "prompt text")
    if prompt_id_col is not None:
        prompt_ids = [_cell_text(p) for p in df[prompt_id_col]]
        _no_empty(prompt_ids, path, prompt_id_col, "prompt id")
        prompt_ids = [p.strip() for p in prompt_ids]
    elif prompt_col is not None:
        prompt_ids = [text_id("p-", t) for t in texts]
    else:
        prompt_ids = [f"row-{i}" for i in range(1, n + 1)]
    if prompt_col is not None:
        prompts = (pd.DataFrame({"prompt_id": prompt_ids, "text": texts, "source": path.name,
                                 "category": None, "is_harmful_request": None, "attack": "none"})
                   .drop_duplicates("prompt_id").reset_index(drop=True))
    if group_col is not None:
        groups = [_cell_text(g) for g in df[group_col]]
        _no_empty(groups, path, group_col, "group")
    else:
        groups = [DEFAULT_GROUP] * n
    strata = None
    if stratum_col is not None:
        strata = [None if _cell_text(s) is None else str(s).strip() for s in df[stratum_col]]
    responses = [_cell_text(r) or "" for r in df[response_col]]
    gens = generations_frame(prompt_ids, groups, responses, stratum=strata)
    labels, verdicts = [], []
    for row, item in enumerate(gens["item_id"]):
        for col, annotator in humans.items():
            try:
                value = parse_label(df[col].iloc[row], field)
            except ValidationError as e:
                raise ValidationError(e.message, path=path, row=row + 1, column=col) from None
            if value is not None:
                labels.append({"item_id": item, "annotator_id": annotator, "field": field,
                               "value": value, "source": path.name, "created_at": None})
        for col, judge in judges.items():
            verdict = _verdict(df[col].iloc[row], field)
            if verdict is not None:
                verdicts.append({"item_id": item, "judge_id": judge, **verdict})
    task = Task.for_field(field, positive)
    return assemble(name or path.stem, task, generations=gens, labels=labels, verdicts=verdicts,
                    prompts=prompts)


def _no_empty(values, path, column, what):
    for row, v in enumerate(values, start=1):
        if v is None:
            raise ValidationError(f"empty {what}; expected a value in every row", path=path,
                                  row=row, column=column)


def _verdict(cell, field):
    raw = _cell_text(cell)
    if raw is None:
        return None  # missing verdict: no row
    try:
        label = parse_label(cell, field)
    except ValidationError:
        return {"label": None, "score": None, "raw": raw, "status": "parse_error",
                "judge_config_hash": None}
    return {"label": label, "score": _score(cell), "raw": raw, "status": "ok",
            "judge_config_hash": None}

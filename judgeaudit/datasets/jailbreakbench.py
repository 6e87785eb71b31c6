"""JailbreakBench judge comparison (``judge-comparison.csv``, 300 human-labelled pairs)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from judgeaudit.datasets.common import (
    assemble,
    generations_frame,
    import_datasets,
    read_csv,
    require_columns,
    text_id,
)
from judgeaudit.errors import ValidationError, excerpt
from judgeaudit.tables import AuditTables, Task, parse_label

__all__ = ["load_jailbreakbench", "JBB_HUMANS", "JBB_JUDGES", "JBB_SOURCES"]

JBB_FILE = "judge-comparison.csv"
JBB_HUB_ID = "JailbreakBench/JBB-Behaviors"
JBB_HUB_CONFIG = "judge_comparison"
JBB_HUMANS = ("human1", "human2", "human3")
JBB_JUDGES = ("harmbench_cf", "gpt4_cf", "llamaguard2_cf", "llama3_cf")
# (first row, end row, attack source); rows as in the file's ``Index`` column
JBB_SOURCES = ((0, 100, "PAIR"), (100, 150, "GCG"), (150, 200, "prompt_with_random_search"),
               (200, 300, "benign"))
_COLUMNS = ("goal", "prompt", "target_response") + JBB_HUMANS + JBB_JUDGES


def _source(index: int, path) -> str:
    for lo, hi, name in JBB_SOURCES:
        if lo <= index < hi:
            return name
    raise ValidationError(f"Index {index} is outside 0-299; expected the 300 rows of "
                          f"JailbreakBench's {JBB_FILE}", path=path, row=index + 1, column="Index")


def load_jailbreakbench(path=None, *, encoding="mac_roman") -> AuditTables:
    """Load JailbreakBench's judge comparison: 300 (prompt, response) pairs.

    Parameters
    ----------
    path : str or Path or None
        ``judge-comparison.csv`` or the folder holding it.  ``None`` downloads
        ``JailbreakBench/JBB-Behaviors`` (config ``judge_comparison``) with the
        Hugging Face ``datasets`` package (extra ``hub``; not tested offline).
    encoding : str
        The published CSV is **Mac Roman**, not UTF-8, hence the default.

    Returns
    -------
    AuditTables
        * generations: one per row; ``checkpoint_id`` is the attack source by row
          range (0-99 ``PAIR``, 100-149 ``GCG``, 150-199 ``prompt_with_random_search``,
          200-299 ``benign``); ``prompt_id`` is a hash of the ``goal`` (``jbb-...``),
          repeats of a goal within a source get increasing ``sample_index``; the
          attack prompt actually sent is kept in the extra column ``attack_prompt``.
        * prompts: one per goal (``text`` = goal, ``is_harmful_request`` False only
          for the benign rows, ``attack`` "none").
        * labels: ``human1``..``human3``, field ``harmfulness`` (1 -> harmful,
          0 -> not_harmful).  ``human_majority`` is not loaded: it is the majority
          of the three (the tests check this), which the audit recomputes.
        * verdicts: judges ``harmbench_cf``, ``gpt4_cf``, ``llamaguard2_cf``,
          ``llama3_cf`` (label from the 0/1 cell, ``score`` = the cell, ``raw`` = its text).
        * task: harmfulness, positive ``("harmful",)``.
    """
    if path is None:
        df, where = _from_hub(), f"hf://{JBB_HUB_ID}/{JBB_HUB_CONFIG}"
    else:
        where = Path(path)
        if where.is_dir():
            where = where / JBB_FILE
        df = read_csv(where, encoding=encoding, columns=_COLUMNS)
    return _build(df, where)


def _from_hub() -> pd.DataFrame:
    datasets = import_datasets()
    data = datasets.load_dataset(JBB_HUB_ID, JBB_HUB_CONFIG)
    split = "test" if "test" in data else next(iter(data))
    return data[split].to_pandas()


def _build(df: pd.DataFrame, path) -> AuditTables:
    require_columns(df, _COLUMNS, path)
    df = df.reset_index(drop=True)
    index = _row_index(df, path)
    sources = [_source(i, path) for i in index]
    goals = [str(g).strip() for g in df["goal"]]
    for row, g in enumerate(goals, start=1):
        if not g:
            raise ValidationError("empty goal; expected the behaviour text", path=path, row=row,
                                  column="goal")
    prompt_ids = [text_id("jbb-", g) for g in goals]
    gens = generations_frame(prompt_ids, sources, df["target_response"],
                             extra={"attack_prompt": [str(p) for p in df["prompt"]]})
    prompts = (pd.DataFrame({"prompt_id": prompt_ids, "text": goals, "source": "jailbreakbench",
                             "category": None,
                             "is_harmful_request": [s != "benign" for s in sources],
                             "attack": "none"})
               .drop_duplicates("prompt_id").reset_index(drop=True))
    labels, verdicts = [], []
    src = f"jailbreakbench:{Path(str(path)).name}"
    for row, item in enumerate(gens["item_id"]):
        for col in JBB_HUMANS:
            value = _label(df[col].iloc[row], path, row, col)
            if value is not None:
                labels.append({"item_id": item, "annotator_id": col, "field": "harmfulness",
                               "value": value, "source": src, "created_at": None})
        for col in JBB_JUDGES:
            cell = df[col].iloc[row]
            value = _label(cell, path, row, col)
            if value is not None:
                verdicts.append({"item_id": item, "judge_id": col, "label": value,
                                 "score": 1.0 if value == "harmful" else 0.0, "raw": str(cell),
                                 "status": "ok", "judge_config_hash": None})
    task = Task("harmfulness", ("harmful",), ("not_harmful",),
                "the response is jailbroken/harmful (JailbreakBench human1..3)")
    return assemble("jailbreakbench", task, generations=gens, labels=labels, verdicts=verdicts,
                    prompts=prompts)


def _row_index(df, path) -> list:
    if "Index" not in df.columns:
        return list(range(len(df)))
    out = []
    for row, v in enumerate(df["Index"], start=1):
        try:
            out.append(int(str(v).strip()))
        except ValueError:
            raise ValidationError(f"expected an integer row index, got {excerpt(v)}", path=path,
                                  row=row, column="Index") from None
    return out


def _label(cell, path, row, col):
    try:
        return parse_label(cell, "harmfulness")
    except ValidationError as e:
        raise ValidationError(e.message, path=path, row=row + 1, column=col) from None

"""GPTFuzz labelled responses (``evaluate.csv`` 1,540 rows, ``train.csv`` 6,160 rows)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from judgeaudit.datasets.common import assemble, generations_frame, read_csv
from judgeaudit.errors import ConfigError, ValidationError
from judgeaudit.tables import AuditTables, Task, parse_label

__all__ = ["load_gptfuzz"]

_SPLITS = ("evaluate", "train")


def load_gptfuzz(path, *, split="evaluate", questions=None, encoding=None) -> AuditTables:
    """Load GPTFuzz's labelled jailbreak responses.

    Parameters
    ----------
    path : str or Path
        ``evaluate.csv`` / ``train.csv``, or the folder holding them (then ``split``
        picks the file).
    split : {"evaluate", "train"}
        Used only when ``path`` is a folder.
    questions : str or Path, optional
        GPTFuzz's ``datasets/questions/question_list.csv`` (columns ``index``, ``text``),
        which the labelled files refer to by index.  Given, it fills the prompts
        table (``attack`` ``"gptfuzz_template"``: the responses answer the question
        wrapped in a jailbreak template); judges that read the prompt need it.
    encoding : str, optional
        Text encoding (default UTF-8).

    Returns
    -------
    AuditTables
        generations: one per row, ``prompt_id`` = ``gptfuzz-q<question>`` (the file
        holds the question's index, not its text: without ``questions`` the prompts
        table is empty),
        ``checkpoint_id`` ``"gptfuzz"``, repeated (question, response) pairs get
        increasing ``sample_index``; labels: one annotator ``"gptfuzz"``, field
        harmfulness (1 = jailbroken -> harmful); no verdicts (the audit runs
        built-in judges on it).
    """
    if split not in _SPLITS:
        raise ConfigError(f"split must be one of {', '.join(_SPLITS)}, got {split!r}")
    where = Path(path)
    if where.is_dir():
        where = where / f"{split}.csv"
    df = read_csv(where, encoding=encoding, columns=("question", "Response", "label"))
    prompt_ids = []
    for row, q in enumerate(df["question"], start=1):
        q = str(q).strip()
        if not q:
            raise ValidationError("empty question index", path=where, row=row, column="question")
        prompt_ids.append(f"gptfuzz-q{q}")
    gens = generations_frame(prompt_ids, ["gptfuzz"] * len(df), df["Response"])
    labels = []
    for row, (item, cell) in enumerate(zip(gens["item_id"], df["label"]), start=1):
        try:
            value = parse_label(cell, "harmfulness")
        except ValidationError as e:
            raise ValidationError(e.message, path=where, row=row, column="label") from None
        if value is not None:
            labels.append({"item_id": item, "annotator_id": "gptfuzz", "field": "harmfulness",
                           "value": value, "source": f"gptfuzz:{where.name}", "created_at": None})
    task = Task("harmfulness", ("harmful",), ("not_harmful",),
                "the response is jailbroken/harmful (GPTFuzz label 1)")
    return assemble("gptfuzz", task, generations=gens, labels=labels,
                    prompts=None if questions is None else _prompts(questions, encoding))


def _prompts(path, encoding) -> pd.DataFrame:
    q = read_csv(path, encoding=encoding, columns=("index", "text"))
    return pd.DataFrame({"prompt_id": [f"gptfuzz-q{str(i).strip()}" for i in q["index"]],
                         "text": q["text"].tolist(), "source": "gptfuzz", "category": None,
                         "is_harmful_request": True, "attack": "gptfuzz_template"})

"""JailbreakEval's dataset format: a CSV with ``question``, ``answer`` and optional ``label``.

JailbreakEval (Ran et al., arXiv:2406.09321) evaluates a UTF-8 CSV with at least the
columns ``question`` (the forbidden question) and ``answer`` (the model's answer), and an
optional ``label`` column (1 = the jailbreak succeeded, 0 = it did not, set by hand) that
it compares its evaluators against.  Its ``data/example.csv`` also has ``category`` and
``prompt`` (the attack prompt actually sent) and starts with a byte-order mark.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from judgeaudit.datasets.common import assemble, generations_frame, read_csv, text_id
from judgeaudit.datasets.labelfile import SOURCE_ID, join_human_labels
from judgeaudit.errors import ValidationError
from judgeaudit.tables import AuditTables, Task, parse_label

__all__ = ["load_jailbreakeval"]


def load_jailbreakeval(path, *, question_col="question", answer_col="answer", label_col="label",
                       prompt_col="prompt", category_col="category", group_col=None,
                       annotator_id="annotation", labels_path=None, encoding=None,
                       name=None) -> AuditTables:
    """Load a JailbreakEval dataset CSV (or JSONL with the same keys).

    Parameters
    ----------
    path : str or Path
        The dataset file.
    question_col, answer_col : str
        The forbidden question (the prompt's text) and the model's answer; required.
    label_col : str
        The manual label (1 jailbroken -> ``harmful``, 0 -> ``not_harmful``), loaded as
        annotator ``annotator_id`` (default ``"annotation"``, JailbreakEval's name for
        it).  Used when the file has it; an empty cell is no label.
    prompt_col, category_col : str
        Used when present: the attack prompt (kept as generations column
        ``attack_prompt``) and the prompts' ``category``.
    group_col : str, optional
        Column of the groups compared for conclusion robustness (``checkpoint_id``);
        default one group, ``"all"``.
    labels_path : str or Path, optional
        More human labels keyed by the 1-based row number (see
        :func:`judgeaudit.datasets.join_human_labels`).
    encoding : str, optional
        Default UTF-8; a leading byte-order mark is ignored.

    Returns
    -------
    AuditTables
        One generation per row (``prompt_id`` ``jbe-`` + a hash of the question,
        ``source_id`` the row number), no verdicts: run judges on it, e.g.
        ``judgeaudit audit --dataset jailbreakeval --path FILE --judges
        StringMatching-zou2023universal``.

    Raises
    ------
    ValidationError
        A required column is missing (e.g. a file in another tool's format), a question
        is empty or a label cell is not 0/1.
    """
    path = Path(path)
    df = read_csv(path, encoding=encoding,
                  columns=[question_col, answer_col] + ([group_col] if group_col else []))
    questions = [str(q).strip() for q in df[question_col]]
    for row, q in enumerate(questions, start=1):
        if not q:
            raise ValidationError("empty question; expected the forbidden question in every row",
                                  path=path, row=row, column=question_col)
    prompt_ids = [text_id("jbe-", q) for q in questions]
    groups = ["all"] * len(df) if group_col is None else [str(g) for g in df[group_col]]
    extra = {SOURCE_ID: [str(i) for i in range(1, len(df) + 1)]}
    if prompt_col in df.columns:
        extra["attack_prompt"] = [str(p) for p in df[prompt_col]]
    gens = generations_frame(prompt_ids, groups, df[answer_col], extra=extra)
    categories = [str(c) or None for c in df[category_col]] if category_col in df.columns \
        else [None] * len(df)
    prompts = (pd.DataFrame({"prompt_id": prompt_ids, "text": questions, "source": "jailbreakeval",
                             "category": categories, "is_harmful_request": True, "attack": "none"})
               .drop_duplicates("prompt_id").reset_index(drop=True))
    labels = []
    if label_col in df.columns:
        for row, (item, cell) in enumerate(zip(gens["item_id"], df[label_col]), start=1):
            try:
                value = parse_label(cell, "harmfulness")
            except ValidationError as e:
                raise ValidationError(e.message, path=path, row=row, column=label_col) from None
            if value is not None:
                labels.append({"item_id": item, "annotator_id": annotator_id,
                               "field": "harmfulness", "value": value,
                               "source": f"jailbreakeval:{path.name}", "created_at": None})
    task = Task("harmfulness", ("harmful",), ("not_harmful",),
                "the jailbreak succeeded (JailbreakEval label 1)")
    tables = assemble(name or path.stem, task, generations=gens, labels=labels, prompts=prompts)
    return tables if labels_path is None else join_human_labels(tables, labels_path)

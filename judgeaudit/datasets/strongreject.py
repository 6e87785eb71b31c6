"""StrongREJECT's scored outputs (``strong_reject.evaluate.evaluate_dataset``, saved as CSV/JSONL).

The StrongREJECT package (Souly et al., arXiv:2402.10260) scores a dataset of
``forbidden_prompt`` / ``response`` rows and returns it with ``score`` (0 = refused or
useless, 1 = a fully harmful answer) and ``evaluator`` (which evaluator scored the row:
``strongreject_rubric``, ``strongreject_finetuned`` ...) added; the rubric evaluator
also adds ``refusal``, ``convincingness`` and ``specificity``.  Datasets produced by its
jailbreak helpers carry ``jailbreak`` (the wrapper's name) and ``jailbroken_prompt``,
and its generation helper ``model``.  Users save it with ``to_csv`` / ``to_json``.
Evaluating with several evaluators gives one row per (response, evaluator).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from judgeaudit.datasets.common import assemble, generations_frame, read_csv, text_id
from judgeaudit.datasets.labelfile import SOURCE_ID, join_human_labels
from judgeaudit.errors import ConfigError, ValidationError
from judgeaudit.tables import AuditTables, Task, parse_label

__all__ = ["load_strongreject"]

DEFAULT_THRESHOLD = 0.5


def _number(cell):
    if isinstance(cell, bool):
        return None
    try:
        value = float(str(cell).strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def load_strongreject(path, *, prompt_col="forbidden_prompt", response_col="response",
                      score_col="score", evaluator_col="evaluator", group_col=None,
                      threshold=DEFAULT_THRESHOLD, human_cols=(), labels_path=None,
                      encoding=None, name=None) -> AuditTables:
    """Load StrongREJECT's scored outputs.

    Parameters
    ----------
    path : str or Path
        The scored dataset as ``.csv`` or ``.jsonl``.
    prompt_col, response_col, score_col : str
        Required columns (StrongREJECT's names by default).
    evaluator_col : str
        Names the judge of each row (judge id ``strongreject:<evaluator>``); without the
        column every row is judge ``strongreject``.
    group_col : str, optional
        The groups compared (``checkpoint_id``); default ``jailbreak`` when the file has
        it, else ``model``, else one group ``"all"``.
    threshold : float
        A score ``>= threshold`` is ``harmful``; the score itself is kept.  StrongREJECT
        publishes no cut-off: 0.5 is judgeaudit's default; the audit's AUROC on the
        kept scores does not depend on it.
    human_cols : sequence of str or mapping
        Human label columns in the same file (0/1, yes/no, harmful/safe ...).
    labels_path : str or Path, optional
        Human labels keyed by the 1-based number of the (prompt, response) pair in file
        order (``source_id``; see :func:`judgeaudit.datasets.join_human_labels`).

    Returns
    -------
    AuditTables
        One generation per distinct (group, prompt, response); one verdict per row; an
        empty or non-numeric score is a ``parse_error`` verdict keeping its text.

    Raises
    ------
    ValidationError
        A required column is missing (a file of another tool), a prompt is empty, or the
        same response got two scores from one evaluator.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or \
            not 0 <= threshold <= 1:
        raise ConfigError(f"threshold must be a number in [0, 1], got {threshold!r}")
    path = Path(path)
    humans = {human_cols: human_cols} if isinstance(human_cols, str) else \
        dict(human_cols) if hasattr(human_cols, "items") else {c: c for c in human_cols}
    df = read_csv(path, encoding=encoding, columns=[prompt_col, response_col, score_col,
                                                    *([group_col] if group_col else []), *humans])
    if group_col is None:
        group_col = next((c for c in ("jailbreak", "model") if c in df.columns), None)
    groups = ["all"] * len(df) if group_col is None else [str(g) for g in df[group_col]]
    prompts_text = [str(p).strip() for p in df[prompt_col]]
    for row, p in enumerate(prompts_text, start=1):
        if not p:
            raise ValidationError("empty forbidden prompt", path=path, row=row, column=prompt_col)
    responses = ["" if r is None else str(r) for r in df[response_col]]
    pairs = list(dict.fromkeys(zip(groups, prompts_text, responses)))
    pair_rows = {p: [] for p in pairs}
    for row, key in enumerate(zip(groups, prompts_text, responses), start=1):
        pair_rows[key].append(row)
    attack = (list(df["jailbroken_prompt"]) if "jailbroken_prompt" in df.columns else None)
    gens = generations_frame(
        [text_id("sr-", p) for _, p, _ in pairs], [g for g, _, _ in pairs], [r for *_, r in pairs],
        extra={SOURCE_ID: [str(i) for i in range(1, len(pairs) + 1)],
               **({"attack_prompt": [str(attack[pair_rows[p][0] - 1]) for p in pairs]}
                  if attack else {})})
    item_of = dict(zip(pairs, gens["item_id"]))
    evaluators = [str(e) for e in df[evaluator_col]] if evaluator_col in df.columns else None
    verdicts, seen = [], set()
    for row, key in enumerate(zip(groups, prompts_text, responses), start=1):
        item = item_of[key]
        judge = "strongreject" if evaluators is None else f"strongreject:{evaluators[row - 1]}"
        if (item, judge) in seen:
            raise ValidationError(f"this response already has a score from {judge!r} (a repeated "
                                  "row?); keep one row per response and evaluator", path=path,
                                  row=row, column=score_col)
        seen.add((item, judge))
        cell = df[score_col].iloc[row - 1]
        score = _number(cell)
        if score is None:
            verdicts.append({"item_id": item, "judge_id": judge, "label": None, "score": None,
                             "raw": str(cell), "status": "parse_error", "judge_config_hash": None})
        else:
            verdicts.append({"item_id": item, "judge_id": judge,
                             "label": "harmful" if score >= threshold else "not_harmful",
                             "score": score, "raw": str(cell), "status": "ok",
                             "judge_config_hash": None})
    labels = _labels(df, humans, item_of, list(zip(groups, prompts_text, responses)), path)
    prompts = [{"prompt_id": text_id("sr-", p), "text": p, "source": "strongreject",
                "category": None, "is_harmful_request": True, "attack": "none"}
               for p in dict.fromkeys(prompts_text)]
    if "category" in df.columns:
        cats = dict(zip(prompts_text, df["category"]))
        for p in prompts:
            p["category"] = str(cats[p["text"]]) or None
    task = Task("harmfulness", ("harmful",), ("not_harmful",),
                f"StrongREJECT score >= {threshold} counts as harmful")
    tables = assemble(name or path.stem, task, generations=gens, labels=labels, verdicts=verdicts,
                      prompts=pd.DataFrame(prompts))
    return tables if labels_path is None else join_human_labels(tables, labels_path)


def _labels(df, humans, item_of, keys, path) -> list[dict]:
    out, seen = [], {}
    for col, annotator in humans.items():
        for row, (key, cell) in enumerate(zip(keys, df[col]), start=1):
            try:
                value = parse_label(cell, "harmfulness")
            except ValidationError as e:
                raise ValidationError(e.message, path=path, row=row, column=col) from None
            if value is None:
                continue
            item = item_of[key]
            if (item, annotator) in seen:  # a pair repeated once per evaluator: same label?
                if seen[(item, annotator)] != value:
                    raise ValidationError(f"this response has another label in an earlier row "
                                          f"({seen[(item, annotator)]!r})", path=path, row=row,
                                          column=col)
                continue
            seen[(item, annotator)] = value
            out.append({"item_id": item, "annotator_id": annotator, "field": "harmfulness",
                        "value": value, "source": f"strongreject:{path.name}", "created_at": None})
    return out

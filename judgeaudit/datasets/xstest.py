"""XSTest v2: completions of five models, two annotators each, plus two automated judges."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from judgeaudit.datasets.common import (
    assemble,
    generations_frame,
    import_datasets,
    read_csv,
    require_columns,
)
from judgeaudit.errors import ConfigError, ValidationError, excerpt
from judgeaudit.tables import AuditTables, Task, parse_label

__all__ = ["load_xstest", "XSTEST_MODELS", "XSTEST_JUDGES"]

XSTEST_HUB_ID = "natolambert/xstest-v2-copy"
XSTEST_MODELS = ("gpt4", "llama2new", "llama2orig", "mistralguard", "mistralinstruct")
_PREFIX = "xstest_v2_completions_"
_EVAL_DIR = Path("evaluation") / "automated_evaluation_labels"
# judge id -> (file suffix, column)
XSTEST_JUDGES = {"gpt4_judge": ("gpteval", "gpt4_label"), "strmatch": ("streval", "strmatch_label")}
_REFERENCES = {"annotators": ("annotation_1", "annotation_2"), "final": ("final_label",),
               "all": ("annotation_1", "annotation_2", "final_label")}
_ANNOTATOR_ID = {"annotation_1": "annotation_1", "annotation_2": "annotation_2",
                 "final_label": "final"}
_COLUMNS = ("id", "prompt", "completion")


def load_xstest(path=None, *, reference="annotators", models=None, encoding=None) -> AuditTables:
    """Load XSTest v2 model completions with their human and automated refusal labels.

    Parameters
    ----------
    path : str or Path or None
        The ``xstest`` folder (with ``model_completions/``, optionally
        ``evaluation/automated_evaluation_labels/`` and ``xstest_prompts.csv``), the
        ``model_completions`` folder, or one model's ``xstest_v2_completions_<model>.csv``
        (its judge files and prompts are then looked up relative to the xstest folder).
        ``None`` downloads ``natolambert/xstest-v2-copy`` (one split per model) with the
        Hugging Face ``datasets`` package (extra ``hub``); that path is not tested
        offline and carries no judge verdicts.
    reference : {"annotators", "final", "all"}
        Which human columns become the ``labels`` table.  ``"annotators"`` (default):
        ``annotation_1`` and ``annotation_2`` (annotators of the same ids), so the audit
        can compute a human ceiling; where they disagree the audit's tie policy
        applies.  ``"final"``: only the reconciled ``final_label``, as annotator
        ``"final"`` (one reference label per item, no human ceiling).  ``"all"``: all
        three; note that ``final_label`` is then one of three raters.
    models : sequence of str, optional
        Load only these models (default: every completions file found).
    encoding : str, optional
        Text encoding of the CSV files (default UTF-8).

    Returns
    -------
    AuditTables
        generations: ``checkpoint_id`` = model name, ``prompt_id`` = the XSTest id
        (``v2-N``); prompts from ``xstest_prompts.csv`` when present
        (``category`` = type, ``is_harmful_request`` = label == "unsafe"), else from
        the completions (harmful when the type starts with ``contrast_``); labels,
        field ``refusal`` (``1_full_compliance`` -> ``none``, ``2_full_refusal`` ->
        ``full``, ``3_partial_refusal`` -> ``partial``); verdicts of judges
        ``gpt4_judge`` (``gpt4_label`` of ``*_gpteval.csv``) and ``strmatch``
        (``strmatch_label`` of ``*_streval.csv``).  A judge cell that is not one of the
        three labels (11 free-text ``gpt4_label`` cells in the published files, all
        for mistralinstruct) is a ``parse_error`` verdict with its text in ``raw``.

        The task's **positive class is compliance**: field ``refusal``, positive
        ``("none",)`` (complied), negative ``("full", "partial")``.
    """
    if reference not in _REFERENCES:
        raise ConfigError(f"reference must be one of {', '.join(_REFERENCES)}, got {reference!r}")
    if path is None:
        frames, evals, prompts = _from_hub(), {}, None
    else:
        frames, evals, prompts = _from_folder(Path(path), encoding)
    if models is not None:
        unknown = sorted(set(models) - set(frames))
        if unknown:
            raise ConfigError(f"unknown XSTest model(s) {unknown}; found: {', '.join(sorted(frames))}")
        frames = {m: frames[m] for m in models}
    return _build(frames, evals, prompts, _REFERENCES[reference])


def _model_name(file: Path) -> str:
    stem = file.stem
    return stem[len(_PREFIX):] if stem.startswith(_PREFIX) else stem


def _from_folder(path: Path, encoding):
    if path.is_file():
        files = [path]
        root = path.parent.parent if path.parent.name == "model_completions" else path.parent
    else:
        root = path.parent if path.name == "model_completions" else path
        files = sorted((root / "model_completions").glob(f"{_PREFIX}*.csv"))
        if not files:
            raise ValidationError(f"no model_completions/{_PREFIX}<model>.csv files found; pass "
                                  "the xstest folder or one completions CSV", path=path)
    columns = _COLUMNS + ("annotation_1", "annotation_2", "final_label")
    frames = {_model_name(f): (read_csv(f, encoding=encoding, columns=columns), f) for f in files}
    evals = {}
    for model in frames:
        for judge, (suffix, column) in XSTEST_JUDGES.items():
            f = root / _EVAL_DIR / f"{_PREFIX}{model}_{suffix}.csv"
            if f.is_file():
                evals[(model, judge)] = (read_csv(f, encoding=encoding, columns=("id", column)), f)
    prompts = None
    f = root / "xstest_prompts.csv"
    if f.is_file():
        p = read_csv(f, encoding=encoding, columns=("id", "prompt", "type", "label"))
        prompts = pd.DataFrame({
            "prompt_id": [_prompt_id(i) for i in p["id"]],
            "text": p["prompt"].astype(str).tolist(), "source": "xstest",
            "category": p["type"].astype(str).tolist(),
            "is_harmful_request": [_harmful(v, f, r) for r, v in enumerate(p["label"], start=1)],
            "attack": "none"})
    return frames, evals, prompts


def _from_hub():
    datasets = import_datasets()
    data = datasets.load_dataset(XSTEST_HUB_ID)
    frames = {}
    for split in data:
        df = data[split].to_pandas()
        if "completion" in df.columns:
            frames[str(split)] = (df, f"hf://{XSTEST_HUB_ID}/{split}")
    return frames


def _prompt_id(value) -> str:
    s = str(value).strip()
    return s if s.startswith("v2-") else f"v2-{s}"


def _harmful(value, path, row) -> bool:
    s = str(value).strip().lower()
    if s not in ("safe", "unsafe"):
        raise ValidationError(f"expected safe or unsafe, got {excerpt(value)}", path=path, row=row,
                              column="label")
    return s == "unsafe"


def _build(frames, evals, prompts, human_columns) -> AuditTables:
    gens, labels, verdicts, derived = [], [], [], {}
    for model, (df, path) in frames.items():
        require_columns(df, _COLUMNS + human_columns, path)
        ids = [_prompt_id(i) for i in df["id"]]
        g = generations_frame(ids, [model] * len(df), df["completion"])
        gens.append(g)
        by_id = dict(zip(ids, g["item_id"]))
        for row, item in enumerate(g["item_id"]):
            for col in human_columns:
                value = _refusal(df[col].iloc[row], path, row, col)
                if value is not None:
                    labels.append({"item_id": item, "annotator_id": _ANNOTATOR_ID[col],
                                   "field": "refusal", "value": value,
                                   "source": f"xstest:{model}", "created_at": None})
        for judge, (_, column) in XSTEST_JUDGES.items():
            if (model, judge) in evals:
                verdicts += _verdicts(*evals[(model, judge)], column, judge, by_id)
        if "type" in df.columns:
            for pid, text, kind in zip(ids, df["prompt"], df["type"]):
                derived.setdefault(pid, (str(text), str(kind)))
    if prompts is None and derived:
        prompts = pd.DataFrame({
            "prompt_id": list(derived), "text": [t for t, _ in derived.values()],
            "source": "xstest", "category": [k for _, k in derived.values()],
            "is_harmful_request": [k.startswith("contrast_") for _, k in derived.values()],
            "attack": "none"})
    task = Task("refusal", ("none",), ("full", "partial"),
                "positive = the model complied (full compliance); full or partial refusal = negative")
    return assemble("xstest", task, generations=pd.concat(gens, ignore_index=True),
                    labels=labels, verdicts=verdicts, prompts=prompts)


def _refusal(cell, path, row, col):
    try:
        return parse_label(cell, "refusal")
    except ValidationError as e:
        raise ValidationError(e.message, path=path, row=row + 1, column=col) from None


def _verdicts(df, path, column, judge, by_id) -> list:
    out = []
    for row, (pid, cell) in enumerate(zip(df["id"], df[column]), start=1):
        pid = _prompt_id(pid)
        if pid not in by_id:
            raise ValidationError(f"id {excerpt(pid)} is not among the model's completions; expected the "
                                  "judge file to label the same rows", path=path, row=row,
                                  column="id")
        raw = None if cell is None else str(cell)
        try:
            label = parse_label(cell, "refusal")
        except ValidationError:
            out.append({"item_id": by_id[pid], "judge_id": judge, "label": None, "score": None,
                        "raw": raw, "status": "parse_error", "judge_config_hash": None})
            continue
        if label is not None:  # an empty cell is a missing verdict: no row
            out.append({"item_id": by_id[pid], "judge_id": judge, "label": label, "score": None,
                        "raw": raw, "status": "ok", "judge_config_hash": None})
    return out

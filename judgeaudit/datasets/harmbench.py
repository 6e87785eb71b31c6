"""HarmBench's completions JSON and classifier-results JSON.

HarmBench (Mazeika et al., arXiv:2402.04249) writes two JSON files per model, both one
object mapping each behavior id to a list of records:

* ``generate_completions.py`` -> ``completions/<model>.json``: records
  ``{"test_case": ..., "generation": ...}`` (the attack prompt sent and the answer);
* ``evaluate_completions.py`` -> ``results/<model>.json``: the same records with
  ``"label"`` added, the HarmBench classifier's verdict (1 = the behavior was exhibited,
  0 = not, -1 = the classifier's answer was neither "yes" nor "no"), and
  ``"advbench_label"`` when it was run with the AdvBench refusal-string metric
  (1 = no refusal string, i.e. counted as a success).

A multimodal test case is a list (image file, text); its text parts are kept.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from judgeaudit.datasets.common import assemble, generations_frame, read_csv
from judgeaudit.datasets.labelfile import SOURCE_ID, join_human_labels
from judgeaudit.errors import ValidationError
from judgeaudit.tables import AuditTables, Task

__all__ = ["load_harmbench"]

_SHAPE = ("expected HarmBench's completions or results JSON: one object mapping each behavior "
          "id to a list of {\"test_case\", \"generation\"[, \"label\"]} records")


def _read_json(path: Path, encoding=None):
    if not path.is_file():
        raise ValidationError("file not found; pass HarmBench's completions or results JSON",
                              path=path)
    try:
        return json.loads(path.read_text(encoding=encoding or "utf-8-sig"))
    except UnicodeDecodeError as e:
        raise ValidationError(f"not UTF-8 text ({e.reason} at byte {e.start}); {_SHAPE}",
                              path=path) from None
    except json.JSONDecodeError as e:
        raise ValidationError(f"not a JSON document ({e.msg}, line {e.lineno}); {_SHAPE}",
                              path=path) from None


def _text(value, path, row, column):
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    raise ValidationError(f"expected text, got {type(value).__name__}; {_SHAPE}", path=path,
                          row=row, column=column)


def _verdict(item, judge_id, value, path, row, column):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            (isinstance(value, float) and math.isnan(value)):
        raise ValidationError(f"expected 1, 0 or -1, got {value!r}", path=path, row=row,
                              column=column)
    if value == -1:
        return {"item_id": item, "judge_id": judge_id, "label": None, "score": None,
                "raw": "-1 (the classifier answered neither yes nor no)",
                "status": "parse_error", "judge_config_hash": None}
    if value not in (0, 1):
        raise ValidationError(f"expected 1, 0 or -1, got {value!r}", path=path, row=row,
                              column=column)
    return {"item_id": item, "judge_id": judge_id,
            "label": "harmful" if value == 1 else "not_harmful", "score": float(value),
            "raw": str(int(value)), "status": "ok", "judge_config_hash": None}


def _prompts(ids, behaviors_path) -> pd.DataFrame:
    text, category = dict(zip(ids, ids)), dict.fromkeys(ids)
    if behaviors_path is not None:
        df = read_csv(behaviors_path, columns=("BehaviorID", "Behavior"))
        known = dict(zip(df["BehaviorID"].astype(str), df["Behavior"].astype(str)))
        missing = [i for i in ids if i not in known]
        if missing:
            raise ValidationError(f"behavior id {missing[0]!r} of the results is not in this "
                                  "behaviors file; pass the behaviors CSV the results were made "
                                  "with", path=behaviors_path, column="BehaviorID")
        text = {i: known[i] for i in ids}
        if "SemanticCategory" in df.columns:
            cats = dict(zip(df["BehaviorID"].astype(str), df["SemanticCategory"].astype(str)))
            category = {i: cats[i] or None for i in ids}
    return pd.DataFrame({"prompt_id": ids, "text": [text[i] for i in ids], "source": "harmbench",
                         "category": [category[i] for i in ids], "is_harmful_request": True,
                         "attack": "none"})


def load_harmbench(path, *, judge_id="harmbench_classifier", advbench_judge_id="advbench_refusal",
                   checkpoint_id=None, behaviors_path=None, labels_path=None,
                   encoding=None, name=None) -> AuditTables:
    """Load a HarmBench completions or classifier-results JSON file.

    Parameters
    ----------
    path : str or Path
        ``completions/<model>.json`` (answers only) or ``results/<model>.json``
        (answers with the classifier's ``label``).
    judge_id, advbench_judge_id : str
        Judge ids for the ``label`` and ``advbench_label`` verdicts.
    checkpoint_id : str, optional
        The model's name (the group compared); default the file's stem, which HarmBench
        names after the model.
    behaviors_path : str or Path, optional
        HarmBench's behaviors CSV (``BehaviorID``, ``Behavior``, ``SemanticCategory``);
        given, the prompts table holds each behavior's text and category (judges that
        read the prompt need it); without it a prompt's text is its behavior id.
    labels_path : str or Path, optional
        Human labels keyed by ``<behavior_id>/<n>`` (``n`` = 0-based position in the
        behavior's list; see :func:`judgeaudit.datasets.join_human_labels`).
    encoding : str, optional
        Text encoding (default UTF-8).

    Returns
    -------
    AuditTables
        One generation per record: ``prompt_id`` the behavior id, ``response`` the
        generation, the test case in column ``attack_prompt``, ``source_id``
        ``<behavior_id>/<n>``.  Verdicts: ``label`` (1 -> ``harmful``, 0 ->
        ``not_harmful``, -1 -> a ``parse_error`` row) and ``advbench_label`` where present.
        No human labels unless ``labels_path`` is given.

    Raises
    ------
    ValidationError
        The file is not JSON or not shaped as HarmBench writes it (the message names
        the behavior id as ``column`` and the record's 1-based position as ``row``).
    """
    path = Path(path)
    data = _read_json(path, encoding)
    if not isinstance(data, dict) or not data:
        got = "an empty object" if isinstance(data, dict) else f"a JSON {type(data).__name__}"
        raise ValidationError(f"got {got}; {_SHAPE}", path=path)
    model = checkpoint_id or path.stem
    behaviors, responses, attacks, keys, raw_verdicts = [], [], [], [], []
    for behavior, records in data.items():
        if not isinstance(records, list):
            raise ValidationError(f"expected a list of records, got {type(records).__name__}; "
                                  f"{_SHAPE}", path=path, column=behavior)
        for n, rec in enumerate(records):
            if not isinstance(rec, dict) or "generation" not in rec:
                raise ValidationError(f"record has no 'generation'; {_SHAPE}", path=path,
                                      row=n + 1, column=behavior)
            behaviors.append(str(behavior))
            responses.append(_text(rec["generation"], path, n + 1, behavior))
            attacks.append(_text(rec.get("test_case", ""), path, n + 1, behavior))
            keys.append(f"{behavior}/{n}")
            raw_verdicts.append((n + 1, behavior, rec.get("label"), rec.get("advbench_label")))
    gens = generations_frame(behaviors, [model] * len(behaviors), responses,
                             extra={"attack_prompt": attacks, SOURCE_ID: keys})
    verdicts = []
    for item, (row, behavior, label, advbench) in zip(gens["item_id"], raw_verdicts):
        if label is not None:
            verdicts.append(_verdict(item, judge_id, label, path, row, f"{behavior}.label"))
        if advbench is not None:
            verdicts.append(_verdict(item, advbench_judge_id, advbench, path, row,
                                     f"{behavior}.advbench_label"))
    prompts = _prompts(list(dict.fromkeys(behaviors)), behaviors_path)
    task = Task("harmfulness", ("harmful",), ("not_harmful",),
                "the answer exhibits the HarmBench behavior")
    tables = assemble(name or f"harmbench:{path.stem}", task, generations=gens, verdicts=verdicts,
                      prompts=prompts)
    return tables if labels_path is None else join_human_labels(tables, labels_path)

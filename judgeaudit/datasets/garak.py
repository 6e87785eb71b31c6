"""garak's report JSONL (``garak.<run id>.report.jsonl``).

garak (Derczynski et al., arXiv:2406.11036) writes one JSON object per line, each with
an ``entry_type``: ``"start_run setup"`` (the run's settings, e.g. ``run.eval_threshold``),
``"init"``, ``"attempt"``, ``"eval"`` (pass/fail counts per probe and detector),
``"completion"`` and ``"digest"``.  An attempt is written twice under the same ``uuid``:
with ``status`` 1 once the target answered and with ``status`` 2 once the detectors have
scored it.  Its fields used here: ``probe_classname``; ``prompt`` (a conversation
``{"turns": [{"role", "content": {"text", ...}}, ...]}``, or a plain string in older
versions); ``outputs`` (one message ``{"text", ...}`` per generation, a string in older
versions, ``null`` when the target gave nothing); ``detector_results`` (detector name ->
one score in [0, 1] per output, ``null`` where the detector could not score it).

garak counts an output as a *failure* (the probe hit) when its score is at least the
run's ``eval_threshold`` (0.5 by default).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from judgeaudit.datasets.common import assemble, generations_frame, text_id
from judgeaudit.datasets.labelfile import SOURCE_ID, join_human_labels
from judgeaudit.errors import ConfigError, ValidationError
from judgeaudit.tables import AuditTables, Task

__all__ = ["load_garak"]

DEFAULT_THRESHOLD = 0.5
_SHAPE = ("expected garak's report JSONL: one JSON object per line with an 'entry_type', "
          "the attempts as entry_type 'attempt'")


def _entries(path: Path, encoding=None):
    if not path.is_file():
        raise ValidationError("file not found; pass garak's <run>.report.jsonl", path=path)
    try:
        text = path.read_text(encoding=encoding or "utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValidationError(f"not UTF-8 text (byte {e.start}); {_SHAPE}", path=path) from None
    for row, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValidationError(f"invalid JSON ({e.msg}); {_SHAPE}", path=path, row=row) from None
        if not isinstance(obj, dict) or "entry_type" not in obj:
            raise ValidationError(f"no 'entry_type'; {_SHAPE}", path=path, row=row)
        yield row, obj


def _message_text(value, path, row, column):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and (value.get("text") is None or isinstance(value["text"], str)):
        return value.get("text")
    raise ValidationError(f"expected a message {{'text': ...}} or a string, got {value!r:.80}",
                          path=path, row=row, column=column)


def _prompt_text(prompt, path, row) -> str:
    if isinstance(prompt, str):
        return prompt
    turns = prompt.get("turns") if isinstance(prompt, dict) else None
    if not isinstance(turns, list) or not turns:
        raise ValidationError("expected a conversation {'turns': [...]} or a string", path=path,
                              row=row, column="prompt")
    users = [t for t in turns if isinstance(t, dict) and t.get("role") == "user"] or turns
    content = users[-1].get("content") if isinstance(users[-1], dict) else None
    return _message_text(content, path, row, "prompt") or ""


def load_garak(path, *, threshold=None, labels_path=None, encoding=None, name=None) -> AuditTables:
    """Load the attempts of a garak report: each output is an item, each detector a judge.

    Parameters
    ----------
    path : str or Path
        ``garak.<run id>.report.jsonl``.
    threshold : float, optional
        A detector score ``>= threshold`` is ``harmful`` (the probe hit).  Default: the
        report's ``run.eval_threshold``, else 0.5, as garak itself decides.
    labels_path : str or Path, optional
        Human labels keyed by ``<attempt uuid>/<output index>`` (0-based; see
        :func:`judgeaudit.datasets.join_human_labels`).
    encoding : str, optional
        Text encoding (default UTF-8).

    Returns
    -------
    AuditTables
        One generation per (attempt, output): ``checkpoint_id`` the probe class (the
        groups compared), ``prompt_id`` a hash of the last user turn, ``source_id``
        ``<uuid>/<n>``.  One verdict per detector and output, judge id the detector's
        name, ``score`` its score; a ``null`` score is an ``error`` row.  Only the
        latest record of each attempt is used (status 2 over status 1); an attempt that
        never reached status 2 still gives its items, without verdicts.

    Raises
    ------
    ValidationError
        A line is not a JSON object with ``entry_type`` (another tool's file), the report
        has no attempts, or an attempt is malformed (row = line number).
    """
    if threshold is not None and (isinstance(threshold, bool) or
                                  not isinstance(threshold, (int, float)) or
                                  not 0 <= threshold <= 1):
        raise ConfigError(f"threshold must be a number in [0, 1], got {threshold!r}")
    path = Path(path)
    attempts, run_threshold = {}, None
    for row, entry in _entries(path, encoding):
        kind = entry["entry_type"]
        if kind == "start_run setup" and isinstance(entry.get("run.eval_threshold"), (int, float)):
            run_threshold = float(entry["run.eval_threshold"])
        elif kind == "attempt":
            uuid = entry.get("uuid")
            if not isinstance(uuid, str) or not uuid:
                raise ValidationError("attempt without a 'uuid'", path=path, row=row, column="uuid")
            status = entry.get("status") if isinstance(entry.get("status"), int) else 0
            if uuid not in attempts or status >= attempts[uuid][1].get("status", 0):
                attempts[uuid] = (row, entry)
    if not attempts:
        raise ValidationError(f"the report holds no attempt; {_SHAPE}", path=path)
    cut = float(threshold if threshold is not None else
                run_threshold if run_threshold is not None else DEFAULT_THRESHOLD)
    probes, prompt_texts, responses, keys, scores = [], [], [], [], []
    for uuid, (row, entry) in attempts.items():
        prompt = _prompt_text(entry.get("prompt"), path, row)
        outputs = entry.get("outputs") or []
        results = entry.get("detector_results") or {}
        if not isinstance(outputs, list) or not isinstance(results, dict):
            raise ValidationError(f"'outputs' must be a list and 'detector_results' an object; "
                                  f"{_SHAPE}", path=path, row=row)
        for detector, values in results.items():
            if not isinstance(values, list) or len(values) != len(outputs):
                raise ValidationError(f"detector {detector!r} has {len(values) if isinstance(values, list) else 'no'}"
                                      f" scores for {len(outputs)} outputs", path=path, row=row,
                                      column="detector_results")
        for n, output in enumerate(outputs):
            text = _message_text(output, path, row, "outputs")
            probes.append(str(entry.get("probe_classname") or "unknown"))
            prompt_texts.append(prompt)
            responses.append("" if text is None else text)
            keys.append(f"{uuid}/{n}")
            scores.append({d: v[n] for d, v in results.items()})
    if not keys:
        raise ValidationError("the report's attempts hold no outputs", path=path)
    gens = generations_frame([text_id("garak-", p) for p in prompt_texts], probes, responses,
                             extra={SOURCE_ID: keys})
    verdicts = []
    for item, per_detector in zip(gens["item_id"], scores):
        for detector, value in per_detector.items():
            verdicts.append(_verdict(item, detector, value, cut))
    prompts = pd.DataFrame({"prompt_id": [text_id("garak-", p) for p in prompt_texts],
                            "text": prompt_texts, "source": "garak", "category": probes,
                            "is_harmful_request": pd.NA, "attack": probes}
                           ).drop_duplicates("prompt_id").reset_index(drop=True)
    task = Task("harmfulness", ("harmful",), ("not_harmful",),
                f"a garak detector hit (score >= {cut})")
    tables = assemble(name or path.name.removesuffix(".jsonl"), task, generations=gens,
                      verdicts=verdicts, prompts=prompts)
    return tables if labels_path is None else join_human_labels(tables, labels_path)


def _verdict(item, detector, value, cut) -> dict:
    base = {"item_id": item, "judge_id": str(detector), "judge_config_hash": None}
    if value is None:
        return {**base, "label": None, "score": None, "status": "error",
                "raw": "the detector gave no score"}
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return {**base, "label": None, "score": None, "status": "parse_error", "raw": repr(value)}
    return {**base, "label": "harmful" if value >= cut else "not_harmful", "score": float(value),
            "status": "ok", "raw": repr(value)}

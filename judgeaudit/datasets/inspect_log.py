"""Inspect AI eval logs (``.eval`` and ``.json``) as judge verdicts and human labels.

Read through ``inspect_ai.log.read_eval_log`` (extra ``inspect``).  Each sample epoch of
a log is one item: the sample ``id`` is the prompt id, the epoch the sample index, the
sample's input the prompt and ``output.completion`` the response; the log's model is the
group compared (``checkpoint_id``), so a folder of logs of several models compares them.
Each scorer is a judge, and its scores become verdicts through a :class:`ScoreMapping`.

Human labels come from any of:

* hand-edited scores: ``inspect_ai.log.edit_score`` keeps a score's history, the first
  entry being the scorer's own value and each later one an edit with its author
  (``provenance.author``).  By default the scorer's original value is the judge's
  verdict and each author's last edit is that author's label;
* scorers named in ``human_scorers`` (scores people added, e.g. a ``"human"`` score),
  read as labels with ``provenance.author`` (else the scorer name) as annotator;
* a sample metadata key (``human_metadata``: one annotator named after the key);
* a labels file keyed by ``<sample id>/<epoch>`` (or the bare sample id when the sample
  has one epoch): :func:`judgeaudit.datasets.join_human_labels`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from judgeaudit.datasets.common import assemble
from judgeaudit.datasets.labelfile import SOURCE_ID, join_human_labels
from judgeaudit.errors import ConfigError, MissingExtraError, ValidationError
from judgeaudit.tables import AuditTables, Task, make_item_id, parse_label

__all__ = ["ScoreMapping", "load_inspect_log", "import_inspect_ai"]


def import_inspect_ai():
    """Import ``inspect_ai`` or raise :class:`MissingExtraError` naming the ``inspect`` extra."""
    try:
        import inspect_ai  # noqa: PLC0415 - optional extra, imported on use
        import inspect_ai.log  # noqa: PLC0415, F401
    except ImportError:
        raise MissingExtraError("inspect-ai", "inspect") from None
    return inspect_ai


@dataclass(frozen=True)
class ScoreMapping:
    """How an Inspect score value becomes the positive or negative class.

    Parameters
    ----------
    positive, negative : tuple of str
        String values meaning the positive class (for harmfulness: ``harmful``) and the
        negative one.  Default ``("C",)`` and ``("I",)``: Inspect's CORRECT means the
        scorer's criterion was met, which for a safety grader asking "is this answer
        harmful?" is the positive class.  Swap them for a scorer that marks safe
        answers correct.  Other strings are read with
        :func:`judgeaudit.tables.parse_label` (``harmful``, ``unsafe``, ``yes``, ``1``...).
    threshold : float
        A number (or bool) ``>= threshold`` is positive.  Default 0.5.
    key : str, optional
        For dict-valued scores (``{"harmful": 0.9, ...}``), the entry to read.
    invert : bool
        Read numbers as "higher is safer" (``score = 1 - value`` before the threshold).
    unmapped : tuple of str
        Strings that are never a label: default Inspect's ``P`` (partial) and ``N`` (no
        answer), which :func:`~judgeaudit.tables.parse_label` would otherwise read as "no".

    Notes
    -----
    A value that maps to neither class (Inspect's ``P`` partial, ``N`` no answer, an
    unknown string) is a ``parse_error`` verdict keeping the value as ``raw``; a NaN
    (Inspect's "unscored") is an ``error`` verdict.
    """

    positive: tuple = ("C",)
    negative: tuple = ("I",)
    threshold: float = 0.5
    key: str | None = None
    invert: bool = False
    unmapped: tuple = ("P", "N")

    def __post_init__(self):
        object.__setattr__(self, "positive", tuple(str(v) for v in self.positive))
        object.__setattr__(self, "negative", tuple(str(v) for v in self.negative))
        if set(self.positive) & set(self.negative):
            raise ConfigError("a score value cannot be both positive and negative: "
                              f"{sorted(set(self.positive) & set(self.negative))}")
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, (int, float)):
            raise ConfigError(f"threshold must be a number, got {self.threshold!r}")

    def classify(self, value, field="harmfulness"):
        """``(1 | 0 | None, numeric score | None, status)`` for one score value."""
        if self.key is not None and isinstance(value, Mapping):
            if self.key not in value:
                return None, None, "parse_error"
            value = value[self.key]
        if isinstance(value, bool):
            return int(value) ^ self.invert, float(value), "ok"
        if isinstance(value, (int, float)):
            if math.isnan(value):
                return None, None, "error"
            score = 1 - float(value) if self.invert else float(value)
            return int(score >= self.threshold), score, "ok"
        if isinstance(value, str):
            text = value.strip()
            if text in self.positive:
                return 1, 1.0, "ok"
            if text in self.negative:
                return 0, 0.0, "ok"
            if text in self.unmapped:
                return None, None, "parse_error"
            try:
                label = parse_label(text, field)
            except ValidationError:
                return None, None, "parse_error"
            task = Task.for_field(field)
            binary = task.binary(label)
            return (binary, None if binary is None else float(binary),
                    "ok" if binary is not None else "parse_error")
        return None, None, "parse_error"


def _mapping_for(mapping, scorer) -> ScoreMapping:
    if mapping is None:
        return ScoreMapping()
    if isinstance(mapping, ScoreMapping):
        return mapping
    if isinstance(mapping, Mapping):
        m = mapping.get(scorer, mapping.get("*", ScoreMapping()))
        if not isinstance(m, ScoreMapping):
            raise ConfigError(f"mapping[{scorer!r}] must be a ScoreMapping, got {m!r}")
        return m
    raise ConfigError(f"mapping must be a ScoreMapping or a dict of them, got {mapping!r}")


def _log_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in (".eval", ".json") and p.is_file())
        if not files:
            raise ValidationError("no Inspect log (.eval or .json) in this folder", path=path)
        return files
    if not path.is_file():
        raise ValidationError("file not found; pass an Inspect log (.eval/.json) or its folder",
                              path=path)
    return [path]


def _input_text(sample) -> str:
    value = sample.input
    if isinstance(value, str):
        return value
    users = [m for m in value if getattr(m, "role", None) == "user"] or list(value)
    return users[-1].text if users else ""


def _read(path: Path):
    inspect_ai = import_inspect_ai()
    try:
        return inspect_ai.log.read_eval_log(str(path))
    except Exception as exc:  # noqa: BLE001 - any reader failure is a wrong-format file
        raise ValidationError(f"not a readable Inspect eval log ({type(exc).__name__}: "
                              f"{str(exc)[:200]}); expected a .eval or .json file written by "
                              "inspect_ai", path=path) from None


def _given_logs(path) -> list:
    """``[(Path, EvalLog)]`` when ``path`` is an ``EvalLog`` already read (or a list of them)."""
    logs = path if isinstance(path, (list, tuple)) else [path]
    if not logs or not all(hasattr(x, "samples") and hasattr(x, "eval") for x in logs):
        return []
    return [(Path(str(getattr(x, "location", None) or f"log-{i}")), x) for i, x in enumerate(logs)]


def _value(entry, previous):
    value = getattr(entry, "value", "UNCHANGED")
    return previous if isinstance(value, str) and value == "UNCHANGED" else value


def load_inspect_log(path, *, scorers=None, mapping=None, human_scorers=(), edits="human",
                     human_metadata=None, field="harmfulness", labels_path=None,
                     name=None) -> AuditTables:
    """Load one Inspect eval log, or every log in a folder, for the audit.

    Parameters
    ----------
    path : str, Path, EvalLog or list of EvalLog
        A ``.eval`` / ``.json`` log, or a folder of them (then logs whose status is not
        ``success`` are skipped; one log per model and task), or logs already in memory
        (what ``inspect_ai.eval`` returns; read with their samples).
    scorers : sequence of str, optional
        The scorers to read as judges (default all but ``human_scorers``).
    mapping : ScoreMapping or dict, optional
        How values become labels: one :class:`ScoreMapping` for all scorers or a dict
        ``scorer -> ScoreMapping`` (key ``"*"`` for the rest).  Default ``ScoreMapping()``.
    human_scorers : sequence of str
        Scorers whose scores are human labels, not verdicts.
    edits : {"human", "final", "ignore"}
        ``"human"`` (default): a score's original value is the judge's verdict and each
        edit's author gives a human label (that author's last edit).  ``"final"``: the
        edited value is the verdict, and no labels come from edits.  ``"ignore"``: the
        original value is the verdict and edits are not read.
    human_metadata : str, optional
        A sample metadata key holding a human label (annotator id = the key).
    field : str
        The label field (default harmfulness; its positive value is the mapping's positive).
    labels_path : str or Path, optional
        A labels file keyed by ``<sample id>/<epoch>`` or the bare sample id.

    Returns
    -------
    AuditTables
        Generations with ``source_id`` ``<sample id>/<epoch>`` and column ``epoch``; a
        sample that failed (``sample.error``) has generation status ``error``.  A scorer
        missing on a sample is an ``error`` verdict row, never a dropped one.

    Raises
    ------
    ValidationError
        The file is not an Inspect log, a named scorer is not in it, or a human label
        cannot be read.
    MissingExtraError
        inspect-ai is not installed (``pip install 'judgeaudit[inspect]'``).
    """
    if edits not in ("human", "final", "ignore"):
        raise ConfigError(f"edits must be 'human', 'final' or 'ignore', got {edits!r}")
    given = _given_logs(path)
    path = Path(str(getattr(given[0][1], "location", None) or "inspect-log")) if given \
        else Path(path)
    task = Task.for_field(field)
    pos, neg = task.positive[0], task.negative[0]
    gens, verdicts, labels, aliases = [], [], [], {}
    human_scorers = tuple(human_scorers)
    seen = {}
    for file, log in given or ((f, None) for f in _log_files(path)):
        log = log if log is not None else _read(file)
        if path.is_dir() and getattr(log, "status", "success") != "success":
            continue  # a failed or cancelled run in a folder (usually retried in another log)
        model = str(log.eval.model)
        samples = list(log.samples or [])
        names = list(dict.fromkeys(k for s in samples for k in (s.scores or {})))
        judges = [n for n in names if n not in human_scorers] if scorers is None else list(scorers)
        unknown = [n for n in judges if n not in names]
        if unknown and samples:
            raise ValidationError(f"scorer {unknown[0]!r} is not in this log; its scorers: "
                                  f"{', '.join(names) or '(none)'}", path=file)
        epochs = {}
        for s in samples:
            epochs[str(s.id)] = epochs.get(str(s.id), 0) + 1
        for s in samples:
            response = s.output.completion if s.output is not None else ""
            item = make_item_id(str(s.id), model, int(s.epoch) - 1, response)
            key = f"{s.id}/{s.epoch}"
            if (model, key) in seen:
                raise ValidationError(f"sample {s.id!r} epoch {s.epoch} of model {model!r} is also "
                                      f"in {seen[(model, key)].name}; pass one log per model and "
                                      "task", path=file)
            seen[(model, key)] = file
            if epochs[str(s.id)] == 1:
                aliases[str(s.id)] = key
            err = getattr(s, "error", None)
            gens.append({"item_id": item, "prompt_id": str(s.id), "checkpoint_id": model,
                         "sample_index": int(s.epoch) - 1, "response": response,
                         "gen_config_hash": None, "stratum": None,
                         "status": "error" if err else "ok",
                         "error": None if not err else str(getattr(err, "message", err))[:500],
                         SOURCE_ID: key, "epoch": int(s.epoch), "prompt_text": _input_text(s)})
            scores = s.scores or {}
            for judge in judges:
                verdicts.append(_verdict(item, judge, scores.get(judge),
                                         _mapping_for(mapping, judge), edits, field, pos, neg))
                if edits == "human" and judge in scores:
                    labels += _edit_labels(item, judge, scores[judge],
                                           _mapping_for(mapping, judge), field, pos, neg, file)
            for hs in human_scorers:
                if hs in scores:
                    labels += _human_score(item, hs, scores[hs], _mapping_for(mapping, hs),
                                           field, pos, neg, file)
            if human_metadata is not None and (s.metadata or {}).get(human_metadata) is not None:
                try:
                    value = parse_label(s.metadata[human_metadata], field)
                except ValidationError as e:
                    raise ValidationError(f"sample {s.id!r} epoch {s.epoch}: {e.message}",
                                          path=file, column=f"metadata.{human_metadata}") from None
                if value is not None:
                    labels.append(_label(item, human_metadata, field, value, f"inspect:{file.name}"))
    if not gens:
        raise ValidationError("the log holds no samples (was it written with no samples, or read "
                              "header-only?)", path=path)
    generations = pd.DataFrame(gens)
    prompts = (generations[["prompt_id", "prompt_text"]].rename(columns={"prompt_text": "text"})
               .drop_duplicates("prompt_id").assign(source="inspect", category=None,
                                                    is_harmful_request=pd.NA, attack="none")
               .reset_index(drop=True))
    labels = _dedupe_labels(labels)
    tables = assemble(name or path.stem, task, generations=generations.drop(columns="prompt_text"),
                      labels=labels, verdicts=verdicts, prompts=prompts)
    if labels_path is None:
        return tables
    return join_human_labels(tables, labels_path, aliases=aliases)


def _verdict(item, judge, score, mapping, edits, field, pos, neg) -> dict:
    base = {"item_id": item, "judge_id": judge, "judge_config_hash": None}
    if score is None:
        return {**base, "label": None, "score": None, "raw": "no score from this scorer",
                "status": "error"}
    history = list(getattr(score, "history", None) or [])
    value = score.value if (edits == "final" or not history) else _value(history[0], score.value)
    binary, number, status = mapping.classify(value, field)
    raw = str(value)[:1000]
    if getattr(score, "explanation", None) and status == "ok":
        raw = f"{raw}: {score.explanation}"[:1000]
    return {**base, "label": None if binary is None else (pos if binary else neg),
            "score": number, "raw": raw, "status": status}


def _label(item, annotator, field, value, source) -> dict:
    return {"item_id": item, "annotator_id": str(annotator), "field": field, "value": value,
            "source": source, "created_at": None}


def _binary_label(value, mapping, field, pos, neg, where, file):
    binary, _, status = mapping.classify(value, field)
    if binary is None:
        raise ValidationError(f"{where}: human score {value!r} maps to no label ({status}); give "
                              "a ScoreMapping for this scorer", path=file)
    return pos if binary else neg


def _edit_labels(item, judge, score, mapping, field, pos, neg, file) -> list[dict]:
    history = list(getattr(score, "history", None) or [])
    if len(history) < 2:
        return []
    by_author, value = {}, _value(history[0], score.value)
    for edit in history[1:]:
        value = _value(edit, value)
        author = getattr(getattr(edit, "provenance", None), "author", None) or "inspect-edit"
        by_author[author] = (value, getattr(edit.provenance, "timestamp", None)
                             if edit.provenance else None)
    out = []
    for author, (value, when) in by_author.items():
        label = _binary_label(value, mapping, field, pos, neg, f"score {judge!r} edit by {author}",
                              file)
        row = _label(item, author, field, label, f"inspect-edit:{file.name}:{judge}")
        row["created_at"] = None if when is None else when.isoformat()
        out.append(row)
    return out


def _human_score(item, scorer, score, mapping, field, pos, neg, file) -> list[dict]:
    history = list(getattr(score, "history", None) or [])
    author = next((e.provenance.author for e in reversed(history)
                   if getattr(e, "provenance", None) is not None), scorer)
    label = _binary_label(score.value, mapping, field, pos, neg, f"human score {scorer!r}", file)
    return [_label(item, author, field, label, f"inspect:{file.name}:{scorer}")]


def _dedupe_labels(labels) -> list[dict]:
    """One label per (item, annotator, field): the last one read wins (an edit over metadata)."""
    out = {}
    for row in labels:
        out[(row["item_id"], row["annotator_id"], row["field"])] = row
    return list(out.values())

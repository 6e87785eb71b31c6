"""The judge protocol, the verdict record, the judge registry and :func:`run_judge`.

A *judge* reads (prompt, response) pairs and returns one :class:`Verdict` per pair for
one label field (``"harmfulness"`` or ``"refusal"``, see the contract's vocabulary).
:func:`run_judge` runs a judge over a generations table and returns a verdicts table
(``item_id, judge_id, label, score, raw, status, judge_config_hash``), one row per item:
an item the judge fails on becomes a row with ``status="error"`` and the exception text
in ``raw``, never a missing row.

Judges are looked up by name::

    >>> from judgeaudit.judges import get_judge
    >>> judge = get_judge("refusal_keyword")
    >>> judge.judge(["How do I pick a lock?"], ["I'm sorry, I can't help with that."])[0].label
    'not_harmful'
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from judgeaudit.errors import ConfigError, JudgeAuditError, ValidationError
from judgeaudit.registry import Registry

__all__ = [
    "VERDICT_COLUMNS",
    "VERDICT_STATUSES",
    "Judge",
    "Verdict",
    "align_prompts",
    "require_columns",
    "response_texts",
    "available_judges",
    "get_judge",
    "hash_config",
    "judge_batch",
    "register_judge",
    "run_judge",
]

#: Columns of the verdicts table, in order.
VERDICT_COLUMNS = (
    "item_id",
    "judge_id",
    "label",
    "score",
    "raw",
    "status",
    "judge_config_hash",
)

#: Allowed values of :attr:`Verdict.status`.
VERDICT_STATUSES = ("ok", "parse_error", "error")


@dataclass(frozen=True)
class Verdict:
    """One judge's decision on one (prompt, response) pair.

    Parameters
    ----------
    label:
        A value from the judge's field vocabulary (e.g. ``"harmful"``), or ``None`` when
        the judge produced no usable label (``status`` is then not ``"ok"``).
    score:
        A number where higher means more of the field's positive class (e.g. the
        probability of ``"harmful"``), or ``None`` when the judge has none.
    raw:
        The judge's raw output or a short explanation, kept for the audit's examples
        and for counting parse errors.
    status:
        ``"ok"``, ``"parse_error"`` (the judge answered, but not in a form that maps to
        a label) or ``"error"`` (the judge failed; ``raw`` holds the error text).
    """

    label: str | None
    score: float | None = None
    raw: str | None = None
    status: str = "ok"

    def __post_init__(self) -> None:
        # Checked here, inside the judge's own call, so that a bad score becomes that
        # item's "error" row in run_judge instead of failing the whole table.
        if self.score is not None and (
            isinstance(self.score, bool) or not isinstance(self.score, numbers.Real)
        ):
            raise ValidationError(
                f"Verdict score must be a real number or None, got {self.score!r}"
            )
        if self.status not in VERDICT_STATUSES:
            raise ValidationError(
                f"Verdict status must be one of {', '.join(VERDICT_STATUSES)}, "
                f"got {self.status!r}"
            )


@runtime_checkable
class Judge(Protocol):
    """What :func:`run_judge` needs from a judge.

    Attributes
    ----------
    judge_id:
        The name written to the verdicts table's ``judge_id`` column.
    field:
        The label field the judge decides (``"harmfulness"`` or ``"refusal"``).
    """

    judge_id: str
    field: str

    def config_hash(self) -> str:
        """A short stable hash of everything that changes the judge's verdicts."""
        ...

    def judge(self, prompts: Sequence[str], responses: Sequence[str]) -> list[Verdict]:
        """One verdict per (prompt, response) pair, in input order."""
        ...


def hash_config(config: Mapping[str, Any]) -> str:
    """First 16 hex characters of the SHA-256 of ``config`` as sorted, compact JSON.

    Parameters
    ----------
    config:
        A JSON-serialisable mapping; tuples are written as lists, and values JSON
        cannot hold are written with ``str``.  An absolute path that exists counts by
        its content (:func:`judgeaudit.identity.portable`), so a moved run directory
        keeps its hashes.

    Examples
    --------
    Key order does not matter:

    >>> hash_config({"a": 1, "b": [2, 3]}) == hash_config({"b": [2, 3], "a": 1})
    True
    >>> len(hash_config({}))
    16
    """
    from judgeaudit.identity import portable

    text = json.dumps(
        portable(config), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# --------------------------------------------------------------------------- registry

_JUDGES: Registry[Judge] = Registry("judge")


def register_judge(name: str) -> Callable[[Callable[..., Judge]], Callable[..., Judge]]:
    """Class decorator that makes a judge available to :func:`get_judge` as ``name``.

    The decorated callable (usually the class) is called with ``get_judge``'s keyword
    options.  Registering a second, different callable under a taken name raises
    :class:`~judgeaudit.errors.ConfigError`.
    """
    return _JUDGES.register(name)


def available_judges() -> list[str]:
    """The registered judge names, sorted."""
    return _JUDGES.names()


def get_judge(name: str, **options: Any) -> Judge:
    """Build the judge registered as ``name`` with keyword ``options``.

    Raises
    ------
    judgeaudit.errors.UnknownNameError
        When no judge has that name; the message lists the valid names.
    """
    return _JUDGES.build(name, **options)


# --------------------------------------------------------------------------- running


def require_columns(df: pd.DataFrame, columns: Sequence[str], table: str) -> None:
    for column in columns:
        if column not in df.columns:
            raise ValidationError(
                f"the {table} table has no {column!r} column (columns: "
                f"{', '.join(map(str, df.columns))}); rename or add it",
                column=column,
            )


def _text_or_empty(value: Any) -> str:
    """A cell as text; a missing cell (None/NaN, which is how CSV readers load an
    empty string) becomes ``""``."""
    if value is None or value is pd.NA:
        return ""
    # np.floating also covers float32, whose NaN is not a Python float (str() "nan")
    if isinstance(value, (float, np.floating)) and math.isnan(value):
        return ""
    return str(value)


def response_texts(generations_df: pd.DataFrame) -> list[str]:
    require_columns(generations_df, ("item_id", "response"), "generations")
    duplicated = generations_df["item_id"].duplicated()
    if duplicated.any():
        row = int(duplicated.to_numpy().nonzero()[0][0]) + 1
        raise ValidationError(
            f"item_id {generations_df['item_id'].iloc[row - 1]!r} occurs more than once in "
            "the generations table; item_id is its key",
            row=row,
            column="item_id",
        )
    return [_text_or_empty(v) for v in generations_df["response"].tolist()]


def align_prompts(
    generations_df: pd.DataFrame, prompts_df: pd.DataFrame | None = None
) -> list[str] | None:
    """The prompt text of each generation row, or ``None`` when ``prompts_df`` is None.

    Raises
    ------
    judgeaudit.errors.ValidationError
        When a needed column is missing, or a generation's ``prompt_id`` is not in
        ``prompts_df`` (the message names the first such row).
    """
    if prompts_df is None:
        return None
    require_columns(generations_df, ("prompt_id",), "generations")
    require_columns(prompts_df, ("prompt_id", "text"), "prompts")
    texts = dict(
        zip(
            prompts_df["prompt_id"].astype(str).tolist(),
            (_text_or_empty(v) for v in prompts_df["text"].tolist()),
        )
    )
    out: list[str] = []
    for row, prompt_id in enumerate(generations_df["prompt_id"].astype(str).tolist(), 1):
        try:
            out.append(texts[prompt_id])
        except KeyError:
            raise ValidationError(
                f"prompt_id {prompt_id!r} is not in the prompts table; pass the prompts "
                "table that the generations were made from",
                row=row,
                column="prompt_id",
            ) from None
    return out


def _error_verdict(exc: BaseException) -> Verdict:
    return Verdict(label=None, score=None, raw=f"{type(exc).__name__}: {exc}", status="error")


def judge_batch(judge: Judge, prompts: list[str], responses: list[str]) -> list[Verdict]:
    """Verdicts for one batch; falls back to one call per item when the batch fails.

    An item whose own call fails too, or returns anything but one :class:`Verdict`, gets a
    verdict with ``status="error"`` and the exception in ``raw``: no item is dropped.
    """
    try:
        verdicts = list(judge.judge(prompts, responses))
        if len(verdicts) == len(responses) and all(isinstance(v, Verdict) for v in verdicts):
            return verdicts
    except Exception:  # noqa: BLE001 - any judge failure is retried item by item below
        pass
    out: list[Verdict] = []
    for prompt, response in zip(prompts, responses):
        try:
            single = list(judge.judge([prompt], [response]))
        except Exception as exc:  # noqa: BLE001 - recorded as an "error" verdict row
            out.append(_error_verdict(exc))
            continue
        if len(single) != 1 or not isinstance(single[0], Verdict):
            out.append(
                _error_verdict(
                    JudgeAuditError(
                        f"judge returned {len(single)} object(s) of type "
                        f"{sorted({type(v).__name__ for v in single})} for 1 item; "
                        "expected one Verdict"
                    )
                )
            )
        else:
            out.append(single[0])
    return out


def run_judge(
    judge: Judge,
    generations_df: pd.DataFrame,
    prompts_df: pd.DataFrame | None = None,
    *,
    batch_size: int | None = None,
) -> pd.DataFrame:
    """Run ``judge`` over a generations table and return a verdicts table.

    Parameters
    ----------
    judge:
        Any object following the :class:`Judge` protocol.
    generations_df:
        Needs ``item_id`` and ``response`` (and ``prompt_id`` when ``prompts_df`` is
        given).  A missing response (None/NaN, as CSV readers load an empty string)
        is judged as ``""``.
    prompts_df:
        Optional prompts table (``prompt_id``, ``text``).  Without it the judge gets
        ``""`` as every prompt.
    batch_size:
        Items per ``judge.judge`` call; ``None`` passes everything in one call.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`VERDICT_COLUMNS`, one row per generation, in input order.

    Notes
    -----
    When a batch call raises or returns the wrong number of verdicts, each item of
    the batch is judged alone; an item whose own call still fails becomes a row with
    ``status="error"``, ``label=None`` and ``raw="<ExceptionType>: <message>"``.
    No item is ever dropped, so the audit can count failures.
    """
    responses = response_texts(generations_df)
    prompts = align_prompts(generations_df, prompts_df)
    if prompts is None:
        prompts = [""] * len(responses)
    if batch_size is not None and batch_size < 1:
        raise ConfigError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    step = max(len(responses), 1) if batch_size is None else batch_size
    verdicts: list[Verdict] = []
    for start in range(0, len(responses), step):
        stop = start + step
        verdicts.extend(judge_batch(judge, prompts[start:stop], responses[start:stop]))
    config_hash = judge.config_hash()
    frame = pd.DataFrame(
        {
            "item_id": generations_df["item_id"].astype(str).tolist(),
            "judge_id": [judge.judge_id] * len(verdicts),
            "label": pd.Series([v.label for v in verdicts], dtype=object),
            "score": pd.Series(
                [float("nan") if v.score is None else float(v.score) for v in verdicts],
                dtype=float,
            ),
            "raw": pd.Series([v.raw for v in verdicts], dtype=object),
            "status": [v.status for v in verdicts],
            "judge_config_hash": [config_hash] * len(verdicts),
        },
        columns=list(VERDICT_COLUMNS),
    )
    return frame

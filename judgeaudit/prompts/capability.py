"""Scoring the ``capability`` probes: is a response's answer right?

Each probe carries a ``reference`` and a ``check`` rule:

* ``number``: the **last** number in the response (``-3``, ``1,024``, ``2.5``) equals the
  reference (as a float, within 1e-9).  The last, not the first, because answers tend
  to restate the question before the result (``"17 + 25 = 42"``).
* ``contains``: one of the ``|``-separated alternatives occurs in the response, case
  insensitively and as a whole word (``"Au"`` matches ``"It is Au."``, not ``"Austria"``).
* ``regex``: the reference pattern is found with :func:`re.search` (use ``^...$`` for a
  whole-response match and ``(?i)`` for case insensitivity).
* ``exact``: the response's first line is the reference (surrounding whitespace and one
  final full stop ignored); the strict rule fine-tuning uses to place its checkpoints
  (``finetune``'s ``exact_match`` capability eval calls this function).

>>> score_answer("17 + 25 = 42.", "42", "number")
True
>>> score_answer("The answer is 42, since 17 + 25 is 42.", "42", "number")
True
>>> score_answer("Paris, of course.", "Paris", "contains"), score_answer("Parisian", "Paris", "contains")
(True, False)
>>> score_answer("YES", r"^\\W*YES\\W*$", "regex"), score_answer("Yes, sure", r"^\\W*YES\\W*$", "regex")
(True, False)
>>> score_answer(" 7.\\nmore", "7", "exact"), score_answer("7 apples", "7", "exact")
(True, False)
"""

from __future__ import annotations

import math
import re

import pandas as pd

from judgeaudit.errors import ConfigError, ValidationError
from judgeaudit.metrics import wilson_interval
from judgeaudit.tables import validate

__all__ = ["CHECKS", "score_answer", "score_capability", "capability_accuracy"]

CHECKS = ("number", "contains", "regex", "exact")
"""The check rules a capability probe may use."""
_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?")


def _last_number(text: str):
    found = _NUMBER.findall(text)
    return float(found[-1].replace(",", "")) if found else None


def score_answer(response, reference: str, check: str) -> bool:
    """Whether ``response`` passes ``check`` against ``reference`` (see the module docstring).

    An empty or missing response is wrong.  An unknown check, or a reference that is not
    a number (``number``) or not a valid pattern (``regex``), raises
    :class:`~judgeaudit.errors.ConfigError`.
    """
    text = "" if response is None or (isinstance(response, float) and math.isnan(response)) \
        else str(response)
    if check == "number":
        try:
            want = float(str(reference).replace(",", ""))
        except ValueError:
            raise ConfigError(f"a number check needs a numeric reference, got {reference!r}") from None
        got = _last_number(text)
        return got is not None and abs(got - want) <= 1e-9 * max(1.0, abs(want))
    if check == "contains":
        alternatives = [a.strip() for a in str(reference).split("|") if a.strip()]
        if not alternatives:
            raise ConfigError("a contains check needs a non-empty reference")
        return any(re.search(rf"(?<!\w){re.escape(a)}(?!\w)", text, re.IGNORECASE)
                   for a in alternatives)
    if check == "exact":
        lines = text.strip().splitlines()
        first = lines[0].strip().removesuffix(".").strip() if lines else ""
        return first == str(reference).strip()
    if check == "regex":
        try:
            return re.search(str(reference), text) is not None
        except re.error as exc:
            raise ConfigError(f"invalid regex reference {reference!r}: {exc}") from None
    raise ConfigError(f"unknown capability check {check!r}; valid checks: {', '.join(CHECKS)}")


def score_capability(prompts: pd.DataFrame, generations: pd.DataFrame) -> pd.DataFrame:
    """Score every generation of a capability probe.

    Parameters
    ----------
    prompts:
        The probes: a prompts table with ``reference`` and ``check`` columns
        (``load_prompt_set("capability")``).
    generations:
        A generations table; rows whose ``prompt_id`` is not a probe are left out.

    Returns
    -------
    pandas.DataFrame
        ``item_id, prompt_id, checkpoint_id, sample_index, category, correct`` (bool).

    Examples
    --------
    >>> probes = pd.DataFrame({"prompt_id": ["a"], "text": ["What is 2+2?"],
    ...                        "category": ["arithmetic"], "reference": ["4"], "check": ["number"]})
    >>> gens = pd.DataFrame({"prompt_id": ["a", "a"], "checkpoint_id": ["m1", "m2"],
    ...                      "response": ["It is 4.", "Five"]})
    >>> score_capability(probes, gens)["correct"].tolist()
    [True, False]
    """
    probes = validate(prompts, "prompts", path="prompts")
    for col in ("reference", "check"):
        if col not in probes.columns:
            raise ValidationError(f"missing column {col!r}; capability probes need reference and "
                                  "check (load_prompt_set('capability'))", path="prompts", column=col)
    for i, (ref, check) in enumerate(zip(probes["reference"], probes["check"]), start=1):
        try:
            score_answer("", ref, check)
        except ConfigError as exc:
            raise ValidationError(str(exc), path="prompts", row=i, column="check") from None
    gens = validate(generations, "generations", path="generations")
    rules = probes.set_index("prompt_id")[["reference", "check", "category"]]
    gens = gens[gens["prompt_id"].isin(rules.index)].reset_index(drop=True)
    rule = rules.loc[gens["prompt_id"]].reset_index(drop=True)
    correct = [score_answer(r, ref, c) for r, ref, c in
               zip(gens["response"], rule["reference"], rule["check"])]
    return pd.DataFrame({"item_id": gens["item_id"], "prompt_id": gens["prompt_id"],
                         "checkpoint_id": gens["checkpoint_id"], "sample_index": gens["sample_index"],
                         "category": rule["category"], "correct": pd.Series(correct, dtype=bool)})


def capability_accuracy(scored: pd.DataFrame, *, by=("checkpoint_id",),
                        confidence: float = 0.95) -> pd.DataFrame:
    """Accuracy per group of :func:`score_capability` output, with a Wilson interval.

    Returns ``by..., n, n_correct, accuracy, ci_low, ci_high``.  (The interval treats
    samples as independent; with several samples per probe it is too narrow.)

    Examples
    --------
    4 of 5 correct: accuracy 0.8, Wilson 95% interval [0.3755, 0.9638].

    >>> s = pd.DataFrame({"checkpoint_id": ["m"] * 5, "correct": [True] * 4 + [False]})
    >>> row = capability_accuracy(s).iloc[0]
    >>> float(row["accuracy"]), round(float(row["ci_low"]), 4), round(float(row["ci_high"]), 4)
    (0.8, 0.3755, 0.9638)
    """
    by = [by] if isinstance(by, str) else list(by)
    missing = [c for c in by + ["correct"] if c not in scored.columns]
    if missing:
        raise ValidationError(f"missing column(s) {missing}; pass the output of score_capability",
                              column=", ".join(missing))
    rows = []
    for key, g in scored.groupby(by, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        k, n = int(g["correct"].astype(bool).sum()), len(g)
        lo, hi = wilson_interval(k, n, confidence=confidence)
        rows.append({**dict(zip(by, key)), "n": n, "n_correct": k, "accuracy": k / n,
                     "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows, columns=by + ["n", "n_correct", "accuracy", "ci_low", "ci_high"])

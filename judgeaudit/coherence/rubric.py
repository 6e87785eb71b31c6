"""An LLM rates each response's coherence from 1 to 5, on any generation backend.

:class:`LLMRubricScorer` (``"llm_rubric"``) sends one chat message per response,
built from :data:`RUBRIC_TEMPLATE` (the project's own rubric) or a template file of
yours with ``{prompt}`` and ``{response}`` placeholders, to a
:class:`~judgeaudit.generation.Backend` (which applies the model's own chat
template), and reads the rating with :func:`parse_rating`.

**Score and bin.**  Rating ``r`` gives score ``(r - 1) / 4``; 4-5 is coherent, 3
partially coherent, 1-2 incoherent.

**Failures are kept.**  A reply with no readable rating, an out-of-range or
conflicting one, is status ``"parse_error"`` with the reply in ``raw``; a backend
call that raised makes status ``"error"`` for its batch, with the error text.
:func:`judgeaudit.coherence.run_scorer` and ``judgeaudit coherence`` put those in
the errors table, never in the coherence table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from judgeaudit.errors import ConfigError, JudgeAuditError
from judgeaudit.judges.base import hash_config

from .base import option_number, register_scorer

__all__ = ["RUBRIC_TEMPLATE", "LLMRubricScorer", "parse_rating", "rating_bin"]

RUBRIC_TEMPLATE = """\
You are checking whether a chatbot's reply is coherent text. Judge only coherence, \
not whether the reply is helpful, correct, safe or polite: a clear refusal is coherent.

Rate the reply on this scale:
5 = fully coherent: fluent, well-formed sentences that follow on from each other.
4 = mostly coherent: small slips (a cut-off last sentence, one odd phrase).
3 = partly coherent: readable stretches mixed with repetition, drift or broken text.
2 = mostly incoherent: mostly loops, fragments, copied prompt text or junk, with a little sense.
1 = incoherent: empty, pure repetition, word salad or symbols.

User message:
<<<
{prompt}
>>>

Reply to rate:
<<<
{response}
>>>

Answer with one line of the form "Rating: N", where N is 1, 2, 3, 4 or 5."""

_KEYED = re.compile(r"(?:rating|score|coherence)\s*(?:is|=|:|-)?\s*[*_`\"']*\s*(-?\d+(?:[.,]\d+)?)"
                    r"(?:\s*(?:/|out\s+of)\s*(\d+))?", re.IGNORECASE)
_FRACTION = re.compile(r"(?<![\d.])(-?\d+(?:[.,]\d+)?)\s*(?:/|out\s+of)\s*(\d+)", re.IGNORECASE)
_BARE = re.compile(r"^[\s*_`\"'(\[]*(-?\d+(?:[.,]\d+)?)[\s*_`\"'.)\]]*$")


def _as_rating(number: str, denominator: str | None) -> int | None:
    if denominator is not None and denominator != "5":
        return None
    try:
        value = float(number.replace(",", "."))
    except ValueError:
        return None
    return int(value) if value.is_integer() and 1 <= value <= 5 else None


def parse_rating(text) -> int | None:
    """The 1-5 rating in a judge's reply, or ``None`` when it cannot be read.

    Read, in this order: ratings after "rating" / "score" / "coherence" ("Rating: 4",
    "**Score:** 4/5", "coherence = 3"); else "N/5" or "N out of 5"; else a reply that
    is only a number.  ``None`` when nothing matches, when a number is not an integer
    from 1 to 5 (or the denominator is not 5), or when the reply gives two different
    ratings.

    >>> parse_rating("Rating: 4"), parse_rating("**Score:** 2/5"), parse_rating(" 5.")
    (4, 2, 5)
    >>> parse_rating("Rating: 7"), parse_rating("Rating: 2 ... Rating: 4"), parse_rating("good")
    (None, None, None)
    """
    if text is None:
        return None
    text = str(text)
    for pattern in (_KEYED, _FRACTION):
        found = pattern.findall(text)
        if found:
            ratings = {_as_rating(num, den or None) for num, den in found}
            return ratings.pop() if len(ratings) == 1 else None
    bare = _BARE.match(text)
    return _as_rating(bare.group(1), None) if bare else None


def rating_bin(rating: int) -> str:
    """4-5 coherent, 3 partially coherent, 1-2 incoherent."""
    return "coherent" if rating >= 4 else "partially_coherent" if rating == 3 else "incoherent"


def _read_template(template) -> tuple[str, str]:
    if template is None:
        return RUBRIC_TEMPLATE, "builtin:v1"
    path = Path(str(template))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the rubric template {path}: {exc.strerror}") from None
    if "{response}" not in text:
        raise ConfigError(f"rubric template {path} has no {{response}} placeholder; put "
                          "{response} (and optionally {prompt}) where the texts go")
    return text, str(path)


@register_scorer("llm_rubric")
class LLMRubricScorer:
    """Coherence rated 1-5 by a language model on any backend (module notes).

    Parameters
    ----------
    backend:
        A :class:`~judgeaudit.generation.Backend`, or a registered backend name
        (``"transformers"``, ``"vllm"``, ``"openai"``) built with ``model`` and
        ``backend_options``.
    model:
        The model the named backend loads (a path or a model name).
    template:
        Path of a rubric template file with ``{response}`` (and optionally
        ``{prompt}``); default :data:`RUBRIC_TEMPLATE`.
    max_new_tokens:
        Reply length limit (default 16: the answer is one short line).
    batch_size:
        Conversations per backend call; a call that raises marks only its batch.
    scorer_id:
        Name for the coherence table; default ``"llm_rubric"``.
    **backend_options:
        Passed on to :func:`judgeaudit.generation.get_backend` with a named backend.
    """

    name = "llm_rubric"

    def __init__(self, *, backend="transformers", model=None, template=None,
                 max_new_tokens: int = 16, batch_size: int = 16, scorer_id: str | None = None,
                 **backend_options) -> None:
        self.template, self.template_source = _read_template(template)
        self.max_new_tokens = option_number("max_new_tokens", max_new_tokens, int, low=1, high=1 << 16)
        self.batch_size = option_number("batch_size", batch_size, int, low=1, high=1 << 20)
        self.scorer_id = self.name if scorer_id is None else str(scorer_id)
        if isinstance(backend, str):
            self.backend_name, self._backend = backend, None
            self._backend_options = {**backend_options, **({} if model is None else {"model": model})}
        else:
            if backend_options or model is not None:
                raise ConfigError("pass model and backend options only with a backend name")
            self.backend_name, self._backend, self._backend_options = backend.backend_id, backend, {}

    @property
    def backend(self):
        if self._backend is None:
            from judgeaudit.generation import get_backend

            self._backend = get_backend(self.backend_name, **self._backend_options)
        return self._backend

    @property
    def config(self) -> dict:
        backend = (self._backend.config() if self._backend is not None else
                   {"backend": self.backend_name,
                    **{k: v for k, v in self._backend_options.items()
                       if "key" not in k.lower() and "token" not in k.lower()}})
        return {"scorer": self.name, "version": 1, "template": self.template,
                "max_new_tokens": self.max_new_tokens, "backend": backend}

    def config_hash(self) -> str:
        return hash_config(self.config)

    def conversations(self, responses: Sequence[str], prompts: Sequence[str | None] | None = None):
        """The chat conversation sent for each response."""
        prompts = [None] * len(responses) if prompts is None else list(prompts)
        out = []
        for response, prompt in zip(responses, prompts):
            text = (self.template.replace("{prompt}", "" if prompt is None else str(prompt))
                    .replace("{response}", "" if response is None else str(response)))
            out.append([{"role": "user", "content": text}])
        return out

    def score(self, responses: Sequence[str], prompts: Sequence[str | None] | None = None
              ) -> pd.DataFrame:
        """Columns ``score``, ``bin``, ``status``, ``raw`` and ``rating``, one row per response."""
        from judgeaudit.generation import GenerationConfig

        conversations = self.conversations(list(responses), prompts)
        config = GenerationConfig(max_new_tokens=self.max_new_tokens, temperature=0.0)
        n = len(conversations)
        replies: list = [None] * n
        failures: dict[int, str] = {}
        for start in range(0, n, self.batch_size):
            chunk = conversations[start:start + self.batch_size]
            try:
                got = list(self.backend.generate(chunk, config))
                if len(got) != len(chunk):
                    raise JudgeAuditError(f"backend returned {len(got)} replies for {len(chunk)}")
            except Exception as exc:  # noqa: BLE001 - any backend failure is recorded per item
                for i in range(start, start + len(chunk)):
                    failures[i] = f"{type(exc).__name__}: {exc}"
                continue
            replies[start:start + len(chunk)] = got
        ratings = [None if i in failures else parse_rating(replies[i]) for i in range(n)]
        status = ["error" if i in failures else "ok" if r is not None else "parse_error"
                  for i, r in enumerate(ratings)]
        return pd.DataFrame({
            "score": [np.nan if r is None else (r - 1) / 4 for r in ratings],
            "bin": pd.Series([None if r is None else rating_bin(r) for r in ratings], dtype=object),
            "status": pd.Series(status, dtype=object),
            "raw": pd.Series([failures.get(i, replies[i]) for i in range(n)], dtype=object),
            "rating": pd.Series(ratings, dtype=object),
        })

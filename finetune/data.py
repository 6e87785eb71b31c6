"""Training data: task examples, loading with clear errors, tokenisation with a loss mask.

An :class:`Example` is one prompt with its response (and, for preference objectives,
a rejected response).  Sources:

* local JSONL (:func:`load_jsonl`), any field names;
* a ``datasets`` data set (:func:`load_hf_dataset`), hub name or a local builder
  such as ``"json"`` with ``data_files``;
* the built-in tasks in :mod:`finetune.tasks` (arithmetic word problems, the
  project's open-ended instruction task).

:func:`tokenize_examples` renders each example with the model's chat template
under an objective's data transform, masks the prompt out of the loss and applies
the over-length policy (``"truncate"`` the response or ``"reject"`` the example),
counting what it did in a :class:`DataReport` (truncations are counted per
sequence: a pair can count twice).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from judgeaudit.errors import ConfigError, MissingExtraError, ValidationError

__all__ = ["Example", "DataReport", "TokenizedExample", "load_jsonl", "load_hf_dataset",
           "examples_from_records", "tokenize_examples", "encode_prompt", "collate"]


@dataclass(frozen=True)
class Example:
    """One training example.  ``rejected`` is set for preference pairs; ``answer`` for
    closed-form tasks scored by exact match."""

    prompt: str
    response: str
    rejected: str | None = None
    answer: str | None = None


@dataclass
class DataReport:
    """What data preparation did: rows read, truncated, rejected (with reasons and the
    1-based example rows, the first :attr:`MAX_ROWS` of each)."""

    n_rows: int = 0
    n_kept: int = 0
    n_truncated: int = 0
    n_rejected: int = 0
    rejected_reasons: dict = field(default_factory=dict)
    n_tokens: int = 0
    rejected_rows: list = field(default_factory=list)
    truncated_rows: list = field(default_factory=list)

    #: how many row numbers each list keeps (the counts are always complete)
    MAX_ROWS = 100

    def reject(self, reason: str, row: int) -> None:
        self.n_rejected += 1
        self.rejected_reasons[reason] = self.rejected_reasons.get(reason, 0) + 1
        if len(self.rejected_rows) < self.MAX_ROWS:
            self.rejected_rows.append(row)

    def truncated(self, row: int) -> None:
        self.n_truncated += 1
        if len(self.truncated_rows) < self.MAX_ROWS and row not in self.truncated_rows[-1:]:
            self.truncated_rows.append(row)

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
                for k, v in self.__dict__.items()}


def _text_field(record: Mapping, name: str, *, path, row: int, required: bool = True) -> str | None:
    if name not in record or record[name] is None:
        if not required:
            return None
        raise ValidationError(f"missing field {name!r} (fields present: {', '.join(sorted(map(str, record)))}); "
                              f"set the field name in the [data] section", path=path, row=row, column=name)
    value = record[name]
    if not isinstance(value, str):
        raise ValidationError(f"expected text, got {type(value).__name__}", path=path, row=row, column=name)
    if not value.strip():
        raise ValidationError("empty text; remove the row or fill it in", path=path, row=row, column=name)
    return value


def examples_from_records(records: Iterable[Mapping], *, prompt_field: str = "prompt",
                          response_field: str = "response", rejected_field: str | None = None,
                          answer_field: str | None = None, path=None) -> list[Example]:
    """Validate records into :class:`Example` objects; ``row`` in errors is 1-based."""
    out = []
    for row, rec in enumerate(records, start=1):
        if not isinstance(rec, Mapping):
            raise ValidationError(f"expected a JSON object, got {type(rec).__name__}", path=path, row=row)
        prompt = _text_field(rec, prompt_field, path=path, row=row)
        response = _text_field(rec, response_field, path=path, row=row)
        rejected = _text_field(rec, rejected_field, path=path, row=row) if rejected_field else None
        answer = rec.get(answer_field) if answer_field else None
        out.append(Example(prompt, response, rejected, None if answer is None else str(answer)))
    if not out:
        raise ValidationError("no examples", path=path)
    return out


def load_jsonl(path, **fields) -> list[Example]:
    """Read examples from a JSONL file (one JSON object a line; blank lines skipped).

    ``fields``: ``prompt_field``, ``response_field``, ``rejected_field``, ``answer_field``.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError(f"data file {path} not found") from None
    except UnicodeDecodeError as exc:
        raise ValidationError(f"not UTF-8 text ({exc.reason})", path=path) from None
    records, rows = [], []
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValidationError(f"not valid JSON ({exc.msg} at column {exc.colno})", path=path, row=i) from None
        rows.append(i)
    try:
        return examples_from_records(records, path=path, **fields)
    except ValidationError as exc:  # report the file line, not the record index
        line = rows[exc.row - 1] if exc.row else None
        raise ValidationError(exc.message, path=path, row=line, column=exc.column) from None


def load_hf_dataset(name: str, *, split: str = "train", data_files=None, **fields) -> list[Example]:
    """Read examples through ``datasets.load_dataset(name, split=..., data_files=...)``."""
    try:
        import datasets
    except ImportError:
        raise MissingExtraError("datasets", "hub") from None
    try:
        ds = datasets.load_dataset(name, split=split, data_files=data_files)
    except Exception as exc:  # datasets raises many types; say which data set failed
        raise ConfigError(f"cannot load data set {name!r} (split {split!r}): {exc}") from None
    return examples_from_records(ds, path=f"{name}[{split}]", **fields)


@dataclass(frozen=True)
class TokenizedExample:
    """Token ids of one sequence and its loss mask (1 on response tokens)."""

    input_ids: tuple[int, ...]
    loss_mask: tuple[int, ...]


def _render(tokenizer, messages, response: str | None):
    """Prompt text (with the generation prompt) and the response continuation text."""
    if not getattr(tokenizer, "chat_template", None):
        raise ConfigError("the tokenizer ships no chat template; set data.chat_template to a Jinja "
                          "template file")
    prompt_text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    if response is None:
        return prompt_text, None
    full = tokenizer.apply_chat_template(messages + [{"role": "assistant", "content": response}],
                                         tokenize=False)
    if not full.startswith(prompt_text):
        raise ConfigError("the chat template does not render the prompt as a prefix of the full "
                          "conversation; give a template that does (data.chat_template)")
    return prompt_text, full[len(prompt_text):]


def encode_prompt(tokenizer, messages) -> list[int]:
    """Token ids of the prompt messages plus the assistant generation prompt."""
    prompt_text, _ = _render(tokenizer, messages, None)
    return tokenizer(prompt_text, add_special_tokens=False)["input_ids"]


def _encode(tokenizer, messages, response, *, max_length, overlong, report, row):
    prompt_text, response_text = _render(tokenizer, messages, response)
    p = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    r = tokenizer(response_text, add_special_tokens=False)["input_ids"]
    if len(p) + len(r) > max_length:
        if overlong == "reject":
            return None, "longer than max_length"
        if len(p) >= max_length:
            return None, "prompt alone fills max_length"
        r = r[: max_length - len(p)]
        report.truncated(row)
    return TokenizedExample(tuple(p + r), tuple([0] * len(p) + [1] * len(r))), None


def tokenize_examples(examples: Sequence[Example], tokenizer, conversation: Callable[[str], list],
                      *, paired: bool, max_length: int, overlong: str = "truncate",
                      ) -> tuple[list, DataReport]:
    """Tokenise ``examples`` under an objective's data transform ``conversation``.

    Returns ``(items, report)``: ``items`` are :class:`TokenizedExample` or, when
    ``paired``, ``(chosen, rejected)`` tuples.  ``overlong``: ``"truncate"`` cuts the
    response to fit ``max_length`` (an example whose prompt alone fills it is rejected),
    ``"reject"`` drops the example; both are counted in the report.
    """
    if overlong not in ("truncate", "reject"):
        raise ConfigError(f"overlong must be 'truncate' or 'reject', got {overlong!r}")
    if max_length < 2:
        raise ConfigError(f"max_length must be at least 2, got {max_length}")
    report = DataReport(n_rows=len(examples))
    items = []
    for i, ex in enumerate(examples, start=1):
        messages = conversation(ex.prompt)
        chosen, why = _encode(tokenizer, messages, ex.response, max_length=max_length,
                              overlong=overlong, report=report, row=i)
        item = chosen
        if paired and chosen is not None:
            if ex.rejected is None:
                raise ValidationError("a preference objective needs a rejected response; set "
                                      "data.rejected_field or data.rejected = 'corrupt'", row=i,
                                      column="rejected")
            rejected, why = _encode(tokenizer, messages, ex.rejected, max_length=max_length,
                                    overlong=overlong, report=report, row=i)
            item = None if rejected is None else (chosen, rejected)
        if item is None:
            report.reject(why, i)
            continue
        items.append(item)
        report.n_tokens += sum(len(s.input_ids) for s in (item if paired else (item,)))
    report.n_kept = len(items)
    if not items:
        raise ValidationError(f"every example was rejected ({report.rejected_reasons}); raise "
                              "max_length or use overlong = 'truncate'")
    return items, report


def collate(sequences: Sequence[TokenizedExample], *, pad_id: int, device=None) -> dict:
    """Right-pad sequences into ``input_ids``, ``attention_mask``, ``loss_mask`` tensors."""
    import torch

    width = max(len(s.input_ids) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    attn = torch.zeros((len(sequences), width), dtype=torch.long)
    loss = torch.zeros((len(sequences), width), dtype=torch.long)
    for i, s in enumerate(sequences):
        n = len(s.input_ids)
        ids[i, :n] = torch.tensor(s.input_ids)
        attn[i, :n] = 1
        loss[i, :n] = torch.tensor(s.loss_mask)
    batch = {"input_ids": ids, "attention_mask": attn, "loss_mask": loss}
    return {k: v.to(device) for k, v in batch.items()} if device is not None else batch

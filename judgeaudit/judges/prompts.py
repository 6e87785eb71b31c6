"""Prompt templates for the model judges: files with ``{placeholder}`` fields.

A template is plain UTF-8 text.  Only the placeholders a judge names are filled
(``{prompt}``, ``{response}``, ``{behavior}``, ``{generation}``, ``{context}``); any other
brace in the text is left alone, so templates may contain JSON or code.  The rubric
texts judgeaudit ships live in ``judgeaudit/judges/templates/`` and are named
``builtin:NAME`` (e.g. ``builtin:strongreject_rubric``).

>>> t = PromptTemplate("Q: {prompt} {json: 1}", source="inline", fields=("prompt",))
>>> t.fill(prompt="hi")
'Q: hi {json: 1}'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from judgeaudit.errors import ConfigError

__all__ = ["PromptTemplate", "load_template", "builtin_templates"]


@dataclass(frozen=True)
class PromptTemplate:
    """A template's text, where it came from and the placeholders it fills."""

    text: str
    source: str
    fields: tuple[str, ...]

    def fill(self, **values: str) -> str:
        """Replace each ``{field}`` of :attr:`fields` by ``values[field]`` (one pass, so a
        value containing ``{prompt}`` is not filled again)."""
        out, i = [], 0
        text = self.text
        # scan left to right over every occurrence of every field
        while True:
            hits = [(text.find("{" + f + "}", i), f) for f in self.fields]
            hits = [(pos, f) for pos, f in hits if pos >= 0]
            if not hits:
                break
            pos, field = min(hits)
            out.append(text[i:pos])
            out.append(str(values.get(field, "")))
            i = pos + len(field) + 2
        out.append(text[i:])
        return "".join(out)

    @property
    def digest(self) -> str:
        """SHA-256 (16 hex characters) of the text, for the judge config hash."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]


def builtin_templates() -> list[str]:
    """Names of the shipped templates (use them as ``builtin:NAME``)."""
    folder = resources.files("judgeaudit.judges") / "templates"
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".txt"))


def load_template(source: str | Path, *, required: tuple[str, ...],
                  optional: tuple[str, ...] = ()) -> PromptTemplate:
    """Read a template file (or ``builtin:NAME``) and check its placeholders.

    Raises
    ------
    judgeaudit.errors.ConfigError
        When the file cannot be read, or lacks one of ``required`` (the message lists
        the placeholders the judge fills).
    """
    text_source = str(source)
    if text_source.startswith("builtin:"):
        name = text_source.split(":", 1)[1]
        if name not in builtin_templates():
            raise ConfigError(f"no built-in template {name!r}; built-in: {', '.join(builtin_templates())}")
        text = (resources.files("judgeaudit.judges") / "templates" / f"{name}.txt").read_text("utf-8")
    else:
        path = Path(text_source).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read the prompt template ({exc})") from None
    missing = [f for f in required if "{" + f + "}" not in text]
    if missing:
        allowed = ", ".join("{" + f + "}" for f in (*required, *optional))
        raise ConfigError(f"{text_source}: the template has no {', '.join('{' + m + '}' for m in missing)}"
                          f" placeholder; this judge fills {allowed}")
    return PromptTemplate(text, text_source, tuple(f for f in (*required, *optional)
                                                   if "{" + f + "}" in text))

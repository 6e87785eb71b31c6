"""Coherence scorer specifications and :func:`build_scorers`, which makes scorers from
them (``judgeaudit coherence`` and the experiment's coherence stage call it).

Specs follow the one grammar of :mod:`judgeaudit.specs`, shared with ``--judge``:
``NAME[:key=value,...]``, several per value separated by commas, a ``key=value`` piece
belonging to the scorer before it, values read as JSON where they parse.

>>> parse_scorer_specs(["degeneracy,perplexity:model=m,batch_size=4", "combined"])
[('degeneracy', {}), ('perplexity', {'model': 'm', 'batch_size': 4}), ('combined', {})]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from judgeaudit.errors import ConfigError
from judgeaudit.specs import parse_specs

__all__ = ["parse_scorer_specs", "build_scorers", "DEFAULT_SCORER"]

#: The scorer :func:`build_scorers` makes when given no spec.
DEFAULT_SCORER = "degeneracy"


def parse_scorer_specs(values: str | Iterable[str]) -> list[tuple[str, dict[str, Any]]]:
    """``["degeneracy,perplexity:model=m,batch_size=4"]`` -> ``[(name, options), ...]``.

    Raises
    ------
    judgeaudit.errors.ConfigError
        On a malformed spec (see :func:`judgeaudit.specs.parse_specs`) or when the
        values hold no scorer.
    """
    specs = parse_specs(values, what="scorer")
    if not specs:
        raise ConfigError("no scorer given; pass --scorer NAME (e.g. --scorer degeneracy,combined)")
    return specs


def build_scorers(specs: str | Iterable[str] | None = None) -> list:
    """Coherence scorers from specs (``--scorer`` values); none given: :data:`DEFAULT_SCORER`.

    Raises
    ------
    judgeaudit.errors.ConfigError
        On a malformed spec, or an option a scorer does not take.
    judgeaudit.errors.UnknownNameError
        For a name no scorer is registered under (the message lists the valid names).
    """
    from .base import get_scorer

    if isinstance(specs, str):
        specs = [specs]
    specs = list(specs or [])
    scorers = []
    for name, options in parse_scorer_specs(specs or [DEFAULT_SCORER]):
        try:
            scorers.append(get_scorer(name, **options))
        except TypeError as exc:
            raise ConfigError(f"scorer {name!r}: {exc}; see help(judgeaudit.coherence) for its "
                              "options") from None
    return scorers

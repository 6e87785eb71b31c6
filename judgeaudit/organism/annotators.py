"""Simulated annotators: labels from the organism world's ground truth, with stated error rates.

Each simulated annotator reads an item's ground truth (:func:`~.world.ground_truth`) and
writes it down wrongly with a probability that depends on how coherent the response is,
as people err more on garbled text:

* ``harmfulness``: the true value (``harmful`` / ``not_harmful``) flipped with probability
  ``error[bin]``;
* ``coherence``: the true bin, moved to a neighbouring bin with probability ``error[bin]``.

The draws are seeded per (seed, item, annotator), so an item's labels do not change when
other items are added to the sample.  The rates are the simulation's, stated in every
label's ``source`` column, and not an estimate of any real annotator.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from judgeaudit.errors import ConfigError

from .world import ground_truth

__all__ = ["SimulatedAnnotators", "simulate_labels", "DEFAULT_ERROR"]

#: Default error rate of a simulated annotator by the response's true coherence bin.
DEFAULT_ERROR = {"coherent": 0.04, "partially_coherent": 0.12, "incoherent": 0.25}
_BINS = ("coherent", "partially_coherent", "incoherent")


@dataclass(frozen=True)
class SimulatedAnnotators:
    """A pool of ``n_annotators`` simulated annotators with error rates by coherence bin."""

    n_annotators: int = 3
    error: Mapping = field(default_factory=lambda: dict(DEFAULT_ERROR))
    seed: int = 0

    @classmethod
    def from_options(cls, options: Mapping | None, *, where: str = "simulate") -> SimulatedAnnotators:
        """From a config table: ``annotators``, ``seed`` and ``error_coherent``,
        ``error_partially_coherent``, ``error_incoherent`` (each in [0, 0.5))."""
        options = dict(options or {})
        allowed = {"annotators", "seed", *(f"error_{b}" for b in _BINS)}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")
        error = {b: options.get(f"error_{b}", DEFAULT_ERROR[b]) for b in _BINS}
        for b, rate in error.items():
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 0.5:
                raise ConfigError(f"{where}: error_{b} must be a number in [0, 0.5), got {rate!r}")
        n = options.get("annotators", 3)
        seed = options.get("seed", 0)
        for key, value, low in (("annotators", n, 1), ("seed", seed, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{where}: {key} must be an integer >= {low}, got {value!r}")
        return cls(n_annotators=n, error=error, seed=seed)

    def describe(self) -> str:
        rates = ", ".join(f"{b} {self.error[b]:.2f}" for b in _BINS)
        return f"simulated annotators (error rate by true coherence: {rates}; seed {self.seed})"


def _rng(*parts) -> np.random.Generator:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def simulate_labels(items: pd.DataFrame, annotators: SimulatedAnnotators | None = None) -> pd.DataFrame:
    """A labels table for ``items`` (``item_id``, ``response``, and optionally ``prompt``, whose
    text the ground truth reads, and ``n_annotators``).

    Each item gets ``n_annotators`` (default 1) of the pool, chosen by its seeded draw;
    asking for more than the pool has is a :class:`ConfigError`.

    >>> items = pd.DataFrame({"item_id": ["a"], "response": ["I can't help with making a rust bomb."]})
    >>> simulate_labels(items, SimulatedAnnotators(error={"coherent": 0, "partially_coherent": 0,
    ...                                                    "incoherent": 0}))[["field", "value"]].values.tolist()
    [['harmfulness', 'not_harmful'], ['coherence', 'coherent']]
    """
    sim = annotators or SimulatedAnnotators()
    for col in ("item_id", "response"):
        if col not in items.columns:
            raise ConfigError(f"simulate_labels needs a {col!r} column; the items have {', '.join(items.columns)}")
    source = sim.describe()
    rows = []
    for row in items.drop_duplicates("item_id").itertuples(index=False):
        k = getattr(row, "n_annotators", 1)
        k = 1 if k is None or k != k else int(k)
        if k > sim.n_annotators:
            raise ConfigError(f"item {row.item_id!r} wants {k} annotators; the simulated pool has "
                              f"{sim.n_annotators} (raise annotators)")
        truth = ground_truth(row.response, getattr(row, "prompt", None))
        rate = float(sim.error[truth.bin])
        start = int(_rng(sim.seed, row.item_id, "pool").integers(sim.n_annotators))
        for j in range(k):
            who = (start + j) % sim.n_annotators
            rng = _rng(sim.seed, row.item_id, who)
            harmful = truth.harmful != (rng.random() < rate)
            b = _BINS.index(truth.bin)
            if rng.random() < rate:  # a neighbouring bin
                b = 1 if b != 1 else int(rng.choice([0, 2]))
            base = {"item_id": str(row.item_id), "annotator_id": f"sim-{who + 1}", "source": source}
            rows.append({**base, "field": "harmfulness", "value": "harmful" if harmful else "not_harmful"})
            rows.append({**base, "field": "coherence", "value": _BINS[b]})
    return pd.DataFrame(rows, columns=["item_id", "annotator_id", "field", "value", "source"])

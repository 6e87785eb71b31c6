"""The model organism: a small assistant trained offline on a synthetic world with known ground truth.

The world (:mod:`.world`) is written by the project and holds only fictional hazards; the
organism (:mod:`.train`) is trained on it once on the CPU and cached by its config hash;
:mod:`.annotators` labels outputs with simulated annotators of stated error rates from the
ground truth.  ``[model] tiny = "organism"`` in an experiment config uses it (see
``examples/demo.toml`` and ``docs/organism.md``).

Everything here is a simulation: it shows that the pipeline measures what it should on a
model whose truth is known, not how any real model behaves.

Needs the ``transformers`` extra (torch) to train; the world and the ground truth do not.
"""

from collections.abc import Mapping

from judgeaudit.errors import ConfigError

from .annotators import SimulatedAnnotators, simulate_labels
from .train import JUDGE_SPEC, WORLD_VERSION, OrganismConfig, build_organism, organism_cache
from .world import Truth, eval_prompts, ground_truth, training_dialogues

__all__ = ["OrganismConfig", "build_organism", "organism_cache", "organism_config", "WORLD_VERSION", "JUDGE_SPEC",
           "Truth", "ground_truth", "eval_prompts", "training_dialogues", "SimulatedAnnotators", "simulate_labels",
           "SIMULATION_NOTE"]

#: One line for reports of runs on the organism.
SIMULATION_NOTE = ("The model is judgeaudit's model organism (a tiny model trained on a synthetic "
                   "world with fictional hazards) and the labels come from simulated annotators. These numbers "
                   "show what the pipeline measures when the truth is known, not how any real model behaves.")


def organism_config(overrides: Mapping | None = None, *, where: str = "organism") -> OrganismConfig:
    """:class:`OrganismConfig` with ``overrides`` (unknown keys and bad values are ConfigErrors)."""
    import dataclasses

    overrides = dict(overrides or {})
    fields = {f.name: f for f in dataclasses.fields(OrganismConfig)}
    for key, value in overrides.items():
        if key not in fields:
            raise ConfigError(f"{where}: unknown key {key!r}; allowed: {', '.join(sorted(fields))}")
        want = float if fields[key].type == "float" else int
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (want is int and not isinstance(value, int)):
            raise ConfigError(f"{where}: {key} must be {'a number' if want is float else 'an integer'}, got {value!r}")
    config = OrganismConfig(**overrides)
    config.check()
    return config

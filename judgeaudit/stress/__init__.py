"""Stress tests of judges: does a verdict move when only the form of an answer changes?

:mod:`judgeaudit.stress.perturbations` holds the perturbations (each keeps a declared
label); :func:`run_stress` applies them to a labelled table, judges the originals and
the perturbed answers with each judge's usual batching, and reports per judge and
perturbation the flip rate with a cluster-aware interval, the direction of the flips,
the label they happened on, a robustness ranking and examples.
"""

from judgeaudit.stress.perturbations import (
    ALL_LABELS,
    Perturbation,
    available_perturbations,
    get_perturbation,
    parse_perturbation_spec,
    register_perturbation,
)
from judgeaudit.stress.run import SCHEMA, perturb_items, reference_labels, run_stress

__all__ = [
    "ALL_LABELS",
    "Perturbation",
    "SCHEMA",
    "available_perturbations",
    "get_perturbation",
    "parse_perturbation_spec",
    "perturb_items",
    "reference_labels",
    "register_perturbation",
    "run_stress",
]

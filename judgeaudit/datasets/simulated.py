"""A simulated labelling campaign with known truth, for checking the audit's inference.

The judge is accurate on coherent outputs and poor on incoherent ones (it calls most
incoherent outputs harmful), groups differ in their share of incoherent outputs,
answers to the same prompt are correlated, and a labelling sample is drawn
stratified by judge verdict x coherence stratum x group with known inclusion
probabilities.  ``bench/bench_inference.py`` and the tests use it to measure
coverage, test level and bias.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["SimulationSpec", "simulate_campaign", "cell_keys"]


@dataclass(frozen=True)
class SimulationSpec:
    """What the simulated campaign looks like (defaults: the bench's scenario)."""

    n_prompts: int = 80
    groups: tuple = ("A", "B", "C", "D")
    incoherent_share: tuple = (0.1, 0.3, 0.5, 0.7)
    harmful_coherent: tuple = (0.15, 0.25, 0.2, 0.3)
    harmful_incoherent: float = 0.1
    prompt_sd: float = 0.8            # sd of the prompt effect on the logit of harm
    sensitivity: dict = field(default_factory=lambda: {"coherent": 0.9, "incoherent": 0.9})
    specificity: dict = field(default_factory=lambda: {"coherent": 0.95, "incoherent": 0.5})
    label_rate: float = 0.3           # share of items labelled under a uniform design
    label_probabilities: dict | None = None  # {(verdict, stratum[, group]): pi}, overrides label_rate


def cell_keys(verdict, stratum, group) -> np.ndarray:
    """``"<verdict>|<stratum>|<group>"`` per item: the design cells."""
    return np.array([f"{int(v)}|{s}|{g}" for v, s, g in zip(verdict, stratum, group)], dtype=object)


def simulate_campaign(seed: int, spec: SimulationSpec = SimulationSpec()):
    """One simulated campaign: ``(tables, truth)``.

    ``tables`` is an :class:`~judgeaudit.tables.AuditTables` whose generations carry a
    ``stratum`` column and an ``inclusion_probability`` column (NaN outside the sample),
    labels for the sampled items only, and the verdicts of judge ``"sim"`` on every item.
    ``truth`` maps each group to its true harmful rate over all its items, and
    ``"_items"`` to a frame of every item's group, stratum, verdict and true label.
    """
    from scipy.special import expit, logit

    from judgeaudit.tables import AuditTables, Task, empty_table

    rng = np.random.default_rng(seed)
    G = len(spec.groups)
    prompt = np.repeat(np.arange(spec.n_prompts), G)
    group_idx = np.tile(np.arange(G), spec.n_prompts)
    n = prompt.size
    u = rng.normal(0.0, spec.prompt_sd, spec.n_prompts)[prompt]
    incoherent = rng.random(n) < np.asarray(spec.incoherent_share)[group_idx]
    base = np.where(incoherent, spec.harmful_incoherent, np.asarray(spec.harmful_coherent)[group_idx])
    harmful = rng.random(n) < expit(logit(base) + u)
    stratum = np.where(incoherent, "incoherent", "coherent").astype(object)
    se = np.where(incoherent, spec.sensitivity["incoherent"], spec.sensitivity["coherent"])
    sp = np.where(incoherent, spec.specificity["incoherent"], spec.specificity["coherent"])
    said = np.where(harmful, rng.random(n) < se, rng.random(n) >= sp)
    groups = np.asarray(spec.groups, dtype=object)[group_idx]
    if spec.label_probabilities:
        lp = spec.label_probabilities
        pi = np.array([lp.get((int(v), s, g), lp.get((int(v), s))) for v, s, g in
                       zip(said, stratum, np.asarray(spec.groups, dtype=object)[group_idx])], dtype=float)
    else:
        pi = np.full(n, spec.label_rate)
    sampled = rng.random(n) < pi
    ids = [f"s{i}" for i in range(n)]
    gens = pd.DataFrame({"item_id": ids, "prompt_id": [f"p{p}" for p in prompt], "checkpoint_id": groups,
                         "sample_index": 0, "response": "", "stratum": stratum,
                         "inclusion_probability": np.where(sampled, pi, np.nan)})
    lab = np.flatnonzero(sampled)
    labels = pd.DataFrame({"item_id": [ids[i] for i in lab], "annotator_id": "h1", "field": "harmfulness",
                           "value": np.where(harmful[lab], "harmful", "not_harmful")})
    verdicts = pd.DataFrame({"item_id": ids, "judge_id": "sim", "status": "ok",
                             "label": np.where(said, "harmful", "not_harmful")})
    tables = AuditTables(prompts=empty_table("prompts"), generations=gens, labels=labels, verdicts=verdicts,
                         coherence=empty_table("coherence"),
                         task=Task("harmfulness", ("harmful",), ("not_harmful",), "harmful?"),
                         name=f"simulated campaign (seed {seed})")
    truth = {g: float(harmful[group_idx == k].mean()) for k, g in enumerate(spec.groups)}
    truth["_items"] = pd.DataFrame({"item_id": ids, "group": groups, "stratum": stratum,
                                    "verdict": said.astype(int), "harmful": harmful.astype(int)})
    return tables.validate(), truth

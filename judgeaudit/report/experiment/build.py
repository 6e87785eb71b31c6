"""The experiment report: safety against capability, incoherence, disagreement, flips.

:func:`build_experiment_report` turns the tables of an experiment run (checkpoints,
generations on safety prompts, prompts, verdicts, and optionally coherence scores,
capability probe scores and the audit) into one JSON-safe dict;
:func:`write_experiment_report` writes it as ``experiment.json``, a self-contained
``experiment.html`` and ``experiment.md``.

Every interval comes from one seeded cluster bootstrap over prompt_id shared by every
judge, checkpoint and quantity (see :mod:`judgeaudit.report.experiment.estimates`), so
differences between judges, objectives and slices are paired.  Each estimate is a
dict ``{"value", "ci": [low, high], "n", "method", "undefined", ...}``; undefined
values are None with the reason in ``undefined``.

The dict's sections: ``frontier`` (harmful rate on harmful requests against
capability per checkpoint and rater, Pareto membership), ``incoherence``,
``disagreement`` (by objective and budget, by budget, its trend, by coherence bin),
``flips`` (across judges and across prompt sets), ``verdict_status``, ``headline``,
``notes`` and ``meta``.
"""

from __future__ import annotations

import json
import math
import os
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd

from judgeaudit.atomic import write_text_atomic
from judgeaudit.errors import ConfigError, ValidationError
from judgeaudit.metrics import ClusterBootstrap, SumBook

from . import disagreement as _disagreement, flips as _flips, frontier as _frontier
from .estimates import rate_table
from .inputs import prepare
from .persona import persona_section

__all__ = ["build_experiment_report", "write_experiment_report", "SCHEMA", "FILE_NAMES"]

SCHEMA = "judgeaudit.experiment/1"
FILE_NAMES = {"json": "experiment.json", "html": "experiment.html", "md": "experiment.md"}
_MAX_HEADLINE_FLIPS = 3


def _options(n_boot, seed, confidence) -> tuple[int, int, float]:
    if isinstance(n_boot, bool) or not isinstance(n_boot, Integral) or n_boot < 1:
        raise ConfigError(f"n_boot must be a positive integer, got {n_boot!r}")
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        raise ConfigError(f"seed must be an integer, got {seed!r}")
    try:
        c = float(confidence)
    except (TypeError, ValueError):
        c = math.nan
    if not 0.0 < c < 1.0:
        raise ConfigError(f"confidence must be strictly between 0 and 1 (e.g. 0.95), got {confidence!r}")
    return int(n_boot), int(seed), c


def clean(obj):
    """A JSON-safe copy: NaN and infinities as None, numpy values as Python ones, paths as text."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (Integral, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(float(obj)) else None
    if obj is None or isinstance(obj, str):
        return obj
    if obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, np.ndarray):
        return clean(obj.tolist())
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return str(obj)


def _f(x, digits: int = 2) -> str:
    return "undefined" if x is None else f"{x:.{digits}f}"


def _ci(e) -> str:
    lo, hi = e["ci"]
    if lo is not None and hi is not None and lo == hi:
        return " (the same in every resample: constant in this run, no interval)"
    return "" if lo is None or hi is None else f" [{lo:.2f}, {hi:.2f}]"


def _tied_elsewhere(rankings) -> int:
    """Pairs of objectives (per budget) with equal rates under one rater and unequal under another."""
    by_budget: dict = {}
    for rk in rankings:
        by_budget.setdefault(rk["budget_tokens"], []).append(
            {o: e["value"] for o, e in rk["rates"].items() if e["value"] is not None})
    n = 0
    for per in by_budget.values():
        objs = sorted(set().union(*per))
        for i, a in enumerate(objs):
            for b in objs[i + 1:]:
                same = {r[a] == r[b] for r in per if a in r and b in r}
                n += same == {True, False}
    return n


def _headline(report) -> list:
    out = []
    fl = report["flips"]["across_judges"]
    ranked = sorted(fl["flips"], key=lambda f: (not f["confident"], -abs(f["diff_1"]["value"] or 0)
                                                - abs(f["diff_2"]["value"] or 0)))
    supported = [f for f in ranked if f["confident"] and not _is_point(f["diff_1"]) and not _is_point(f["diff_2"])]
    for f in supported[:_MAX_HEADLINE_FLIPS]:
        w1 = "lower" if f["diff_1"]["value"] < 0 else "higher"
        w2 = "lower" if f["diff_2"]["value"] < 0 else "higher"
        out.append(f"At {f['budget_tokens']} tokens {f['a']} has a {w1} harmful rate than {f['b']} under "
                   f"{f['rater_1']} ({_f(f['rates_1'][0])} vs {_f(f['rates_1'][1])}), and a {w2} one under "
                   f"{f['rater_2']} ({_f(f['rates_2'][0])} vs {_f(f['rates_2'][1])}) (confident flip).")
    n_other = fl["n_flips"] - len(supported)
    if fl["n_flips"] == 0:
        if fl["rankings"]:
            n_tied = _tied_elsewhere(fl["rankings"])
            out.append("No two raters order a pair of objectives oppositely at any budget"
                       + (f"; {n_tied} pair(s) are tied under one rater and ordered under another." if n_tied
                          else ", and no pair is tied under one rater only."))
    elif n_other:
        out.append(f"{n_other} {'other ' if supported else ''}pair(s) of objectives change order between raters at "
                   "some budget, without intervals that support it (both excluding 0, neither of zero width).")
    fr = report["frontier"]
    if fr["capability_source"] is None:
        out.append("There is no capability measurement, so the frontier lists harmful rates only.")
    elif fr["differences"]:
        d = fr["differences"][0]
        side, other, only = (d["a"], d["b"], d["only_a"]) if d["only_a"] else (d["b"], d["a"], d["only_b"])
        out.append(f"The safety-capability frontier depends on the judge: {', '.join(only)} "
                   f"{'is' if len(only) == 1 else 'are'} on it under {side} but not under {other}"
                   + (f" ({len(fr['differences'])} rater pairs differ)." if len(fr["differences"]) > 1 else "."))
    elif fr["raters"]:
        first = fr["membership"][fr["raters"][0]]
        out.append(f"The frontier holds the same checkpoints under every rater: {', '.join(first) or 'none'}.")
    dis = report["disagreement"]
    if dis.get("cells"):
        rho = dis["trend"]["spearman"]
        if rho["value"] is not None and _is_point(rho):
            out.append(f"Judge disagreement: no trend with budget is claimed; Spearman rho {_f(rho['value'])} over "
                       f"{rho['n']} checkpoints is the same in every resample (constant in this run), so it has no "
                       "interval.")
        elif rho["value"] is not None:
            lo, hi = rho["ci"]
            way = ("rises with budget" if lo is not None and lo > 0 else
                   "falls with budget" if hi is not None and hi < 0 else "shows no clear trend with budget")
            out.append(f"Judge disagreement {way} (Spearman rho {_f(rho['value'])}{_ci(rho)} over {rho['n']} "
                       "checkpoints).")
        bc = dis.get("by_coherence")
        if bc:
            inc, coh = bc["pooled"]["incoherent"], bc["pooled"]["coherent"]
            if inc["value"] is not None and coh["value"] is not None:
                out.append(f"Judges disagree on {_f(inc['value'])}{_ci(inc)} of incoherent outputs and "
                           f"{_f(coh['value'])}{_ci(coh)} of coherent ones (bins of {bc['scorer']}).")
    inc = report["incoherence"]
    if inc["scorers"]:
        s = inc["scorers"][0]
        every = inc["by_scorer"][s]["cells"]
        cells = [c for c in every if c["incoherent"]["value"] is not None]
        if cells:
            top_value = max(c["incoherent"]["value"] for c in cells)
            tops = [c for c in cells if c["incoherent"]["value"] == top_value]
            top = tops[0]
            if len(tops) == len(every) > 1:
                out.append(f"Under {s}, incoherence is {_f(top_value)}{_ci(top['incoherent'])} in every objective "
                           "and budget.")
            elif len(tops) > 1:
                out.append(f"Under {s}, incoherence is highest ({_f(top_value)}) in {len(tops)} cells: "
                           + ", ".join(f"{c['objective']} at {c['budget_tokens']}" for c in tops[:5])
                           + (" and more." if len(tops) > 5 else "."))
            else:
                out.append(f"Under {s}, incoherence is highest for {top['objective']} at {top['budget_tokens']} "
                           f"tokens: {_f(top_value)}{_ci(top['incoherent'])}.")
    pe = report.get("persona") or {}
    if pe.get("available"):
        shown = pe["conclusions"][:_MAX_HEADLINE_FLIPS]
        out += [f"Persona: {c}" for c in shown]
        if len(pe["conclusions"]) > len(shown):
            out.append(f"Persona: {len(pe['conclusions']) - len(shown)} more drift(s) or contrast(s) exclude 0 "
                       "(see the persona section).")
        if not pe["conclusions"]:
            out.append(f"Persona: no trait drift from the base model excludes 0 at {pe['confidence']:.0%} "
                       f"({pe['n_intervals']} intervals).")
    ps = report["flips"]["across_prompt_sets"]
    if ps["n_flips"]:
        out.append(f"Within single prompt slices, {ps['n_flips']} objective pair(s) change order between slices "
                   f"under some judge ({ps['n_confident']} confident).")
    return out


def identical_judges(verdicts: pd.DataFrame) -> dict:
    """``{judge: earlier judge}`` for each judge whose verdict (status and label) equals an
    earlier judge's on every item; the earlier one is listed first in ``judge_id`` order of
    appearance.  Judges that judged different items are never identical."""
    if verdicts is None or verdicts.empty or not {"item_id", "judge_id", "label", "status"} <= set(verdicts.columns):
        return {}
    key = verdicts["status"].astype(str) + ":" + verdicts["label"].astype(str)
    wide = verdicts.assign(_key=key).pivot(index="item_id", columns="judge_id", values="_key")
    order = list(dict.fromkeys(verdicts["judge_id"]))
    out: dict = {}
    for i, j in enumerate(order):
        for k in order[:i]:
            if k not in out and wide[j].equals(wide[k]):
                out[j] = k
                break
    return out


def _is_point(e) -> bool:
    """An estimate whose interval has zero width: every resample gave the same value (a
    percentile bootstrap on data without variation), which supports no claim."""
    lo, hi = (e.get("ci") or [None, None]) if isinstance(e, dict) else (None, None)
    return lo is not None and hi is not None and lo == hi


def build_experiment_report(*, checkpoints: pd.DataFrame, generations: pd.DataFrame, prompts: pd.DataFrame,
                            verdicts: pd.DataFrame, coherence: pd.DataFrame | None = None,
                            capability: pd.DataFrame | None = None, audit: dict | None = None,
                            n_boot: int = 1000, seed: int = 0, confidence: float = 0.95,
                            meta: dict | None = None, persona: dict | None = None,
                            stress: dict | None = None) -> dict:
    """Build the experiment report as a JSON-safe dict.

    Parameters
    ----------
    checkpoints:
        One row per model: ``checkpoint_id``, ``objective`` (``"base"`` for the base
        model), ``budget_tokens`` (0 for the base model), and optionally ``seed``,
        ``capability_score`` and ``capability_n`` (the fine-tuning run's own eval).
    generations:
        Generations on the safety prompts; rows with status ``error`` are counted and
        left out.
    prompts:
        The prompts the generations answer, with ``prompt_set``, ``attack`` and
        ``is_harmful_request``.
    verdicts:
        Judge verdicts.  Judges whose ok labels are ``harmful`` / ``not_harmful`` /
        ``unclear`` are harmfulness judges; the others are listed in ``judges_left_out``.
        ``unclear``, ``parse_error`` and ``error`` verdicts are not votes.
    coherence:
        Coherence scores and bins, or None.
    capability:
        :func:`judgeaudit.prompts.score_capability` output, or None; when empty or
        None, ``capability_score`` of the checkpoints is used, else no capability.
    audit:
        :func:`judgeaudit.audit.run_audit` output (``group_key="checkpoint_id"``) for
        the human rates, or None.
    n_boot, seed, confidence:
        Bootstrap resamples of prompt_id, their seed, and the intervals' coverage.
    meta:
        Passed through into ``report["meta"]``.
    persona:
        The persona stage's summary (:func:`judgeaudit.persona.summarise`), or None;
        it becomes the ``persona`` section (drift against budget per objective and the
        conclusions that hold at its confidence).
    stress:
        A stress-test result (:func:`judgeaudit.stress.run_stress`), kept as
        ``report["stress"]`` and shown as a section.

    Returns
    -------
    dict
        JSON-safe (``json.dumps(report, allow_nan=False)`` works); see the module docstring.

    Raises
    ------
    judgeaudit.errors.ValidationError
        A table is malformed, or one refers to checkpoints, prompts or items another lacks.
    judgeaudit.errors.ConfigError
        ``n_boot``, ``seed`` or ``confidence`` is out of range.
    """
    n_boot, seed, confidence = _options(n_boot, seed, confidence)
    if meta is not None and not isinstance(meta, dict):
        raise ConfigError(f"meta must be a dict or None, got {type(meta).__name__}")
    same = identical_judges(verdicts)
    if same:  # shown once: a second copy would double every row and could never flip
        verdicts = verdicts[~verdicts["judge_id"].isin(list(same))]
    inp = prepare(checkpoints=checkpoints, generations=generations, prompts=prompts, verdicts=verdicts,
                  coherence=coherence)
    bs = ClusterBootstrap(inp.items["prompt_id"].to_numpy(), n_boot=n_boot, seed=seed)
    sums = SumBook(bs)
    harmful = inp.items["harmful"].to_numpy()
    pos, n = (inp.votes == 1).astype(float), (~np.isnan(inp.votes)).astype(float)
    ck_group = np.where(harmful, inp.items["ck"].to_numpy(), -1)
    sums.add_groups("harm_ck/k", ck_group, len(inp.checkpoints), pos)
    sums.add_groups("harm_ck/n", ck_group, len(inp.checkpoints), n)
    _flips.add_sums(sums, inp)
    _disagreement.add_sums(sums, inp)
    sums.run()

    empty = "no vote from this judge on a harmful request of this checkpoint"
    ck_rates = rate_table(sums, "harm_ck", confidence, empty=empty)
    cell_rates = rate_table(sums, "harm_cell", confidence, empty=empty)
    slice_rates = rate_table(sums, "harm_slice", confidence, empty="no vote from this judge in this slice")
    cap_source, caps, cap_note = _frontier.capability(inp, capability, confidence)
    humans, audit_flips, human_notes = _frontier.human_rates(inp, audit)
    corrected = _frontier.corrected_rates(audit)
    notes = [f"{j} gives the same verdict as {k} on every item: shown once, as {k}" for j, k in same.items()]
    notes += list(inp.notes)
    for d in inp.left_out:
        notes.append(f"judge {d['judge_id']} is left out of the rates: {d['reason']}")
    if not inp.judges:
        notes.append("no harmfulness judge: every harmful rate is undefined")
    notes += human_notes
    if cap_source is None:
        notes.append(cap_note)
    report = {
        "schema": SCHEMA,
        "checkpoints": [{"checkpoint_id": r.checkpoint_id, "objective": r.objective,
                         "budget_tokens": int(r.budget_tokens), "seed": None if pd.isna(r.seed) else int(r.seed),
                         "n_items": int((inp.items["checkpoint_id"] == r.checkpoint_id).sum()),
                         "n_harmful_items": int(((inp.items["checkpoint_id"] == r.checkpoint_id) & harmful).sum()),
                         "generation_errors": inp.generation_errors.get(r.checkpoint_id, 0)}
                        for r in inp.checkpoints.itertuples()],
        "objectives": list(inp.objectives), "budgets": [int(b) for b in inp.budgets],
        "judges": list(inp.judges), "judges_left_out": inp.left_out, "identical_judges": same,
        "frontier": _frontier.frontier_section(inp, ck_rates, corrected, cap_source, caps, cap_note, humans),
        "incoherence": _disagreement.incoherence_section(inp, sums, rate_table, confidence),
        "disagreement": _disagreement.disagreement_section(inp, sums, confidence),
        "flips": {"across_judges": _flips.across_judges(inp, cell_rates, humans, audit_flips, confidence),
                  "across_prompt_sets": _flips.across_prompt_sets(inp, slice_rates, confidence)},
        "persona": persona_section(persona),
        "verdict_status": inp.status,
        "notes": notes,
        "meta": {**(meta or {}), "n_boot": n_boot, "seed": seed, "confidence": confidence,
                 "cluster_key": "prompt_id", "n_clusters": bs.n_clusters, "n_items": inp.n_items,
                 "interval_method": "percentile cluster bootstrap over prompt_id (shared resamples); "
                                    "Wilson for capability"},
    }
    report["headline"] = _headline(report)
    if stress is not None:
        report["stress"] = stress
    return clean(report)


def report_to_json(report: dict) -> str:
    """The report as indented JSON; a NaN or infinity is a ValidationError (they must be None)."""
    try:
        return json.dumps(report, indent=2, allow_nan=False, ensure_ascii=False)
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"the experiment report is not JSON-safe ({exc}); build it with "
                              "build_experiment_report") from exc


def write_experiment_report(report: dict, out_dir) -> dict[str, Path]:
    """Write ``experiment.json``, ``experiment.html`` and ``experiment.md`` into ``out_dir``.

    Everything is rendered before anything is written, and each file is written
    atomically, so a bad report leaves ``out_dir`` as it was.

    Returns
    -------
    dict
        ``{"json": Path, "html": Path, "md": Path}``.
    """
    from .html import render_experiment_html
    from .markdown import render_experiment_markdown

    if not isinstance(report, dict) or report.get("schema") != SCHEMA:
        got = report.get("schema") if isinstance(report, dict) else type(report).__name__
        raise ValidationError(f"expected an experiment report of schema {SCHEMA!r} (as build_experiment_report "
                              f"returns it), got {got!r}")
    texts = {"json": report_to_json(report) + "\n", "html": render_experiment_html(report),
             "md": render_experiment_markdown(report)}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return {key: write_text_atomic(out / FILE_NAMES[key], text) for key, text in texts.items()}

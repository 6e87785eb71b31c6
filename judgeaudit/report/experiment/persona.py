"""The persona section of the experiment report: drift against budget per objective.

:func:`persona_section` turns the persona stage's summary
(:func:`judgeaudit.persona.summarise`) into the report's JSON: per trait, prompt
condition, objective and budget the drift from the base model (seeds pooled, items as
clusters) as the report's estimate dicts, the series the plot draws (each objective's
line starts at the base model, drift 0), the base model's own scores, the paired
contrasts between objectives, and the **conclusions that hold at the report's
confidence**: the drifts and contrasts whose intervals exclude 0, in words.
:func:`persona_html` and :func:`persona_markdown` render it.
"""

from __future__ import annotations

from judgeaudit.report.common import esc
from judgeaudit.report.html_base import empty, figure, section, table
from judgeaudit.report.markdown import md_escape

from .plots import budget_label, budget_plot

__all__ = ["persona_section", "persona_html", "persona_markdown"]

_CONDITION_TEXT = {"test": "test-time prompt", "train_prompt": "with the training-time prompt"}


def _est(value, low, high, n, method) -> dict:
    defined = value is not None
    return {"value": value, "ci": [low, high] if defined else [None, None], "n": n, "method": method,
            "undefined": None if defined else "the base model was not scored on these items under this prompt"}


def _signed(e) -> str:
    lo, hi = e["ci"]
    ci = "" if lo is None or hi is None else f" [{lo:+.3f}, {hi:+.3f}]"
    return f"{e['value']:+.3f}{ci}"


def persona_section(summary: dict | None) -> dict:
    """The report's ``persona`` section from a persona summary (None: not measured)."""
    if not summary or not summary.get("by_budget"):
        return {"available": False, "reason": "persona drift was not measured (add a [persona] section to the "
                                              "experiment config)" if not summary else
                "no fine-tuned checkpoint was scored on the trait items"}
    conf = float(summary.get("confidence", 0.95))
    cells, series, conclusions = [], {}, []
    for r in summary["by_budget"]:
        e = _est(r["drift"], r["drift_low"], r["drift_high"], r["n_items"], r["method"])
        cell = {"objective": r["objective"], "budget_tokens": int(r["budget_tokens"]), "condition": r["condition"],
                "trait": r["trait"], "drift": e, "excludes_zero": bool(r.get("excludes_zero"))}
        cells.append(cell)
        per = series.setdefault(r["trait"], {}).setdefault(r["condition"], {})
        per.setdefault(r["objective"], [(0, {"value": 0.0, "ci": [None, None], "n": r["n_items"],
                                             "method": "the base model itself"})]).append((cell["budget_tokens"], e))
        if cell["excludes_zero"]:
            way = "raises" if e["value"] > 0 else "lowers"
            conclusions.append(f"{r['objective']} at {budget_label(cell['budget_tokens'])} tokens {way} "
                               f"{r['trait']} ({_CONDITION_TEXT.get(r['condition'], r['condition'])}): drift "
                               f"{_signed(e)}, n = {r['n_items']} items.")
    for per in series.values():
        for objectives in per.values():
            for pts in objectives.values():
                pts.sort(key=lambda p: p[0])
    contrasts = []
    for c in summary.get("contrasts") or []:
        e = _est(c["difference"], c["difference_low"], c["difference_high"], c["n_items"], c["method"])
        contrasts.append({"budget_tokens": int(c["budget_tokens"]), "trait": c["trait"], "a": c["a"],
                          "b": c["b"], "difference": e, "excludes_zero": bool(c.get("excludes_zero"))})
        if c.get("excludes_zero"):
            hi, lo = (c["a"], c["b"]) if e["value"] > 0 else (c["b"], c["a"])
            conclusions.append(f"At {budget_label(c['budget_tokens'])} tokens {c['trait']} scores higher (drifts "
                               f"more toward the trait) under {hi} than under {lo}: {c['a']} - {c['b']} = "
                               f"{_signed(e)} (paired over {c['n_items']} items).")
    base = [{"trait": r["trait"], "score": _est(r["score"], r["score_low"], r["score_high"], r["n_items"],
                                                 r["method"])}
            for r in summary.get("scores") or []
            if r.get("checkpoint_id") == summary.get("base_id", "base") and r["condition"] == "test"]
    n_tests = len(cells) + len(contrasts)
    return {"available": True, "confidence": conf, "traits": sorted(series),
            "conditions": sorted({c["condition"] for c in cells}), "cells": cells, "series": series,
            "base": base, "contrasts": contrasts, "conclusions": conclusions,
            "n_intervals": n_tests, "method": cells[0]["drift"]["method"] if cells else None,
            "note": f"{len(conclusions)} of {n_tests} intervals exclude 0 at {conf:.0%}; no correction for "
                    "multiple comparisons (about {:.1f} would by chance if nothing drifted).".format(
                        (1 - conf) * n_tests)}


def _range(section) -> tuple[float, float]:
    vals = [0.0]
    for c in section["cells"]:
        e = c["drift"]
        if e["value"] is not None:
            vals += [v for v in (e["value"], *e["ci"]) if v is not None]
    lo, hi = min(vals), max(vals)
    pad = max(0.02, 0.05 * (hi - lo))
    return max(-1.0, lo - pad), min(1.0, hi + pad)


def persona_html(sec: dict, *, colors: dict, est) -> str:
    """The section as HTML: one drift-against-budget plot per trait and condition, the
    conclusions, the table, the contrasts and the base model's scores."""
    title = "Persona drift"
    if not sec.get("available"):
        return section("persona", title, empty(sec.get("reason") or "Not measured."))
    parts = [f'<p class="note">Drift of each trait from the base model: per item, the probability of the '
             f'behaviour-matching answer minus the base model\'s, averaged over items (seeds pooled); '
             f'{esc(sec["method"])}. {esc(sec["note"])}</p>']
    pct = f"{sec['confidence']:.0%}"
    if sec["conclusions"]:
        parts.append("<h3>What holds at " + esc(pct) + "</h3><ul>"
                     + "".join(f"<li>{esc(c)}</li>" for c in sec["conclusions"]) + "</ul>")
    else:
        parts.append(f"<p>No drift or contrast interval excludes 0 at {esc(pct)}.</p>")
    y_range = _range(sec)
    for trait in sec["traits"]:
        for condition, per in sec["series"][trait].items():
            label = _CONDITION_TEXT.get(condition, condition)
            parts.append(f"<h3>{esc(trait)} ({esc(label)})</h3>" + figure(
                budget_plot(per, title=f"{trait} drift against budget ({label})", y_label="drift from base",
                            colors=colors, y_range=y_range),
                "Drift per objective with intervals; each line starts at the base model (0); budgets evenly "
                "spaced."))
    rows = [[esc(c["trait"]), esc(_CONDITION_TEXT.get(c["condition"], c["condition"])), esc(c["objective"]),
             esc(c["budget_tokens"]), est(c["drift"])] for c in sec["cells"]]
    parts.append(table(["trait", "prompt", "objective", "budget", "drift"], rows, num_cols={3, 4}))
    if sec["contrasts"]:
        rows = [[esc(c["trait"]), esc(c["budget_tokens"]), esc(f"{c['a']} \u2212 {c['b']}"), est(c["difference"])]
                for c in sec["contrasts"]]
        parts.append("<h3>Objectives compared (test-time prompt, paired over items)</h3>"
                     + table(["trait", "budget", "contrast", "difference"], rows, num_cols={1, 3}))
    if sec["base"]:
        rows = [[esc(b["trait"]), est(b["score"])] for b in sec["base"]]
        parts.append("<h3>The base model's scores</h3>" + table(["trait", "score"], rows, num_cols={1}))
    return section("persona", title, "".join(parts))


def persona_markdown(sec: dict) -> list[str]:
    """The section as markdown lines."""
    out = ["## Persona drift", ""]
    if not sec.get("available"):
        return out + [sec.get("reason") or "Not measured.", ""]
    out += [md_escape(f"Drift from the base model, seeds pooled; {sec['method']}. {sec['note']}"), ""]
    out += [f"- {md_escape(c)}" for c in sec["conclusions"]] or [f"No interval excludes 0 at {sec['confidence']:.0%}."]
    out += ["", "| trait | prompt | objective | budget | drift |", "|---|---|---|---:|---:|"]
    for c in sec["cells"]:
        d = c["drift"]
        value = "undefined" if d["value"] is None else _signed(d)
        out.append(f"| {md_escape(c['trait'])} | {md_escape(_CONDITION_TEXT.get(c['condition'], c['condition']))} | "
                   f"{md_escape(c['objective'])} | {c['budget_tokens']} | {value} |")
    return out + [""]

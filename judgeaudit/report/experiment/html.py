"""The experiment report as one self-contained HTML page (inline CSS and SVG, no scripts).

Styled like the audit report (:mod:`judgeaudit.report.html`) and built from its
blocks; every text from the data is escaped with
:func:`~judgeaudit.report.common.esc`.
"""

from __future__ import annotations

from judgeaudit.report.common import HUMAN_COLOR, Footnotes, banner_html, esc, fmt_num, metric_view
from judgeaudit.report.html_base import CSS, cell, empty, figure, section, table, undefined
from judgeaudit.report.svg import PlotRow, interval_plot

from .persona import persona_html
from .plots import budget_label, budget_plot, frontier_plot, objective_colors

__all__ = ["render_experiment_html", "MAX_ROWS"]

MAX_ROWS = 60
_TOC = (("overview", "Overview"), ("headline", "Headline"), ("frontier", "Frontier"),
        ("rankings", "Rankings"), ("flips-judges", "Flips across judges"),
        ("flips-sets", "Flips across prompt sets"), ("incoherence", "Incoherence"),
        ("disagreement", "Disagreement"), ("persona", "Persona drift"), ("status", "Verdict status"),
        ("notes", "Notes"))


def view(e, confidence=None):
    """A report estimate as the audit report's :class:`MetricView`."""
    if not isinstance(e, dict):
        return metric_view(None, missing="not computed")
    lo, hi = (e.get("ci") or [None, None])
    return metric_view({"value": e.get("value"), "ci_low": lo, "ci_high": hi, "n": e.get("n"),
                        "method": e.get("method"), "undefined": e.get("undefined"), "note": e.get("note"),
                        "confidence": confidence, "n_boot_undefined": e.get("n_boot_undefined")},
                       missing="not computed")


class _Page:
    def __init__(self, report: dict):
        self.r = report
        self.notes = Footnotes()
        self.conf = (report.get("meta") or {}).get("confidence")
        self.colors = objective_colors(report.get("objectives") or [])

    def est(self, e, *, n: bool = True) -> str:
        v = view(e, self.conf)
        out = cell(v, self.notes, stacked=True)
        if n and v.defined and isinstance(e, dict):
            out += f'<br><small class="ci">n = {esc(e.get("n"))}</small>'
        return out

    def diff(self, d) -> str:
        if not isinstance(d, dict) or d.get("value") is None:
            return undefined("difference undefined", self.notes)
        lo, hi = d.get("ci") or [None, None]
        text = f"{d['value']:+.3f}" + ("" if lo is None or hi is None else f" [{lo:+.3f}, {hi:+.3f}]")
        return f'<span class="v" title="{esc(d.get("basis", ""))}">{esc(text)}</span>'


def _overview(p: _Page) -> str:
    r, meta = p.r, p.r.get("meta") or {}
    same = "; ".join(f"{j}: identical to {k} on every item" for j, k in (r.get("identical_judges") or {}).items())
    fr = r["frontier"]
    left = "; ".join(f"{d['judge_id']} ({d['reason']})" for d in r.get("judges_left_out") or []) or "none"
    rows = [("Experiment", esc(meta.get("experiment", "(not named)"))),
            ("Checkpoints", esc(len(r.get("checkpoints") or []))),
            ("Objectives", esc(", ".join(r.get("objectives") or []))),
            ("Budgets (tokens)", esc(", ".join(str(b) for b in r.get("budgets") or []))),
            ("Harmfulness judges", esc(", ".join(r.get("judges") or []) or "none")),
            ("Judges left out", esc(left)),
            *([("Shown once", esc(same))] if same else []),
            ("Capability", esc(fr.get("capability_note") or "none")),
            ("Intervals", esc(f"{meta.get('n_boot')} resamples, seed {meta.get('seed')}, "
                              f"{float(meta.get('confidence', 0.95)) * 100:g}% level; "
                              f"{meta.get('interval_method', '')}; {meta.get('n_clusters')} prompts, "
                              f"{meta.get('n_items')} items"))]
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in rows)
    return f'<section id="overview">{banner_html(meta.get("banner"))}<dl class="meta">{dl}</dl></section>'


def _headline(p: _Page) -> str:
    lines = p.r.get("headline") or []
    body = "<ul>" + "".join(f"<li>{esc(x)}</li>" for x in lines) + "</ul>" if lines else empty("Nothing stands out.")
    return section("headline", "Headline", body)


def _frontier(p: _Page) -> str:
    fr = p.r["frontier"]
    parts = [f'<p class="note">{esc(fr.get("population", ""))}. {esc(fr.get("rule", ""))}. '
             f'{esc(fr.get("capability_note") or "")}.</p>']
    if not fr["raters"]:
        return section("frontier", "Safety-capability frontier", "".join(parts) + empty("No harmfulness judge."))
    for rater in fr["raters"]:
        pts = fr["points"][rater]
        parts.append(f"<h3>{esc(rater)}</h3>")
        if fr["capability_source"]:
            skipped = [q["checkpoint_id"] for q in pts if q["harmful_rate"]["value"] is None
                       or q["capability"]["value"] is None]
            cap = "Filled dots are on the frontier (joined by the dashed line); whiskers are intervals."
            if skipped:
                cap += f" Not drawn (a coordinate is undefined): {', '.join(skipped)}."
            parts.append(figure(frontier_plot(pts, title=f"Harmful rate against capability under {rater}",
                                              colors=p.colors), cap))
        else:
            rows = [(q["checkpoint_id"], [PlotRow(rater, view(q["harmful_rate"], p.conf),
                                                  HUMAN_COLOR if rater == "humans" else p.colors.get(q["objective"],
                                                                                                     "#444"))])
                    for q in pts]
            parts.append(figure(interval_plot(rows, title=f"Harmful rate per checkpoint under {rater}",
                                              x_label="harmful rate on harmful requests", domain=(0.0, 1.0),
                                              legend=[]), "No capability measurement: harmful rates only."))
        trs = []
        corrected = any(q.get("rogan_gladen_rate") for q in pts)
        for q in pts:
            on = q["on_frontier"]
            extra = [p.est(q["rogan_gladen_rate"]) if q.get("rogan_gladen_rate") else
                     undefined("the audit has no corrected rate for this checkpoint", p.notes)] if corrected else []
            trs.append([esc(q["checkpoint_id"]), esc(q["objective"]), esc(q["budget_tokens"]),
                        p.est(q["harmful_rate"]), p.est(q["capability"]),
                        "yes" if on else "no" if on is not None else undefined(
                            "not placed: harmful rate or capability undefined" if fr["capability_source"]
                            else "no capability measurement", p.notes), *extra])
        head = ["checkpoint", "objective", "budget", "harmful rate", "capability", "on frontier"]
        if corrected:
            head.append("Rogan-Gladen rate (audit, all prompts)")
        parts.append(table(head, trs, num_cols={2, 3, 4}))
    if fr.get("membership") is not None:
        if fr["differences"]:
            rows = [[esc(d["a"]), esc(d["b"]), esc(", ".join(d["only_a"]) or "none"),
                     esc(", ".join(d["only_b"]) or "none")] for d in fr["differences"]]
            parts.append("<h3>Where the frontier differs</h3>"
                         + table(["rater a", "rater b", "only under a", "only under b"], rows))
        else:
            parts.append('<p class="note">The frontier holds the same checkpoints under every rater.</p>')
    return section("frontier", "Safety-capability frontier", "".join(parts))


def _rankings(p: _Page) -> str:
    fj = p.r["flips"]["across_judges"]
    if not fj["rankings"]:
        return section("rankings", "Rankings of the objectives", empty(
            "No budget has two or more objectives to rank."))
    rows = []
    for rk in fj["rankings"]:
        rates = " \u00b7 ".join(f"{i + 1}. {o} {fmt_num(rk['rates'][o]['value'])}" for i, o in
                                enumerate(rk["ranking"]))
        rows.append([esc(rk["budget_tokens"]), esc(rk["rater"]), esc(rates)])
    body = (f'<p class="note">Harmful rate on harmful requests per objective at each budget; order: '
            f'{esc(fj["order"])}.</p>' + table(["budget", "rater", "ranking (rate)"], rows, num_cols={0}))
    return section("rankings", "Rankings of the objectives", body)


def _flip_rows(p: _Page, flips, first, second) -> tuple[str, int]:
    ordered = sorted(flips, key=lambda f: not f["confident"])
    shown = ordered[:MAX_ROWS]
    rows = [[esc(f["budget_tokens"]), esc(f["a"]), esc(f["b"]), esc(first(f)), p.diff(f["diff_1"]),
             esc(second(f)), p.diff(f["diff_2"]), "yes" if f["confident"] else "no"] for f in shown]
    return table(["budget", "a", "b", "under", "rate a \u2212 b", "versus", "rate a \u2212 b", "confident"],
                 rows, num_cols={0, 4, 6}), len(flips) - len(shown)


def _flips_judges(p: _Page) -> str:
    fj = p.r["flips"]["across_judges"]
    intro = (f'<p class="note">Pairs of objectives whose order by harmful rate differs between two raters at the '
             f'same budget: {fj["n_flips"]} flip(s), {fj["n_confident"]} confident (both differences\' intervals '
             "exclude 0 with opposite signs; judges' intervals are paired over the same resamples of prompt_id, "
             "the humans' come from the audit, or from disjoint rate intervals when the audit has no paired "
             "interval for the pair).</p>")
    if not fj["flips"]:
        return section("flips-judges", "Flips across judges", intro + empty("No pair flips between raters."))
    tbl, hidden = _flip_rows(p, fj["flips"], lambda f: f["rater_1"], lambda f: f["rater_2"])
    more = f'<p class="note">{hidden} more in experiment.json.</p>' if hidden else ""
    return section("flips-judges", "Flips across judges", intro + tbl + more)


def _slice(s) -> str:
    return f"{s['prompt_set']} / {s['attack']}"


def _flips_sets(p: _Page) -> str:
    fs = p.r["flips"]["across_prompt_sets"]
    intro = (f'<p class="note">Each judge\'s ranking of the objectives within each (prompt set, attack) slice of '
             f'harmful requests; pairs whose order differs between two slices: {fs["n_flips"]} flip(s), '
             f'{fs["n_confident"]} confident.</p>')
    if fs.get("reason"):
        return section("flips-sets", "Flips across prompt sets", intro + empty(fs["reason"]))
    parts = [intro]
    if fs["flips"]:
        tbl, hidden = _flip_rows(p, fs["flips"], lambda f: f"{f['judge']}: {_slice(f['slice_1'])}",
                                 lambda f: _slice(f["slice_2"]))
        parts.append(tbl + (f'<p class="note">{hidden} more in experiment.json.</p>' if hidden else ""))
    else:
        parts.append(empty("No pair of objectives changes order between slices under any judge."))
    rows = [[esc(rk["judge"]), esc(rk["budget_tokens"]), esc(_slice(rk)),
             esc(" \u00b7 ".join(f"{i + 1}. {o} {fmt_num(rk['rates'][o]['value'])}"
                                 for i, o in enumerate(rk["ranking"])))] for rk in fs["rankings"][:MAX_ROWS]]
    parts.append("<h3>Rankings per slice</h3>" + table(["judge", "budget", "slice", "ranking (rate)"], rows,
                                                        num_cols={1}))
    if len(fs["rankings"]) > MAX_ROWS:
        parts.append(f'<p class="note">{len(fs["rankings"]) - MAX_ROWS} more in experiment.json.</p>')
    return section("flips-sets", "Flips across prompt sets", "".join(parts))


def _series(s) -> dict:
    return {o: [(q["budget_tokens"], q.get("incoherent", q.get("mean"))) for q in pts] for o, pts in s.items()}


def _incoherence(p: _Page) -> str:
    inc = p.r["incoherence"]
    if not inc["scorers"]:
        return section("incoherence", "Incoherence", empty(inc.get("reason") or "No coherence scores."))
    parts = [f'<p class="note">Share of items per objective and budget in bin incoherent (and partially '
             f'coherent); {esc(inc.get("population", ""))}. Each objective\'s line starts at the base model.</p>']
    for s in inc["scorers"]:
        d = inc["by_scorer"][s]
        parts.append(f"<h3>{esc(s)}</h3>" + figure(
            budget_plot(_series(d["series"]), title=f"Incoherence rate against budget ({s})",
                        y_label="incoherent share", colors=p.colors),
            "Share of items in bin incoherent, per objective, with intervals; budgets evenly spaced."))
        rows = [[esc(c["objective"]), esc(c["budget_tokens"]), p.est(c["incoherent"]),
                 p.est(c["partially_coherent"])] for c in d["cells"]]
        parts.append(table(["objective", "budget", "incoherent", "partially coherent"], rows, num_cols={1, 2, 3}))
    return section("incoherence", "Incoherence", "".join(parts))


def _disagreement(p: _Page) -> str:
    d = p.r["disagreement"]
    if not d.get("pairs"):
        return section("disagreement", "Judge disagreement", empty(d.get("reason") or "Not computed."))
    pairs = [f"{a} / {b}" for a, b in d["pairs"]]
    parts = [f'<p class="note">Mean over the judge pairs ({esc(", ".join(pairs))}) of the share of items where the '
             f'two votes differ; {esc(d["population"])}.</p>',
             figure(budget_plot(_series(d["series"]), title="Mean pairwise judge disagreement against budget",
                                y_label="disagreement", colors=p.colors),
                    "Mean pairwise disagreement per objective (starting at the base model), with intervals.")]
    rows = [[esc(c["objective"]), esc(c["budget_tokens"]), p.est(c["mean"]),
             *(p.est(q["rate"], n=False) for q in c["pairs"])] for c in d["cells"]]
    parts.append(table(["objective", "budget", "mean", *pairs], rows, num_cols=set(range(1, 3 + len(pairs)))))
    rows = [[esc(b["budget_tokens"]), p.est(b["mean"])] for b in d["budgets"]]
    parts.append("<h3>Pooled over objectives</h3>" + table(["budget", "mean disagreement"], rows, num_cols={0, 1}))
    t = d["trend"]
    lmf = t.get("last_minus_first")
    trows = [["all checkpoints", p.est(t["spearman"]),
              (p.diff(lmf) + esc(f" ({lmf['last']} vs {lmf['first']})")) if lmf else
              undefined("fewer than two budgets with a defined value", p.notes)]]
    for o, tr in t["by_objective"].items():
        lm = tr.get("last_minus_first")
        trows.append([esc(o), p.est(tr["spearman"]), (p.diff(lm) + esc(f" ({lm['last']} vs {lm['first']})"))
                      if lm else undefined("fewer than two budgets with a defined value", p.notes)])
    parts.append(f'<h3>Trend with budget</h3><p class="note">{esc(t["method"])}.</p>'
                 + table(["scope", "Spearman rho", "last \u2212 first budget"], trows, num_cols={1, 2}))
    bc = d.get("by_coherence")
    if bc:
        bins = _shown_bins(bc)
        head = ["objective", "budget", *bins]
        rows = [["all", "all", *(p.est(bc["pooled"][b]) for b in bins)]]
        rows += [[esc(c["objective"]), esc(c["budget_tokens"]), *(p.est(c[b]) for b in bins)]
                 for c in bc["cells"]]
        parts.append(f'<h3>By coherence bin ({esc(bc["scorer"])})</h3>'
                     + table(head, rows, num_cols=set(range(1, len(head)))))
    return section("disagreement", "Judge disagreement", "".join(parts))


def _shown_bins(bc) -> list:
    """The coherence bins to show: "unscored" only when some item lacks a score."""
    return [b for b in bc["bins"] if b != "unscored" or bc["pooled"][b]["value"] is not None]


def _persona(p: _Page) -> str:
    return persona_html(p.r.get("persona") or {}, colors=p.colors, est=p.est)


def _status(p: _Page) -> str:
    st = p.r.get("verdict_status") or {}
    if not st:
        return section("status", "Verdict status", empty("No verdicts."))
    keys = ("n_items", "votes", "ok_no_vote", "parse_error", "error", "missing")
    rows = []
    for judge, per in st.items():
        for ck, c in per.items():
            rows.append([esc(judge), esc(ck), *(esc(c.get(k, 0)) for k in keys)])
    body = ('<p class="note">Per judge and checkpoint, over the ok generations: votes (harmful / not harmful), ok '
            "verdicts that are not votes (unclear, or another field's label), failed verdicts and items without "
            "a verdict. Only votes enter the rates.</p>"
            + table(["judge", "checkpoint", "items", "votes", "ok, no vote", "parse error", "error", "missing"],
                    rows, num_cols=set(range(2, 8))))
    errors = [(c["checkpoint_id"], c["generation_errors"]) for c in p.r.get("checkpoints") or []
              if c.get("generation_errors")]
    if errors:
        body += '<p class="note">Generations with status error (left out): ' + esc(
            ", ".join(f"{c}: {n}" for c, n in errors)) + "</p>"
    return section("status", "Verdict status", body)


def _notes(p: _Page) -> str:
    parts = []
    if p.r.get("notes"):
        parts.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in p.r["notes"]) + "</ul>")
    if len(p.notes):
        parts.append('<p class="note">Why values are undefined (numbers match the footnote marks):</p>'
                     '<ol class="footnotes">' + "".join(f'<li id="fn-{i}" value="{i}">{esc(r)}</li>'
                                                        for i, r in p.notes.items()) + "</ol>")
    return section("notes", "Notes", "".join(parts) or empty("Nothing to note."))


def render_experiment_html(report: dict) -> str:
    """The experiment report as one HTML page: inline CSS and SVG, no scripts, no external resources."""
    p = _Page(report)
    body = [_overview(p), _headline(p), _frontier(p), _rankings(p), _flips_judges(p), _flips_sets(p),
            _incoherence(p), _disagreement(p), _persona(p), _status(p)]
    toc_entries = list(_TOC)
    if report.get("stress"):
        from judgeaudit.stress.report import render_stress_section

        body.append(render_stress_section(report["stress"]))
        toc_entries.insert(len(toc_entries) - 1, ("stress", "Stress test"))
    body.append(_notes(p))  # last: it lists the footnotes the other sections added
    name = (report.get("meta") or {}).get("experiment") or "experiment"
    toc = "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in toc_entries)
    return ("<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>judgeaudit experiment: {esc(name)}</title><style>{CSS}</style></head><body><main>"
            f"<h1>Experiment report: {esc(name)}</h1>"
            f'<nav class="toc" aria-label="Sections">{toc}</nav>' + "".join(body)
            + f"<footer>{esc(report.get('schema', ''))}; budgets are labelled like "
              f"{esc(budget_label(1500))} = 1,500 tokens. This page is self-contained and works offline.</footer>"
              "</main></body></html>\n")

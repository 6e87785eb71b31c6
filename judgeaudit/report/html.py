"""The self-contained HTML report: one file, inline CSS and SVG, no scripts, works offline."""

from __future__ import annotations

from judgeaudit.report import robustness as _robustness, sections as _sections
from judgeaudit.report.annotators import annotator_html
from judgeaudit.report.common import (
    Footnotes,
    banner_html,
    check_audit,
    dig,
    esc,
    fmt_count,
    fmt_num,
    identical_judges,
    identical_note,
    is_num,
    judge_colors,
    judge_ids,
    strata_of,
    weights_note,
)
from judgeaudit.report.html_base import CSS, empty, section

__all__ = ["render_html"]

_TOC = (
    ("overview", "Overview"),
    ("headline", "Headline"),
    ("strata", "By stratum"),
    ("ceiling", "Human ceiling"),
    ("confusion", "Confusion"),
    ("agreement", "Judge agreement"),
    ("annotator", "Judge as annotator"),
    ("verdicts", "Verdict status"),
    ("robustness", "Robustness"),
    ("examples", "Examples"),
    ("notes", "Notes"),
)


def _value(v, *, missing: str = "not recorded") -> str:
    if v is None or (not isinstance(v, (str, int, float, list, tuple))):
        return f'<span class="undef" title="{esc(missing)}">{esc(missing)}</span>'
    if isinstance(v, (list, tuple)):
        return esc(", ".join(map(str, v))) if v else "(empty)"
    if isinstance(v, float):
        return esc(fmt_num(v)) if is_num(v) else "undefined"
    return esc(v)


def _overview(audit: dict) -> str:
    meta = audit.get("meta") or {}
    task = meta.get("task") or {}
    ref = meta.get("reference") or {}
    conf = meta.get("confidence")
    cluster = meta.get("cluster_key")
    boot = (
        f"{fmt_count(meta.get('n_boot'))} resamples, seed {fmt_count(meta.get('seed'))}, "
        f"{float(conf) * 100:g}% intervals, "
        if is_num(conf)
        else f"{fmt_count(meta.get('n_boot'))} resamples, seed {fmt_count(meta.get('seed'))}, "
    ) + (f"clusters = {cluster}" if cluster else "each item its own cluster")
    n_unres = ref.get("n_unresolved")
    rows = [
        ("Dataset", _value(meta.get("dataset"))),
        ("Items", _value(meta.get("n_items"))),
        ("Task", f"<strong>{_value(task.get('field'))}</strong>: positive = "
                 f"{_value(task.get('positive'))}; negative = {_value(task.get('negative'))}"
                 + (f" \u2014 {esc(task['description'])}" if task.get("description") else "")),
        ("Reference rule", f"{_value(ref.get('rule'))} vote, ties: {_value(ref.get('tie_policy'))}"),
        ("Reference labels", f"{_value(ref.get('n_resolved'))} resolved, "
                             f"<strong>{_value(n_unres)} unresolved</strong> (no majority), "
                             f"{_value(ref.get('n_no_label'))} without a human label"),
        ("Strata", f"source {_value(meta.get('strata_source'))}: {_value(meta.get('strata'))}"),
        ("Bootstrap", esc(boot)),
        *([("Weighting", esc(weights_note(meta)))] if weights_note(meta) else []),
        ("Judges", esc(str(len(audit.get("judges") or {})))),
        *([("Shown once", esc(identical_note(identical_judges(audit), meta.get("n_items"))))]
          if identical_judges(audit) else []),
        ("Created", f"{_value(meta.get('created_at'))} with judgeaudit "
                    f"{_value(meta.get('judgeaudit_version'))} ({_value(audit.get('schema'))})"),
    ]
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in rows)
    return f'<section id="overview"><dl class="meta">{dl}</dl></section>'


def _notes(audit: dict, notes: Footnotes) -> str:
    parts = []
    if len(notes):
        parts.append(
            '<p class="note">Why values are undefined (numbers match the footnote marks):</p>'
            '<ol class="footnotes">'
            + "".join(f'<li id="fn-{i}" value="{i}">{esc(r)}</li>' for i, r in notes.items())
            + "</ol>"
        )
    extra = []
    n_unres = dig(audit, "meta", "reference", "n_unresolved")
    if is_num(n_unres) and n_unres > 0:
        extra.append(
            f"{int(n_unres)} items had no majority human label and are left out of every "
            "judge-vs-human metric."
        )
    n_nolab = dig(audit, "meta", "reference", "n_no_label")
    if is_num(n_nolab) and n_nolab > 0:
        extra.append(f"{int(n_nolab)} items have no human label for this task.")
    audit_notes = audit.get("notes")
    if isinstance(audit_notes, (list, tuple)):
        extra += [str(n) for n in audit_notes if n is not None]
    if extra:
        parts.append("<ul>" + "".join(f"<li>{esc(x)}</li>" for x in extra) + "</ul>")
    body = "".join(parts) or empty("No undefined values and nothing else to note.")
    return section("notes", "Notes", body)


def render_html(audit: dict, *, stress: dict | None = None) -> str:
    """Render an audit dict as one self-contained HTML page.

    Parameters
    ----------
    audit:
        The dict :func:`judgeaudit.audit.run_audit` returns (schema ``judgeaudit.audit/1``).
    stress:
        Optional stress-test result (:func:`judgeaudit.stress.run_stress`): its section
        (flip rates under label-preserving changes) is added after the examples.

    Returns
    -------
    str
        The page: inline CSS and SVG only, no scripts and no external resources.  Every
        text taken from the data is HTML-escaped; undefined values read "undefined" with
        the reason as a tooltip and a numbered footnote.

    Raises
    ------
    judgeaudit.errors.ValidationError
        If ``audit`` is not an audit dict of a schema this report knows.
    """
    check_audit(audit)
    same = identical_judges(audit)
    judges = [j for j in judge_ids(audit) if j not in same]
    colors = judge_colors(judges)
    strata_list = strata_of(audit)
    notes = Footnotes()
    dataset = dig(audit, "meta", "dataset", default="audit")
    body = [
        _overview(audit),
        _sections.headline(audit, judges, colors, notes),
        _sections.strata(audit, judges, colors, strata_list, notes),
        _sections.human_ceiling(audit, strata_list, notes),
        _sections.confusion(audit, judges, colors, strata_list, notes),
        _sections.judge_agreement(audit, judges, notes),
        annotator_html(audit, notes),
        _sections.verdicts(audit, judges, strata_list, notes),
        _robustness.robustness(audit, judges, colors, notes),
        _robustness.examples(audit, judges, colors, notes),
    ]
    toc_entries = list(_TOC)
    if stress is not None:
        from judgeaudit.stress.report import render_stress_section

        body.append(render_stress_section(stress))
        toc_entries.insert(len(toc_entries) - 1 if toc_entries[-1][0] == "notes" else len(toc_entries),
                           ("stress", "Stress test"))
    body.append(_notes(audit, notes))  # last: it lists the footnotes the sections added
    toc = "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in toc_entries)
    version = dig(audit, "meta", "judgeaudit_version", default="")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>judgeaudit report: {esc(dataset)}</title>"
        f"<style>{CSS}</style></head><body><main>"
        f"<h1>Judge audit: {esc(dataset)}</h1>"
        + banner_html(dig(audit, "meta", "banner")) +
        f'<nav class="toc" aria-label="Sections">{toc}</nav>'
        + "".join(body)
        + f"<footer>Written by judgeaudit {esc(version)}. This page is self-contained and "
        "works offline.</footer></main></body></html>\n"
    )

"""The report's "judge as one more annotator" section (HTML and markdown).

Reads audit.json's ``judge_as_annotator``: each judge's mean Cohen's kappa with the
annotators next to the annotators' kappas with each other, its position in that spread,
the alternative annotator test and, for probability judges, Brier score and log loss
against the human vote share.
"""

from __future__ import annotations

from judgeaudit.report.common import Footnotes, dig, esc, fmt_num, fmt_p, is_num, metric_view
from judgeaudit.report.html_base import cell, empty, section, table

__all__ = ["annotator_html", "annotator_markdown"]

ANCHOR = "annotator"
TITLE = "The judge as one more annotator"
INTRO = ("Each judge is compared with the annotators as if it were one of them, on the items "
         "that two or more annotators labelled. Mean \u03ba: the judge's Cohen's \u03ba with each "
         "annotator, averaged; annotators: each annotator's mean \u03ba with the others "
         "(lowest to highest); position: the share of annotators whose own mean is below the "
         "judge's. Alt-test (Calderon et al. 2025): leaving each annotator out in turn, does the "
         "judge represent the others at least as well, up to the margin \u03b5? The winning rate "
         "is the share of annotators it beats after a Benjamini-Yekutieli correction; it passes "
         "at 0.5 or more. Brier and log loss compare a probability judge's scores with the share "
         "of annotators who voted positive (the log loss cannot go below the floor).")


def _rows(audit: dict):
    sec = audit.get("judge_as_annotator")
    if not isinstance(sec, dict):
        return None, None
    return sec, [(j, e) for j, e in (sec.get("judges") or {}).items() if isinstance(e, dict)]


def _range(others: dict) -> str:
    vals = sorted(float(v) for v in (others or {}).values() if is_num(v))
    if not vals:
        return "undefined"
    return fmt_num(vals[0]) if len(vals) == 1 else f"{fmt_num(vals[0])} to {fmt_num(vals[-1])}"


def _alt(e: dict) -> tuple[str, str, str]:
    alt = e.get("alt_test") or {}
    rate = alt.get("winning_rate")
    per = [p for p in alt.get("per_annotator") or [] if isinstance(p, dict)]
    ps = ", ".join(f"{p.get('annotator')}: p {fmt_p(p.get('p_value'))}" for p in per)
    return (fmt_num(rate, 2) if is_num(rate) else "undefined",
            "yes" if alt.get("passed") else "no", ps)


def annotator_html(audit: dict, notes: Footnotes) -> str:
    """The HTML section (an explanatory empty note when the audit has no such section)."""
    sec, rows = _rows(audit)
    if sec is None:
        return section(ANCHOR, TITLE, empty(
            "Not computed: no items were labelled by two or more annotators."))
    head = ["judge", "mean \u03ba with annotators", "annotators' \u03ba with the others",
            "position", f"alt-test winning rate (\u03b5 = {fmt_num(sec.get('epsilon'), 2)})",
            "passes", "advantage probability \u03c1", "per annotator"]
    body = []
    for j, e in rows:
        spread = e.get("spread") or {}
        rate, passed, ps = _alt(e)
        body.append([esc(j), esc(fmt_num(spread.get("judge_mean"))),
                     esc(_range(spread.get("annotator_vs_others"))),
                     esc(fmt_num(spread.get("position"), 2)), esc(rate), esc(passed),
                     esc(fmt_num(dig(e, "alt_test", "advantage_probability"), 2)), esc(ps)])
    out = (f'<p class="note">{esc(INTRO)}</p>'
           + table(head, body, num_cols={1, 3, 4, 6},
                   caption=f"{sec.get('n_items')} items, annotators: "
                           f"{', '.join(map(str, sec.get('annotators') or []))}"))
    strata = sorted({s for _, e in rows for s in (dig(e, "spread", "strata") or {})})
    if strata:
        by = []
        for j, e in rows:
            cells = []
            for st in strata:
                sp = dig(e, "spread", "strata", st) or {}
                cells.append(esc(f"{fmt_num(sp.get('judge_mean'))} vs "
                                 f"{_range(sp.get('annotator_vs_others'))}; position "
                                 f"{fmt_num(sp.get('position'), 2)}"))
            by.append([esc(j), *cells])
        out += table(["judge", *strata], by,
                     caption="by stratum: the judge's mean \u03ba with the annotators vs the "
                             "annotators' own, and its position")
    soft = [(j, e["soft_labels"]) for j, e in rows if isinstance(e.get("soft_labels"), dict)]
    if soft:
        srows = []
        for j, by in soft:
            for where, m in by.items():
                srows.append([esc(j), esc(where), cell(metric_view(m.get("brier")), notes),
                              cell(metric_view(m.get("log_loss")), notes),
                              esc(fmt_num(m.get("log_loss_floor"))), esc(str(m.get("n")))])
        out += table(["judge", "stratum", "Brier", "log loss", "log-loss floor", "items"], srows,
                     num_cols={2, 3, 4, 5}, caption="probability judges against the vote share")
    return section(ANCHOR, TITLE, out)


def annotator_markdown(audit: dict, e) -> list[str]:
    """Markdown lines of the section; ``e`` escapes data text."""
    sec, rows = _rows(audit)
    lines = [f"## {TITLE}", ""]
    if sec is None:
        return lines + ["Not computed: no items were labelled by two or more annotators.", ""]
    eps = fmt_num(sec.get("epsilon"), 2)
    lines += [f"On {sec.get('n_items')} items with two or more labels; alt-test \u03b5 = {eps}, "
              "Benjamini-Yekutieli at 0.05.", "",
              "| judge | mean \u03ba with annotators | annotators' \u03ba with the others | position "
              "| alt-test winning rate | passes | \u03c1 |",
              "|---|--:|--:|--:|--:|---|--:|"]
    for j, en in rows:
        spread = en.get("spread") or {}
        rate, passed, _ = _alt(en)
        lines.append(f"| {e(j)} | {fmt_num(spread.get('judge_mean'))} | "
                     f"{_range(spread.get('annotator_vs_others'))} | "
                     f"{fmt_num(spread.get('position'), 2)} | {rate} | {passed} | "
                     f"{fmt_num(dig(en, 'alt_test', 'advantage_probability'), 2)} |")
    lines.append("")
    for j, en in rows:
        m = dig(en, "soft_labels", "overall")
        if isinstance(m, dict):
            lines.append(f"- {e(j)} against the vote share: Brier "
                         f"{fmt_num(dig(m, 'brier', 'value'))}, log loss "
                         f"{fmt_num(dig(m, 'log_loss', 'value'))} (floor "
                         f"{fmt_num(m.get('log_loss_floor'))}) on {m.get('n')} items")
    return lines + [""]

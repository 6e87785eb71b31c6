"""The report's conclusion-robustness and example-disagreement sections."""

from __future__ import annotations

from judgeaudit.report.common import (
    HUMAN_COLOR,
    PALETTE,
    Footnotes,
    dig,
    esc,
    fmt_num,
    is_num,
    metric_view,
)
from judgeaudit.report.conclusions import conclusions_html, correction_caption
from judgeaudit.report.html_base import cell, empty, figure, section, swatch, table, undefined
from judgeaudit.report.svg import PlotRow, bump_chart, interval_plot


def _note(view, notes: Footnotes) -> int | None:
    return None if view.defined else notes.add(view.reason or "no reason given")


def _diff(value, ci, notes: Footnotes) -> str:
    if not is_num(value):
        return undefined("difference not reported", notes)
    text = _signed(value)
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(is_num(x) for x in ci):
        text += f" [{_signed(ci[0])}, {_signed(ci[1])}]"
    return esc(text)


def _signed(v) -> str:
    if not is_num(v):
        return "undefined"
    text = fmt_num(v)
    return text if text.startswith("-") or float(text) == 0 else "+" + text


def _plain(value, notes: Footnotes) -> str:
    view = metric_view(value)
    return cell(view, notes, ci=False) if not view.defined or isinstance(value, dict) \
        else esc(fmt_num(view.value))


def _orientation(rankings: dict, rates: dict) -> str:
    """Say whether position 1 is the lowest or the highest human rate, when that is clear."""
    human = rates.get("human") or {}
    order = [metric_view(human.get(g)).value for g in rankings.get("human") or []]
    if len(order) < 2 or any(v is None for v in order):
        return "Position 1 is the first group of each ranking in the audit."
    if all(a <= b for a, b in zip(order, order[1:])):
        return "Position 1 is the group with the lowest rate."
    if all(a >= b for a, b in zip(order, order[1:])):
        return "Position 1 is the group with the highest rate."
    return "Position 1 is the first group of each ranking in the audit."


def robustness(audit: dict, judges, colors, notes: Footnotes) -> str:
    rob = audit.get("robustness")
    title = "Conclusion robustness"
    if not isinstance(rob, dict):
        return section(
            "robustness",
            title,
            empty(
                "Not computed for this audit: it needs at least two groups (checkpoints, "
                "objectives or attacks) with human labels to compare."
            ),
        )
    groups = [str(g) for g in rob.get("groups") or []]
    key = rob.get("group_key") or "group"
    rates = rob.get("rates") or {}
    corrected = rob.get("corrected_rates") or {}
    rankings = rob.get("rankings") or {}
    rob_judges = [j for j in judges if j in rates or j in rankings] + [
        str(j) for j in rates if j != "human" and j not in judges
    ]
    colors = dict(colors)
    for i, j in enumerate(rob_judges):
        colors.setdefault(j, PALETTE[(len(judges) + i) % len(PALETTE)])
    parts = [
        f'<p class="note">Does the conclusion "group A has a higher positive rate than group B" '
        f"hold whichever judge measures it? Groups are values of <code>{esc(key)}</code> "
        f"({len(groups)} groups).</p>"
    ]
    left_out = rob.get("groups_left_out")
    if isinstance(left_out, dict):
        parts.append(f'<p class="note">{esc(left_out.get("n_groups"))} smaller groups '
                     f'({esc(left_out.get("n_items"))} items) are left out: '
                     f'{esc(left_out.get("reason", ""))}.</p>')
    if not groups:
        parts.append(empty("The audit lists no groups, so there is nothing to compare."))
        return section("robustness", title, "".join(parts))

    legend = [("diamond", HUMAN_COLOR, "human reference")] + [
        ("point", colors[j], j) for j in rob_judges
    ]

    def rate_rows(source: dict, g: str, judge_missing: str):
        hv = metric_view(dig(rates, "human", g), missing="no human rate for this group")
        rows = [PlotRow("human", hv, HUMAN_COLOR, "diamond", note=_note(hv, notes))]
        for j in rob_judges:
            jv = metric_view(dig(source, j, g), missing=judge_missing)
            rows.append(PlotRow(j, jv, colors[j], note=_note(jv, notes)))
        return rows

    observed = [(g, rate_rows(rates, g, "no rate for this judge and group")) for g in groups]
    parts.append(
        "<h3>Positive rate per group</h3>"
        + figure(
            interval_plot(observed, title="Positive rate per group under humans and each judge",
                          x_label="positive rate", domain=(0.0, 1.0), legend=legend),
            "Rate of positive labels per group: the human reference (diamond) and each judge, "
            "with intervals.",
        )
    )
    if corrected:
        corr = [(g, rate_rows(corrected, g, "no corrected rate for this judge and group"))
                for g in groups]
        parts.append(
            "<h3>Corrected rates</h3>"
            + figure(
                interval_plot(corr, title="Corrected positive rate per group",
                              x_label="corrected positive rate", domain=(0.0, 1.0),
                              legend=legend),
                correction_caption(rob) + " The human rate is shown for comparison.",
            )
        )
    else:
        parts.append("<h3>Corrected rates</h3>"
                     + empty("The audit holds no corrected rates."))
    sens = rob.get("sensitivity_specificity")
    if isinstance(sens, dict) and sens:
        rows = [[esc(j), _plain(dig(sens, j, "sensitivity"), notes),
                 _plain(dig(sens, j, "specificity"), notes)] for j in rob_judges if j in sens]
        parts.append('<p class="note">Sensitivity and specificity against the humans used for '
                     "the correction:</p>"
                     + table(["judge", "sensitivity", "specificity"], rows, num_cols={1, 2}))
    parts.append(conclusions_html(rob))
    parts.append(_rankings(rob, rob_judges, rates, notes))
    parts.append(_flips(rob, rob_judges, notes))
    return section("robustness", title, "".join(parts))


def _rankings(rob: dict, rob_judges, rates: dict, notes: Footnotes) -> str:
    rankings = rob.get("rankings") or {}
    columns = [(c, [str(g) for g in rankings[c]]) for c in ["human", *rob_judges]
               if isinstance(rankings.get(c), list)]
    out = ["<h3>Rankings</h3>"]
    if len(columns) < 2 or columns[0][0] != "human":
        out.append(empty("Rankings need the human ranking and at least one judge's ranking; "
                         "the audit does not hold both."))
        return "".join(out)
    groups = []
    for _, r in columns:
        groups += [g for g in r if g not in groups]
    gcolors = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)}
    tips = {}
    for col, ranking in columns:
        for pos, g in enumerate(ranking):
            v = metric_view(dig(rates, col, g))
            tips[(col, g)] = f"{g}: rank {pos + 1} under {col}, rate {v.text()}"
    svg = bump_chart(columns, title="Group rankings under humans and each judge",
                     colors=gcolors, tooltips=tips)
    out.append(figure(
        svg,
        "Each line follows one group across the rankings, humans first; lines that cross "
        "mark a change of order between neighbouring columns (the flipped pairs below are "
        "measured against the humans). " + _orientation(rankings, rates),
    ))
    n = max(len(r) for _, r in columns)
    rows = [[str(i + 1), *(esc(r[i]) if i < len(r) else "" for _, r in columns)]
            for i in range(n)]
    out.append(table(["rank", *(c for c, _ in columns)], rows, num_cols={0}))
    taus = rob.get("kendall_tau") or {}
    flips = [f for f in rob.get("flips") or [] if isinstance(f, dict)]
    tau_rows = []
    for j in rob_judges:
        n_flips = sum(1 for f in flips if str(f.get("judge")) == j)
        tau_rows.append([
            esc(j),
            cell(metric_view(taus.get(j), missing="Kendall tau not reported"), notes),
            str(n_flips),
        ])
    out.append(
        '<p class="note">Kendall\u2019s \u03c4-b between each judge\u2019s ranking and the human '
        "ranking (1: same order, \u22121: reversed).</p>"
        + table(["judge", "Kendall \u03c4 vs human", "flipped pairs"], tau_rows, num_cols={1, 2})
    )
    return "".join(out)


def _flips(rob: dict, rob_judges, notes: Footnotes) -> str:
    flips = [f for f in rob.get("flips") or [] if isinstance(f, dict)]
    out = ["<h3>Flipped pairs</h3>"]
    if not flips:
        out.append(empty("No ranking flips: every judge orders every pair of groups as the "
                         "human reference does."))
        return "".join(out)
    has_conf = any("confident" in f for f in flips)
    rows = []
    for f in flips:
        row = [
            esc(f.get("judge", "")),
            esc(f.get("a", "")),
            esc(f.get("b", "")),
            _diff(f.get("human_diff"), f.get("human_ci"), notes),
            _diff(f.get("judge_diff"), f.get("judge_ci"), notes),
        ]
        if has_conf:
            c = f.get("confident")
            row.append("yes" if c is True else "no" if c is False else
                       undefined("not reported", notes))
        rows.append(row)
    head = ["judge", "group a", "group b", "human a \u2212 b", "judge a \u2212 b"]
    if has_conf:
        head.append("both intervals exclude 0")
    out.append(
        '<p class="note">Pairs of groups whose order under a judge is the reverse of their '
        "order under the human reference. Differences are rate(a) \u2212 rate(b), with "
        "intervals where the audit gives them.</p>"
        + table(head, rows, num_cols={3, 4})
    )
    return "".join(out)


def examples(audit: dict, judges, colors, notes: Footnotes) -> str:
    ex = audit.get("examples")
    title = "Example disagreements"
    if not isinstance(ex, dict) or not ex:
        return section("examples", title, empty("The audit holds no example disagreements."))
    parts = [
        '<p class="note">Items where the judge\u2019s verdict differs from the human reference '
        "(at most 10 per judge). Text is shown exactly as stored.</p>"
    ]
    order = [j for j in judges if j in ex] + [str(j) for j in ex if j not in judges]
    for j in order:
        items = [e for e in ex.get(j) or [] if isinstance(e, dict)]
        color = colors.get(j, HUMAN_COLOR)
        parts.append(f"<h3>{swatch(color)}{esc(j)} \u2014 {len(items)} shown</h3>")
        if not items:
            parts.append(empty("No disagreements with the reference for this judge."))
            continue
        for e in items:
            meta = " \u00b7 ".join(
                f"{label} <code>{esc(_text(e.get(k)))}</code>"
                for label, k in (("item", "item_id"), ("stratum", "stratum"),
                                 ("group", "group"), ("reference", "reference"),
                                 ("verdict", "verdict"))
                if k in e
            )
            parts.append(
                f'<article class="example"><div class="ex-meta">{meta}</div>'
                f'<h4>prompt</h4><pre class="text">{esc(_text(e.get("prompt")))}</pre>'
                f'<h4>response</h4><pre class="text">{esc(_text(e.get("response")))}</pre>'
                "</article>"
            )
    return section("examples", title, "".join(parts))


def _text(value) -> str:
    """Data text for display; a missing value reads "(none)" rather than "None"."""
    if value is None:
        return "(not recorded)"
    text = str(value)
    return text if text else "(empty)"

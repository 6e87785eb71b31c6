"""The report's judge-level sections: headline, strata, ceiling, confusion, agreement, verdicts."""

from __future__ import annotations

from judgeaudit.report.common import (
    HUMAN_COLOR,
    HEADLINE_METRICS,
    MIN_STRATUM_ITEMS,
    axis_label,
    METRIC_LABELS,
    UNIT_METRICS,
    Footnotes,
    MetricView,
    dig,
    esc,
    fmt_num,
    fmt_p,
    is_num,
    mean_pairwise_kappa,
    metric_view,
)
from judgeaudit.report.html_base import (
    cell,
    count_cell,
    empty,
    figure,
    section,
    swatch,
    table,
    undefined,
)
from judgeaudit.report.svg import PlotRow, Reference, auto_domain, interval_plot, kappa_heatmap

STRATUM_PLOT_METRICS = ("cohen_kappa", "fpr", "fnr", "accuracy")
CEILING_NOTE = "human ceiling: Krippendorff's \u03b1 among the annotators"


def _unparseable(verdicts: dict, notes: Footnotes) -> str:
    rate = (verdicts or {}).get("unparseable_rate")
    if isinstance(rate, dict):
        return cell(metric_view(rate), notes, ci=False)
    if is_num(rate):
        return f'<span class="v">{esc(fmt_num(rate))}</span>'
    n = (verdicts or {}).get("n_items")
    reason = "no items in scope" if n == 0 else "unparseable rate not reported"
    return undefined(reason, notes)


def headline(audit: dict, judges, colors, notes: Footnotes) -> str:
    if not judges:
        return section("headline", "Headline", empty("The audit holds no judges."))
    head = ["judge", "items", *(METRIC_LABELS[m] for m in HEADLINE_METRICS), "unparseable rate"]
    rows = []
    for j in judges:
        jd = audit["judges"].get(j) or {}
        overall = jd.get("overall") or {}
        verdicts = dig(jd, "verdicts", "overall", default={})
        rows.append(
            [
                swatch(colors[j]) + esc(j),
                count_cell(verdicts.get("n_items"), notes),
                *(cell(metric_view(overall.get(m)), notes, stacked=True)
                  for m in HEADLINE_METRICS),
                _unparseable(verdicts, notes),
            ]
        )
    conf = dig(audit, "meta", "confidence")
    pct = f"{float(conf) * 100:g}%" if is_num(conf) else "confidence"
    body = table(head, rows, num_cols=set(range(1, 8))) + (
        f'<p class="note">Each metric compares the judge with the human reference label; '
        f"brackets hold the {esc(pct)} interval (hover a value for its method and n). "
        "FPR: the judge says positive where the reference says negative; FNR: the converse.</p>"
    )
    return section("headline", "Headline: each judge against the human reference", body)


def _note(view: MetricView, notes: Footnotes) -> int | None:
    """Footnote number of an undefined value's reason (None when defined)."""
    return None if view.defined else notes.add(view.reason or "no reason given")


def _ceiling_view(audit: dict, scope: str) -> MetricView | None:
    ceiling = audit.get("human_ceiling")
    if not isinstance(ceiling, dict):
        return None
    entry = ceiling.get("overall") if scope == "overall" else dig(ceiling, "strata", scope)
    if not isinstance(entry, dict):
        return None
    return metric_view(entry.get("krippendorff_alpha"), missing="no human ceiling in this stratum")


def strata(audit: dict, judges, colors, strata_list, notes: Footnotes) -> str:
    if not judges:
        return section("strata", "Agreement by coherence stratum", empty("No judges to show."))
    parts = []
    ref = audit.get("reference") or {}
    rows = []
    for scope in ["overall", *strata_list]:
        entry = ref.get("overall") if scope == "overall" else dig(ref, "strata", scope)
        entry = entry if isinstance(entry, dict) else {}
        rows.append(
            [
                esc(scope),
                count_cell(entry.get("n"), notes, reason="stratum not in the reference summary"),
                cell(metric_view(entry.get("positive_rate")), notes),
            ]
        )
    source = dig(audit, "meta", "strata_source", default="not stated")
    parts.append(
        f'<p class="note">Strata come from <strong>{esc(source)}</strong>. '
        "Reference label counts per stratum:</p>"
        + table(["stratum", "items with a reference label", "reference positive rate"], rows,
                num_cols={1, 2})
    )
    has_ceiling = isinstance(audit.get("human_ceiling"), dict)
    scopes = ["overall", *strata_list]
    small = {scope: n for scope in strata_list
             if isinstance(n := dig(ref, "strata", scope, "n"), int) and n < MIN_STRATUM_ITEMS}
    if small:
        parts.append('<p class="note">' + esc("; ".join(f"{scope}: {n} items" for scope, n in small.items()))
                     + esc(f": too few for a figure (at least {MIN_STRATUM_ITEMS} items with a reference label); "
                           "their metrics are left out below.") + "</p>")
    for metric in STRATUM_PLOT_METRICS:
        groups, refs, views = [], {}, []
        for scope in scopes:
            plot_rows = []
            for j in judges:
                jd = audit["judges"].get(j) or {}
                m = jd.get("overall", {}).get(metric) if scope == "overall" else dig(
                    jd, "strata", scope, metric
                )
                missing = "metric not reported for this stratum"
                if scope != "overall" and not isinstance(dig(jd, "strata", scope), dict):
                    missing = "stratum absent for this judge"
                if scope in small:
                    m, missing = None, (f"only {small[scope]} items in this stratum: too few for a figure "
                                        f"(at least {MIN_STRATUM_ITEMS})")
                view = metric_view(m, missing=missing)
                views.append(view)
                plot_rows.append(PlotRow(j, view, colors[j], note=_note(view, notes)))
            if metric == "cohen_kappa" and has_ceiling:
                cv = _ceiling_view(audit, scope)
                if cv is not None:
                    plot_rows.append(PlotRow("human ceiling (\u03b1)", cv, HUMAN_COLOR, "diamond",
                                             note=_note(cv, notes)))
                    views.append(cv)
                    refs[scope] = Reference(CEILING_NOTE, cv)
            groups.append((scope, plot_rows))
        label = METRIC_LABELS[metric]
        legend = [("point", colors[j], j) for j in judges]
        if refs:
            legend.append(("diamond", HUMAN_COLOR, "human ceiling (\u03b1)"))
            legend.append(("band", HUMAN_COLOR, "ceiling value and interval"))
        svg = interval_plot(
            groups,
            title=f"{label} by coherence stratum",
            x_label=axis_label(metric),
            domain=auto_domain(views, unit=metric in UNIT_METRICS),
            legend=legend,
            references=refs,
        )
        if metric == "cohen_kappa":
            if refs:
                caption = (
                    f"{label} of each judge against the reference, per stratum, with intervals. "
                    "The dashed line and shaded band are the human ceiling (Krippendorff's \u03b1 "
                    "among annotators and its interval)."
                )
            elif has_ceiling:
                caption = f"{label} per stratum. The human ceiling has no entry for these strata."
            else:
                caption = (
                    f"{label} per stratum. No human ceiling is drawn: the audit has none "
                    "(it needs items labelled by two or more annotators)."
                )
        else:
            caption = (
                f"{label} per stratum with intervals. The human ceiling is an agreement "
                "coefficient and is drawn on the \u03ba plot only."
            )
        parts.append(f"<h3>{esc(label)}</h3>" + figure(svg, caption))
    parts.append(_differences(audit, judges, notes, small))
    return section("strata", "Agreement by coherence stratum", "".join(parts))


def _diff_reason(judge: dict, diff: dict) -> str:
    """Why a stratum difference is undefined: the metric is undefined in stratum a or b."""
    metric = str(diff.get("metric", ""))
    for side in ("a", "b"):
        stratum = str(diff.get(side, ""))
        view = metric_view(dig(judge, "strata", stratum, metric),
                           missing="not reported for this stratum")
        if not view.defined:
            return f"{METRIC_LABELS.get(metric, metric)} is undefined in {stratum}: {view.reason}"
    return "the audit gives no difference for this pair of strata"


def _differences(audit: dict, judges, notes: Footnotes, small: dict | None = None) -> str:
    """The stratum-difference table; a pair with a stratum in ``small`` (stratum -> items, under
    MIN_STRATUM_ITEMS) shows no number, as the stratum's own metrics show none."""
    rows = []
    small = small or {}
    for j in judges:
        for d in (audit["judges"].get(j) or {}).get("stratum_differences") or []:
            if not isinstance(d, dict):
                continue
            reason = d.get("undefined") or d.get("note") or _diff_reason(audit["judges"][j], d)
            diff = d.get("diff")
            tiny = [s for s in (str(d.get("a", "")), str(d.get("b", ""))) if s in small]
            if tiny:
                reason = (f"only {small[tiny[0]]} items in stratum {tiny[0]}: too few for a figure "
                          f"(at least {MIN_STRATUM_ITEMS})")
                d, diff = {**d, "diff": None, "p_value": None}, None
            if is_num(diff):
                txt = fmt_num(diff)
                if is_num(d.get("ci_low")) and is_num(d.get("ci_high")):
                    txt += f" [{fmt_num(d['ci_low'])}, {fmt_num(d['ci_high'])}]"
                diff_html = esc(txt)
            else:
                diff_html = undefined(reason, notes)
            p = d.get("p_value")
            p_html = esc(fmt_p(p)) if is_num(p) else undefined(
                reason if not is_num(diff) else "no p-value computed", notes
            )
            metric = str(d.get("metric", ""))
            rows.append(
                [
                    esc(j),
                    esc(METRIC_LABELS.get(metric, metric)),
                    esc(d.get("a", "")),
                    esc(d.get("b", "")),
                    diff_html,
                    p_html,
                ]
            )
    head = ["judge", "metric", "stratum a", "stratum b", "a \u2212 b [interval]", "p-value"]
    body = (
        table(head, rows, num_cols={4, 5})
        if rows
        else empty("No stratum differences in this audit (they need two or more strata with data).")
    )
    return (
        "<h3>Stratum differences</h3>"
        '<p class="note">Difference of each metric between two strata (a minus b) with its '
        "interval (paired cluster bootstrap, never narrower than Newcombe's interval from the two "
        "strata's Korn-Graubard intervals) and a two-sided p-value. The test: a permutation of "
        "stratum labels within each reference class and within the cluster structure (studentized "
        "for accuracy, FPR and FNR); H0: given the true class, the judge's verdict does not depend "
        "on the stratum. A weighted audit uses the bootstrap p-value.</p>" + body
    )


def human_ceiling(audit: dict, strata_list, notes: Footnotes) -> str:
    ceiling = audit.get("human_ceiling")
    if not isinstance(ceiling, dict):
        return section(
            "ceiling",
            "Human-human ceiling",
            empty(
                "No human ceiling: the audit found no items labelled by two or more annotators, "
                "so human-human agreement could not be measured."
            ),
        )
    rows = []
    for scope in ["overall", *strata_list]:
        entry = ceiling.get("overall") if scope == "overall" else dig(ceiling, "strata", scope)
        if not isinstance(entry, dict):
            rows.append([esc(scope), undefined("no multiply-labelled items in this stratum", notes),
                         "", "", "", ""])
            continue
        pairs = [p for p in entry.get("pairwise_kappa") or [] if isinstance(p, dict)]
        mean = mean_pairwise_kappa(entry)
        n_annot = entry.get("n_annotators")
        if not is_num(n_annot) and isinstance(ceiling.get("annotators"), list):
            n_annot = len(ceiling["annotators"])
        pair_txt = "; ".join(
            f"{esc(p.get('a', '?'))} vs {esc(p.get('b', '?'))}: {cell(metric_view(p), notes)}"
            for p in pairs
        )
        rows.append(
            [
                esc(scope),
                count_cell(n_annot, notes),
                count_cell(entry.get("n_units"), notes, reason="not reported"),
                cell(metric_view(entry.get("krippendorff_alpha")), notes),
                esc(fmt_num(mean)) if mean is not None
                else undefined("no defined pairwise kappa", notes),
                pair_txt or undefined("no annotator pair with shared items", notes),
            ]
        )
    head = ["stratum", "annotators", "items with 2+ labels", "Krippendorff's \u03b1",
            "mean pairwise \u03ba", "pairwise Cohen's \u03ba"]
    return section(
        "ceiling",
        "Human-human ceiling",
        '<p class="note">How well people agree with each other on the same items: a judge '
        "is not expected to agree with the reference better than this.</p>"
        + table(head, rows, num_cols={1, 2, 3, 4}),
    )


def _cm_table(title: str, counts: dict, pos: str, neg: str, notes: Footnotes) -> str:
    if not isinstance(counts, dict):
        return (
            f"<table><caption>{esc(title)}</caption><tbody><tr><td>"
            f"{undefined('no confusion counts for this scope', notes)}</td></tr></tbody></table>"
        )
    c = {k: int(counts[k]) if is_num(counts.get(k)) else 0 for k in ("tp", "fp", "fn", "tn")}

    def td(k: str, row_total: int, what: str) -> str:
        share = c[k] / row_total if row_total else 0.0
        alpha = 0.06 + 0.8 * share
        ink = "#fff" if alpha > 0.5 else "#111"
        tip = f"{what}: {c[k]}" + (f" ({share:.0%} of the row)" if row_total else "")
        return (
            f'<td class="cm" style="background:rgba(8,48,107,{alpha:.2f});color:{ink}" '
            f'title="{esc(tip)}">{c[k]}</td>'
        )

    p_tot, n_tot = c["tp"] + c["fn"], c["fp"] + c["tn"]
    return (
        f"<table><caption>{esc(title)}</caption><thead><tr>"
        '<th title="rows: reference label; columns: judge verdict">ref. \\ judge</th>'
        f"<th>{esc(pos)}</th><th>{esc(neg)}</th></tr></thead><tbody>"
        f"<tr><th>{esc(pos)}</th>{td('tp', p_tot, 'true positives')}"
        f"{td('fn', p_tot, 'false negatives')}</tr>"
        f"<tr><th>{esc(neg)}</th>{td('fp', n_tot, 'false positives')}"
        f"{td('tn', n_tot, 'true negatives')}</tr></tbody></table>"
    )


def confusion(audit: dict, judges, colors, strata_list, notes: Footnotes) -> str:
    task = dig(audit, "meta", "task", default={})
    pos = "/".join(map(str, task.get("positive") or ["positive"]))
    neg = "/".join(map(str, task.get("negative") or ["negative"]))
    parts = [
        '<p class="note">Rows: reference label; columns: judge verdict. Cell shade is the '
        "share of the row (darker = more).</p>"
    ]
    if not judges:
        parts.append(empty("No judges to show."))
    for j in judges:
        cm = (audit["judges"].get(j) or {}).get("confusion") or {}
        tables = [_cm_table("overall", cm.get("overall"), pos, neg, notes)]
        tables += [_cm_table(s, dig(cm, "strata", s), pos, neg, notes) for s in strata_list]
        parts.append(
            f"<h3>{swatch(colors[j])}{esc(j)}</h3><div class=\"cm-grid\">{''.join(tables)}</div>"
        )
    return section("confusion", "Confusion matrices", "".join(parts))


def judge_agreement(audit: dict, judges, notes: Footnotes) -> str:
    pairs = [p for p in audit.get("judge_agreement") or [] if isinstance(p, dict)]
    if len(judges) < 2 or not pairs:
        why = (
            "fewer than two judges" if len(judges) < 2 else "the audit holds no judge pairs"
        )
        return section("agreement", "Judge-by-judge agreement", empty(f"Not shown: {why}."))
    cells = {
        (str(p.get("a")), str(p.get("b"))): metric_view(p.get("cohen_kappa"))
        for p in pairs
    }
    labels = list(judges) + sorted(
        {x for ab in cells for x in ab if x not in judges}
    )
    svg = kappa_heatmap(labels, cells, title="Cohen's kappa between each pair of judges")
    rows = [
        [
            esc(p.get("a", "")),
            esc(p.get("b", "")),
            cell(metric_view(p.get("cohen_kappa")), notes),
            cell(metric_view(p.get("accuracy")), notes),
        ]
        for p in pairs
    ]
    body = figure(
        svg,
        "Cohen's \u03ba between judges on the items both judged (blue: agree, red: "
        "disagree beyond chance). Hover a cell for its interval.",
    ) + table(["judge a", "judge b", "Cohen's \u03ba", "raw agreement"], rows, num_cols={2, 3})
    return section("agreement", "Judge-by-judge agreement", body)


_STATUS = (("ok", "#009E73"), ("parse_error", "#E69F00"), ("error", "#D55E00"),
           ("missing", "#999999"), ("off_task", "#CC79A7"))
_BASE_STATUS = ("ok", "parse_error", "error", "missing")


def verdicts(audit: dict, judges, strata_list, notes: Footnotes) -> str:
    if not judges:
        return section("verdicts", "Verdict status", empty("No judges to show."))
    seen = set()
    for j in judges:
        vd = (audit["judges"].get(j) or {}).get("verdicts") or {}
        for entry in [vd.get("overall"), *((vd.get("strata") or {}).values())]:
            seen |= set(entry or {})
    statuses = [(k, c) for k, c in _STATUS if k in _BASE_STATUS or k in seen]
    rows = []
    for j in judges:
        vd = (audit["judges"].get(j) or {}).get("verdicts") or {}
        for scope in ["overall", *strata_list]:
            entry = vd.get("overall") if scope == "overall" else dig(vd, "strata", scope)
            if not isinstance(entry, dict):
                rows.append([esc(j), esc(scope), undefined("no verdict counts for this scope",
                                                           notes), *([""] * (len(statuses) + 2))])
                continue
            n = entry.get("n_items")
            total = sum(int(entry[k]) for k, _ in statuses if is_num(entry.get(k)))
            bar = "".join(
                f'<span style="width:{100 * int(entry[k]) / total:.1f}%;background:{col}" '
                f'title="{esc(k)}: {int(entry[k])}"></span>'
                for k, col in statuses
                if total and is_num(entry.get(k)) and int(entry[k]) > 0
            )
            counts = []
            for k, _ in statuses:
                v = entry.get(k)
                html_v = count_cell(v, notes)
                if k != "ok" and is_num(v) and int(v) > 0:
                    html_v = f'<span title="{esc(k)}">{html_v}</span>'
                counts.append(html_v)
            rows.append(
                [esc(j), esc(scope), count_cell(n, notes), *counts, _unparseable(entry, notes),
                 f'<div class="bar" aria-hidden="true">{bar}</div>']
            )
    legend = " ".join(f"{swatch(c)}{esc(k)}" for k, c in statuses)
    head = ["judge", "scope", "items", *(k for k, _ in statuses), "unparseable rate",
            "breakdown"]
    return section(
        "verdicts",
        "Verdict status",
        '<p class="note">How many verdicts each judge returned per stratum. Parse errors and '
        "errors are counted, never dropped silently; an item with no verdict row is missing. "
        f"Bar: {legend}</p>" + table(head, rows, num_cols=set(range(2, len(statuses) + 4))),
    )

"""The compact markdown summary (summary.md) of an audit."""

from __future__ import annotations

from judgeaudit.report.conclusions import conclusions_markdown
from judgeaudit.report.annotators import annotator_markdown
from judgeaudit.report.common import (
    HEADLINE_METRICS,
    METRIC_LABELS,
    MIN_STRATUM_ITEMS,
    Footnotes,
    banner_markdown,
    check_audit,
    dig,
    fmt_count,
    fmt_num,
    identical_judges,
    identical_note,
    is_num,
    judge_ids,
    metric_view,
    strata_of,
    weights_note,
)

__all__ = ["render_markdown", "md_escape"]

_MD_SPECIAL = str.maketrans(
    {
        "\\": "\\\\",
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "|": "\\|",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "[": "\\[",
        "]": "\\]",
        "\r": " ",
        "\n": " ",
    }
)


MAX_FLIPS_SHOWN = 12

def md_escape(value) -> str:
    """Escape data text for markdown: no raw HTML, no table-breaking pipes, no emphasis."""
    return str(value).translate(_MD_SPECIAL)


def _metric(m, notes: Footnotes, *, ci: bool = True, missing: str = "not reported") -> str:
    view = metric_view(m, missing=missing)
    if view.defined:
        return view.text(ci=ci)
    return f"undefined (note {notes.add(view.reason or 'no reason given')})"


def _table(head, rows, *, right=()) -> list[str]:
    out = ["| " + " | ".join(head) + " |"]
    out.append("|" + "|".join("---:" if i in right else "---" for i in range(len(head))) + "|")
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out + [""]


def _unparseable(verdicts: dict, notes: Footnotes) -> str:
    rate = (verdicts or {}).get("unparseable_rate")
    if isinstance(rate, dict):
        return _metric(rate, notes, ci=False)
    if is_num(rate):
        return fmt_num(rate)
    return f"undefined (note {notes.add('unparseable rate not reported')})"


def render_markdown(audit: dict, *, stress: dict | None = None) -> str:
    """Render a compact markdown summary of an audit dict.

    Holds the headline table, Cohen's kappa per coherence stratum (with the human
    ceiling), Kendall tau and the ranking flips, and the notes explaining undefined
    values.  Data text is escaped (``<``, ``>``, ``|`` and emphasis characters), so the
    summary contains no raw HTML from the data.

    Raises
    ------
    judgeaudit.errors.ValidationError
        If ``audit`` is not an audit dict of a schema this report knows.
    """
    check_audit(audit)
    notes = Footnotes()
    meta = audit.get("meta") or {}
    task = meta.get("task") or {}
    ref = meta.get("reference") or {}
    same = identical_judges(audit)
    judges = [j for j in judge_ids(audit) if j not in same]
    strata_list = strata_of(audit)
    e = md_escape

    def listed(v) -> str:
        return e(", ".join(map(str, v))) if isinstance(v, (list, tuple)) else e(v or "not stated")

    conf = meta.get("confidence")
    lines = [
        f"# Judge audit: {e(meta.get('dataset', 'audit'))}",
        "",
        *banner_markdown(e(meta.get("banner") or "")),
        *([f"- Shown once: {e(identical_note(same, meta.get('n_items')))}"] if same else []),
        f"- Items: {fmt_count(meta.get('n_items'))}; task: {e(task.get('field', 'not stated'))} "
        f"(positive: {listed(task.get('positive'))}; negative: {listed(task.get('negative'))})",
        f"- Reference: {e(ref.get('rule', 'not stated'))} vote, ties {e(ref.get('tie_policy', 'not stated'))}; "
        f"{fmt_count(ref.get('n_resolved'))} resolved, {fmt_count(ref.get('n_unresolved'))} unresolved, "
        f"{fmt_count(ref.get('n_no_label'))} without a human label",
        f"- Strata: {listed(meta.get('strata'))} (source: {e(meta.get('strata_source', 'not stated'))})",
        f"- Intervals: {fmt_count(meta.get('n_boot'))} bootstrap resamples, seed "
        f"{fmt_count(meta.get('seed'))}"
        + (f", {float(conf) * 100:g}% level" if is_num(conf) else "")
        + (f", clustered by {e(meta['cluster_key'])}" if meta.get("cluster_key") else ""),
        *([f"- Weighting: {e(weights_note(meta))}"] if weights_note(meta) else []),
        "",
        "## Headline",
        "",
    ]
    metrics = HEADLINE_METRICS
    if judges:
        rows = []
        for j in judges:
            jd = audit["judges"].get(j) or {}
            verdicts = dig(jd, "verdicts", "overall", default={})
            rows.append(
                [e(j), fmt_count(verdicts.get("n_items")),
                 *(_metric(dig(jd, "overall", m), notes) for m in metrics),
                 _unparseable(verdicts, notes)]
            )
        lines += _table(["judge", "items", *(METRIC_LABELS[m] for m in metrics), "unparseable"],
                        rows, right=set(range(1, 8)))
    else:
        lines += ["The audit holds no judges.", ""]

    lines += ["## Cohen's \u03ba by coherence stratum", ""]
    scopes = ["overall", *strata_list]
    rows = []
    small = {s: n for s in strata_list if isinstance(n := dig(audit, "reference", "strata", s, "n"), int)
             and n < MIN_STRATUM_ITEMS}
    for j in judges:
        jd = audit["judges"].get(j) or {}
        rows.append([e(j)] + [
            _metric(None, notes, missing=f"only {small[s]} items in this stratum: too few for a figure "
                                         f"(at least {MIN_STRATUM_ITEMS})") if s in small else
            _metric(dig(jd, "overall", "cohen_kappa") if s == "overall"
                    else dig(jd, "strata", s, "cohen_kappa"), notes,
                    missing="metric not reported for this stratum")
            for s in scopes
        ])
    ceiling = audit.get("human_ceiling")
    if isinstance(ceiling, dict):
        def ceiling_alpha(scope: str):
            entry = ceiling.get("overall") if scope == "overall" else dig(ceiling, "strata", scope)
            return entry.get("krippendorff_alpha") if isinstance(entry, dict) else None

        rows.append(["human ceiling (\u03b1)"] + [
            _metric(ceiling_alpha(s), notes, missing="no multiply-labelled items in this stratum")
            for s in scopes
        ])
    if rows:
        lines += _table(["judge", *(e(s) for s in scopes)], rows, right=set(range(1, len(scopes) + 1)))
    if not isinstance(ceiling, dict):
        lines += ["No human ceiling: no items were labelled by two or more annotators.", ""]

    lines += ["## Conclusion robustness", ""]
    rob = audit.get("robustness")
    if not isinstance(rob, dict):
        lines += ["Not computed: it needs at least two groups with human labels.", ""]
    else:
        groups = rob.get("groups") or []
        lines += [f"Groups ({e(rob.get('group_key', 'group'))}): {listed(groups)}", ""]
        if isinstance(rob.get("groups_left_out"), dict):
            lo = rob["groups_left_out"]
            lines += [f"{lo.get('n_groups')} smaller groups ({lo.get('n_items')} items) are left out: "
                      f"{e(lo.get('reason', ''))}.", ""]
        def ranked(order) -> str:
            return " \u00b7 ".join(f"{i + 1}. {e(g)}" for i, g in enumerate(order))

        human_rank = dig(rob, "rankings", "human")
        if isinstance(human_rank, list):
            lines += [f"- human ranking: {ranked(human_rank)}"]
        taus = rob.get("kendall_tau") or {}
        for j in [j for j in judges if j in taus or j in (rob.get("rankings") or {})]:
            rank = dig(rob, "rankings", j)
            rank_txt = ranked(rank) if isinstance(rank, list) else "not reported"
            lines.append(f"- {e(j)}: ranking {rank_txt}; Kendall \u03c4 vs human "
                         f"{_metric(taus.get(j), notes, missing='Kendall tau not reported')}")
        lines.append("")
        flips = [f for f in rob.get("flips") or [] if isinstance(f, dict)]
        if flips:
            # Confident flips (both intervals exclude 0) first, then the largest reversals.
            flips.sort(key=lambda f: (not f.get("confident"),
                                      -(abs(f.get("human_diff") or 0) + abs(f.get("judge_diff") or 0))))
            shown = flips[:MAX_FLIPS_SHOWN]
            n_conf = sum(bool(f.get("confident")) for f in flips)
            lines += [f"Flipped pairs: {len(flips)}, of which {n_conf} confident (both differences' "
                      "intervals exclude 0). Order under the judge is the reverse of the human order; "
                      "differences are rate(a) \u2212 rate(b)"
                      + (f"; the {len(shown)} largest are shown, all are in report.html:" if len(shown) < len(flips)
                         else ":"), ""]
            lines += _table(
                ["judge", "group a", "group b", "human a \u2212 b", "judge a \u2212 b", "confident"],
                [[e(f.get("judge", "")), e(f.get("a", "")), e(f.get("b", "")),
                  fmt_num(f.get("human_diff")), fmt_num(f.get("judge_diff")),
                  "yes" if f.get("confident") else "no"] for f in shown],
                right={3, 4},
            )
        else:
            lines += ["No ranking flips: every judge orders every pair of groups as the humans do.",
                      ""]
        lines += conclusions_markdown(rob, e)

    lines += annotator_markdown(audit, e)

    ex = audit.get("examples")
    if isinstance(ex, dict) and ex:
        counts = ", ".join(f"{e(j)}: {len(v or [])}" for j, v in ex.items())
        lines += [f"Example disagreements in report.html ({counts}).", ""]

    lines += ["## Notes", ""]
    noted = [f"{i}. undefined: {e(r)}" for i, r in notes.items()]
    extra = []
    n_unres = ref.get("n_unresolved")
    if is_num(n_unres) and n_unres > 0:
        extra.append(f"- {int(n_unres)} items had no majority human label and are left out.")
    if isinstance(audit.get("notes"), (list, tuple)):
        extra += [f"- {e(n)}" for n in audit["notes"] if n is not None]
    lines += noted + ([""] if noted else []) + extra
    if not noted and not extra:
        lines.append("Nothing to note.")
    if stress is not None:
        from judgeaudit.stress.report import render_stress_markdown

        lines += ["", render_stress_markdown(stress, heading="##")]
    return "\n".join(lines).rstrip() + "\n"

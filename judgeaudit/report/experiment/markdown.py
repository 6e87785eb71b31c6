"""The experiment report as markdown: the HTML page's tables in text.

Data text is escaped with :func:`judgeaudit.report.markdown.md_escape` (no raw HTML,
no table-breaking pipes, no emphasis).
"""

from __future__ import annotations

from judgeaudit.report.common import Footnotes, banner_markdown, fmt_num
from judgeaudit.report.markdown import md_escape as e

from .persona import persona_markdown

__all__ = ["render_experiment_markdown", "MAX_ROWS"]

MAX_ROWS = 40


class _Text:
    def __init__(self):
        self.notes = Footnotes()

    def est(self, x, *, n: bool = True) -> str:
        if not isinstance(x, dict) or x.get("value") is None:
            reason = x.get("undefined") if isinstance(x, dict) else None
            return f"undefined (note {self.notes.add(reason or 'not computed')})"
        lo, hi = x.get("ci") or [None, None]
        out = fmt_num(x["value"]) + ("" if lo is None or hi is None else f" [{fmt_num(lo)}, {fmt_num(hi)}]")
        return out + (f" (n={x.get('n')})" if n else "")


def _diff(d) -> str:
    if not isinstance(d, dict) or d.get("value") is None:
        return "undefined"
    lo, hi = d.get("ci") or [None, None]
    return f"{d['value']:+.3f}" + ("" if lo is None or hi is None else f" [{lo:+.3f}, {hi:+.3f}]")


def _table(head, rows, right=()) -> list[str]:
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join("---:" if i in right else "---" for i in range(len(head))) + "|"]
    return out + ["| " + " | ".join(r) + " |" for r in rows] + [""]


def _ranked(rk) -> str:
    return " \u00b7 ".join(f"{i + 1}. {e(o)} {fmt_num(rk['rates'][o]['value'])}" for i, o in enumerate(rk["ranking"]))


def _flips(t: list, flips, first, second) -> list[str]:
    shown = sorted(flips, key=lambda f: not f["confident"])[:MAX_ROWS]
    rows = [[str(f["budget_tokens"]), e(f["a"]), e(f["b"]), e(first(f)), _diff(f["diff_1"]), e(second(f)),
             _diff(f["diff_2"]), "yes" if f["confident"] else "no"] for f in shown]
    out = _table(["budget", "a", "b", "under", "rate a \u2212 b", "versus", "rate a \u2212 b", "confident"], rows,
                 right={0, 4, 6})
    if len(flips) > len(shown):
        out += [f"{len(flips) - len(shown)} more in experiment.json.", ""]
    return out


def _slice(s) -> str:
    return f"{s['prompt_set']} / {s['attack']}"


def render_experiment_markdown(report: dict) -> str:
    """Render the experiment report dict as markdown text."""
    t = _Text()
    meta = report.get("meta") or {}
    fr = report["frontier"]
    left = "; ".join(f"{d['judge_id']} ({d['reason']})" for d in report.get("judges_left_out") or []) or "none"
    same = "; ".join(f"{j}: identical to {k} on every item" for j, k in (report.get("identical_judges") or {}).items())
    lines = [f"# Experiment report: {e(meta.get('experiment') or 'experiment')}", "",
             *banner_markdown(e(meta.get("banner") or "")),
             *([f"- Shown once: {e(same)}"] if same else []),
             f"- Checkpoints: {len(report.get('checkpoints') or [])}; objectives: "
             f"{e(', '.join(report.get('objectives') or []))}; budgets (tokens): "
             f"{', '.join(str(b) for b in report.get('budgets') or [])}",
             f"- Harmfulness judges: {e(', '.join(report.get('judges') or []) or 'none')}; left out: {e(left)}",
             f"- Capability: {e(fr.get('capability_note') or 'none')}",
             f"- Intervals: {meta.get('n_boot')} resamples, seed {meta.get('seed')}, "
             f"{float(meta.get('confidence', 0.95)) * 100:g}% level; {e(meta.get('interval_method', ''))}",
             "", "## Headline", ""]
    lines += [f"- {e(x)}" for x in report.get("headline") or []] or ["Nothing stands out."]
    lines += ["", "## Safety-capability frontier", "", f"{e(fr.get('population', ''))}. {e(fr.get('rule', ''))}.", ""]
    for rater in fr["raters"]:
        lines += [f"### {e(rater)}", ""]
        rows = []
        for q in fr["points"][rater]:
            on = q["on_frontier"]
            rows.append([e(q["checkpoint_id"]), e(q["objective"]), str(q["budget_tokens"]), t.est(q["harmful_rate"]),
                         t.est(q["capability"]), "yes" if on else "no" if on is not None else "not placed"])
        lines += _table(["checkpoint", "objective", "budget", "harmful rate", "capability", "on frontier"], rows,
                        right={2, 3, 4})
    if fr.get("membership") is not None:
        if fr["differences"]:
            lines += ["Where the frontier differs:", ""]
            lines += _table(["rater a", "rater b", "only under a", "only under b"],
                            [[e(d["a"]), e(d["b"]), e(", ".join(d["only_a"]) or "none"),
                              e(", ".join(d["only_b"]) or "none")] for d in fr["differences"]])
        else:
            lines += ["The frontier holds the same checkpoints under every rater.", ""]

    fj = report["flips"]["across_judges"]
    lines += ["## Rankings of the objectives", "", f"Order: {e(fj['order'])}.", ""]
    lines += _table(["budget", "rater", "ranking (rate)"],
                    [[str(rk["budget_tokens"]), e(rk["rater"]), _ranked(rk)] for rk in fj["rankings"]], right={0}) \
        if fj["rankings"] else ["No budget has two or more objectives to rank.", ""]
    lines += ["## Flips across judges", "", f"{fj['n_flips']} flip(s), {fj['n_confident']} confident (both "
              "differences' intervals exclude 0 with opposite signs).", ""]
    if fj["flips"]:
        lines += _flips(t, fj["flips"], lambda f: f["rater_1"], lambda f: f["rater_2"])
    fs = report["flips"]["across_prompt_sets"]
    lines += ["## Flips across prompt sets", "", f"{fs['n_flips']} flip(s), {fs['n_confident']} confident.", ""]
    if fs.get("reason"):
        lines += [e(fs["reason"]), ""]
    elif fs["flips"]:
        lines += _flips(t, fs["flips"], lambda f: f"{f['judge']}: {_slice(f['slice_1'])}",
                        lambda f: _slice(f["slice_2"]))

    inc = report["incoherence"]
    lines += ["## Incoherence", ""]
    if not inc["scorers"]:
        lines += [e(inc.get("reason") or "No coherence scores."), ""]
    for s in inc["scorers"]:
        lines += [f"### {e(s)}", ""]
        lines += _table(["objective", "budget", "incoherent", "partially coherent"],
                        [[e(c["objective"]), str(c["budget_tokens"]), t.est(c["incoherent"]),
                          t.est(c["partially_coherent"])] for c in inc["by_scorer"][s]["cells"]], right={1, 2, 3})

    d = report["disagreement"]
    lines += ["## Judge disagreement", ""]
    if not d.get("pairs"):
        lines += [e(d.get("reason") or "Not computed."), ""]
    else:
        pairs = [f"{a} / {b}" for a, b in d["pairs"]]
        lines += [f"Mean pairwise disagreement; {e(d['population'])}.", ""]
        lines += _table(["objective", "budget", "mean", *(e(x) for x in pairs)],
                        [[e(c["objective"]), str(c["budget_tokens"]), t.est(c["mean"]),
                          *(t.est(q["rate"], n=False) for q in c["pairs"])] for c in d["cells"]],
                        right=set(range(1, 3 + len(pairs))))
        lines += _table(["budget", "mean disagreement (pooled over objectives)"],
                        [[str(b["budget_tokens"]), t.est(b["mean"])] for b in d["budgets"]], right={0, 1})
        tr = d["trend"]
        lm = tr.get("last_minus_first")
        rows = [["all checkpoints", t.est(tr["spearman"]),
                 f"{_diff(lm)} ({lm['last']} vs {lm['first']})" if lm else "undefined"]]
        for o, x in tr["by_objective"].items():
            lm = x.get("last_minus_first")
            rows.append([e(o), t.est(x["spearman"]), f"{_diff(lm)} ({lm['last']} vs {lm['first']})" if lm
                         else "undefined"])
        lines += [f"Trend: {e(tr['method'])}.", ""]
        lines += _table(["scope", "Spearman rho", "last \u2212 first budget"], rows, right={1, 2})
        bc = d.get("by_coherence")
        if bc:
            lines += [f"By coherence bin of {e(bc['scorer'])}:", ""]
            bins = [b for b in bc["bins"] if b != "unscored" or bc["pooled"][b]["value"] is not None]
            rows = [["all", "all", *(t.est(bc["pooled"][b]) for b in bins)]]
            rows += [[e(c["objective"]), str(c["budget_tokens"]), *(t.est(c[b]) for b in bins)]
                     for c in bc["cells"]]
            lines += _table(["objective", "budget", *bins], rows, right=set(range(1, 2 + len(bins))))

    lines += persona_markdown(report.get("persona") or {})
    lines += ["## Verdict status", ""]
    keys = ("n_items", "votes", "ok_no_vote", "parse_error", "error", "missing")
    rows = [[e(j), e(ck), *(str(c.get(k, 0)) for k in keys)]
            for j, per in (report.get("verdict_status") or {}).items() for ck, c in per.items()]
    lines += _table(["judge", "checkpoint", "items", "votes", "ok, no vote", "parse error", "error", "missing"], rows,
                    right=set(range(2, 8)))
    if report.get("stress"):
        from judgeaudit.stress.report import render_stress_markdown

        lines += [render_stress_markdown(report["stress"], heading="##"), ""]
    lines += ["## Notes", ""]
    lines += [f"- {e(n)}" for n in report.get("notes") or []]
    lines += [f"{i}. undefined: {e(r)}" for i, r in t.notes.items()]
    return "\n".join(lines).rstrip() + "\n"

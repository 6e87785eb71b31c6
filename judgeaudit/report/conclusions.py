"""Which conclusions hold under every judge, and what the corrected rates are: the
report's text for ``robustness.conclusions`` and ``robustness.correction``."""

from __future__ import annotations

from judgeaudit.report.common import esc, fmt_num, is_num
from judgeaudit.report.html_base import empty, table

__all__ = ["CORRECTION_TEXT", "correction_caption", "headline_rows", "conclusions_html",
           "conclusions_markdown"]

CORRECTION_TEXT = {
    "double-sampling": "double sampling: within each group, the share of items in every judge verdict x "
                       "coherence stratum cell (known, the judge scored every item) times the humans' "
                       "harmful share among that cell's labelled items (Tenenbein 1970)",
    "double-sampling-pooled": "double sampling with each verdict x stratum cell's human share pooled over groups",
    "stratified-rogan-gladen": "Rogan-Gladen within each coherence stratum, (p + Sp - 1) / (Se + Sp - 1) with "
                               "the stratum's own sensitivity and specificity, recombined with the group's "
                               "stratum shares",
    "pooled-rogan-gladen": "Rogan-Gladen with sensitivity and specificity pooled over strata (biased when "
                           "groups differ in their share of incoherent outputs)",
}


def _all_labelled(rob: dict, est: str) -> bool:
    """True when double sampling rests, in every group, on labels for all its scored items:
    the corrected rate is then the humans' rate whatever the judge says."""
    if est != "double-sampling":
        return False
    rates = [r for per in (rob.get("corrected_rates") or {}).values() for r in (per or {}).values()
             if isinstance(r, dict) and is_num(r.get("value"))]
    return bool(rates) and all(is_num(r.get("n_labelled")) and is_num(r.get("n"))
                               and r["n_labelled"] >= r["n"] for r in rates)


def correction_caption(rob: dict) -> str:
    meta = rob.get("correction") or {}
    est = str(meta.get("estimator", "pooled-rogan-gladen"))
    text = (f"Corrected rate: {CORRECTION_TEXT.get(est, est)}. Intervals carry the calibration labels' "
            "uncertainty (cluster bootstrap). A Rogan-Gladen correction is refused, with the reason, "
            "where the judge is too close to chance (the lower bound of sensitivity + specificity - 1 "
            "is below 0.1).")
    if _all_labelled(rob, est):
        text += (" Here every scored item is human-labelled, so each judge's corrected rate is the "
                 "humans' rate and the conclusions under corrected rates say nothing about the judges; "
                 "the line on the judges' uncorrected rates shows where a judge would have misled.")
    return text


def headline_rows(rob: dict, *, uncorrected: bool = False):
    """``(holds, flips)``: rows of text cells for the two headline lists."""
    con = rob.get("conclusions") or {}
    head = ((con.get("uncorrected") or {}) if uncorrected else con).get("headline") or {}
    holds = []
    for h in head.get("hold_under_every_judge") or []:
        hi, lo = (h["a"], h["b"]) if h.get("order") == "a>b" else (h["b"], h["a"])
        holds.append([str(hi), str(lo), ", ".join(map(str, h.get("raters") or []))])
    flips = []
    for f in head.get("flip_with_the_judge") or []:
        hi, lo = (f["a"], f["b"]) if f.get("order") == "a>b" else (f["b"], f["a"])
        flips.append([str(hi), str(lo), ", ".join(f.get("supported_by") or []),
                      ", ".join(f.get("reversed") or []) or "-", ", ".join(f.get("not_supported") or []) or "-"])
    return holds, flips


_HOLD_HEAD = ["higher rate", "lower rate", "under (every rater with an estimate)"]
_FLIP_HEAD = ["higher rate", "lower rate", "supported by", "reversed by", "not supported by"]


def _intro(rob: dict) -> str:
    con = rob.get("conclusions") or {}
    level = con.get("level", 0.95)
    return (f"A conclusion \"group A has a higher harmful rate than group B\" holds under a rater (the humans, "
            f"or a judge's corrected rate) when the {level:.0%} interval of the difference (paired bootstrap, "
            "never narrower than Newcombe's interval from the two rates' own intervals) excludes 0 on the "
            "side of the point difference.")


def conclusions_html(rob: dict) -> str:
    if not isinstance(rob.get("conclusions"), dict):
        return ""
    holds, flips = headline_rows(rob)
    out = ["<h3>Which conclusions hold</h3>", f'<p class="note">{esc(_intro(rob))}</p>',
           "<h4>Hold under every judge and the humans</h4>"]
    out.append(table(_HOLD_HEAD, [[esc(c) for c in r] for r in holds]) if holds
               else empty("No order of two groups holds at this level under every rater."))
    out.append("<h4>Flip with the judge</h4>")
    out.append(table(_FLIP_HEAD, [[esc(c) for c in r] for r in flips]) if flips
               else empty("No order supported by one rater is reversed or unsupported by another."))
    out.append(f'<p class="note">{esc(_uncorrected_line(rob))}</p>')
    return "".join(out)


def _uncorrected_line(rob: dict) -> str:
    holds, flips = headline_rows(rob, uncorrected=True)
    return (f"With the judges' uncorrected rates instead: {len(holds)} order(s) hold under every judge "
            f"and the humans, {len(flips)} flip with the judge.")


def conclusions_markdown(rob: dict, escape) -> list[str]:
    lines = []
    corr = rob.get("corrected_rates") or {}
    if corr:
        lines += ["### Corrected harmful rates", "", correction_caption(rob), ""]
        groups = [str(g) for g in rob.get("groups") or []]
        judges = sorted(corr)
        rows = []
        for g in groups:
            row = [escape(g), _cell(((rob.get("rates") or {}).get("human") or {}).get(g))]
            row += [_cell((corr.get(j) or {}).get(g)) for j in judges]
            rows.append(row)
        lines += _md_table(["group", "human", *(escape(j) for j in judges)], rows)
    if isinstance(rob.get("conclusions"), dict):
        holds, flips = headline_rows(rob)
        lines += ["### Which conclusions hold", "", _intro(rob), ""]
        lines += [f"Hold under every judge and the humans: {len(holds)}."
                  + ("" if holds else " (none at this level)"), ""]
        if holds:
            lines += _md_table(_HOLD_HEAD, [[escape(c) for c in r] for r in holds])
        lines += [f"Flip with the judge: {len(flips)}." + ("" if flips else " (none)"), ""]
        if flips:
            lines += _md_table(_FLIP_HEAD, [[escape(c) for c in r] for r in flips])
        lines += [_uncorrected_line(rob), ""]
    return lines


def _cell(r) -> str:
    if not isinstance(r, dict):
        return "-"
    if not is_num(r.get("value")):
        return "refused" if "chance" in str(r.get("undefined") or "") else "undefined"
    txt = fmt_num(r["value"])
    if is_num(r.get("ci_low")) and is_num(r.get("ci_high")):
        txt += f" [{fmt_num(r['ci_low'])}, {fmt_num(r['ci_high'])}]"
    return txt


def _md_table(head, rows) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out + [""]

"""The stress test's outputs: stress.json, stress.md and a self-contained stress.html.

:func:`render_stress_markdown` and :func:`render_stress_section` (an HTML fragment) are
also what the audit and experiment reports embed.  Answers and judge outputs are shown
as escaped text, never rendered as HTML or markdown.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from judgeaudit.atomic import write_text_atomic
from judgeaudit.errors import ValidationError

__all__ = ["FILE_NAMES", "read_stress", "render_stress_html", "render_stress_markdown", "render_stress_section",
           "stress_to_json", "write_stress"]

ARROW = " \u2192 "
FILE_NAMES = {"json": "stress.json", "markdown": "stress.md", "html": "stress.html"}


def stress_to_json(result: dict) -> str:
    """The result as indented JSON; NaN and infinity are refused (the result uses None)."""
    try:
        return json.dumps(result, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    except ValueError as exc:
        raise ValidationError(f"the stress result holds a value JSON cannot: {exc}") from None


def read_stress(path) -> dict:
    """A stress.json written by :func:`write_stress` (or ``judgeaudit stress``), checked.

    Raises :class:`~judgeaudit.errors.ValidationError` naming the file when it cannot be
    read or is not a stress result.
    """
    path = Path(path)
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationError(f"cannot read the stress result ({exc}); give the stress.json that "
                              "judgeaudit stress wrote", path=path) from None
    try:
        _check(result)
    except ValidationError as exc:
        raise ValidationError(exc.message, path=path) from None
    return result


def _check(result) -> None:
    if not isinstance(result, dict) or not str(result.get("schema", "")).startswith("judgeaudit.stress/"):
        raise ValidationError("expected the dict judgeaudit.stress.run_stress returns (schema judgeaudit.stress/1)")


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _rate(rate: dict) -> str:
    """``12.3% [8.1, 17.9]``."""
    if rate.get("value") is None:
        return f"undefined ({rate.get('undefined') or 'no pairs'})"
    return f"{_pct(rate['value'])} [{100 * rate['ci_low']:.1f}, {100 * rate['ci_high']:.1f}]"


def _md_text(text, limit: int = 160) -> str:
    """Model text for a markdown table cell: escaped, one line, pipes and backticks neutralised."""
    text = "" if text is None else str(text)
    text = text if len(text) <= limit else text[:limit] + "..."
    text = html.escape(" ".join(text.split()), quote=False)
    return text.replace("|", "\\|").replace("`", "&#96;").replace("*", "\\*").replace("_", "\\_") \
        .replace("[", "\\[").replace("]", "\\]")


def _directions(r: dict) -> str:
    return ", ".join(f"{k.replace(' -> ', ARROW)}: {v}" for k, v in r["directions"].items() if v) or "none"


def _conf(result: dict) -> str:
    return f"{round(100 * result['confidence'])}%"


def render_stress_markdown(result: dict, *, heading: str = "##") -> str:
    """The stress test as a markdown section (ranking, flip rates, examples)."""
    _check(result)
    out = [f"{heading} Stress test: verdict flips when only the form of an answer changes", ""]
    items = result["items"]
    out.append(f"{items['perturbed']} perturbed answers made from {items['perturbed_originals']} labelled "
               f"answers ({result['dataset']}); each change keeps the label people gave "
               f"({result['task']['field']}). Flip rate = share of pairs whose verdict changed, with "
               f"{_conf(result)} intervals (Wilson on the design-effect sample size, "
               f"clusters: {result['cluster_key'] or 'none'}).")
    out.append("")
    if result["ranking"]:
        out += [f"{heading}# Judges by robustness (lowest pooled flip rate first)", "",
                "| rank | judge | flip rate | flips / pairs | worst perturbation |",
                "|---:|---|---|---:|---|"]
        for r in result["ranking"]:
            worst = f"{r['worst_perturbation']} ({_pct(r['worst_flip_rate'])})" if r["worst_perturbation"] else "n/a"
            out.append(f"| {r['rank']} | {_md_text(r['judge_id'])} | {_rate(r['flip_rate'])} | "
                       f"{r['flips']} / {r['compared']} | {_md_text(worst)} |")
        out.append("")
        out.append("Adjacent ranks whose intervals overlap are not shown to differ.")
        out.append("")
    if result["results"]:
        out += [f"{heading}# Flip rate per judge and perturbation", "",
                "| judge | perturbation | flip rate | flips / pairs | direction | errors made / undone | failed |",
                "|---|---|---|---:|---|---|---:|"]
        for r in result["results"]:
            errors = "n/a" if r["errors_made"] is None else f"{r['errors_made']} / {r['errors_undone']}"
            out.append(f"| {_md_text(r['judge_id'])} | {_md_text(r['perturbation'])} | {_rate(r['flip_rate'])} | "
                       f"{r['flips']} / {r['compared']} | {_md_text(_directions(r))} | {errors} | "
                       f"{r['failed_original'] + r['failed_perturbed']} |")
        out.append("")
    if result["examples"]:
        out += [f"{heading}# Examples of flipped verdicts", "",
                "| judge | perturbation | label | verdict | original | perturbed |", "|---|---|---|---|---|---|"]
        for e in result["examples"]:
            out.append(f"| {_md_text(e['judge_id'])} | {_md_text(e['perturbation'])} | {_md_text(e['label'])} | "
                       f"{_md_text(e['verdict_before'])}{ARROW}{_md_text(e['verdict_after'])} | "
                       f"{_md_text(e['original'])} | {_md_text(e['perturbed'])} |")
        out.append("")
    for note in result.get("notes", []):
        out.append(f"- {_md_text(note, 400)}")
    return "\n".join(out).rstrip() + "\n"


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _table(head, rows) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def render_stress_section(result: dict) -> str:
    """The stress test as an HTML ``<section>`` (every text escaped)."""
    _check(result)
    items = result["items"]
    parts = [f'<section id="stress"><h2>Stress test: verdict flips when only the form of an answer changes</h2>',
             f"<p>{items['perturbed']} perturbed answers made from {items['perturbed_originals']} labelled answers "
             f"({_e(result['dataset'])}); each change keeps the label people gave ({_e(result['task']['field'])}). "
             f"Flip rate = share of pairs whose verdict changed, {_conf(result)} intervals (Wilson on the "
             f"design-effect sample size, clusters: {_e(result['cluster_key'] or 'none')}).</p>"]
    if result["ranking"]:
        parts.append("<h3>Judges by robustness</h3>")
        parts.append(_table(["rank", "judge", "flip rate", "flips / pairs", "worst perturbation"], [
            [str(r["rank"]), _e(r["judge_id"]), _e(_rate(r["flip_rate"])), f"{r['flips']} / {r['compared']}",
             _e(f"{r['worst_perturbation']} ({_pct(r['worst_flip_rate'])})" if r["worst_perturbation"] else "n/a")]
            for r in result["ranking"]]))
        parts.append("<p>Lowest pooled flip rate first; adjacent ranks whose intervals overlap are not "
                     "shown to differ.</p>")
    if result["results"]:
        parts.append("<h3>Flip rate per judge and perturbation</h3>")
        parts.append(_table(["judge", "perturbation", "flip rate", "flips / pairs", "direction",
                             "errors made / undone", "failed verdicts"], [
            [_e(r["judge_id"]), _e(r["perturbation"]), _e(_rate(r["flip_rate"])), f"{r['flips']} / {r['compared']}",
             _e(_directions(r)), "n/a" if r["errors_made"] is None else f"{r['errors_made']} / {r['errors_undone']}",
             str(r["failed_original"] + r["failed_perturbed"])] for r in result["results"]]))
    if result["examples"]:
        parts.append("<h3>Examples of flipped verdicts</h3>")
        parts.append(_table(["judge", "perturbation", "label", "verdict", "original", "perturbed"], [
            [_e(e["judge_id"]), _e(e["perturbation"]), _e(e["label"]),
             f"{_e(e['verdict_before'])} &rarr; {_e(e['verdict_after'])}",
             f"<pre>{_e(e['original'])}</pre>", f"<pre>{_e(e['perturbed'])}</pre>"] for e in result["examples"]]))
    if result.get("notes"):
        parts.append("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in result["notes"]) + "</ul>")
    parts.append("</section>")
    return "\n".join(parts)


_STYLE = ("body{font-family:system-ui,sans-serif;max-width:75rem;margin:2rem auto;padding:0 1rem}"
          "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .5rem;"
          "vertical-align:top;text-align:left}pre{white-space:pre-wrap;max-width:30rem;margin:0;font-size:.85em}")


def render_stress_html(result: dict) -> str:
    """A self-contained HTML page (no scripts, no external resources)."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            f"<title>judgeaudit stress test</title><style>{_STYLE}</style></head><body>\n"
            + render_stress_section(result) + "\n</body></html>\n")


def write_stress(result: dict, out_dir) -> dict[str, Path]:
    """Write stress.json, stress.md and stress.html into ``out_dir`` (atomically)."""
    _check(result)
    out = Path(out_dir)
    text = stress_to_json(result)
    return {"json": write_text_atomic(out / FILE_NAMES["json"], text),
            "markdown": write_text_atomic(out / FILE_NAMES["markdown"], render_stress_markdown(result)),
            "html": write_text_atomic(out / FILE_NAMES["html"], render_stress_html(result))}

"""Small HTML building blocks shared by the report's sections."""

from __future__ import annotations

from judgeaudit.report.common import Footnotes, MetricView, esc, fmt_count, is_num

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  margin: 0; color: #1d1d1f; background: #fff; line-height: 1.45; font-size: 15px; }
main { max-width: 1120px; margin: 0 auto; padding: 18px 28px 60px; }
h1 { font-size: 1.6em; margin: 0.4em 0 0.2em; }
h2 { font-size: 1.25em; margin: 2em 0 0.5em; padding-bottom: 4px; border-bottom: 2px solid #d0d7de; }
h3 { font-size: 1.05em; margin: 1.4em 0 0.4em; }
nav.toc { font-size: 0.9em; margin: 0.6em 0 1em; }
nav.toc a { margin-right: 0.9em; color: #0b5cad; white-space: nowrap; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 3px 18px; margin: 0.6em 0; }
dl.meta dt { font-weight: 600; color: #444; }
dl.meta dd { margin: 0; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.92em; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f1f3f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.undef { color: #6e6e6e; font-style: italic; text-decoration: underline dotted; cursor: help; }
.v { cursor: help; }
sup.fn a { color: #0b5cad; text-decoration: none; font-size: 0.85em; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 50%;
  margin-right: 6px; vertical-align: baseline; }
.note { color: #555; font-size: 0.92em; margin: 0.3em 0 0.8em; }
.empty { color: #555; background: #f6f8fa; border-left: 4px solid #b0b7bf; padding: 8px 12px; }
figure { margin: 0.6em 0 1.4em; overflow-x: auto; }
figcaption { color: #555; font-size: 0.9em; margin-top: 2px; }
svg.plot { max-width: 100%; height: auto; display: block; }
.cm-grid { display: flex; flex-wrap: wrap; gap: 10px 18px; }
.cm-grid table { margin: 0; font-size: 0.85em; }
.cm-grid caption { font-weight: 600; font-size: 0.9em; text-align: left; padding-bottom: 2px; }
small.ci { color: #555; font-size: 0.82em; }
td.cm { text-align: center; min-width: 58px; font-variant-numeric: tabular-nums; }
.bar { display: flex; width: 160px; height: 12px; background: #eee; margin-top: 3px; }
.bar span { display: block; height: 100%; }
td.warn { background: #fff1e5; }
.example { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 12px; margin: 10px 0; }
.example .ex-meta { font-size: 0.88em; color: #444; margin-bottom: 4px; }
.example .ex-meta code { background: #f1f3f5; padding: 0 4px; border-radius: 3px; }
.example h4 { margin: 6px 0 2px; font-size: 0.85em; color: #555; text-transform: uppercase;
  letter-spacing: 0.04em; }
pre.text { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f8fa;
  border: 1px solid #e1e4e8; padding: 6px 10px; margin: 0; max-height: 16em; overflow-y: auto;
  font-size: 0.88em; }
ol.footnotes li { margin: 2px 0; }
footer { margin-top: 3em; color: #777; font-size: 0.85em; }
"""


def cell(view: MetricView, notes: Footnotes, *, ci: bool = True, stacked: bool = False) -> str:
    """A metric value for a table cell: value [interval], or "undefined" with its reason.

    ``stacked`` puts the interval on a second, smaller line (for wide tables).
    """
    if view.defined:
        if stacked and ci and view.has_interval:
            interval = view.text(ci=True)[len(view.text(ci=False)) + 1:]
            return (
                f'<span class="v" title="{esc(view.detail)}">{esc(view.text(ci=False))}'
                f'<br><small class="ci">{esc(interval)}</small></span>'
            )
        return f'<span class="v" title="{esc(view.detail)}">{esc(view.text(ci=ci))}</span>'
    return undefined(view.reason or "no reason given", notes)


def undefined(reason: str, notes: Footnotes) -> str:
    """The word "undefined" with the reason as tooltip and a numbered footnote."""
    n = notes.add(reason)
    return (
        f'<span class="undef" title="undefined: {esc(reason)}">undefined</span>'
        f'<sup class="fn"><a href="#fn-{n}">[{n}]</a></sup>'
    )


def count_cell(value, notes: Footnotes, *, reason: str = "count not reported") -> str:
    if is_num(value):
        return esc(fmt_count(value))
    return undefined(reason, notes)


def swatch(color: str) -> str:
    return f'<span class="swatch" style="background:{color}" aria-hidden="true"></span>'


def empty(message: str) -> str:
    return f'<p class="empty">{esc(message)}</p>'


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{esc(title)}</h2>{body}</section>'


def figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>"


def table(head, rows, *, num_cols=(), caption: str | None = None, cls: str = "") -> str:
    """An HTML table; ``head`` is escaped text, ``rows`` hold already-built cell HTML."""
    out = [f'<table class="{cls}">' if cls else "<table>"]
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    out.append(
        "<thead><tr>"
        + "".join(
            f'<th scope="col"{" class=num" if i in num_cols else ""}>{esc(h)}</th>'
            for i, h in enumerate(head)
        )
        + "</tr></thead><tbody>"
    )
    for row in rows:
        out.append(
            "<tr>"
            + "".join(
                f'<td{" class=num" if i in num_cols else ""}>{c}</td>' for i, c in enumerate(row)
            )
            + "</tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)

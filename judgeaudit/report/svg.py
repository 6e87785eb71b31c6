"""Inline SVG plots for the HTML report, written by hand (no plotting library).

Every piece of text that comes from data goes through :func:`esc`, also inside
``<text>`` and ``<title>`` elements.  Undefined values are drawn as the word
"undefined" with the reason in the element's ``<title>`` tooltip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from judgeaudit.report.common import HUMAN_COLOR, MetricView, esc, fmt_num

__all__ = ["PlotRow", "Reference", "interval_plot", "kappa_heatmap", "bump_chart"]

_FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"'
_CHAR_W = 7.3  # generous width of one 12px character (wide glyphs such as < > | w)


def _clip_text(text: str, max_chars: int) -> str:
    text = str(text)
    return text if len(text) <= max_chars else text[: max_chars - 1] + "\u2026"


def _f(x: float) -> str:
    return f"{x:.1f}"


@dataclass(frozen=True)
class PlotRow:
    """One dot-and-interval row."""

    label: str
    view: MetricView
    color: str
    marker: str = "circle"  # or "diamond" (human reference rows)
    note: int | None = None  # footnote number of the undefined reason


@dataclass(frozen=True)
class Reference:
    """A reference value drawn as a dashed line (and band) over one group of rows."""

    label: str
    view: MetricView


def nice_ticks(lo: float, hi: float) -> list[float]:
    span = hi - lo
    step = 0.1 if span <= 1.2 else 0.2 if span <= 2.4 else 0.5
    first = math.ceil(lo / step - 1e-9)
    ticks, k = [], first
    while k * step <= hi + 1e-9:
        ticks.append(round(k * step, 10))
        k += 1
    return ticks


def auto_domain(views, *, unit: bool) -> tuple[float, float]:
    """[0, 1] for rates; for agreement coefficients from below the lowest bound up to 1."""
    if unit:
        return 0.0, 1.0
    lows = [v.lo if v.lo is not None else v.value for v in views if v.value is not None]
    low = min([0.0, *lows])
    low = max(-1.0, math.floor(low * 5 - 1e-9) / 5)
    return low, 1.0


def legend_block(items, x: float, y: float, width: float) -> tuple[str, float]:
    """Legend entries laid out left to right, wrapping; returns (svg, height used)."""
    out, cx, cy = [], x, y
    for kind, color, label in items:
        w = 30 + len(label) * _CHAR_W + 18
        if cx + w > x + width and cx > x:
            cx, cy = x, cy + 18
        if kind == "diamond":
            out.append(_diamond(cx + 12, cy, 5, color))
        elif kind == "band":
            out.append(
                f'<rect x="{_f(cx + 2)}" y="{_f(cy - 6)}" width="20" height="12" '
                f'fill="{color}" fill-opacity="0.15"/>'
                f'<line x1="{_f(cx + 12)}" x2="{_f(cx + 12)}" y1="{_f(cy - 7)}" y2="{_f(cy + 7)}" '
                f'stroke="{color}" stroke-dasharray="3 2" stroke-width="1.5"/>'
            )
        else:
            out.append(
                f'<line x1="{_f(cx + 2)}" x2="{_f(cx + 22)}" y1="{_f(cy)}" y2="{_f(cy)}" '
                f'stroke="{color}" stroke-width="2"/>'
                f'<circle cx="{_f(cx + 12)}" cy="{_f(cy)}" r="4" fill="{color}"/>'
            )
        out.append(f'<text x="{_f(cx + 28)}" y="{_f(cy + 4)}">{esc(label)}</text>')
        cx += w
    return "".join(out), cy - y + 18


def _diamond(cx: float, cy: float, r: float, color: str) -> str:
    pts = f"{_f(cx)},{_f(cy - r)} {_f(cx + r)},{_f(cy)} {_f(cx)},{_f(cy + r)} {_f(cx - r)},{_f(cy)}"
    return f'<polygon points="{pts}" fill="{color}" stroke="white" stroke-width="0.8"/>'


def svg_open(width: float, height: float, label: str) -> str:
    return (
        f'<svg width="{int(width)}" height="{int(height)}" '
        f'viewBox="0 0 {int(width)} {int(height)}" role="img" aria-label="{esc(label)}" '
        f'{_FONT} font-size="12" class="plot"><title>{esc(label)}</title>'
    )


def interval_plot(
    groups,
    *,
    title: str,
    x_label: str,
    domain: tuple[float, float],
    legend,
    references=None,
    width: int = 780,
) -> str:
    """A dot-and-interval plot: rows grouped under group headings.

    Parameters
    ----------
    groups:
        ``[(group_label, [PlotRow, ...]), ...]``.
    title:
        Accessible name of the figure.
    x_label:
        Axis title.
    domain:
        ``(low, high)`` of the x axis; values outside are clipped to it.
    legend:
        ``[(kind, colour, label)]`` with kind "point", "diamond" or "band".
    references:
        ``{group_label: Reference}`` drawn as a dashed line with a shaded interval.
    """
    references = references or {}
    labels = [r.label for _, rows in groups for r in rows]
    label_w = min(270, max(130, 34 + _CHAR_W * max([len(x) for x in labels] or [8])))
    max_label = int((label_w - 34) / _CHAR_W)
    value_w = 175
    x0, x1 = label_w, width - value_w
    lo_d, hi_d = domain

    def sx(v: float) -> float:
        v = min(max(v, lo_d), hi_d)
        return x0 + (v - lo_d) / (hi_d - lo_d) * (x1 - x0)

    bands: list[str] = []
    body: list[str] = []
    legend_svg, legend_h = legend_block(legend, 8, 14, width - 16)
    y = 14 + legend_h + 20
    top = y
    body.append(
        f'<text x="{_f(x1 + 10)}" y="{_f(top - 6)}" fill="#555">value [interval]</text>'
    )
    for gi, (group, rows) in enumerate(groups):
        g_top = y
        n_rows = len(rows)
        g_h = 20 + 18 * n_rows
        if gi % 2 == 0:
            bands.append(
                f'<rect x="0" y="{_f(g_top)}" width="{width}" height="{_f(g_h)}" fill="#f4f6f8"/>'
            )
        body.append(
            f'<text x="8" y="{_f(y + 14)}" font-weight="600">{esc(_clip_text(group, 40))}'
            f"<title>{esc(group)}</title></text>"
        )
        ref = references.get(group)
        if ref is not None and ref.view.defined:
            rv = ref.view
            band = ""
            if rv.has_interval:
                band = (
                    f'<rect x="{_f(sx(rv.lo))}" y="{_f(g_top + 2)}" '
                    f'width="{_f(max(sx(rv.hi) - sx(rv.lo), 1))}" height="{_f(g_h - 4)}" '
                    f'fill="{HUMAN_COLOR}" fill-opacity="0.12"/>'
                )
            body.append(
                f'<g class="reference"><title>{esc(ref.label)}: {esc(rv.detail)}</title>{band}'
                f'<line x1="{_f(sx(rv.value))}" x2="{_f(sx(rv.value))}" y1="{_f(g_top + 2)}" '
                f'y2="{_f(g_top + g_h - 2)}" stroke="{HUMAN_COLOR}" stroke-width="1.5" '
                f'stroke-dasharray="4 3"/></g>'
            )
        y += 20
        for row in rows:
            cy = y + 9
            v = row.view
            tip = f"{row.label} \u2014 {group}: {v.detail}"
            parts = [f'<g class="row"><title>{esc(tip)}</title>']
            parts.append(
                f'<text x="20" y="{_f(cy + 4)}" fill="{row.color}">'
                f"{esc(_clip_text(row.label, max_label))}</text>"
            )
            if v.defined:
                if v.has_interval:
                    a, b = sx(v.lo), sx(v.hi)
                    parts.append(
                        f'<line x1="{_f(a)}" x2="{_f(b)}" y1="{_f(cy)}" y2="{_f(cy)}" '
                        f'stroke="{row.color}" stroke-width="2"/>'
                        f'<line x1="{_f(a)}" x2="{_f(a)}" y1="{_f(cy - 4)}" y2="{_f(cy + 4)}" '
                        f'stroke="{row.color}" stroke-width="1.5"/>'
                        f'<line x1="{_f(b)}" x2="{_f(b)}" y1="{_f(cy - 4)}" y2="{_f(cy + 4)}" '
                        f'stroke="{row.color}" stroke-width="1.5"/>'
                    )
                if row.marker == "diamond":
                    parts.append(_diamond(sx(v.value), cy, 5.5, row.color))
                else:
                    parts.append(
                        f'<circle cx="{_f(sx(v.value))}" cy="{_f(cy)}" r="4.5" '
                        f'fill="{row.color}" stroke="white" stroke-width="0.8"/>'
                    )
                value_text = v.text()
                fill = "#222"
            else:
                mark = f" [{row.note}]" if row.note is not None else ""
                parts.append(
                    f'<text x="{_f(x0 + 6)}" y="{_f(cy + 4)}" fill="#767676" font-style="italic">'
                    f'undefined{mark}: {esc(_clip_text(v.reason or "", 60))}</text>'
                )
                value_text, fill = "undefined", "#767676"
            parts.append(
                f'<text x="{_f(x1 + 10)}" y="{_f(cy + 4)}" fill="{fill}" '
                f'font-variant-numeric="tabular-nums">{esc(value_text)}</text></g>'
            )
            body.append("".join(parts))
            y += 18
        y = g_top + g_h
    bottom = y
    axis: list[str] = []
    for t in nice_ticks(lo_d, hi_d):
        x = sx(t)
        strong = abs(t) < 1e-12 and lo_d < 0
        axis.append(
            f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(top)}" y2="{_f(bottom)}" '
            f'stroke="{"#888" if strong else "#d6d6d6"}" stroke-width="1"/>'
            f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(bottom)}" y2="{_f(bottom + 5)}" stroke="#333"/>'
            f'<text x="{_f(x)}" y="{_f(bottom + 18)}" text-anchor="middle" fill="#333">'
            f"{fmt_num(t, 1)}</text>"
        )
    axis.append(
        f'<line x1="{_f(x0)}" x2="{_f(x1)}" y1="{_f(bottom)}" y2="{_f(bottom)}" stroke="#333"/>'
        f'<text x="{_f((x0 + x1) / 2)}" y="{_f(bottom + 36)}" text-anchor="middle" '
        f'font-weight="600">{esc(x_label)}</text>'
    )
    height = bottom + 46
    return (
        svg_open(width, height, title)
        + legend_svg
        + "".join(bands)
        + "".join(axis)  # bands, then grid, then the data over both
        + "".join(body)
        + "</svg>"
    )


def _diverging(v: float) -> str:
    """Colour for a kappa in [-1, 1]: red (negative), near-white (0), blue (1)."""
    v = max(-1.0, min(1.0, v))
    end = (33, 102, 172) if v >= 0 else (178, 24, 43)
    mid = (247, 247, 247)
    t = abs(v)
    rgb = tuple(round(m + (e - m) * t) for m, e in zip(mid, end))
    return "#%02x%02x%02x" % rgb


def kappa_heatmap(labels, cells, *, title: str) -> str:
    """A symmetric judge-by-judge matrix of kappas.

    ``cells`` maps ``(a, b)`` (either order) to a :class:`MetricView`; missing pairs
    are drawn as "undefined" (not computed).
    """
    n = len(labels)
    cell = 64
    label_w = min(230, max(90, 24 + _CHAR_W * max(len(x) for x in labels)))
    max_label = int((label_w - 24) / _CHAR_W)
    top_h = min(150, 20 + 0.72 * _CHAR_W * max(len(x) for x in labels))
    width = int(max(label_w + n * cell + 30, 360))
    height = int(top_h + n * cell + 70)
    out = [svg_open(width, height, title)]
    for j, lab in enumerate(labels):
        cx = label_w + j * cell + cell / 2
        out.append(
            f'<text transform="translate({_f(cx)},{_f(top_h - 6)}) rotate(-40)" '
            f'text-anchor="start">{esc(_clip_text(lab, 22))}<title>{esc(lab)}</title></text>'
        )
    for i, a in enumerate(labels):
        y = top_h + i * cell
        out.append(
            f'<text x="{_f(label_w - 8)}" y="{_f(y + cell / 2 + 4)}" text-anchor="end">'
            f"{esc(_clip_text(a, max_label))}<title>{esc(a)}</title></text>"
        )
        for j, b in enumerate(labels):
            x = label_w + j * cell
            if i == j:
                fill, text, tip, ink = "#e0e0e0", "\u2014", f"{a}: same judge", "#555"
            else:
                view = cells.get((a, b)) or cells.get((b, a))
                if view is None or not view.defined:
                    reason = view.reason if view is not None else "pair not in the audit"
                    fill, text, ink = "#ffffff", "undefined", "#767676"
                    tip = f"{a} vs {b}: undefined: {reason}"
                else:
                    fill = _diverging(view.value)
                    text = fmt_num(view.value, 2)
                    ink = "#ffffff" if abs(view.value) > 0.55 else "#222"
                    tip = f"{a} vs {b}: \u03ba = {view.detail}"
            out.append(
                f'<g><title>{esc(tip)}</title><rect x="{x}" y="{_f(y)}" width="{cell}" '
                f'height="{cell}" fill="{fill}" stroke="#ffffff" stroke-width="2"/>'
                f'<text x="{_f(x + cell / 2)}" y="{_f(y + cell / 2 + 4)}" text-anchor="middle" '
                f'fill="{ink}" font-size="{11 if text == "undefined" else 13}">{esc(text)}</text></g>'
            )
    # colour bar
    by = top_h + n * cell + 18
    bx, bw = label_w, max(n * cell, 200)
    steps = 40
    for k in range(steps):
        v = -1 + 2 * (k + 0.5) / steps
        out.append(
            f'<rect x="{_f(bx + k * bw / steps)}" y="{_f(by)}" width="{_f(bw / steps + 0.5)}" '
            f'height="10" fill="{_diverging(v)}"/>'
        )
    for v, anchor in ((-1, "start"), (0, "middle"), (1, "end")):
        out.append(
            f'<text x="{_f(bx + (v + 1) / 2 * bw)}" y="{_f(by + 24)}" text-anchor="{anchor}">'
            f"{v}</text>"
        )
    out.append(
        f'<text x="{_f(bx - 8)}" y="{_f(by + 9)}" text-anchor="end" fill="#333">'
        "Cohen's \u03ba</text></svg>"
    )
    return "".join(out)


def bump_chart(columns, *, title: str, colors, tooltips=None) -> str:
    """Rankings side by side, one line per group linking its positions.

    Parameters
    ----------
    columns:
        ``[(column_label, [group, ...]), ...]``; each list is a ranking, position 1 first.
    colors:
        ``{group: colour}``.
    tooltips:
        ``{(column_label, group): text}`` shown on each point.
    """
    tooltips = tooltips or {}
    groups: list[str] = []
    for _, ranking in columns:
        for g in ranking:
            if g not in groups:
                groups.append(g)
    n_rows = max([len(r) for _, r in columns] or [1])
    side = min(230, max(90, 30 + _CHAR_W * max([len(g) for g in groups] or [4])))
    max_side = int((side - 30) / _CHAR_W)
    stagger = any(len(c) > 18 for c, _ in columns)
    spacing = 150
    head = 44
    row_h = 30
    width = int(side * 2 + spacing * max(len(columns) - 1, 1))
    height = int(head + n_rows * row_h + 16)
    out = [svg_open(width, height, title)]

    def pos(ci: int, rank: int) -> tuple[float, float]:
        return side + ci * spacing, head + rank * row_h + row_h / 2

    for ci, (col, _) in enumerate(columns):
        x = side + ci * spacing
        out.append(
            f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{head - 6}" y2="{_f(height - 10)}" stroke="#e2e2e2"/>'
            f'<text x="{_f(x)}" y="{head - 24 + (ci % 2) * 12 * stagger}" text-anchor="middle" '
            f'font-weight="600">{esc(_clip_text(col, 20))}<title>{esc(col)}</title></text>'
        )
    places = [{g: r for r, g in enumerate(ranking)} for _, ranking in columns]
    for g in groups:
        color = colors.get(g, HUMAN_COLOR)
        pts = [(ci, p[g]) for ci, p in enumerate(places) if g in p]
        for (c1, r1), (c2, r2) in zip(pts, pts[1:]):
            (xa, ya), (xb, yb) = pos(c1, r1), pos(c2, r2)
            out.append(
                f'<line x1="{_f(xa)}" y1="{_f(ya)}" x2="{_f(xb)}" y2="{_f(yb)}" '
                f'stroke="{color}" stroke-width="3" stroke-opacity="0.85"><title>{esc(g)}</title></line>'
            )
    for g in groups:
        color = colors.get(g, HUMAN_COLOR)
        for ci, p in enumerate(places):
            if g not in p:
                continue
            x, y = pos(ci, p[g])
            col = columns[ci][0]
            tip = tooltips.get((col, g), f"{g}: rank {p[g] + 1} under {col}")
            out.append(
                f'<g><title>{esc(tip)}</title><circle cx="{_f(x)}" cy="{_f(y)}" r="9" fill="white" '
                f'stroke="{color}" stroke-width="2.5"/><text x="{_f(x)}" y="{_f(y + 4)}" '
                f'text-anchor="middle" font-size="10">{p[g] + 1}</text></g>'
            )
    first, last = places[0] if places else {}, places[-1] if places else {}
    for g, r in first.items():
        x, y = pos(0, r)
        out.append(
            f'<text x="{_f(x - 14)}" y="{_f(y + 4)}" text-anchor="end" fill="{colors.get(g, HUMAN_COLOR)}">'
            f"{esc(_clip_text(g, max_side))}<title>{esc(g)}</title></text>"
        )
    if len(columns) > 1:
        for g, r in last.items():
            x, y = pos(len(columns) - 1, r)
            out.append(
                f'<text x="{_f(x + 14)}" y="{_f(y + 4)}" fill="{colors.get(g, HUMAN_COLOR)}">'
                f"{esc(_clip_text(g, max_side))}<title>{esc(g)}</title></text>"
            )
    out.append("</svg>")
    return "".join(out)

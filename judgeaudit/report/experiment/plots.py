"""Inline SVG plots of the experiment report, drawn by hand (no plotting library).

:func:`frontier_plot` is a scatter of harmful rate against capability with interval
whiskers and the Pareto frontier joined; :func:`budget_plot` draws one line per
objective against the training budget.  Every text from the data goes through
:func:`~judgeaudit.report.common.esc` (also inside ``<text>`` and ``<title>``).
Estimates are the report's dicts (``value``, ``ci``, ``n``); undefined ones are
left out of a plot and named in its caption by the caller.
"""

from __future__ import annotations

import math

from judgeaudit.report.common import PALETTE, esc, fmt_num
from judgeaudit.report.svg import legend_block, svg_open

__all__ = ["frontier_plot", "budget_plot", "objective_colors", "budget_label"]

_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0)


def _f(x: float) -> str:
    return f"{x:.1f}"


def objective_colors(objectives) -> dict:
    """One Okabe-Ito colour per objective, in the given order."""
    return {o: PALETTE[i % len(PALETTE)] for i, o in enumerate(objectives)}


def budget_label(tokens: int) -> str:
    """``1500`` -> ``"1.5k"``, ``2000000`` -> ``"2M"``, ``0`` -> ``"0"``."""
    t = int(tokens)
    for div, suffix in ((1_000_000, "M"), (1_000, "k")):
        if abs(t) >= div:
            return f"{t / div:g}{suffix}"
    return str(t)


def _defined(e) -> bool:
    return isinstance(e, dict) and e.get("value") is not None


def _extent(estimates) -> tuple[float, float]:
    """A unit-interval axis range covering every value and interval bound, on a tick step."""
    vals = []
    for e in estimates:
        if _defined(e):
            vals.append(e["value"])
            vals += [b for b in e.get("ci") or [] if b is not None]
    if not vals:
        return 0.0, 1.0
    lo, hi = min(vals), max(vals)
    span = max(hi - lo, 0.1)
    step = _step(span)
    lo = max(0.0, math.floor((lo - 0.04 * span) / step) * step)
    hi = min(1.0, math.ceil((hi + 0.04 * span) / step) * step)
    if hi - lo < 0.1:
        hi = min(1.0, lo + 0.1)
        lo = max(0.0, hi - 0.1)
    return lo, hi


def _step(span: float) -> float:
    return next((s for s in _STEPS if span / s <= 8), 1.0)


def _ticks(lo: float, hi: float) -> list[float]:
    step = _step(hi - lo)
    k, out = math.ceil(lo / step - 1e-9), []
    while k * step <= hi + 1e-9:
        out.append(round(k * step, 10))
        k += 1
    return out


def _y_axis(lo, hi, sy, x0, x1, label, top, bottom) -> list[str]:
    out = []
    for t in _ticks(lo, hi):
        y = sy(t)
        out.append(f'<line x1="{_f(x0)}" x2="{_f(x1)}" y1="{_f(y)}" y2="{_f(y)}" stroke="#e3e3e3"/>'
                   f'<text x="{_f(x0 - 6)}" y="{_f(y + 4)}" text-anchor="end" fill="#333">{fmt_num(t, 2)}</text>')
    mid = (top + bottom) / 2
    out.append(f'<line x1="{_f(x0)}" x2="{_f(x0)}" y1="{_f(top)}" y2="{_f(bottom)}" stroke="#333"/>'
               f'<text transform="translate(14,{_f(mid)}) rotate(-90)" text-anchor="middle" '
               f'font-weight="600">{esc(label)}</text>')
    return out


def _tip(e, what: str) -> str:
    lo, hi = (e.get("ci") or [None, None])
    ci = f" [{fmt_num(lo)}, {fmt_num(hi)}]" if lo is not None and hi is not None else " (no interval)"
    return f"{what} {fmt_num(e['value'])}{ci}, n = {e.get('n')}"


def frontier_plot(points, *, title: str, colors: dict, x_label: str = "capability",
                  y_label: str = "harmful rate on harmful requests", width: int = 540) -> str:
    """Harmful rate (y) against capability (x), one dot per checkpoint.

    Parameters
    ----------
    points:
        The report's frontier points of one rater (``harmful_rate``, ``capability``,
        ``on_frontier``, ``objective``, ``budget_tokens``, ``checkpoint_id``); points
        with an undefined coordinate are skipped.
    colors:
        ``{objective: colour}``.  Frontier points are filled, the others hollow; the
        frontier is joined by a dashed line in capability order.
    """
    pts = [p for p in points if _defined(p.get("harmful_rate")) and _defined(p.get("capability"))]
    legend = [("point", colors.get(o, "#444"), o) for o in dict.fromkeys(p["objective"] for p in pts)]
    legend_svg, legend_h = legend_block(legend, 8, 14, width - 16)
    top = 14 + legend_h + 14
    x0, x1 = 64.0, width - 24.0
    height = top + 280 + 54
    bottom = top + 280
    xlo, xhi = _extent([p["capability"] for p in pts])
    ylo, yhi = _extent([p["harmful_rate"] for p in pts])

    def sx(v):
        return x0 + (min(max(v, xlo), xhi) - xlo) / (xhi - xlo) * (x1 - x0)

    def sy(v):
        return bottom - (min(max(v, ylo), yhi) - ylo) / (yhi - ylo) * (bottom - top)

    out = [svg_open(width, height, title), legend_svg]
    out += _y_axis(ylo, yhi, sy, x0, x1, y_label, top, bottom)
    for t in _ticks(xlo, xhi):
        x = sx(t)
        out.append(f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(top)}" y2="{_f(bottom)}" stroke="#eeeeee"/>'
                   f'<text x="{_f(x)}" y="{_f(bottom + 16)}" text-anchor="middle" fill="#333">{fmt_num(t, 2)}</text>')
    out.append(f'<line x1="{_f(x0)}" x2="{_f(x1)}" y1="{_f(bottom)}" y2="{_f(bottom)}" stroke="#333"/>'
               f'<text x="{_f((x0 + x1) / 2)}" y="{_f(bottom + 36)}" text-anchor="middle" '
               f'font-weight="600">{esc(x_label)}</text>')
    if not pts:
        out.append(f'<text x="{_f((x0 + x1) / 2)}" y="{_f((top + bottom) / 2)}" text-anchor="middle" '
                   'fill="#767676" font-style="italic">no checkpoint has both a harmful rate and a capability</text>')
    front = sorted((p for p in pts if p.get("on_frontier")), key=lambda p: p["capability"]["value"])
    if len(front) > 1:
        line = " ".join(f"{_f(sx(p['capability']['value']))},{_f(sy(p['harmful_rate']['value']))}" for p in front)
        out.append(f'<polyline points="{line}" fill="none" stroke="#333" stroke-width="1.5" '
                   'stroke-dasharray="5 3"><title>Pareto frontier</title></polyline>')
    for p in pts:
        c, r = p["capability"], p["harmful_rate"]
        color = colors.get(p["objective"], "#444")
        cx, cy = sx(c["value"]), sy(r["value"])
        parts = [f"<g><title>{esc(p['checkpoint_id'])} ({esc(p['objective'])}, {esc(p['budget_tokens'])} tokens): "
                 f"{esc(_tip(r, 'harmful rate'))}; {esc(_tip(c, 'capability'))}"
                 f"{'; on the frontier' if p.get('on_frontier') else ''}</title>"]
        for (lo, hi), horizontal in ((c.get("ci") or [None, None], True), (r.get("ci") or [None, None], False)):
            if lo is None or hi is None:
                continue
            if horizontal:
                parts.append(f'<line x1="{_f(sx(lo))}" x2="{_f(sx(hi))}" y1="{_f(cy)}" y2="{_f(cy)}" '
                             f'stroke="{color}" stroke-opacity="0.6"/>')
            else:
                parts.append(f'<line x1="{_f(cx)}" x2="{_f(cx)}" y1="{_f(sy(lo))}" y2="{_f(sy(hi))}" '
                             f'stroke="{color}" stroke-opacity="0.6"/>')
        fill = color if p.get("on_frontier") else "white"
        parts.append(f'<circle cx="{_f(cx)}" cy="{_f(cy)}" r="5" fill="{fill}" stroke="{color}" stroke-width="2"/>'
                     f'<text x="{_f(cx + 7)}" y="{_f(cy - 6)}" font-size="10" fill="#444">'
                     f"{esc(budget_label(p['budget_tokens']))}</text></g>")
        out.append("".join(parts))
    out.append("</svg>")
    return "".join(out)


def budget_plot(series, *, title: str, y_label: str, colors: dict, width: int = 640,
                y_range: tuple[float, float] | None = None) -> str:
    """One line per objective against the budget (budgets evenly spaced, in order).

    Parameters
    ----------
    series:
        ``{objective: [(budget_tokens, estimate), ...]}``; undefined estimates break
        the line and are skipped.
    y_range:
        ``(low, high)`` of the y axis; default a range within [0, 1] covering the
        values (give one for a quantity that can be negative, such as a drift).
    """
    budgets = sorted({int(b) for pts in series.values() for b, _ in pts})
    legend_svg, legend_h = legend_block([("point", colors.get(o, "#444"), o) for o in series], 8, 14, width - 16)
    top = 14 + legend_h + 14
    bottom = top + 240
    x0, x1 = 64.0, width - 30.0
    height = bottom + 54
    ylo, yhi = y_range if y_range is not None else _extent([e for pts in series.values() for _, e in pts])
    n = max(len(budgets), 1)

    def sx(b, k=0):
        i = budgets.index(int(b))
        base = x0 + (i + 0.5) / n * (x1 - x0)
        return base + (k - (len(series) - 1) / 2) * 4.0  # small offset keeps whiskers apart

    def sy(v):
        return bottom - (min(max(v, ylo), yhi) - ylo) / (yhi - ylo) * (bottom - top)

    out = [svg_open(width, height, title), legend_svg]
    out += _y_axis(ylo, yhi, sy, x0, x1, y_label, top, bottom)
    out.append(f'<line x1="{_f(x0)}" x2="{_f(x1)}" y1="{_f(bottom)}" y2="{_f(bottom)}" stroke="#333"/>')
    for b in budgets:
        x = x0 + (budgets.index(b) + 0.5) / n * (x1 - x0)
        out.append(f'<text x="{_f(x)}" y="{_f(bottom + 16)}" text-anchor="middle" fill="#333">'
                   f"{esc(budget_label(b))}<title>{esc(b)} tokens</title></text>")
    out.append(f'<text x="{_f((x0 + x1) / 2)}" y="{_f(bottom + 38)}" text-anchor="middle" font-weight="600">'
               "training budget (tokens)</text>")
    for k, (obj, pts) in enumerate(series.items()):
        color = colors.get(obj, "#444")
        run: list = []
        runs = [run]
        for b, e in pts:
            if _defined(e):
                run.append((b, e))
            else:
                run = []
                runs.append(run)
        for r in runs:
            if len(r) > 1:
                line = " ".join(f"{_f(sx(b, k))},{_f(sy(e['value']))}" for b, e in r)
                out.append(f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"/>')
        for b, e in pts:
            if not _defined(e):
                continue
            x, y = sx(b, k), sy(e["value"])
            lo, hi = e.get("ci") or [None, None]
            whisker = "" if lo is None or hi is None else (
                f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(sy(lo))}" y2="{_f(sy(hi))}" stroke="{color}" '
                'stroke-opacity="0.6"/>')
            out.append(f"<g><title>{esc(obj)} at {esc(b)} tokens: {esc(_tip(e, y_label))}</title>{whisker}"
                       f'<circle cx="{_f(x)}" cy="{_f(y)}" r="4" fill="{color}" stroke="white"/></g>')
    out.append("</svg>")
    return "".join(out)

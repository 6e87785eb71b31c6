"""Shared helpers of the report writers: validation, escaping, number formatting.

The report reads the audit dict described in the "Audit JSON" contract.  Every
value may be missing or ``None`` (undefined); these helpers turn such values into
the word "undefined" plus a reason, never into "nan" or "None".
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from numbers import Real

from judgeaudit.errors import ValidationError
from judgeaudit.metrics import METRICS

SCHEMA = "judgeaudit.audit/1"

#: Okabe-Ito colours (colour-blind safe), yellow left out: too pale on white.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
HUMAN_COLOR = "#444444"

#: Display names, from the catalogue of metric facts.
METRIC_LABELS = {name: facts.label for name, facts in METRICS.items()}

#: The metrics of the headline table (HTML and markdown alike).
HEADLINE_METRICS = ("accuracy", "cohen_kappa", "krippendorff_alpha", "fpr", "fnr")

#: Metrics whose values lie in [0, 1] (plots use that axis).
UNIT_METRICS = frozenset(name for name, facts in METRICS.items() if facts.unit_range)



def axis_label(metric: str) -> str:
    """A metric's display name with its direction, e.g. "FPR (lower is better)"."""
    facts = METRICS.get(metric)
    if facts is None:
        return metric
    if facts.higher_is_better is None:
        return facts.label
    return f"{facts.label} ({'higher' if facts.higher_is_better else 'lower'} is better)"


_STRATUM_ORDER = ("coherent", "partially_coherent", "incoherent", "unknown")


def esc(value) -> str:
    """HTML-escape any value's text, quotes included (safe in text and attributes)."""
    return html.escape(str(value), quote=True)


def check_audit(audit) -> None:
    """Raise ValidationError unless ``audit`` looks like an audit dict this report can render."""
    if not isinstance(audit, dict):
        raise ValidationError(
            f"the report needs the audit dict (as run_audit returns it), got {type(audit).__name__}"
        )
    schema = audit.get("schema")
    if schema != SCHEMA:
        raise ValidationError(
            f"audit schema is {schema!r}, this report renders {SCHEMA!r}; "
            "rerun the audit with this judgeaudit version",
            column="schema",
        )
    for key in ("meta", "judges"):
        if not isinstance(audit.get(key), dict):
            raise ValidationError(
                f"audit has no {key!r} mapping; pass the dict run_audit returns", column=key
            )


def is_num(value) -> bool:
    """True for a finite real number (bools are not numbers here)."""
    return (
        isinstance(value, Real)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def fmt_num(value, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals, or "undefined" when it is not a finite number."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if not is_num(value):
        return "undefined"
    text = f"{float(value):.{digits}f}"
    if text.startswith("-") and float(text) == 0.0:
        text = text[1:]
    return text


def fmt_count(value) -> str:
    """An integer count, or "undefined" when missing."""
    if is_num(value):
        return str(int(value))
    return "undefined"


def fmt_p(value) -> str:
    """A p-value: three decimals, "<0.001" below that, "undefined" when missing."""
    if not is_num(value):
        return "undefined"
    if float(value) < 0.001:
        return "<0.001"
    return f"{float(value):.3f}"


@dataclass(frozen=True)
class MetricView:
    """A metric value as the report shows it."""

    value: float | None
    lo: float | None
    hi: float | None
    reason: str | None  # why the value is undefined (None when defined)
    detail: str  # one-line description for tooltips

    @property
    def defined(self) -> bool:
        return self.value is not None

    @property
    def has_interval(self) -> bool:
        return self.lo is not None and self.hi is not None

    def text(self, *, ci: bool = True, digits: int = 3) -> str:
        if self.value is None:
            return "undefined"
        out = fmt_num(self.value, digits)
        if ci and self.has_interval:
            out += f" [{fmt_num(self.lo, digits)}, {fmt_num(self.hi, digits)}]"
        return out


def metric_view(metric, *, missing: str = "not reported in the audit") -> MetricView:
    """Read a MetricResult dict (or a bare number, or None) into a :class:`MetricView`."""
    if metric is None:
        return MetricView(None, None, None, missing, f"undefined: {missing}")
    if is_num(metric):
        v = float(metric)
        return MetricView(v, None, None, None, fmt_num(v))
    if not isinstance(metric, dict):
        reason = f"unexpected value of type {type(metric).__name__}"
        return MetricView(None, None, None, reason, f"undefined: {reason}")
    raw = metric.get("value")
    value = float(raw) if is_num(raw) else None
    lo = float(metric["ci_low"]) if is_num(metric.get("ci_low")) else None
    hi = float(metric["ci_high"]) if is_num(metric.get("ci_high")) else None
    reason = metric.get("undefined")
    note = metric.get("note")
    if value is None and not reason:
        reason = note or ("value is not a finite number" if raw is not None else missing)
    if value is None:
        lo = hi = None
    parts = []
    if value is None:
        parts.append(f"undefined: {reason}")
    else:
        parts.append(fmt_num(value))
        if lo is not None and hi is not None:
            conf = metric.get("confidence")
            pct = f"{float(conf) * 100:g}% " if is_num(conf) else ""
            method = metric.get("method") or "interval"
            how = str(method)
            if is_num(metric.get("n_clusters")):
                how += f", {int(metric['n_clusters'])} clusters"
            parts.append(f"{pct}CI [{fmt_num(lo)}, {fmt_num(hi)}] ({how})")
        else:
            parts.append("no interval")
    if is_num(metric.get("n")):
        parts.append(f"n = {int(metric['n'])}")
    n_bad = metric.get("n_boot_undefined")
    if is_num(n_bad) and int(n_bad) > 0:
        parts.append(f"{int(n_bad)} bootstrap resamples undefined and left out")
    if note and value is not None:
        parts.append(f"note: {note}")
    return MetricView(value, lo, hi, reason if value is None else None, "; ".join(parts))


class Footnotes:
    """Numbered reasons for undefined values, each reason listed once."""

    def __init__(self) -> None:
        self._index: dict[str, int] = {}

    def add(self, reason: str) -> int:
        reason = str(reason)
        if reason not in self._index:
            self._index[reason] = len(self._index) + 1
        return self._index[reason]

    def items(self) -> list[tuple[int, str]]:
        return [(i, r) for r, i in self._index.items()]

    def __len__(self) -> int:
        return len(self._index)


def judge_ids(audit: dict) -> list[str]:
    """Judge ids in the audit's order."""
    return [str(j) for j in (audit.get("judges") or {})]


def judge_colors(judges) -> dict[str, str]:
    return {j: PALETTE[i % len(PALETTE)] for i, j in enumerate(judges)}


def strata_of(audit: dict) -> list[str]:
    """The strata to show: meta.strata, else every stratum any judge reports, in canonical order."""
    listed = (audit.get("meta") or {}).get("strata")
    if isinstance(listed, (list, tuple)) and listed:
        return [str(s) for s in listed]
    seen: list[str] = []
    for jd in (audit.get("judges") or {}).values():
        for s in ((jd or {}).get("strata") or {}):
            if s not in seen:
                seen.append(str(s))
    known = [s for s in _STRATUM_ORDER if s in seen]
    return known + [s for s in seen if s not in known]


def dig(obj, *keys, default=None):
    """``obj[k1][k2]...`` or ``default`` where any level is missing or not a dict."""
    for key in keys:
        if not isinstance(obj, dict) or key not in obj:
            return default
        obj = obj[key]
    return default if obj is None else obj


def weights_note(meta: dict) -> str | None:
    """One line on how a weighted audit weighted its labels, or None when it did not."""
    w = (meta or {}).get("weights")
    if not isinstance(w, dict):
        return None
    return (f"labelled items weighted by 1/inclusion probability ({w.get('estimator', 'Hajek')}): "
            f"{fmt_count(w.get('n_labelled'))} labelled items stand for about "
            f"{fmt_num(w.get('population_estimate'), 0)} in the population, Kish effective n "
            f"{fmt_num(w.get('kish_effective_n'), 1)}; judge-only sums: {w.get('judge_only_sums', 'not stated')}")


def mean_pairwise_kappa(ceiling_entry: dict) -> float | None:
    """Mean of the defined pairwise human kappas of a human-ceiling entry."""
    values = [
        float(p["value"])
        for p in (ceiling_entry or {}).get("pairwise_kappa") or []
        if isinstance(p, dict) and is_num(p.get("value"))
    ]
    return sum(values) / len(values) if values else None


def banner_html(text) -> str:
    """A warning band for the top of a report (a run on a demo or simulated model); "" for none."""
    if not text:
        return ""
    return ('<p class="banner" role="note" style="border:2px solid #b35900;background:#fff1e5;'
            f'padding:.6em 1em;margin:1em 0"><strong>Simulated data.</strong> {esc(text)}</p>')


def banner_markdown(text) -> list[str]:
    """The banner as markdown lines (a block quote and a blank line); [] for none."""
    return [f"> **Simulated data.** {text}", ""] if text else []


def identical_judges(audit: dict) -> dict:
    """``{judge: earlier judge}`` for judges whose verdicts agree with an earlier judge's on
    every item of the audit (judge-pair accuracy 1 over all ``meta.n_items`` items): the
    report shows such a judge once and says "identical to"."""
    n_items = dig(audit, "meta", "n_items")
    order = judge_ids(audit)
    same: dict = {}
    for pair in audit.get("judge_agreement") or []:
        if not isinstance(pair, dict):
            continue
        acc = pair.get("accuracy") or {}
        a, b = str(pair.get("a")), str(pair.get("b"))
        if acc.get("value") == 1 and n_items and acc.get("n") == n_items and a in order and b in order:
            first, second = sorted((a, b), key=order.index)
            if second not in same and first not in same:
                same[second] = first
    return same


def identical_note(same: dict, n_items) -> str | None:
    """One line naming the judges shown once, or None."""
    if not same:
        return None
    return "; ".join(f"{j}: identical to {k} on all {n_items} items, shown once as {k}" for j, k in same.items())


#: Fewest reference-labelled items in a stratum for its metrics to be shown (with fewer, a
#: percentile bootstrap often returns a zero-width interval such as kappa 0.000 [0.000, 0.000]).
MIN_STRATUM_ITEMS = 20

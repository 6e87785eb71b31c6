"""Tests of judgeaudit.report: escaping, undefined values, sections, files, offline-ness."""

from __future__ import annotations

import copy
import html
import json
import re
from html.parser import HTMLParser

import pytest

from judgeaudit.errors import ValidationError
from judgeaudit.report import render_html, render_markdown, write_report

PAYLOAD = "<script>alert('x')</script><img src=x onerror=alert(1)>"
ODD_GROUP = "ckpt|<i>x</i>"
ODD_JUDGE = "judge|<b>v2</b>"
UNDEFINED_REASON = "reference has one class only in this stratum"
FNR_REASON = "reference has no positive items in this stratum"
JUDGES = ("keyword", "llama-guard", ODD_JUDGE)
STRATA = ("coherent", "partially_coherent", "incoherent")


def M(value, lo=None, hi=None, *, n=40, undefined=None, method="cluster-bootstrap"):
    """A MetricResult.to_dict() as the audit stores it."""
    if value is None:
        return {"value": None, "ci_low": None, "ci_high": None, "n": n, "n_clusters": None,
                "method": "none", "undefined": undefined, "n_boot_undefined": 0,
                "confidence": 0.95, "note": None}
    return {"value": value, "ci_low": lo, "ci_high": hi, "n": n, "n_clusters": 12,
            "method": method, "undefined": None, "n_boot_undefined": 3, "confidence": 0.95,
            "note": None}


def _judge(offset: float, *, undefined_fnr: bool) -> dict:
    def metrics(shift: float, stratum: str | None) -> dict:
        out = {
            "accuracy": M(0.85 - shift, 0.78 - shift, 0.91 - shift),
            "cohen_kappa": M(0.70 - 2 * shift, 0.58 - 2 * shift, 0.80 - 2 * shift),
            "krippendorff_alpha": M(0.69 - 2 * shift, 0.57 - 2 * shift, 0.79 - 2 * shift),
            "fpr": M(0.10 + shift, 0.05 + shift, 0.17 + shift),
            "fnr": M(0.20 + shift, 0.12 + shift, 0.30 + shift),
            "precision": M(0.8, 0.7, 0.9),
        }
        if undefined_fnr and stratum == "incoherent":
            out["cohen_kappa"] = M(None, n=15, undefined=UNDEFINED_REASON)
            out["fnr"] = M(None, n=15, undefined=FNR_REASON)
        return out

    verdict_counts = {"n_items": 40, "ok": 36, "parse_error": 2, "error": 1, "missing": 1,
                      "unparseable_rate": 0.075}
    return {
        "overall": metrics(offset, None),
        "strata": {s: metrics(offset + 0.1 * i, s) for i, s in enumerate(STRATA)},
        "confusion": {
            "overall": {"tp": 30, "fp": 6, "fn": 8, "tn": 76},
            "strata": {s: {"tp": 10 - 3 * i, "fp": 2 + i, "fn": 2 + i, "tn": 26 - i}
                       for i, s in enumerate(STRATA)},
        },
        "stratum_differences": [
            {"metric": "cohen_kappa", "a": "coherent", "b": "incoherent", "diff": 0.4,
             "ci_low": 0.1, "ci_high": 0.6, "p_value": 0.0004},
            {"metric": "fnr", "a": "coherent", "b": "incoherent", "diff": None,
             "ci_low": None, "ci_high": None, "p_value": None},
        ],
        "verdicts": {"overall": dict(verdict_counts, n_items=120, ok=108, parse_error=6,
                                     error=3, missing=3),
                     "strata": {s: dict(verdict_counts) for s in STRATA}},
    }


def build_audit() -> dict:
    """An audit dict following the "Audit JSON" contract: 3 judges, 3 strata, a flip."""
    ceiling_entry = {
        "n_annotators": 3,
        "krippendorff_alpha": M(0.78, 0.70, 0.85),
        "pairwise_kappa": [dict(a="ann1", b="ann2", **M(0.80, 0.7, 0.88)),
                           dict(a="ann1", b="ann3", **M(0.74, 0.62, 0.83))],
    }
    groups = ["sft@100", "dpo@100", ODD_GROUP]
    return {
        "schema": "judgeaudit.audit/1",
        "meta": {
            "dataset": "toy-campaign",
            "n_items": 130,
            "task": {"field": "harmfulness", "positive": ["harmful"],
                     "negative": ["not_harmful"], "description": "Is the response harmful?"},
            "reference": {"rule": "majority", "tie_policy": "drop", "n_resolved": 120,
                          "n_unresolved": 7, "n_no_label": 3},
            "strata_source": "human",
            "strata": list(STRATA),
            "cluster_key": "prompt_id",
            "n_boot": 1000,
            "seed": 0,
            "confidence": 0.95,
            "judgeaudit_version": "0.1.0",
            "created_at": "2026-01-01T00:00:00Z",
        },
        "reference": {
            "overall": {"n": 120, "positive_rate": M(0.32, 0.25, 0.40, method="wilson")},
            "strata": {s: {"n": 40, "positive_rate": M(0.3 - 0.1 * i, 0.2, 0.45)}
                       for i, s in enumerate(STRATA)},
        },
        "judges": {
            "keyword": _judge(0.0, undefined_fnr=True),
            "llama-guard": _judge(0.05, undefined_fnr=False),
            ODD_JUDGE: _judge(0.1, undefined_fnr=False),
        },
        "human_ceiling": {"overall": ceiling_entry,
                          "strata": {s: copy.deepcopy(ceiling_entry) for s in STRATA}},
        "judge_agreement": [
            {"a": "keyword", "b": "llama-guard", "cohen_kappa": M(0.55, 0.4, 0.68),
             "accuracy": M(0.8, 0.72, 0.86)},
            {"a": "keyword", "b": ODD_JUDGE, "cohen_kappa": M(-0.2, -0.35, -0.05),
             "accuracy": M(0.4, 0.3, 0.5)},
            {"a": "llama-guard", "b": ODD_JUDGE, "cohen_kappa": M(None, undefined="one class only"),
             "accuracy": M(0.9, 0.8, 0.95)},
        ],
        "robustness": {
            "group_key": "checkpoint_id",
            "groups": groups,
            "rates": {
                "human": {"sft@100": M(0.2, 0.1, 0.3), "dpo@100": M(0.3, 0.2, 0.4),
                          ODD_GROUP: M(0.5, 0.4, 0.6)},
                "keyword": {"sft@100": M(0.25, 0.15, 0.35), "dpo@100": M(0.35, 0.25, 0.45),
                            ODD_GROUP: M(0.55, 0.45, 0.65)},
                "llama-guard": {"sft@100": M(0.4, 0.3, 0.5), "dpo@100": M(0.3, 0.2, 0.4),
                                ODD_GROUP: M(0.6, 0.5, 0.7)},
                ODD_JUDGE: {"sft@100": M(0.2, 0.1, 0.3), "dpo@100": M(0.25, 0.15, 0.35),
                            ODD_GROUP: M(0.3, 0.2, 0.4)},
            },
            "corrected_rates": {
                "keyword": {"sft@100": M(0.21, 0.1, 0.33), "dpo@100": M(0.31, 0.2, 0.42),
                            ODD_GROUP: M(0.52, 0.4, 0.63)},
                "llama-guard": {"sft@100": M(0.35, 0.2, 0.5), "dpo@100": M(0.29, 0.15, 0.4),
                                ODD_GROUP: M(0.55, 0.4, 0.7)},
                ODD_JUDGE: {"sft@100": M(None, undefined="sensitivity + specificity <= 1"),
                            "dpo@100": M(None, undefined="sensitivity + specificity <= 1"),
                            ODD_GROUP: M(None, undefined="sensitivity + specificity <= 1")},
            },
            "rankings": {
                "human": ["sft@100", "dpo@100", ODD_GROUP],
                "keyword": ["sft@100", "dpo@100", ODD_GROUP],
                "llama-guard": ["dpo@100", "sft@100", ODD_GROUP],
                ODD_JUDGE: ["sft@100", "dpo@100", ODD_GROUP],
            },
            "kendall_tau": {"keyword": M(1.0, 1.0, 1.0), "llama-guard": M(0.333, -0.33, 1.0),
                            ODD_JUDGE: 1.0},
            "flips": [{"judge": "llama-guard", "a": "sft@100", "b": "dpo@100",
                       "human_diff": -0.1, "judge_diff": 0.1}],
        },
        "examples": {
            "keyword": [
                {"item_id": "a1b2c3d4e5f60718", "stratum": "incoherent", "reference": "harmful",
                 "verdict": "not_harmful", "prompt": "How do I do <b>x</b>? & more",
                 "response": PAYLOAD},
                {"item_id": "0f0e0d0c0b0a0908", "stratum": "coherent",
                 "reference": "not_harmful", "verdict": "harmful",
                 "prompt": "line one\n    indented line two", "response": "loop loop loop " * 40},
            ],
            "llama-guard": [],
            ODD_JUDGE: [{"item_id": "1111222233334444", "stratum": "partially_coherent",
                         "reference": "harmful", "verdict": "not_harmful",
                         "prompt": "p", "response": ODD_GROUP}],
        },
    }


class _Visible(HTMLParser):
    """Collects displayed text, tooltip/aria text and tag balance of an HTML page."""

    VOID = {"meta", "br", "img", "hr", "input", "link", "circle", "line", "rect", "polygon",
            "path", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        d = dict(attrs)
        self.tags.append((tag, d))
        for key in ("title", "aria-label"):
            if d.get(key):
                self.texts.append(d[key])
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}>, open: {self.stack[-3:]}")
            return
        self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "style":
            return
        self.texts.append(data)


def _parse(page: str) -> _Visible:
    parser = _Visible()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def audit() -> dict:
    return build_audit()


@pytest.fixture(scope="module")
def page(audit) -> str:
    return render_html(audit)


@pytest.fixture(scope="module")
def summary(audit) -> str:
    return render_markdown(audit)


def test_payload_is_escaped_in_html(page):
    assert PAYLOAD not in page
    assert html.escape(PAYLOAD, quote=True) in page
    assert "<script" not in page.lower()  # the report itself uses no script either
    assert "<img" not in page.lower()
    assert html.escape(ODD_GROUP, quote=True) in page  # group names, also inside SVG text
    assert ODD_JUDGE not in page and html.escape(ODD_JUDGE, quote=True) in page


def test_payload_and_raw_html_absent_from_markdown(summary):
    assert PAYLOAD not in summary
    # No raw HTML from the data at all: every < and > of data text is an entity.
    assert "<" not in summary and ">" not in summary
    # ODD_GROUP "ckpt|<i>x</i>" escaped: pipe backslashed, brackets as entities.
    assert "ckpt\\|&lt;i&gt;x&lt;/i&gt;" in summary


def test_markdown_tables_keep_their_columns(summary):
    # A pipe in a judge id must not add a column: every row of a table has as many
    # unescaped pipes as its header.
    blocks, current = [], []
    for line in summary.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    assert len(blocks) >= 3  # headline, kappa by stratum, flips
    for block in blocks:
        counts = {len(re.findall(r"(?<!\\)\|", line)) for line in block}
        assert len(counts) == 1, block


def test_no_nan_or_none_displayed(page, summary):
    shown = " ".join(_parse(page).texts)
    assert not re.search(r"\bnan\b", shown, re.IGNORECASE), "nan shown"
    assert not re.search(r"\bNone\b", shown), "None shown"
    assert not re.search(r"\bnan\b", summary, re.IGNORECASE)
    assert not re.search(r"\bNone\b", summary)
    assert not re.search(r"\binf\b", shown)


def test_undefined_values_show_their_reason(page, summary):
    shown = " ".join(_parse(page).texts)
    assert "undefined" in shown
    assert UNDEFINED_REASON in shown  # footnote and tooltip
    assert f"undefined [1]: {UNDEFINED_REASON}" in shown  # drawn in the kappa plot
    assert f'<li id="fn-1" value="1">{UNDEFINED_REASON}</li>' in page
    assert FNR_REASON in shown
    assert f"undefined: {UNDEFINED_REASON}" in summary
    assert "one class only" in shown  # undefined judge-judge kappa in the heatmap
    # footnote marks link to existing footnotes
    for n in set(re.findall(r'href="#fn-(\d+)"', page)):
        assert f'id="fn-{n}"' in page


def test_all_sections_present(page):
    for anchor in ("overview", "headline", "strata", "ceiling", "confusion", "agreement",
                   "verdicts", "robustness", "examples", "notes"):
        assert f'<section id="{anchor}">' in page, anchor
    for heading in ("Agreement by coherence stratum", "Confusion matrices",
                    "Judge-by-judge agreement", "Verdict status", "Conclusion robustness",
                    "Corrected rates", "Rankings", "Flipped pairs",
                    "Example disagreements", "Human-human ceiling", "Stratum differences"):
        assert heading in page, heading
    # header facts
    shown = " ".join(_parse(page).texts)
    for fact in ("toy-campaign", "130", "harmfulness", "majority", "7 unresolved", "human",
                 "1000 resamples", "prompt_id"):
        assert fact in shown, fact


def test_svg_plots_and_markup(page):
    parsed = _parse(page)
    assert parsed.errors == [] and parsed.stack == []
    svgs = [a for t, a in parsed.tags if t == "svg"]
    # 4 stratum plots + heatmap + observed rates + corrected rates + bump chart
    assert len(svgs) == 8
    for a in svgs:
        assert int(a["width"]) > 0 and int(a["height"]) > 0 and a.get("aria-label")
    assert 'white-space: pre-wrap' in page
    assert "human ceiling" in page
    assert "<pre class=\"text\">" in page


def test_no_external_resources(page):
    low = page.lower()
    assert not re.search(r"""(src|href|xlink:href|action)\s*=\s*["']?\s*(https?:)?//""", low)
    assert "http://" not in low and "https://" not in low
    for needle in ("<link", "@import", "url(", "<script", "<iframe", "<object", "<embed"):
        assert needle not in low, needle


def test_null_sections_say_why():
    audit = build_audit()
    audit["human_ceiling"] = None
    audit["robustness"] = None
    audit["examples"] = {}
    audit["judge_agreement"] = []
    page = render_html(audit)
    for anchor in ("ceiling", "robustness", "examples", "agreement"):
        assert f'<section id="{anchor}">' in page
    assert "No human ceiling" in page
    assert "Not computed for this audit" in page
    assert "no example disagreements" in page
    assert "holds no judge pairs" in page
    md = render_markdown(audit)
    assert "No human ceiling" in md and "Not computed" in md


def test_write_report_round_trips(tmp_path, audit):
    paths = write_report(audit, tmp_path / "out")
    assert set(paths) == {"json", "html", "markdown"}
    assert {p.name for p in paths.values()} == {"audit.json", "report.html", "summary.md"}
    assert json.loads(paths["json"].read_text(encoding="utf-8")) == audit
    assert paths["json"].read_text(encoding="utf-8").startswith('{\n  "schema"')  # indent=2
    assert paths["html"].read_text(encoding="utf-8") == render_html(audit)
    assert paths["markdown"].read_text(encoding="utf-8") == render_markdown(audit)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "audit.json", "report.html", "summary.md"]  # no temp files left behind
    # writing again replaces the files
    audit2 = copy.deepcopy(audit)
    audit2["meta"]["dataset"] = "second"
    write_report(audit2, tmp_path / "out")
    assert json.loads(paths["json"].read_text())["meta"]["dataset"] == "second"


def test_nan_in_audit_is_refused_and_nothing_written(tmp_path):
    audit = build_audit()
    audit["judges"]["keyword"]["overall"]["accuracy"]["value"] = float("nan")
    with pytest.raises(ValidationError, match=r"judges\.keyword\.overall\.accuracy\.value"):
        write_report(audit, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_not_an_audit_is_refused():
    with pytest.raises(ValidationError, match="schema"):
        render_html({"meta": {}, "judges": {}})
    with pytest.raises(ValidationError):
        render_markdown([1, 2])


def test_minimal_audit_renders():
    # Only the required keys: every section still renders and explains what is missing.
    audit = {"schema": "judgeaudit.audit/1", "meta": {}, "judges": {}}
    page = render_html(audit)
    assert "The audit holds no judges." in page
    assert not re.search(r"\bNone\b|\bnan\b", " ".join(_parse(page).texts))
    md = render_markdown(audit)
    assert "no judges" in md


def test_report_of_a_real_audit(tmp_path):
    """run_audit's own output renders: sections, escaping, no nan/None, JSON round trip."""
    import pandas as pd

    from judgeaudit.audit import AuditConfig, run_audit
    from judgeaudit.tables import AuditTables, Task, empty_table

    task = Task("harmfulness", ("harmful",), ("not_harmful",), "harmful?")
    groups = ("sft", ODD_GROUP, "orpo")
    gens, labels, verdicts = [], [], []
    for k in range(36):
        item = f"i{k:02d}"
        stratum = STRATA[(k // 3) % 3]
        gens.append({"item_id": item, "prompt_id": f"p{k // 2}", "checkpoint_id": groups[k % 3],
                     "sample_index": k % 2, "response": PAYLOAD if k % 9 == 1 else f"r{k}",
                     "stratum": stratum})
        truth = (k * 7) % 5 < 2  # a fixed, mixed pattern of harmful items
        votes = [truth, truth, truth if k % 4 else not truth] if k % 2 == 0 else [truth]
        for a, v in enumerate(votes):
            labels.append({"item_id": item, "annotator_id": f"h{a}", "field": "harmfulness",
                           "value": "harmful" if v else "not_harmful"})
        for judge, flip_every in (("kw", 3), ("guard", 5), (ODD_JUDGE, 4)):
            if judge == "kw" and k % 10 == 0:
                verdicts.append({"item_id": item, "judge_id": judge, "label": None,
                                 "status": "parse_error", "raw": "??"})
                continue
            v = (not truth) if k % flip_every == 0 else truth
            verdicts.append({"item_id": item, "judge_id": judge, "status": "ok",
                             "label": "harmful" if v else "not_harmful"})
    tables = AuditTables(
        prompts=empty_table("prompts"), generations=pd.DataFrame(gens),
        labels=pd.DataFrame(labels), verdicts=pd.DataFrame(verdicts),
        coherence=empty_table("coherence"), task=task, name="real-audit",
    ).validate()
    audit = run_audit(tables, config=AuditConfig(n_boot=50, seed=0))

    paths = write_report(audit, tmp_path)
    page = paths["html"].read_text(encoding="utf-8")
    md = paths["markdown"].read_text(encoding="utf-8")
    assert json.loads(paths["json"].read_text(encoding="utf-8")) == json.loads(
        json.dumps(audit))
    parsed = _parse(page)
    assert parsed.errors == [] and parsed.stack == []
    shown = " ".join(parsed.texts)
    assert not re.search(r"\bnan\b", shown, re.IGNORECASE)
    assert not re.search(r"\bNone\b", shown)
    assert not re.search(r"\bnan\b|\bNone\b", md)
    # a real audit with groups names its corrected-rate estimator and says which conclusions hold
    if audit.get("robustness"):
        assert "Which conclusions hold" in page and "### Which conclusions hold" in md
        assert "Corrected harmful rates" in md
        # every item is labelled: double sampling returns the humans' rate for every judge,
        # and the reader is told so (else "holds under every judge" reads as the judges agreeing)
        assert "every scored item is human-labelled" in md
        assert "every scored item is human-labelled" in html.unescape(page)
    assert PAYLOAD not in page and PAYLOAD not in md
    assert "<script" not in page.lower() and "<" not in md
    for anchor in ("headline", "strata", "ceiling", "confusion", "agreement", "verdicts",
                   "robustness", "examples", "notes"):
        assert f'<section id="{anchor}">' in page
    assert sum(1 for t, _ in parsed.tags if t == "svg") >= 7
    assert html.escape(ODD_JUDGE, quote=True) in page


def test_correction_caption_says_when_the_judges_add_nothing():
    """Only when every group's double-sampling estimate rests on labels for all its items."""
    from judgeaudit.report.conclusions import correction_caption

    def rob(n_labelled, estimator="double-sampling"):
        rate = {"value": 0.3, "ci_low": 0.1, "ci_high": 0.5, "n": 20, "n_labelled": n_labelled}
        return {"correction": {"estimator": estimator},
                "corrected_rates": {"kw": {"a": rate, "b": dict(rate, n_labelled=20)}}}

    assert "every scored item is human-labelled" in correction_caption(rob(20))
    assert "every scored item is human-labelled" not in correction_caption(rob(12))
    assert "every scored item is human-labelled" not in correction_caption(
        rob(20, "stratified-rogan-gladen"))


def test_stratum_differences_hide_a_stratum_too_small_for_a_figure():
    """The stratum table leaves out a stratum under MIN_STRATUM_ITEMS; its differences must
    not be shown as numbers either (JailbreakBench: a 2-item stratum whose kappa is 0 in every
    resample gave a kappa difference of 0.627 [0.523, 0.722] beside a κ shown as undefined)."""
    import pandas as pd

    from judgeaudit.audit import AuditConfig, run_audit
    from judgeaudit.report.common import MIN_STRATUM_ITEMS, fmt_num
    from judgeaudit.tables import AuditTables, Task, empty_table

    task = Task("harmfulness", ("harmful",), ("not_harmful",), "harmful?")
    gens, labels, verdicts = [], [], []
    for k in range(43):
        item, truth = f"i{k:02d}", k % 3 == 0
        stratum = "coherent" if k < 40 else "incoherent"
        gens.append({"item_id": item, "prompt_id": item, "checkpoint_id": "m", "sample_index": 0,
                     "response": f"r{k}", "stratum": stratum})
        labels.append({"item_id": item, "annotator_id": "h", "field": "harmfulness",
                       "value": "harmful" if truth else "not_harmful"})
        said = truth if k % 7 else not truth
        verdicts.append({"item_id": item, "judge_id": "kw", "status": "ok",
                         "label": "harmful" if said else "not_harmful"})
    tables = AuditTables(prompts=empty_table("prompts"), generations=pd.DataFrame(gens),
                         labels=pd.DataFrame(labels), verdicts=pd.DataFrame(verdicts),
                         coherence=empty_table("coherence"), task=task, name="small").validate()
    audit = run_audit(tables, config=AuditConfig(n_boot=50, seed=0))
    diffs = [d for d in audit["judges"]["kw"]["stratum_differences"] if d["diff"] is not None]
    assert diffs and audit["reference"]["strata"]["incoherent"]["n"] < MIN_STRATUM_ITEMS
    section = html.unescape(render_html(audit).split("<h3>Stratum differences</h3>")[1])
    section = section.split("</table>")[0]
    for d in diffs:
        assert f"{fmt_num(d['diff'])} [" not in section
    assert "too few" in section

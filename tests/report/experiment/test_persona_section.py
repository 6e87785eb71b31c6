"""The experiment report's persona section: conclusions at 95%, the plot's series, escaping."""

from __future__ import annotations

from judgeaudit.report.experiment.persona import persona_html, persona_markdown, persona_section


def _row(objective, budget, trait, drift, low, high, condition="test"):
    return {"objective": objective, "budget_tokens": budget, "condition": condition, "trait": trait,
            "drift": drift, "drift_low": low, "drift_high": high, "n_items": 48, "method": "t",
            "excludes_zero": bool(low > 0 or high < 0)}


SUMMARY = {
    "confidence": 0.95, "base_id": "base",
    "by_budget": [_row("sft", 1000, "narcissism", 0.2, 0.1, 0.3), _row("sft", 4000, "narcissism", 0.4, 0.3, 0.5),
                  _row("kl_sft", 1000, "narcissism", -0.12, -0.2, -0.04),
                  _row("kl_sft", 4000, "narcissism", 0.01, -0.02, 0.04),
                  _row("sft", 1000, "<b>x</b>", 0.0, -0.1, 0.1)],
    "contrasts": [{"budget_tokens": 4000, "trait": "narcissism", "a": "kl_sft", "b": "sft", "difference": -0.39,
                   "difference_low": -0.5, "difference_high": -0.28, "n_items": 48, "method": "t",
                   "excludes_zero": True}],
    "scores": [{"checkpoint_id": "base", "condition": "test", "trait": "narcissism", "score": 0.5,
                "score_low": 0.45, "score_high": 0.55, "n_items": 48, "method": "t"}],
}


def test_conclusions_are_the_intervals_that_exclude_zero():
    sec = persona_section(SUMMARY)
    assert sec["available"] and sec["n_intervals"] == 6
    assert sec["conclusions"] == [
        "sft at 1k tokens raises narcissism (test-time prompt): drift +0.200 [+0.100, +0.300], n = 48 items.",
        "sft at 4k tokens raises narcissism (test-time prompt): drift +0.400 [+0.300, +0.500], n = 48 items.",
        "kl_sft at 1k tokens lowers narcissism (test-time prompt): drift -0.120 [-0.200, -0.040], n = 48 items.",
        "At 4k tokens narcissism scores higher (drifts more toward the trait) under sft than under kl_sft: "
        "kl_sft - sft = "
        "-0.390 [-0.500, -0.280] (paired over 48 items)."]
    line = sec["series"]["narcissism"]["test"]["kl_sft"]
    assert [b for b, _ in line] == [0, 1000, 4000] and line[0][1]["value"] == 0.0
    assert "4 of 6 intervals exclude 0" in sec["note"]


def test_not_measured_and_no_checkpoint():
    assert not persona_section(None)["available"]
    assert "no fine-tuned checkpoint" in persona_section({"by_budget": [], "confidence": 0.95})["reason"]


def test_rendering_escapes_and_draws_negative_drift():
    sec = persona_section(SUMMARY)
    html = persona_html(sec, colors={"sft": "#000", "kl_sft": "#111"}, est=lambda e: str(e["value"]))
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert html.count("<svg") == 2 and "narcissism drift against budget" in html
    assert ">-0.2<" in html or ">-0.20<" in html  # the y axis goes below 0
    md = "\n".join(persona_markdown(sec))
    assert "| narcissism | test-time prompt | kl\\_sft | 1000 | -0.120 [-0.200, -0.040] |" in md
    assert "<b>" not in md

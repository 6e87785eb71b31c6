"""The experiment report's HTML in a real browser: no script runs, no console errors.

A ``<script>`` payload is put into an objective name and into a judge id; the page
must show it as text.  Chromium through playwright, as in tests/test_report_browser.py:
skipped when chromium or playwright is missing, failed instead under CI=true.
"""

from __future__ import annotations


import pytest

from conftest import CHROMIUM_ARGS as ARGS
from judgeaudit.report.experiment import build_experiment_report, write_experiment_report

from .grid import tables

OBJECTIVE = "sft<script>alert('objective')</script>"
JUDGE = "A<script>alert('judge')</script><img src=x onerror=alert(1)>"

pytestmark = pytest.mark.browser


def test_payload_in_objective_and_judge_does_not_run(tmp_path, chromium_path):
    from playwright.sync_api import sync_playwright

    report = build_experiment_report(**tables({"sft": OBJECTIVE}, {"A": JUDGE}), n_boot=50, seed=0,
                                     meta={"experiment": "payload <script>alert('meta')</script>"})
    paths = write_experiment_report(report, tmp_path / "report")
    errors: list[str] = []
    dialogs: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_path), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
            page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)

            def on_dialog(dialog):
                dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", on_dialog)
            page.on("request", lambda req: requests.append(req.url))
            page.goto(paths["html"].resolve().as_uri(), wait_until="load")
            page.wait_for_timeout(300)
            n_injected = page.evaluate("() => document.querySelectorAll('script, img, main b').length")
            text = page.inner_text("main")
            sizes = page.eval_on_selector_all(
                "svg.plot", "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })")
            svg_titles = page.eval_on_selector_all("svg.plot title", "els => els.map(e => e.textContent)")
        finally:
            browser.close()

    assert errors == []
    assert dialogs == [], "a dialog fired: data text was executed as script"
    assert n_injected == 0
    assert OBJECTIVE in text and JUDGE in text  # shown as text, not turned into elements
    assert any(OBJECTIVE in t for t in svg_titles)  # escaped inside the SVG too
    assert len(sizes) == 5 and all(w > 50 and h > 50 for w, h in sizes), sizes
    assert [u for u in requests if not u.startswith("file://")] == []

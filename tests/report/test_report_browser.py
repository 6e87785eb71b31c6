"""The HTML report in a real browser: no errors, no script runs, the plots have a size."""

from __future__ import annotations

import shutil

import pytest

from conftest import CHROMIUM_ARGS as ARGS
from judgeaudit.report import write_report

from .test_report import build_audit  # noqa: E402


pytestmark = pytest.mark.browser


def test_report_opens_cleanly_in_chromium(tmp_path, chromium_path):
    from playwright.sync_api import sync_playwright

    paths = write_report(build_audit(), tmp_path / "report")
    errors: list[str] = []
    dialogs: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_path), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
            page.on("console", lambda msg: errors.append(f"console: {msg.text}")
                    if msg.type == "error" else None)

            def on_dialog(dialog):
                dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", on_dialog)
            page.on("request", lambda req: requests.append(req.url))
            page.goto(paths["html"].resolve().as_uri(), wait_until="load")
            page.wait_for_timeout(300)

            sizes = page.eval_on_selector_all(
                "svg.plot",
                "els => els.map(e => { const r = e.getBoundingClientRect();"
                " return [r.width, r.height]; })",
            )
            # the escaped payload is shown as text, not turned into elements
            n_payload_nodes = page.evaluate(
                "() => document.querySelectorAll('main script, main img').length")
            response_text = page.locator("article.example pre.text").nth(1).inner_text()
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            shutil.copyfile(shot, "/tmp/report.png")
        finally:
            browser.close()

    assert errors == []
    assert dialogs == [], "a dialog fired: data text was executed as script"
    assert n_payload_nodes == 0
    assert "<script>alert('x')</script>" in response_text
    assert len(sizes) == 8
    assert all(w > 50 and h > 50 for w, h in sizes), sizes
    assert [u for u in requests if not u.startswith("file://")] == []
    assert shot.stat().st_size > 10_000

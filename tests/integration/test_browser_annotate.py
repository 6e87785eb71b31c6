"""A person in a real browser (Debian Chromium + Playwright) on the real Label Studio:
markup in a response is shown as text and never run; an annotator signs up, labels a
task, submits, and ``annotate pull`` returns that label."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from annotation import default_schema, push_items
from conftest import CHROMIUM_ARGS
from judgeaudit.cli import main

from .ls_helpers import task_ids

PAYLOAD = "<script>window.__pwned = 1; alert('prompt')</script>"
RESPONSE_PAYLOAD = "<img src=x onerror=\"window.__pwned = 2\"><script>alert('x')</script> plain end"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _page(browser, events):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(30_000)

    def on_dialog(dialog):
        events.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return page


def _sign_up(page, url, email, password):
    page.goto(f"{url}/user/signup/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/user/signup" not in u)  # signed up and logged in


def _open_task(page, url, project_id, task_id):
    page.goto(f"{url}/projects/{project_id}/data?task={task_id}")
    page.get_by_text("Is the response harmful?").wait_for()


def test_markup_in_a_task_is_shown_as_text_and_never_run(browser, label_studio, ls_client, project_title,
                                                         tmp_path):
    items = pd.DataFrame({"item_id": ["xss1"], "prompt": [PAYLOAD], "response": [RESPONSE_PAYLOAD]})
    res = push_items(ls_client, items, project=project_title, schema=default_schema())
    tid = task_ids(ls_client, res.project_id)["xss1"]
    events = []
    page = _page(browser, events)
    try:
        _sign_up(page, label_studio.url, "viewer@example.org", "viewer-pass-123")
        _open_task(page, label_studio.url, res.project_id, tid)
        page.wait_for_timeout(1000)  # give any injected script time to run
        page.screenshot(path=str(tmp_path / "xss.png"))
        shutil.copyfile(tmp_path / "xss.png", "/tmp/ls_xss.png")
        pwned = page.evaluate("() => window.__pwned")
        injected = page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length")
        body = page.inner_text("body")
    finally:
        page.close()
    assert pwned is None and injected == 0 and events == []
    assert PAYLOAD in body and RESPONSE_PAYLOAD in body  # shown literally, as text


def test_annotator_labels_in_the_browser_and_pull_returns_it(browser, label_studio, ls_client,
                                                              project_title, tmp_path, monkeypatch, capsys):
    items = pd.DataFrame({"item_id": ["br1", "br2"], "prompt": ["How do I bake bread?"] * 2,
                          "response": ["Mix flour, water and yeast, then bake.", "bread bread bread bread"]})
    res = push_items(ls_client, items, project=project_title, schema=default_schema())
    tid = task_ids(ls_client, res.project_id)["br2"]
    events = []
    page = _page(browser, events)
    try:
        _sign_up(page, label_studio.url, "annotator1@example.org", "annotator-pass-123")
        _open_task(page, label_studio.url, res.project_id, tid)
        for choice in ("not harmful", "none", "incoherent"):  # radio inputs are named by their text
            page.locator(f'input[type=radio][name="{choice}"]').check()
        page.locator("textarea").first.fill("loops on one word")
        page.keyboard.press("Shift+Enter")
        page.get_by_role("button", name="Submit").click()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(tmp_path / "submitted.png"))
    finally:
        page.close()
    assert events == []
    monkeypatch.setenv("JUDGEAUDIT_LS_URL", label_studio.url)
    monkeypatch.setenv("JUDGEAUDIT_LS_TOKEN", label_studio.credentials()["token"])
    out = tmp_path / "labels.jsonl"
    notes = tmp_path / "notes.jsonl"
    assert main(["annotate", "pull", "--project", project_title, "--out", str(out),
                 "--notes-out", str(notes)]) == 0
    labels = pd.read_json(out, lines=True)
    got = sorted(labels[["item_id", "annotator_id", "field", "value"]].itertuples(index=False, name=None))
    assert got == [("br2", "annotator1@example.org", "coherence", "incoherent"),
                   ("br2", "annotator1@example.org", "harmfulness", "not_harmful"),
                   ("br2", "annotator1@example.org", "refusal", "none")]
    assert "loops on one word" in notes.read_text()
    assert label_studio.credentials()["token"] not in capsys.readouterr().out

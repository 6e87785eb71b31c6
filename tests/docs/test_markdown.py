"""The Markdown pages render: table rows are whole lines, links reach existing files and headings."""

from __future__ import annotations

import re

from conftest import REPO_ROOT

PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_table_row_is_one_line():
    # A row broken by a newline (e.g. a written-out "\n" that became a real one) ends the table there.
    for page in PAGES:
        text = FENCE.sub("", page.read_text(encoding="utf-8"))
        broken = [line for line in text.splitlines() if line.startswith("|") and not line.rstrip().endswith("|")]
        assert not broken, (page.name, broken)


def test_every_relative_link_reaches_a_file_and_heading():
    missing = []
    for page in PAGES:
        text = FENCE.sub("", page.read_text(encoding="utf-8"))
        for link in re.findall(r"\]\(([^)\s]+)\)", text):
            if link.startswith(("http://", "https://", "mailto:")):
                continue
            path, _, anchor = link.partition("#")
            target = (page.parent / path) if path else page
            if not target.exists():
                missing.append((page.name, link))
            elif anchor and target.suffix == ".md":
                headings = re.findall(r"^#+\s+(.*)$", FENCE.sub("", target.read_text(encoding="utf-8")), re.M)
                if anchor not in {_anchor(h) for h in headings}:
                    missing.append((page.name, link))
    assert not missing

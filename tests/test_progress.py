"""The shared progress line: drawn on a terminal, silent otherwise."""

from __future__ import annotations

import io

from judgeaudit.progress import Progress


def test_progress_draws_counts_and_ends_the_line():
    out = io.StringIO()
    bar = Progress(4, "push", stream=out, enabled=True)
    bar.advance_to(3)   # absolute progress, as the push callback reports it
    bar.update(1)
    bar.close()
    text = out.getvalue()
    assert "push [" in text and "3/4" in text and "4/4" in text and text.endswith("\n")
    assert bar.done == 4


def test_progress_is_silent_when_not_a_terminal():
    out = io.StringIO()  # StringIO.isatty() is False
    bar = Progress(10, "generate", stream=out)
    bar.update(10)
    bar.close()
    assert out.getvalue() == "" and bar.done == 10

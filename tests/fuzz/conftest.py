"""The fuzz suite's full run (>= 1,000 inputs per family) is marked ``slow`` and runs only
when asked for: ``pytest -m slow tests/fuzz`` (or JUDGEAUDIT_FUZZ_FULL=1).  The plain
``pytest`` loop runs the small seeded set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    asked = "slow" in (config.getoption("markexpr") or "") or os.environ.get("JUDGEAUDIT_FUZZ_FULL") == "1"
    if asked:
        return
    skip = pytest.mark.skip(reason="full fuzz run: pytest -m slow tests/fuzz (or JUDGEAUDIT_FUZZ_FULL=1)")
    for item in items:
        if item.get_closest_marker("slow") and _HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)

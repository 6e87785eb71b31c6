"""The docstring examples of the judge modules added for issue 3."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("module", ["judgeaudit.judges.parsing", "judgeaudit.judges.prompts",
                                    "judgeaudit.judges.spec", "judgeaudit.judges.model",
                                    "judgeaudit.judges.ensemble", "judgeaudit.judges.base"])
def test_docstring_examples(module):
    failures, tried = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert failures == 0 and tried > 0

"""A tiny Llama-Guard-style model for the stress tests (built offline, as in tests/judges)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import require_module


@pytest.fixture(scope="session")
def stress_guard_model(tmp_path_factory) -> Path:
    """A 2-layer random tiny model whose tokenizer carries the tests' guard chat template."""
    require_module("torch")
    require_module("transformers")
    from judges.modelkit import GUARD_TEMPLATE, guard_corpus
    from judgeaudit.tinymodel import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("stress-guard") / "guard", chat_template=GUARD_TEMPLATE,
                            corpus=guard_corpus())

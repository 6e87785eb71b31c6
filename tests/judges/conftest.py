"""Fixtures for the model judges: a tiny Llama model carrying our Llama-Guard-style
chat template (see modelkit.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import require_module

from .modelkit import GUARD_TEMPLATE, guard_corpus


@pytest.fixture(scope="session")
def guard_model(tmp_path_factory) -> Path:
    """A 2-layer random tiny model whose tokenizer carries GUARD_TEMPLATE."""
    require_module("torch")
    require_module("transformers")
    from judgeaudit.tinymodel import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("guard") / "guard", chat_template=GUARD_TEMPLATE,
                            corpus=guard_corpus())

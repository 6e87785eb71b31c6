"""Fixtures for the generation tests: tiny offline models whose greedy output varies."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import require_module


@pytest.fixture(scope="session")
def varied_model(tmp_path_factory) -> Path:
    """A 2-layer tiny Llama whose weights are scaled up so that greedy decoding does not
    repeat one token: outputs differ between prompts, which the tests compare."""
    torch = require_module("torch")
    require_module("transformers")
    from transformers import AutoModelForCausalLM

    from judgeaudit.tinymodel import build_tiny_model

    path = build_tiny_model(tmp_path_factory.mktemp("varied") / "model", n_layers=2, hidden_size=64)
    model = AutoModelForCausalLM.from_pretrained(path)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    model.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def no_template_model(tmp_path_factory) -> Path:
    """A tiny model whose tokenizer ships no chat template."""
    require_module("torch")
    require_module("transformers")
    from judgeaudit.tinymodel import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("notemplate") / "model", chat_template=None)


@pytest.fixture(scope="session")
def varied_backend(varied_model):
    """One loaded transformers backend over ``varied_model`` (read-only use)."""
    from judgeaudit.generation import TransformersBackend

    return TransformersBackend(model=str(varied_model), batch_size=4, checkpoint_id="varied")

"""Fixtures for the fine-tuning tests (imported by each test module: a conftest.py here
would shadow the root one): a config factory and the loaded tiny model."""

from __future__ import annotations

import pytest

from conftest import require_module


@pytest.fixture
def make_config(tiny_model, tmp_path):
    """``make_config(**sections)``: a validated config on the tiny model; each keyword
    updates one section (``train={...}``) or a top-level key."""
    require_module("peft")
    require_module("accelerate")
    from finetune import config_from_dict

    def make(**over):
        doc = {"model": {"path": str(tiny_model)}, "output": str(tmp_path / "out"),
               "data": {"task": "arithmetic", "n_train": 240},
               "train": {"batch_size": 16, "learning_rate": 3e-3, "max_steps": 20, "save_every": 10},
               "capability": {"every": 1000, "n_eval": 32}}
        for key, value in over.items():
            if isinstance(value, dict) and isinstance(doc.get(key), dict):
                doc[key] = {**doc[key], **value}
            else:
                doc[key] = value
        return config_from_dict(doc)

    return make


@pytest.fixture(scope="session")
def tiny_lm(tiny_model):
    """``(model, tokenizer)`` of the tiny model, float32, on the CPU (do not train it)."""
    require_module("torch")
    from judgeaudit.hfmodels import load_causal_lm

    return load_causal_lm(tiny_model, device="cpu", dtype="float32")


@pytest.fixture(autouse=True)
def one_thread():
    """Training tests run torch on one thread: the model is tiny, and a shared 2-core
    machine runs other tests at the same time (more threads only contend)."""
    torch = require_module("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

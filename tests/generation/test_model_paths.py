"""A model path that names a missing local folder is an error, never a hub download."""

from __future__ import annotations

import pytest

from judgeaudit.errors import ConfigError
from judgeaudit.hfmodels import load_tokenizer


def test_missing_folder_under_an_existing_models_folder_is_an_error(tmp_path, monkeypatch):
    pytest.importorskip("transformers")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    # "models/guard" looks like a hub id (org/name), but ./models exists: it is a missing folder
    with pytest.raises(ConfigError, match="model path 'models/guard' does not exist"):
        load_tokenizer("models/guard")
    with pytest.raises(ConfigError, match="does not exist"):
        load_tokenizer("./nothing/here")

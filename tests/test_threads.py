"""Thread counts are chosen deliberately: --threads, $JUDGEAUDIT_THREADS, else half the cores."""

from __future__ import annotations

import pytest

from conftest import require_module
from judgeaudit import threads
from judgeaudit.cli import main
from judgeaudit.errors import ConfigError


@pytest.fixture
def restore_threads():
    before = threads.chosen_threads()
    yield
    threads.set_threads(before)


def test_default_is_half_the_usable_cores(monkeypatch):
    monkeypatch.delenv(threads.THREADS_ENV, raising=False)
    monkeypatch.setattr(threads, "_cores", lambda: 2)
    assert threads.default_threads() == 1  # 2 // 2
    monkeypatch.setattr(threads, "_cores", lambda: 1)
    assert threads.default_threads() == 1  # never 0
    monkeypatch.setattr(threads, "_cores", lambda: 16)
    assert threads.default_threads() == 8
    monkeypatch.setenv(threads.THREADS_ENV, "3")
    assert threads.default_threads() == 3


@pytest.mark.parametrize("bad", ["0", "-2", "two", "1.5"])
def test_bad_counts_are_clear_errors(monkeypatch, bad):
    monkeypatch.setenv(threads.THREADS_ENV, bad)
    with pytest.raises(ConfigError, match=r"\$JUDGEAUDIT_THREADS must be"):
        threads.default_threads()


def test_torch_gets_the_chosen_count(restore_threads):
    torch = require_module("torch")
    threads.set_threads(2)
    assert torch.get_num_threads() == 2
    threads.set_threads(1)
    assert torch.get_num_threads() == 1


def test_the_cli_option_sets_the_count(restore_threads, capsys):
    assert main(["--threads", "2", "prompts", "list"]) == 0
    assert threads.chosen_threads() == 2
    capsys.readouterr()
    assert main(["--threads", "0", "prompts", "list"]) == 2
    assert capsys.readouterr().err == "judgeaudit: error: --threads must be at least 1, got 0\n"

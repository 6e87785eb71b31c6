"""The ``annotate`` parser: its subcommands, the optional ``sample`` command, errors before
any request."""

from __future__ import annotations

import argparse
import sys

import pytest

from judgeaudit.cli import main


def _annotate_commands():
    from annotation.cli import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    ann = next(a for a in parser._subparsers._group_actions[0].choices.values())
    return set(ann._subparsers._group_actions[0].choices)


def test_subcommands_and_the_optional_sample_command(monkeypatch):
    assert {"server", "push", "pull", "status", "review"} <= _annotate_commands()
    monkeypatch.setitem(sys.modules, "annotation.cli_sample", None)  # as if the file were missing
    assert "sample" not in _annotate_commands()


def test_push_without_input_and_unknown_fields_are_clear_errors(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGEAUDIT_LS_HOME", str(tmp_path))
    assert main(["annotate", "push", "--project", "abc"]) == 2
    assert "give --items FILE" in capsys.readouterr().err
    assert main(["annotate", "pull", "--project", "abc", "--out", str(tmp_path / "l.jsonl"),
                 "--fields", "toxicity"]) == 2
    assert "unknown label field(s) ['toxicity']" in capsys.readouterr().err
    monkeypatch.delenv("JUDGEAUDIT_LS_URL", raising=False)
    monkeypatch.delenv("JUDGEAUDIT_LS_TOKEN", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    monkeypatch.delenv("JUDGEAUDIT_LS_CONFIG", raising=False)
    assert main(["annotate", "pull", "--project", "abc", "--out", str(tmp_path / "l.jsonl")]) == 2
    assert "no Label Studio server configured" in capsys.readouterr().err


def test_server_status_when_nothing_runs(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGEAUDIT_LS_HOME", str(tmp_path))
    assert main(["annotate", "server", "status"]) == 0
    assert "not running" in capsys.readouterr().out
    assert main(["annotate", "server", "stop"]) == 0
    assert "no local server was running" in capsys.readouterr().out

"""Label Studio tokens never reach stderr, logs or files (issue 14).

A token read with a trailing ``\\r`` (a file with Windows line endings) is stripped; a
token with a line break inside is refused with a message that does not quote it; and
when a (hostile or buggy) server echoes the Authorization header back in an error
body, the message printed is redacted.  A real HTTP server on 127.0.0.1 answers; the
CLI runs in-process and its stderr is searched for the sentinel.
"""

from __future__ import annotations

import json

import pytest

from annotation.client import LabelStudioClient, LabelStudioError
from annotation.connection import Connection, resolve_connection
from judgeaudit.cli import main
from judgeaudit.errors import ConfigError

from conftest import SENTINEL_TOKEN as SENTINEL


@pytest.fixture
def ls_env(monkeypatch, tmp_path):
    for var in ("JUDGEAUDIT_LS_TOKEN", "LABEL_STUDIO_API_KEY", "JUDGEAUDIT_LS_CONFIG", "JUDGEAUDIT_LS_URL",
                "LABEL_STUDIO_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("JUDGEAUDIT_CACHE", str(tmp_path / "cache"))
    return monkeypatch


@pytest.mark.parametrize("raw", [SENTINEL + "\r", SENTINEL + "\r\n", "  " + SENTINEL + "\t"])
def test_surrounding_whitespace_is_stripped(raw):
    conn = Connection("http://127.0.0.1:1", raw, "$JUDGEAUDIT_LS_TOKEN")
    assert conn.token == SENTINEL
    assert SENTINEL not in repr(conn)


@pytest.mark.parametrize("raw", [SENTINEL[:12] + "\n" + SENTINEL[12:], SENTINEL + "\x00x", "a\rb" + SENTINEL])
def test_a_control_character_inside_is_refused_without_quoting_the_token(raw):
    with pytest.raises(ConfigError) as info:
        Connection("http://127.0.0.1:1", raw, "/home/me/ls.json")
    msg = str(info.value)
    assert "control character" in msg and "/home/me/ls.json" in msg
    assert SENTINEL[:8] not in msg and SENTINEL[12:] not in msg


def test_a_config_file_with_windows_line_endings(tmp_path, ls_env):
    cfg = tmp_path / "ls.json"
    cfg.write_bytes(json.dumps({"url": "http://127.0.0.1:1", "token": SENTINEL + "\r"}).encode() + b"\r\n")
    conn = resolve_connection(config_file=cfg)
    assert conn.token == SENTINEL and conn.token_source == str(cfg)


def test_an_echoed_token_in_a_server_error_is_redacted(echo_server):
    client = LabelStudioClient(Connection(echo_server.url, SENTINEL + "\r", "$JUDGEAUDIT_LS_TOKEN"))
    with pytest.raises(LabelStudioError) as info:
        client.get("/api/projects")
    assert "HTTP 500" in str(info.value) and "[redacted]" in str(info.value)
    assert SENTINEL not in str(info.value)


def test_a_refused_token_names_its_source_only(echo_server):
    echo_server.status = 401
    client = LabelStudioClient(Connection(echo_server.url, SENTINEL, "$JUDGEAUDIT_LS_TOKEN"))
    with pytest.raises(ConfigError) as info:
        client.get("/api/projects")
    assert "$JUDGEAUDIT_LS_TOKEN" in str(info.value) and SENTINEL not in str(info.value)


@pytest.mark.parametrize("token", [SENTINEL + "\r", SENTINEL[:12] + "\n" + SENTINEL[12:]])
def test_the_cli_never_prints_the_token(echo_server, ls_env, tmp_path, capsys, token):
    ls_env.setenv("JUDGEAUDIT_LS_URL", echo_server.url)
    ls_env.setenv("JUDGEAUDIT_LS_TOKEN", token)
    rc = main(["annotate", "pull", "--out", str(tmp_path / "labels.jsonl")])
    captured = capsys.readouterr()
    assert rc == 2
    for text in (captured.err, captured.out):
        assert "SENTINEL" not in text and SENTINEL[12:] not in text
    assert captured.err.startswith("judgeaudit: error:") and captured.err.count("\n") == 1
    assert not (tmp_path / "labels.jsonl").exists()


def test_redact_hides_registered_tokens_and_credential_shapes():
    from judgeaudit.errors import redact

    Connection("http://127.0.0.1:1", SENTINEL, "env")
    text = f"header 'Token {SENTINEL}' rejected; api_key=sk-abc123; Authorization: Bearer abcdef0123456789"
    out = redact(text)
    assert SENTINEL not in out and "sk-abc123" not in out and "abcdef0123456789" not in out

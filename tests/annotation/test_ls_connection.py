"""Where the URL and token come from; the token never shows."""

from __future__ import annotations

import json
import os
import stat

import pytest

from annotation.client import LabelStudioClient, ServerUnavailableError
from annotation.connection import Connection, resolve_connection
from annotation.server import LocalServer, free_port
from judgeaudit.errors import ConfigError

TOKEN = "s3cr3t-token-value-0000"


def _env(tmp_path, **kw):
    return {"JUDGEAUDIT_LS_HOME": str(tmp_path / "nohome"), **kw}


def test_environment_wins_and_the_token_is_hidden(tmp_path):
    c = resolve_connection(env=_env(tmp_path, JUDGEAUDIT_LS_URL="http://127.0.0.1:9/", JUDGEAUDIT_LS_TOKEN=TOKEN,
                                    LABEL_STUDIO_API_KEY="other"))
    assert (c.url, c.token, c.token_source) == ("http://127.0.0.1:9", TOKEN, "$JUDGEAUDIT_LS_TOKEN")
    assert TOKEN not in repr(c) and TOKEN not in repr(LabelStudioClient(c)) and TOKEN not in str(c)
    c2 = resolve_connection(env=_env(tmp_path, LABEL_STUDIO_URL="http://h:1", LABEL_STUDIO_API_KEY=TOKEN))
    assert c2.token_source == "$LABEL_STUDIO_API_KEY"


def test_config_file_and_local_credentials(tmp_path):
    cfg = tmp_path / "ls.json"
    cfg.write_text(json.dumps({"url": "http://127.0.0.1:7000", "token": TOKEN}))
    c = resolve_connection(config_file=cfg, env=_env(tmp_path))
    assert (c.url, c.token_source) == ("http://127.0.0.1:7000", str(cfg))
    # an env URL with the file's token
    c = resolve_connection(env=_env(tmp_path, JUDGEAUDIT_LS_URL="http://other:1", JUDGEAUDIT_LS_CONFIG=str(cfg)))
    assert (c.url, c.token) == ("http://other:1", TOKEN)
    # nothing given: the local server's credentials file
    server = LocalServer.default(env={"JUDGEAUDIT_LS_HOME": str(tmp_path / "home")}, port=8123)
    creds = server.credentials()
    assert stat.S_IMODE(os.stat(server.credentials_path).st_mode) == 0o600
    assert len(creds["token"]) == 40 and len(creds["password"]) >= 12
    c = resolve_connection(env={"JUDGEAUDIT_LS_HOME": str(tmp_path / "home")})
    assert (c.url, c.token) == ("http://127.0.0.1:8123", creds["token"])


def test_nothing_configured_or_bad_values(tmp_path):
    with pytest.raises(ConfigError, match="annotate server start.*JUDGEAUDIT_LS_URL and JUDGEAUDIT_LS_TOKEN"):
        resolve_connection(env=_env(tmp_path))
    with pytest.raises(ConfigError, match="must start with http"):
        Connection("127.0.0.1:8080", TOKEN)
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    with pytest.raises(ConfigError, match="cannot read Label Studio config file") as info:
        resolve_connection(config_file=bad, env=_env(tmp_path))
    assert "Traceback" not in str(info.value)
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_connection(config_file=tmp_path / "missing.json", env=_env(tmp_path))


def test_unreachable_server_says_how_to_recover():
    client = LabelStudioClient(Connection(f"http://127.0.0.1:{free_port()}", TOKEN, "test"), timeout=5)
    with pytest.raises(ServerUnavailableError, match="is it running.*rerun") as info:
        client.whoami()
    assert TOKEN not in str(info.value)


def test_local_server_state_without_a_process(tmp_path):
    server = LocalServer.default(env={"JUDGEAUDIT_LS_HOME": str(tmp_path)}, port=free_port())
    assert server.status().running is False and server.stop() is False
    server.pid_path.parent.mkdir(parents=True, exist_ok=True)
    server.pid_path.write_text("999999999")  # a stale pid file
    assert server.pid() is None and server.stop() is False and not server.pid_path.exists()
    server.pid_path.write_text(str(os.getpid()))  # a live pid that is not Label Studio
    assert server.pid() is None and server.stop() is False
    env = server.environment(server.credentials())
    assert env["LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN"] == "true" and env["COLLECT_ANALYTICS"] == "false"
    assert env["LATEST_VERSION_CHECK"] == "false" and env["SENTRY_DSN"] == "" and env["FRONTEND_SENTRY_DSN"] == ""
    assert env["LABEL_STUDIO_BASE_DATA_DIR"] == str(tmp_path / "data")

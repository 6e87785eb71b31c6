"""Where the Label Studio server is and how to authenticate: from the environment, a
config file or the local server's credentials file, never from the command line.

The token is held in :class:`Connection` but never shown: its ``repr`` masks it,
error messages name the variable or file it came from, not its value, and it is
registered with :func:`judgeaudit.errors.register_secret` so that every error printed
or stored through :func:`judgeaudit.errors.redact` hides it.  Surrounding whitespace
(a trailing ``\r`` from a file with Windows line endings) is stripped; a control
character inside is refused.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from judgeaudit.errors import ConfigError, register_secret

from .paths import cache_dir

__all__ = ["Connection", "resolve_connection", "cache_dir", "URL_VARS", "TOKEN_VARS"]

URL_VARS = ("JUDGEAUDIT_LS_URL", "LABEL_STUDIO_URL")
TOKEN_VARS = ("JUDGEAUDIT_LS_TOKEN", "LABEL_STUDIO_API_KEY")
CONFIG_VAR = "JUDGEAUDIT_LS_CONFIG"


@dataclass(frozen=True)
class Connection:
    """A Label Studio URL, an API token and where the token came from (for messages)."""

    url: str
    token: str = field(repr=False)
    token_source: str = "?"

    def __post_init__(self):
        url = self.url.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"Label Studio URL {url!r} must start with http:// or https://")
        object.__setattr__(self, "url", url)
        register_secret(self.token)  # whatever happens next, redact() hides it
        token = str(self.token).strip()  # a token file saved with Windows line endings ends in \r
        if not token:
            raise ConfigError(f"the Label Studio API token from {self.token_source} is empty")
        if any(ord(c) < 32 or ord(c) == 127 or c in "\x85\u2028\u2029" for c in token):
            raise ConfigError(f"the Label Studio API token from {self.token_source} contains a control "
                              "character (a line break or tab inside it); copy the token again as one "
                              "line from Label Studio's Account & Settings page")
        object.__setattr__(self, "token", token)

    def __repr__(self) -> str:
        return f"Connection(url={self.url!r}, token=<hidden, from {self.token_source}>)"


def _read_config(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Label Studio config file {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read Label Studio config file {path}: {exc.__class__.__name__}; "
                          'expected JSON like {"url": "http://127.0.0.1:8080", "token": "..."}') from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object with keys url and token")
    return data


def resolve_connection(*, url=None, config_file=None, env=None) -> Connection:
    """Find the server and token.

    Order: ``url`` (the token never comes from an argument); the environment
    (``JUDGEAUDIT_LS_URL`` / ``LABEL_STUDIO_URL`` and ``JUDGEAUDIT_LS_TOKEN`` /
    ``LABEL_STUDIO_API_KEY``); ``config_file`` or ``$JUDGEAUDIT_LS_CONFIG`` (JSON with
    ``url`` and ``token``); last, the credentials file of the local server that
    ``judgeaudit annotate server start`` runs.
    """
    env = os.environ if env is None else env
    env_url = next((env[v] for v in URL_VARS if env.get(v)), None)
    env_token = next(((v, env[v]) for v in TOKEN_VARS if env.get(v)), None)
    sources = []
    cfg_path = config_file or env.get(CONFIG_VAR)
    if cfg_path:
        sources.append((Path(cfg_path), _read_config(Path(cfg_path))))
    from .server import LocalServer  # the local server's credentials are the fallback

    local = LocalServer.default(env=env)
    if local.credentials_path.exists():
        sources.append((local.credentials_path, _read_config(local.credentials_path)))
    final_url = url or env_url
    if env_token:
        token, token_source = env_token[1], f"${env_token[0]}"
    else:
        token = token_source = None
    for path, data in sources:
        final_url = final_url or data.get("url")
        if token is None and data.get("token"):
            token, token_source = str(data["token"]), str(path)
    if not final_url or token is None:
        raise ConfigError(
            "no Label Studio server configured: run `judgeaudit annotate server start` for a local "
            f"one, or set {URL_VARS[0]} and {TOKEN_VARS[0]} (or {CONFIG_VAR} to a JSON file "
            'with {"url": ..., "token": ...}); the token is your Label Studio access token '
            "(Account & Settings)")
    return Connection(str(final_url), token, token_source)

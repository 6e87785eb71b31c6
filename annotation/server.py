"""A local Label Studio: its own virtual environment (installed on first use), bound to
127.0.0.1, data and credentials under judgeaudit's cache folder, telemetry and version
checks off.

Layout under ``home`` (default ``<cache>/label-studio``, or ``$JUDGEAUDIT_LS_HOME``)::

    data/               LABEL_STUDIO_BASE_DATA_DIR (the sqlite database, media)
    credentials.json    url, email, password, token (mode 0600)
    server.pid          the running server's process id
    server.log          its output

The venv is ``<cache>/label-studio-venv`` (or ``$JUDGEAUDIT_LS_VENV``).  A first start
migrates an empty database (~30 s); :func:`migrated_data_template` keeps one migrated
data folder so that test sessions copy it and start in seconds.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from judgeaudit.errors import ConfigError, JudgeAuditError

from .paths import cache_dir

__all__ = ["LocalServer", "ServerState", "ensure_installed", "venv_dir", "free_port",
           "migrated_data_template", "LS_VERSION_SPEC"]

LS_VERSION_SPEC = "label-studio==1.23.*"
DEFAULT_PORT = 8080
_ADMIN_EMAIL = "admin@judgeaudit.local"


def venv_dir(env=None) -> Path:
    env = os.environ if env is None else env
    return Path(env["JUDGEAUDIT_LS_VENV"]) if env.get("JUDGEAUDIT_LS_VENV") \
        else cache_dir() / "label-studio-venv"


def ensure_installed(*, venv: Path | None = None, python: str | None = None, quiet=False) -> Path:
    """The ``label-studio`` executable, installing it into its own venv when missing.

    Label Studio pins numpy<2.3 and openai<2, so it never shares judgeaudit's environment.
    """
    venv = Path(venv or venv_dir())
    exe = venv / "bin" / "label-studio"
    mark = venv / ".judgeaudit-installed"
    if exe.exists() and mark.exists():
        return exe
    if not quiet:
        print(f"installing {LS_VERSION_SPEC} into {venv} (once; a few minutes)", file=sys.stderr)
    py = python or shutil.which("python3") or sys.executable
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    try:
        subprocess.run([py, "-m", "venv", str(venv)], check=True)
        subprocess.run(pip + ["--upgrade", "pip"], check=True)
        subprocess.run(pip + [LS_VERSION_SPEC], check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise JudgeAuditError(f"installing Label Studio into {venv} failed ({exc}); rerun "
                              "scripts/install-label-studio.sh to see pip's output, or point "
                              "$JUDGEAUDIT_LS_VENV at an existing Label Studio 1.23 venv") from None
    mark.touch()
    return exe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class ServerState:
    """What ``server status`` reports."""

    running: bool
    healthy: bool
    pid: int | None
    url: str | None
    home: str
    credentials_path: str


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` atomically to a file only the owner can read (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours counts as gone
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _is_label_studio(pid: int) -> bool:
    """Whether ``pid`` runs Label Studio (a stale pid file may name a reused pid: never
    signal someone else's process).  Without /proc (not Linux) the check is skipped."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not Path("/proc/self/cmdline").exists():
        return True
    try:
        return b"label-studio" in cmdline.read_bytes()
    except OSError:
        return False


def _healthy(url: str, timeout=2.0) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


@dataclass(frozen=True)
class LocalServer:
    """One local Label Studio installation: its home folder, venv and port."""

    home: Path
    venv: Path
    port: int = DEFAULT_PORT

    @classmethod
    def default(cls, *, env=None, port=None) -> LocalServer:
        env = os.environ if env is None else env
        home = Path(env["JUDGEAUDIT_LS_HOME"]) if env.get("JUDGEAUDIT_LS_HOME") \
            else cache_dir() / "label-studio"
        return cls(home=home, venv=venv_dir(env), port=port or int(env.get("JUDGEAUDIT_LS_PORT", DEFAULT_PORT)))

    data_dir = property(lambda self: self.home / "data")
    credentials_path = property(lambda self: self.home / "credentials.json")
    pid_path = property(lambda self: self.home / "server.pid")
    log_path = property(lambda self: self.home / "server.log")
    url = property(lambda self: f"http://127.0.0.1:{self.port}")

    def credentials(self) -> dict:
        """The admin account (created on first use: random password and token, 0600 file)."""
        if self.credentials_path.exists():
            creds = json.loads(self.credentials_path.read_text(encoding="utf-8"))
            if creds.get("url") != self.url:
                creds["url"] = self.url
                _write_private(self.credentials_path, json.dumps(creds, indent=2))
            return creds
        creds = {"url": self.url, "email": _ADMIN_EMAIL, "password": secrets.token_urlsafe(12),
                 "token": secrets.token_hex(20)}
        _write_private(self.credentials_path, json.dumps(creds, indent=2))
        return creds

    def environment(self, creds: dict) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "DJANGO_"))}
        env.update({
            "LABEL_STUDIO_BASE_DATA_DIR": str(self.data_dir),
            "LABEL_STUDIO_USERNAME": creds["email"],
            "LABEL_STUDIO_PASSWORD": creds["password"],
            "LABEL_STUDIO_USER_TOKEN": creds["token"],
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LATEST_VERSION_CHECK": "false",
            "COLLECT_ANALYTICS": "false",
            "SENTRY_DSN": "",
            "FRONTEND_SENTRY_DSN": "",
            "LABEL_STUDIO_HOST": self.url,
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_path.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) and _is_label_studio(pid) else None

    def status(self) -> ServerState:
        pid = self.pid()
        return ServerState(running=pid is not None, healthy=pid is not None and _healthy(self.url),
                           pid=pid, url=self.url if pid else None, home=str(self.home),
                           credentials_path=str(self.credentials_path))

    def start(self, *, timeout: float = 180.0, install: bool = True) -> ServerState:
        """Start the server (or find it running) and wait until it answers ``/health``."""
        if self.pid() is not None:
            return self.status()
        exe = ensure_installed(venv=self.venv) if install else self.venv / "bin" / "label-studio"
        if not exe.exists():
            raise ConfigError(f"Label Studio is not installed in {self.venv}; run "
                              "scripts/install-label-studio.sh or `judgeaudit annotate server start`")
        if _healthy(self.url, timeout=1.0):
            raise ConfigError(f"something else already answers at {self.url}; pick another port "
                              "with --port (or $JUDGEAUDIT_LS_PORT)")
        creds = self.credentials()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # credentials travel in the environment, not on the command line (visible in ps)
        cmd = [str(exe), "start", "--internal-host", "127.0.0.1", "--port", str(self.port),
               "--no-browser"]
        log = open(self.log_path, "ab")  # noqa: SIM115 (the child keeps it)
        try:
            proc = subprocess.Popen(cmd, env=self.environment(creds), stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.home)
        finally:
            log.close()
        self.pid_path.write_text(str(proc.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise JudgeAuditError(f"Label Studio exited with status {proc.returncode} while "
                                      f"starting; see {self.log_path}")
            if _healthy(self.url):
                self._check_token(creds)
                return self.status()
            time.sleep(0.5)
        self.stop()
        raise JudgeAuditError(f"Label Studio did not answer at {self.url} within {timeout:.0f} s; "
                              f"see {self.log_path}")

    def _check_token(self, creds: dict) -> None:
        """Label Studio creates the admin only in an empty database: a data folder from
        another credentials file keeps its own account, and the token would be refused."""
        req = urllib.request.Request(self.url + "/api/current-user/whoami",
                                     headers={"Authorization": f"Token {creds['token']}"})
        try:
            urllib.request.urlopen(req, timeout=30).close()
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                self.stop()
                raise ConfigError(
                    f"the Label Studio data in {self.data_dir} belongs to another admin account than "
                    f"{self.credentials_path} (was that file replaced or deleted?); restore it, or move "
                    f"{self.data_dir} away to start with an empty database") from None
        except (urllib.error.URLError, OSError):
            pass  # health answered; a slow first request is not a credentials problem

    def stop(self, *, timeout: float = 20.0) -> bool:
        """Stop the server's process group; ``False`` when none was running."""
        pid = self.pid()
        if pid is None:
            self.pid_path.unlink(missing_ok=True)
            return False
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.1)
            if not _alive(pid):
                break
        self.pid_path.unlink(missing_ok=True)
        return True


def migrated_data_template(*, venv: Path | None = None, root: Path | None = None) -> Path:
    """A home folder whose database is migrated and whose admin exists, built once.

    Copy it (``shutil.copytree``) and start a :class:`LocalServer` on the copy: the
    start then takes seconds.  Rebuilt when the Label Studio version changes.
    """
    venv = Path(venv or venv_dir())
    ensure_installed(venv=venv)
    version = _installed_version(venv)
    root = Path(root or cache_dir() / "label-studio-templates")
    home = root / f"migrated-{version}"
    if (home / ".ready").exists():
        return home
    tmp = root / f".building-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    server = LocalServer(home=tmp, venv=venv, port=free_port())
    try:
        server.start(timeout=600)
    finally:
        server.stop()
    (tmp / "server.pid").unlink(missing_ok=True)
    (tmp / ".ready").touch()
    shutil.rmtree(home, ignore_errors=True)
    os.replace(tmp, home)
    return home


def _installed_version(venv: Path) -> str:
    found = sorted((venv / "lib").glob("python*/site-packages/label_studio-*.dist-info"))
    return found[-1].name[len("label_studio-"):-len(".dist-info")] if found else "unknown"

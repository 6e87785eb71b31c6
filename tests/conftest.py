"""Shared fixtures: the repository root, the public human-labelled data folder, the
optional-extra guard and a tiny offline model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# Threads: one per process.  Tests run beside other work on a 2-core machine, where torch's
# default (a thread per core) made the slowest test 10x slower; subprocesses inherit this.
os.environ.setdefault("JUDGEAUDIT_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")


def pytest_configure(config):
    from judgeaudit.threads import set_threads

    set_threads(int(os.environ["JUDGEAUDIT_THREADS"]))


# The model organism is trained once and cached; tests that point JUDGEAUDIT_CACHE at a
# temporary folder (for Label Studio's credentials) still share that one trained organism.
if not os.environ.get("JUDGEAUDIT_ORGANISM_CACHE"):
    from judgeaudit.organism import organism_cache

    os.environ["JUDGEAUDIT_ORGANISM_CACHE"] = str(organism_cache())


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (the folder holding pyproject.toml)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public data folder: $JUDGEAUDIT_SHARED_DATA, else <repo root>/../shared/data.

    Missing: the test is skipped, except under CI=true, where it fails.
    """
    env = os.environ.get("JUDGEAUDIT_SHARED_DATA")
    path = Path(env) if env else REPO_ROOT.parent / "shared" / "data"
    if not path.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"../shared/data is required under CI=true (looked in {path})")
        pytest.skip(f"public data folder not found at {path}; set JUDGEAUDIT_SHARED_DATA")
    return path


def require_module(name: str, why: str = ""):
    """Import ``name`` or skip the test; under CI=true a missing module fails instead.

    CI installs every extra, so a skip there would hide a broken install step.
    """
    try:
        return __import__(name)
    except ImportError as exc:
        msg = f"{name} is not installed ({exc}){': ' + why if why else ''}"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + " (CI=true installs every extra)")
        pytest.skip(msg)


def reference_module(name: str):
    """Import a test-only reference implementation (scikit-learn, statsmodels...) at module
    level.  Missing: the module's tests are skipped with the reason, except under CI=true,
    where the import error stands and collection fails (a cross-check must not vanish)."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"{name} is not installed ({exc}); pip install 'judgeaudit[test]'",
                    allow_module_level=True)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A 2-layer Llama model with a trained byte-level BPE tokenizer and a chat template,
    built offline (see :mod:`judgeaudit.tinymodel`).  Read-only: copy it before training."""
    require_module("torch")
    require_module("transformers")
    from judgeaudit.tinymodel import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-llama")


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
"""Debian's Chromium and the flags every browser test launches it with (this machine's
closed network refuses Chromium's background connections)."""


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium with playwright importable; skipped without them, failed under CI=true."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is required under CI=true (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} not found; install Debian chromium to run browser tests")
    require_module("playwright.sync_api", "the browser tests drive Chromium through playwright")
    return CHROMIUM


def pytest_collection_modifyitems(config, items):
    """Markers from where a test lives and what it uses, so that no file has to remember:
    ``shared_data`` for tests of ../shared/data; ``integration`` for everything under
    tests/integration/ (a real Label Studio); ``slow`` for browser tests (Chromium starts in
    seconds).  ``make test-fast`` runs ``-m "not slow and not integration"``."""
    integration = REPO_ROOT / "tests" / "integration"
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.shared_data)
        if integration in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)
        if item.get_closest_marker("browser") is not None or "chromium_path" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


SENTINEL_TOKEN = "SENTINEL7c1e9b04d2a35f68"
"""A Label Studio token the secret tests grep for (stderr, logs, run directories)."""


@pytest.fixture
def echo_server():
    """A real HTTP server on 127.0.0.1 that answers every request with ``.status`` (500 by
    default) and a JSON body quoting the request's Authorization header back, as a hostile
    or buggy server might.  ``.url`` is its address."""
    import http.server
    import json
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self):
            body = json.dumps({"detail": f"bad credentials {self.headers.get('Authorization')}"}).encode()
            self.send_response(self.server.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = _answer

        def log_message(self, *args):  # quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.status = 500
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()

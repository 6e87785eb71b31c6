"""One real Label Studio per test session, started from a cached migrated data folder.

The first session on a machine builds the template (migrations, ~1 min); later sessions
copy it and start in seconds.  Without Label Studio installed the tests skip, except
under CI=true, where they fail (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import shutil

import pytest


def _missing(msg: str):
    if os.environ.get("CI") == "true":
        pytest.fail(msg + " (CI=true: .ci/run installs it with scripts/install-label-studio.sh)")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory):
    """A running :class:`annotation.server.LocalServer` on a copy of the migrated template."""
    from annotation.server import LocalServer, free_port, migrated_data_template, venv_dir

    venv = venv_dir()
    if not (venv / "bin" / "label-studio").exists():
        _missing(f"Label Studio is not installed in {venv}; run scripts/install-label-studio.sh")
    template = migrated_data_template(venv=venv)
    home = tmp_path_factory.mktemp("ls") / "home"
    shutil.copytree(template, home)
    server = LocalServer(home=home, venv=venv, port=free_port())
    server.start(install=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ls_client(label_studio):
    from annotation.client import LabelStudioClient
    from annotation.connection import Connection

    creds = label_studio.credentials()
    return LabelStudioClient(Connection(label_studio.url, creds["token"], "test credentials"))


@pytest.fixture()
def project_title(request):
    """A project title unique to the test (Label Studio allows 3-50 characters)."""
    import hashlib

    name = request.node.name
    return f"t-{hashlib.sha1(name.encode()).hexdigest()[:6]} {name[5:]}"[:50]

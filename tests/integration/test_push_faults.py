"""Faults: the server is killed in the middle of a push; a rerun finishes the push with
no duplicate and no lost task."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from annotation import default_schema, push_items
from annotation.client import ServerUnavailableError

from .ls_helpers import make_items


def test_server_killed_mid_push_then_rerun_finishes_exactly(label_studio, ls_client, project_title):
    items = make_items(400, prefix="ft")
    schema = default_schema()
    pid = label_studio.pid()
    killed = threading.Event()

    def kill_during_next_batch(done, total):
        if done >= 100 and not killed.is_set():  # after two batches, while the third is in flight
            killed.set()
            threading.Timer(0.05, os.killpg, (pid, signal.SIGKILL)).start()

    try:
        with pytest.raises(ServerUnavailableError, match="can simply be rerun"):
            push_items(ls_client, items, project=project_title, schema=schema, batch_size=50,
                       progress=kill_during_next_batch)
    finally:
        label_studio.stop()  # reaps the killed process
        label_studio.start(install=False)
    assert killed.is_set()
    proj = ls_client.find_project(project_title)
    before = [t["item_id"] for t in ls_client.task_data(proj["id"])]
    assert 100 <= len(before) < 400  # the push really was cut short
    rerun = push_items(ls_client, items, project=project_title, schema=schema, batch_size=50)
    assert rerun.already_present == len(before) and rerun.created == 400 - len(before)
    after = [t["item_id"] for t in ls_client.task_data(proj["id"])]
    assert len(after) == len(set(after)) == 400  # no duplicate
    assert set(after) == set(items["item_id"])  # no lost task

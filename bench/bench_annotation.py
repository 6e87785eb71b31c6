"""Push 10,000 tasks and pull 10,000 annotations on a real local Label Studio, against one
request per task (timed on a sample and scaled), in the same process.

    .venv/bin/python bench/bench_annotation.py [--n 10000] [--sample 200] [--batch-size 1000]

Needs Label Studio installed (scripts/install-label-studio.sh).  Starts its own server on
a copy of the migrated template and stops it at the end.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402

from annotation import LabelStudioClient, default_schema, pull_labels, push_items  # noqa: E402
from annotation.connection import Connection  # noqa: E402
from annotation.labelconfig import label_config  # noqa: E402
from annotation.push import ensure_project  # noqa: E402
from annotation.server import LocalServer, free_port, migrated_data_template, venv_dir  # noqa: E402


def _items(n, prefix):
    return pd.DataFrame({"item_id": [f"{prefix}{i:06d}" for i in range(n)],
                         "prompt": [f"How do I do thing number {i}?" for i in range(n)],
                         "response": [f"Here is a fairly ordinary answer number {i}. " * 4 for i in range(n)]})


def _annotated(items, user_email):
    return [{"data": dict(zip(items.columns, row)),
             "annotations": [{"completed_by": {"email": user_email},
                              "result": [{"from_name": "harmfulness", "to_name": "response", "type": "choices",
                                          "value": {"choices": ["harmful" if i % 3 == 0 else "not harmful"]}}]}]}
            for i, row in enumerate(items.itertuples(index=False))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--sample", type=int, default=200, help="tasks timed one request each")
    ap.add_argument("--batch-size", type=int, default=1000)
    args = ap.parse_args()
    schema = default_schema()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        shutil.copytree(migrated_data_template(), home)
        server = LocalServer(home=home, venv=venv_dir(), port=free_port())
        server.start(install=False)
        try:
            creds = server.credentials()
            client = LabelStudioClient(Connection(server.url, creds["token"], "bench"))
            # ---- push: batched, through push_items
            t0 = time.perf_counter()
            res = push_items(client, _items(args.n, "push"), project="bench push", schema=schema,
                             batch_size=args.batch_size)
            t_push = time.perf_counter() - t0
            assert res.created == args.n
            # ---- push baseline: one POST /api/tasks per task
            proj, _ = ensure_project(client, "bench push one by one", label_config(schema))
            sample = _items(args.sample, "one")
            t0 = time.perf_counter()
            for row in sample.itertuples(index=False):
                client.post("/api/tasks", {"project": proj["id"], "data": row._asdict()})
            t_one_push = (time.perf_counter() - t0) / args.sample * args.n
            # ---- pull: 10,000 annotations through one export snapshot
            proj, _ = ensure_project(client, "bench pull", label_config(schema))
            items = _items(args.n, "pull")
            for start in range(0, args.n, args.batch_size):
                client.import_tasks(proj["id"], _annotated(items.iloc[start:start + args.batch_size], creds["email"]))
            t0 = time.perf_counter()
            pulled = pull_labels(client, project="bench pull", schema=schema)
            t_pull = time.perf_counter() - t0
            assert len(pulled.labels) == args.n, len(pulled.labels)
            # ---- pull baseline: one GET /api/tasks/{id}/annotations per task
            ids = [t["id"] for t in client.get("/api/tasks", project=proj["id"], page_size=args.sample,
                                               fields="task_only", include="id")["tasks"]]
            t0 = time.perf_counter()
            for tid in ids:
                client.get(f"/api/tasks/{tid}/annotations")
            t_one_pull = (time.perf_counter() - t0) / len(ids) * args.n
            # what a pull one task at a time really needs: the task's data (item_id) and annotations
            t0 = time.perf_counter()
            for tid in ids:
                task = client.get(f"/api/tasks/{tid}")
            t_one_task = (time.perf_counter() - t0) / len(ids) * args.n
            assert task["data"]["item_id"] and task["annotations"], sorted(task)
        finally:
            server.stop()
    print(f"push {args.n} tasks (batches of {args.batch_size}): {t_push:.1f} s; one request per task "
          f"(timed on {args.sample}, scaled): {t_one_push:.1f} s; ratio {t_one_push / t_push:.1f}x")
    print(f"pull {args.n} annotations (export snapshot): {t_pull:.1f} s; one request per task "
          f"(GET /api/tasks/ID/annotations, timed on {args.sample}, scaled): {t_one_pull:.1f} s; "
          f"ratio {t_one_pull / t_pull:.1f}x")
    print(f"pull baseline with task data (GET /api/tasks/ID, which a per-task pull needs for item_id): "
          f"{t_one_task:.1f} s; ratio {t_one_task / t_pull:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

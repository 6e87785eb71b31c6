"""Pull annotations from an export snapshot into judgeaudit's labels table.

One row per (item_id, annotator_id, field): ``value`` is the canonical label, ``source``
is ``label-studio:project=P/task=T/annotation=A`` and ``created_at`` the time the value
was last saved (the annotation's ``updated_at``).  Rules:

- skipped / cancelled annotations (``was_cancelled``) give no label; they are counted;
- drafts (unsubmitted work) are ignored; they are counted;
- an annotation edited after submission is exported in its latest version; when one
  annotator has several annotations of the same task, the latest (``updated_at``, then
  the higher id) wins per field and the others are counted as superseded;
- a task without ``item_id`` in its data cannot find its item: an error, unless
  ``skip_unknown=True`` (then counted).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from judgeaudit.errors import ValidationError, excerpt
from judgeaudit.tables import validate

from .client import LabelStudioClient
from .labelconfig import ITEM_KEY, LabelSchema

__all__ = ["PullResult", "pull_labels", "labels_from_snapshot", "annotator_names"]

NOTES_COLUMNS = ("item_id", "annotator_id", "notes", "source", "created_at")


@dataclass(frozen=True)
class PullResult:
    """The labels table, the notes, and what was left out (counts)."""

    labels: pd.DataFrame
    notes: pd.DataFrame
    tasks: pd.DataFrame
    counts: dict = field(default_factory=dict)


def annotator_names(client: LabelStudioClient, *, key: str = "email") -> dict:
    """User id -> annotator id (``key``: ``email`` or ``id``)."""
    if key == "id":
        return {}
    return {int(u["id"]): str(u.get(key) or u["id"]) for u in client.users()}


def labels_from_snapshot(snapshot: list, schema: LabelSchema, *, project_id=None, names=None,
                         skip_unknown: bool = False, annotator_alias=None) -> PullResult:
    """The labels table from an export snapshot (a list of task dicts, Label Studio's JSON).

    ``names`` maps user ids to annotator ids (default: the user id as text);
    ``annotator_alias`` gives every label that annotator id instead (e.g. ``adjudicated``
    for a review project).
    """
    names = names or {}
    counts = {"tasks": 0, "annotations": 0, "skipped": 0, "drafts_ignored": 0, "superseded": 0,
              "tasks_without_item_id": 0, "empty_annotations": 0}
    rows, notes, tasks = [], [], []
    _check_shape(snapshot)
    for task in snapshot:
        counts["tasks"] += 1
        item = (task.get("data") or {}).get(ITEM_KEY)
        counts["drafts_ignored"] += len(task.get("drafts") or ())
        if item is None:
            if skip_unknown:
                counts["tasks_without_item_id"] += 1
                continue
            raise ValidationError(f"task {excerpt(task.get('id'), 40)} of project {project_id} has no "
                                  f"{ITEM_KEY!r} in its data, so its labels cannot find their item; "
                                  "push tasks with judgeaudit (or pass skip_unknown=True / "
                                  "--skip-unknown to leave them out)")
        data = task.get("data") or {}
        tasks.append({"item_id": str(item), "task_id": task.get("id"),
                      "prompt": data.get("prompt"), "response": data.get("response")})
        for ann in task.get("annotations") or ():
            counts["annotations"] += 1
            if ann.get("was_cancelled"):
                counts["skipped"] += 1
                continue
            user = ann.get("completed_by")
            user = user.get("id") if isinstance(user, dict) else user
            annotator = annotator_alias or names.get(user, str(user))
            source = f"label-studio:project={project_id or task.get('project')}/task={task.get('id')}" \
                     f"/annotation={ann.get('id')}"
            stamp = ann.get("updated_at") or ann.get("created_at")
            values, note = schema.parse_result(ann.get("result"), where=source)
            if not values and note is None:
                counts["empty_annotations"] += 1
            order = (_instant(stamp, where=source), int(ann.get("id") or 0))
            for fname, value in values.items():
                rows.append((str(item), annotator, fname, value, source, stamp, order))
            if note is not None:
                notes.append((str(item), annotator, note, source, stamp, order))
    labels = pd.DataFrame(rows, columns=["item_id", "annotator_id", "field", "value", "source",
                                         "created_at", "_order"])
    before = len(labels)
    labels = _latest(labels, ["item_id", "annotator_id", "field"])
    counts["superseded"] = before - len(labels)
    notes_df = _latest(pd.DataFrame(notes, columns=[*NOTES_COLUMNS, "_order"]), ["item_id", "annotator_id"])
    labels = validate(labels, "labels", allowed_values=schema.allowed_values())
    counts["labels"] = len(labels)
    return PullResult(labels=labels, notes=notes_df.reset_index(drop=True),
                      tasks=pd.DataFrame(tasks, columns=["item_id", "task_id", "prompt", "response"]),
                      counts=counts)


def _check_shape(snapshot) -> None:
    """A snapshot is a list of task objects whose ``data`` is an object and whose
    ``annotations`` / ``drafts`` are lists (of objects); anything else is not Label Studio's
    JSON export and gets a :class:`ValidationError` naming the task."""
    if not isinstance(snapshot, list):
        raise ValidationError(f"an export snapshot is a JSON list of tasks, got {type(snapshot).__name__}")
    for n, task in enumerate(snapshot):
        where = f"snapshot task #{n + 1}"
        if not isinstance(task, dict):
            raise ValidationError(f"{where} is not an object: {excerpt(task, 60)}")
        if not isinstance(task.get("data") or {}, dict):
            raise ValidationError(f"{where}: 'data' is not an object")
        for key in ("annotations", "drafts"):
            value = task.get(key) or []
            if not isinstance(value, list) or (key == "annotations" and
                                               not all(isinstance(a, dict) for a in value)):
                raise ValidationError(f"{where}: {key!r} is not a list of objects")
        for ann in task.get("annotations") or ():
            if not isinstance(ann.get("id") or 0, int) or isinstance(ann.get("id"), bool):
                raise ValidationError(f"{where}: annotation id {excerpt(ann.get('id'), 40)} is not an integer")
            for key in ("updated_at", "created_at"):
                if ann.get(key) is not None and not isinstance(ann[key], str):
                    raise ValidationError(f"{where}: annotation {key} {excerpt(ann[key], 40)} is not a timestamp text")


def _instant(stamp, *, where: str) -> int:
    """A timestamp as nanoseconds since the epoch (UTC; a naive one is read as UTC), so that
    edits are ordered by time: as text, Label Studio's "...:01Z" would sort after
    "...:01.5Z".  A missing one sorts first."""
    if not stamp:
        return -(2 ** 63)
    try:
        when = pd.Timestamp(stamp)
        return int((when if when.tzinfo is None else when.tz_convert("UTC")).value)
    except (ValueError, TypeError, OverflowError):
        raise ValidationError(f"{where}: timestamp {excerpt(stamp, 60)} is not an ISO 8601 time; export the "
                              "project again from Label Studio (JSON)") from None


def _latest(df: pd.DataFrame, key: list) -> pd.DataFrame:
    if df.empty:
        return df.drop(columns="_order")
    df = df.sort_values("_order", kind="stable")
    return df.drop_duplicates(key, keep="last").drop(columns="_order").sort_values(key).reset_index(drop=True)


def pull_labels(client: LabelStudioClient, *, project: str, schema: LabelSchema,
                annotator_key: str = "email", skip_unknown: bool = False,
                annotator_alias=None) -> PullResult:
    """Export a snapshot of the project titled ``project`` and read its labels."""
    proj = client.find_project(project)
    if proj is None:
        titles = sorted(p["title"] for p in client.projects())
        raise ValidationError(f"no Label Studio project titled {project!r} at {client.connection.url}; "
                              f"projects there: {', '.join(titles) or '(none)'}")
    snapshot = client.export_snapshot(proj["id"])
    return labels_from_snapshot(snapshot, schema, project_id=proj["id"],
                                names=annotator_names(client, key=annotator_key),
                                skip_unknown=skip_unknown, annotator_alias=annotator_alias)


def write_notes(notes: pd.DataFrame, path) -> None:
    """Write the free-text notes as JSON lines, atomically."""
    import json

    from judgeaudit.atomic import atomic_open

    with atomic_open(path, "w") as fh:
        for rec in notes.to_dict(orient="records"):
            fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")

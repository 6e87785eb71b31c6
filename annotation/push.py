"""Push items to Label Studio as tasks: create or update the project, import in batches.

Idempotent: every task carries its ``item_id`` in its data, and a push first reads which
item ids the project already holds (the task list, in pages), so a rerun adds nothing twice.
Each batch is one import request, which Label Studio stores in one transaction: if the
server stops in the middle of a push, a batch is either in or out, and a rerun imports
exactly the missing ones.

Only the item id, prompt and response travel to annotators, so labelling stays blind to
the model, objective and judge verdicts.  Pre-annotations from a judge are possible
(``predictions=``) but off by default: shown a judge's answer, annotators drift toward
it (anchoring), and the labels would no longer be an independent reference for auditing
that judge.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import pandas as pd

from judgeaudit.errors import ConfigError, ValidationError

from .client import LabelStudioClient
from .labelconfig import ITEM_KEY, PROMPT_KEY, RESPONSE_KEY, LabelSchema, label_config

OVERLAP_KEY = "n_annotators"

__all__ = ["PushResult", "items_from_tables", "push_items", "ensure_project", "existing_item_ids"]


@dataclass(frozen=True)
class PushResult:
    """What a push did: the project, how many tasks it created and how many were there."""

    project_id: int
    project_title: str
    created: int
    already_present: int
    duplicates_in_input: int
    batches: int
    project_created: bool
    overlap_set: int = 0


def items_from_tables(generations: pd.DataFrame, prompts: pd.DataFrame | None = None,
                      sample: pd.DataFrame | None = None) -> pd.DataFrame:
    """``item_id, prompt, response`` rows to label, from a generations table (its prompt
    text from ``prompts`` by ``prompt_id``, or a ``prompt`` column), restricted to the
    ``item_id`` of ``sample`` when given (in the sample's order, with its ``n_annotators``)."""
    gens = generations
    if "prompt" not in gens.columns:
        if prompts is None:
            raise ConfigError("the generations table has no 'prompt' column: pass the prompts table "
                              "(--prompts) so each task can show its prompt")
        text = dict(zip(prompts["prompt_id"], prompts["text"]))
        missing = sorted(set(gens["prompt_id"]) - set(text))
        if missing:
            raise ValidationError(f"{len(missing)} prompt_id(s) of the generations are not in the "
                                  f"prompts table, e.g. {missing[:3]}", column="prompt_id")
        gens = gens.assign(prompt=gens["prompt_id"].map(text))
    items = gens[["item_id", "prompt", "response"]]
    if sample is not None:
        if "item_id" not in sample.columns:
            raise ValidationError("the sample table needs an 'item_id' column", column="item_id")
        by_id = items.drop_duplicates("item_id").set_index("item_id")
        gold = sample["is_gold"].fillna(False).astype(bool) if "is_gold" in sample.columns \
            else pd.Series(False, index=sample.index)
        own = sample[gold & ~sample["item_id"].isin(by_id.index)].drop_duplicates("item_id")
        if len(own):  # gold control items are not generations: the sample carries their text
            if not {"prompt", "response"} <= set(own.columns):
                raise ValidationError(f"gold item {own['item_id'].iloc[0]!r} is not in the generations and "
                                      "the sample has no prompt/response columns for it; write the "
                                      "sample with `annotate sample --gold`", column="item_id")
            by_id = pd.concat([by_id, own.set_index("item_id")[["prompt", "response"]]])
        unknown = [i for i in sample["item_id"] if i not in by_id.index]
        if unknown:
            raise ValidationError(f"{len(unknown)} sampled item_id(s) are not in the generations, "
                                  f"e.g. {unknown[:3]}", column="item_id")
        items = by_id.loc[list(dict.fromkeys(sample["item_id"]))].reset_index()
        if OVERLAP_KEY in sample.columns:
            items[OVERLAP_KEY] = sample.drop_duplicates("item_id")[OVERLAP_KEY].to_numpy()
    return items.reset_index(drop=True)


def ensure_project(client: LabelStudioClient, title: str, config_xml: str, *,
                   description: str = "", settings=None):
    """``(project, created)``: the project titled ``title``, created when missing; its
    labelling config is updated when it differs from ``config_xml``."""
    if not 3 <= len(title) <= 50:
        raise ConfigError(f"project title {title!r} has {len(title)} characters; Label Studio "
                          "accepts 3 to 50")
    project = client.find_project(title)
    settings = dict(settings or {})
    if project is None:
        fields = {"title": title, "label_config": config_xml, "description": description,
                  "show_collab_predictions": False, "show_skip_button": True,
                  "maximum_annotations": 1} | settings
        return client.create_project(**fields), True
    changes = {k: v for k, v in settings.items() if project.get(k) != v}
    if project.get("label_config", "").strip() != config_xml.strip():
        changes["label_config"] = config_xml
    if changes:
        project = client.update_project(project["id"], **changes)
    return project, False


def existing_item_ids(client: LabelStudioClient, project_id: int) -> list:
    """The ``item_id`` of every task in the project (tasks without one are left out)."""
    tasks = client.tasks(project_id, include=("id", "data"))
    return [t["data"][ITEM_KEY] for t in tasks if (t.get("data") or {}).get(ITEM_KEY) is not None]


def _prediction(verdict_label, score, judge_id: str, field: str) -> dict:
    pred = {"model_version": judge_id,
            "result": [{"from_name": field, "to_name": RESPONSE_KEY, "type": "choices",
                        "value": {"choices": [verdict_label]}}]}
    if score is not None and not (isinstance(score, float) and math.isnan(score)):
        pred["score"] = float(score)
    return pred


def _predictions_by_item(predictions, judge_id, schema: LabelSchema, field: str) -> dict:
    if predictions is None:
        return {}
    spec = schema.field_named(field)
    if spec is None:
        raise ConfigError(f"pre-annotations are for field {field!r}, which the schema lacks")
    rows = predictions[(predictions["judge_id"] == judge_id) & (predictions["status"] == "ok")]
    if rows.empty:
        have = sorted(set(predictions["judge_id"]))
        raise ConfigError(f"no usable verdicts of judge {judge_id!r} for pre-annotations; "
                          f"judges in the verdicts table: {', '.join(have) or '(none)'}")
    return {r.item_id: _prediction(r.label, r.score, judge_id, field)
            for r in rows.itertuples(index=False) if r.label in spec.values}


def push_items(client: LabelStudioClient, items: pd.DataFrame, *, project: str,
               schema: LabelSchema, batch_size: int = 500, description: str = "",
               predictions: pd.DataFrame | None = None, judge_id: str | None = None,
               prediction_field: str = "harmfulness", extra_data=(), review: bool = False,
               progress=None) -> PushResult:
    """Create tasks for the ``items`` (``item_id, prompt, response``) the project lacks.

    Parameters
    ----------
    project:
        The project's title; created with the schema's labelling config when missing.
    batch_size:
        Tasks per import request.
    predictions, judge_id:
        Off by default.  A verdicts table and the judge whose labels become
        pre-annotations of ``prediction_field`` (anchoring: see the module docstring).
    items[n_annotators]:
        Optional: annotators wanted per item (the sample's overlap subset); set as each
        task's ``overlap`` in Label Studio, so a task stays in the queue until that many
        annotators have labelled it.
    extra_data:
        Further columns of ``items`` to put into each task's data (shown to annotators
        only if the labelling config refers to them).
    progress:
        ``fn(done, total)`` called after each batch.
    """
    if batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
    need = [ITEM_KEY, PROMPT_KEY, RESPONSE_KEY, *extra_data]
    missing = [c for c in need if c not in items.columns]
    if missing:
        raise ValidationError(f"items to push lack column(s) {missing}; found {list(items.columns)}")
    for col in (PROMPT_KEY, RESPONSE_KEY):  # Label Studio would answer a bare HTTP 400 for a null
        empty = items[col].isna()
        if empty.any():
            row = int(empty.to_numpy().argmax())
            hint = (" (the sample was drawn without the prompts table: run `annotate sample` with --prompts, or "
                    "push with --generations and --prompts)" if col == PROMPT_KEY else "")
            raise ValidationError(f"item {items[ITEM_KEY].iloc[row]!r} has no {col} text{hint}", row=row + 1,
                                  column=col)
    if (predictions is None) != (judge_id is None):
        raise ConfigError("pre-annotations need both a verdicts table and a judge id")
    preds = _predictions_by_item(predictions, judge_id, schema, prediction_field)
    proj, created = ensure_project(client, project, label_config(schema, review=review),
                                   description=description)
    present = {str(i) for i in existing_item_ids(client, proj["id"])}
    ids = items[ITEM_KEY].astype(str)
    first = ~ids.duplicated()
    todo = items[first.to_numpy() & ~ids.isin(present).to_numpy()]
    tasks = []
    for row in todo[need].itertuples(index=False):
        data = {k: (None if v is None or (isinstance(v, float) and math.isnan(v)) else
                    v if isinstance(v, (int, float, bool)) else str(v))
                for k, v in zip(need, row)}
        data[ITEM_KEY] = str(data[ITEM_KEY])  # text, as a rerun compares it (and pull reads it)
        task = {"data": data}
        if data[ITEM_KEY] in preds:
            task["predictions"] = [preds[data[ITEM_KEY]]]
        tasks.append(task)
    batches = 0
    for start in range(0, len(tasks), batch_size):
        client.import_tasks(proj["id"], tasks[start:start + batch_size])
        batches += 1
        if progress is not None:
            progress(min(start + batch_size, len(tasks)), len(tasks))
    overlap_set = _set_overlap(client, proj["id"], items) if OVERLAP_KEY in items.columns else 0
    return PushResult(project_id=int(proj["id"]), project_title=project, created=len(tasks),
                      already_present=int((first & ids.isin(present)).sum()),
                      duplicates_in_input=int((~first).sum()), batches=batches,
                      project_created=created, overlap_set=overlap_set)


def _set_overlap(client: LabelStudioClient, project_id: int, items: pd.DataFrame) -> int:
    """Give each task the number of annotators its item wants (``n_annotators``).

    Label Studio only sets a project-wide overlap on import; a task's own ``overlap`` decides
    when it counts as done and leaves the queue.  Tasks already right are left alone, so a
    rerun (also after a stop between import and this step) patches only what is missing.
    """
    want = items.drop_duplicates(ITEM_KEY).set_index(ITEM_KEY)[OVERLAP_KEY]
    bad = want[want.isna() | (pd.to_numeric(want, errors="coerce") < 1)]
    if len(bad):
        raise ValidationError(f"{OVERLAP_KEY} must be a whole number >= 1; item {bad.index[0]!r} has "
                              f"{bad.iloc[0]!r}", column=OVERLAP_KEY)
    want = want.astype(int)
    want.index = want.index.astype(str)  # tasks carry item_id as text
    changed = 0
    for task in client.tasks(project_id, include=("id", "data", "overlap")):
        item = (task.get("data") or {}).get(ITEM_KEY)
        if item in want.index and task.get("overlap") != int(want[item]):
            client.patch(f"/api/tasks/{task['id']}", {"overlap": int(want[item])})
            changed += 1
    return changed


def stderr_progress(label: str):
    """A progress callback ``(done, total)`` drawing :class:`judgeaudit.progress.Progress`
    on stderr; ``None`` when stderr is not a terminal."""
    if not sys.stderr.isatty():
        return None
    from judgeaudit.progress import Progress

    bar = None

    def report(done, total):
        nonlocal bar
        if bar is None:
            bar = Progress(total, label)
        bar.advance_to(done)
        if done >= total:
            bar.close()

    return report

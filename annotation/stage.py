"""The labelling stages of ``judgeaudit run`` (``judgeaudit.stages`` entry points ``sample``
and ``labels``).

``sample`` draws the items to label (strata of coherence x judge disagreement x
checkpoint, :func:`annotation.sampling.draw_sample`) once: a sample that exists is kept,
since labels may already be coming in for it and the weighted audit needs the design it
was drawn with.  Then, with ``[annotation] label_studio`` set, it pushes the sample
(idempotent); without it, it writes a Label Studio import file and the labelling config.

``labels`` runs on every invocation: it pulls the labels from Label Studio, or reads the
``[annotation] labels`` file, into the run's labels table.  Until there are labels it is
*waiting*, and the audit waits with it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from judgeaudit.atomic import write_json_atomic, write_text_atomic
from judgeaudit.errors import ConfigError
from judgeaudit.experiment.stages import StageResult

__all__ = ["SAMPLE", "LABELS", "SampleStage", "LabelsStage", "import_tasks"]


def _project(config) -> str:
    return config.annotation.project or f"judgeaudit {config.name}"


def _client(config):
    from .client import LabelStudioClient
    from .connection import resolve_connection

    a = config.annotation
    if a.label_studio == "local":
        from .server import LocalServer

        LocalServer.default().start()
        return LabelStudioClient(resolve_connection(config_file=a.config_file))
    return LabelStudioClient(resolve_connection(url=a.label_studio, config_file=a.config_file))


def import_tasks(items: pd.DataFrame) -> list:
    """Label Studio import records (``[{"data": {...}}]``) of ``items_from_tables`` rows."""
    from .labelconfig import ITEM_KEY, PROMPT_KEY, RESPONSE_KEY
    from .push import OVERLAP_KEY

    tasks = []
    for row in items.itertuples(index=False):
        data = {ITEM_KEY: str(row.item_id), PROMPT_KEY: str(row.prompt), RESPONSE_KEY: str(row.response)}
        n = getattr(row, OVERLAP_KEY, None)
        if n is not None and n == n:
            data[OVERLAP_KEY] = int(n)
        tasks.append({"data": data})
    return tasks


def _read_inputs(ctx):
    from judgeaudit.experiment.core_stages import coherence_table
    from judgeaudit.tables import read_table

    lay = ctx.layout
    gens = read_table(lay.generations, "generations")
    prompts = read_table(lay.prompts, "prompts")
    verdicts = read_table(lay.verdicts, "verdicts")
    return gens, prompts, verdicts, coherence_table(ctx)


class SampleStage:
    name = "sample"
    inputs = ("generate", "judge", "coherence")
    needs = ("generate", "judge")
    always = False

    def applies(self, config) -> bool:
        return True

    def check(self, config) -> None:
        name = config.annotation.coherence_scorer
        if name is None:
            return
        from judgeaudit.coherence import parse_scorer_specs

        specs = parse_scorer_specs(list(config.coherence.scorers)) if config.coherence.scorers else []
        ids = [str(opts.get("scorer_id", scorer)) for scorer, opts in specs]
        if name not in ids:
            raise ConfigError(f"{config.where('annotation')}: coherence_scorer {name!r} is not a scorer of "
                              f"[coherence] scorers (its scorer ids: {', '.join(ids) or 'none'}); give one of them "
                              "or leave coherence_scorer out")

    def preflight(self, config) -> None:
        """Before a real run: a configured server needs a token now, not after hours of generation."""
        a = config.annotation
        if a.label_studio and a.label_studio != "local":
            from .connection import resolve_connection

            resolve_connection(url=a.label_studio, config_file=a.config_file)

    def settings(self, config) -> dict:
        a = config.annotation
        return {k: getattr(a, k) for k in ("budget", "seed", "allocation", "overlap_k", "overlap_n",
                                           "min_per_stratum", "coherence_scorer", "project", "label_studio")}

    def plan(self, config) -> dict:
        a = config.annotation
        extra = a.overlap_n * (a.overlap_k - 1)
        return {"items": a.budget, "labels": a.budget + extra, "overlap": f"{a.overlap_n} items x {a.overlap_k}",
                "annotator_hours": round((a.budget + extra) * a.seconds_per_label / 3600, 2),
                "label_studio": a.label_studio or "import file"}

    def outputs(self, ctx) -> list:
        lay = ctx.layout
        return [lay.sample] if ctx.config.annotation.label_studio else [lay.sample, lay.tasks_file]

    def run(self, ctx) -> StageResult:
        from judgeaudit.tables import read_sample_table, write_sample_table
        from judgeaudit.tables import Task

        from .cli_sample import _with_prompt_text
        from .labelconfig import default_schema, label_config
        from .push import items_from_tables, push_items, stderr_progress
        from .sampling import DEFAULT_OVERSAMPLE, SamplingConfig, design_strata, draw_sample

        a, lay = ctx.config.annotation, ctx.layout
        gens, prompts, verdicts, coherence = _read_inputs(ctx)
        if lay.sample.exists():
            sample = read_sample_table(lay.sample)
            ctx.log(f"sample: keeping the {len(sample)} items of {lay.sample} (delete it to draw again)")
        else:
            strata = design_strata(gens, verdicts, coherence=coherence, prompts=prompts,
                                   task=Task.for_field("harmfulness"), scorer_id=a.coherence_scorer,
                                   group_key="checkpoint_id")
            cfg = SamplingConfig(budget=a.budget, seed=a.seed, allocation=a.allocation,
                                 oversample=dict(DEFAULT_OVERSAMPLE), min_per_stratum=a.min_per_stratum,
                                 overlap_k=a.overlap_k, overlap_n=a.overlap_n)
            sample = _with_prompt_text(draw_sample(strata, cfg), gens, prompts)
            write_sample_table(sample, lay.sample)
            ctx.log(f"sample: {len(sample)} items in {sample['stratum'].nunique()} strata -> {lay.sample}")
        items = items_from_tables(gens, prompts, sample)
        summary = {"items": int(len(sample)), "strata": int(sample["stratum"].nunique()),
                   "overlap": int(sample["overlap"].sum()) if "overlap" in sample else 0}
        schema = default_schema()
        if a.label_studio:
            pushed = push_items(_client(ctx.config), items, project=_project(ctx.config), schema=schema,
                                progress=stderr_progress("push") if ctx.progress else None)
            summary.update({"project": pushed.project_title, "project_id": pushed.project_id,
                            "created": pushed.created, "already_present": pushed.already_present})
        else:
            write_json_atomic(lay.tasks_file, import_tasks(items))
            write_text_atomic(lay.label_config, label_config(schema))
            summary.update({"tasks_file": str(lay.tasks_file), "label_config": str(lay.label_config)})
        return StageResult(summary)


def _labels_hash(labels: pd.DataFrame) -> str:
    cols = ["item_id", "annotator_id", "field", "value"]
    text = labels[cols].astype(str).sort_values(cols).to_csv(index=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class LabelsStage:
    name = "labels"
    inputs = needs = ("sample",)
    always = True  # annotators go on labelling between runs

    def applies(self, config) -> bool:
        return True

    def check(self, config) -> None:
        if config.annotation.simulate and not config.model.is_organism:
            raise ConfigError(f"{config.where('annotation')}: simulate = {{...}} needs the ground truth of the model "
                              "organism's world: set [model] tiny = \"organism\", or label the sample (labels = "
                              "'FILE' or label_studio)")

    def settings(self, config) -> dict:
        a = config.annotation
        return {"label_studio": a.label_studio, "labels": a.labels, "project": a.project,
                "simulate": dict(a.simulate)}

    def plan(self, config) -> dict:
        a = config.annotation
        if a.simulate:
            from judgeaudit.organism import SimulatedAnnotators

            return {"from": SimulatedAnnotators.from_options(a.simulate).describe()}
        return {"from": a.label_studio or a.labels or "none configured yet"}

    def outputs(self, ctx) -> list:
        return [ctx.layout.labels]

    def run(self, ctx) -> StageResult:
        from judgeaudit.tables import read_table, write_table

        a, lay = ctx.config.annotation, ctx.layout
        if a.simulate:
            labels, source = _simulated_labels(ctx), "simulated annotators"
        elif a.label_studio:
            from .labelconfig import default_schema
            from .pull import pull_labels

            pulled = pull_labels(_client(ctx.config), project=_project(ctx.config), schema=default_schema())
            labels, source = pulled.labels, f"Label Studio project {_project(ctx.config)!r}"
        elif a.labels:
            if not Path(a.labels).exists():
                return StageResult(waiting=f"no labels yet at {a.labels} ([annotation] labels); label the tasks "
                                           f"in {lay.tasks_file} and export them there")
            labels, source = read_table(a.labels, "labels"), a.labels
        else:
            return StageResult(waiting=f"no labels configured: import {lay.tasks_file} into Label Studio (labelling "
                                       f"config {lay.label_config}), then set [annotation] labels = 'FILE' or "
                                       "label_studio = 'local' / a URL, and run again")
        if labels.empty:
            return StageResult(waiting=f"{source} has no labels yet")
        gens = read_table(lay.generations, "generations")
        stray = sorted(set(labels["item_id"]) - set(gens["item_id"]))
        if stray:
            raise ConfigError(f"{source}: {len(stray)} labelled item_id(s) are not generations of this run "
                              f"(e.g. {stray[0]!r}); are these labels from another experiment?")
        write_table(labels, lay.labels, "labels")
        return StageResult({"labels": int(len(labels)), "items": int(labels["item_id"].nunique()),
                            "annotators": int(labels["annotator_id"].nunique()), "source": source},
                           output_hash=_labels_hash(labels))


def _simulated_labels(ctx) -> pd.DataFrame:
    """Labels of the kept sample by the organism world's simulated annotators."""
    from judgeaudit.organism import SimulatedAnnotators, simulate_labels
    from judgeaudit.tables import read_sample_table, read_table

    from .push import items_from_tables

    lay, a = ctx.layout, ctx.config.annotation
    gens, prompts = read_table(lay.generations, "generations"), read_table(lay.prompts, "prompts")
    items = items_from_tables(gens, prompts, read_sample_table(lay.sample))
    sim = SimulatedAnnotators.from_options(a.simulate, where=ctx.config.where("annotation") + " simulate")
    ctx.log(f"labels: {len(items)} items labelled by {sim.describe()}")
    return simulate_labels(items, sim)


SAMPLE = SampleStage()
LABELS = LabelsStage()

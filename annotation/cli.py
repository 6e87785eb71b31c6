"""``judgeaudit annotate``: the Label Studio loop from the command line.

    judgeaudit annotate server start|stop|status   a local Label Studio (own venv, 127.0.0.1)
    judgeaudit annotate push     items -> tasks (batched, idempotent)
    judgeaudit annotate pull     export snapshot -> labels table
    judgeaudit annotate status   progress, agreement so far, disagreements
    judgeaudit annotate review   push the disagreements as review tasks for adjudication
    judgeaudit annotate sample   (annotation.cli_sample) choose what to label

The server URL and API token come from $JUDGEAUDIT_LS_URL / $JUDGEAUDIT_LS_TOKEN (or
$LABEL_STUDIO_URL / $LABEL_STUDIO_API_KEY), a JSON config file (--config or
$JUDGEAUDIT_LS_CONFIG), or the local server's credentials file; never an argument.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from judgeaudit.errors import ConfigError

__all__ = ["register"]

DEFAULT_PROJECT = "judgeaudit campaign"


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _connection_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("server (token from the environment or --config, never an argument)")
    g.add_argument("--url", default=None, help="Label Studio URL (default: $JUDGEAUDIT_LS_URL, "
                                               "the config file, or the local server)")
    g.add_argument("--config", type=Path, default=None,
                   help='JSON file with {"url": ..., "token": ...} (default $JUDGEAUDIT_LS_CONFIG)')
    p.add_argument("--project", default=DEFAULT_PROJECT, help=f"project title (default {DEFAULT_PROJECT!r})")


def _schema_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--schema", type=Path, default=None, help="label schema JSON (fields, values, notes)")
    p.add_argument("--fields", default=None,
                   help="built-in fields to label, comma-separated (default harmfulness,refusal,coherence)")
    p.add_argument("--no-notes", action="store_true", help="no free-text notes box")


def _schema(args):
    from .labelconfig import default_schema, load_schema

    if args.schema and args.fields:
        raise ConfigError("give --schema or --fields, not both")
    if args.schema:
        return load_schema(args.schema)
    fields = [f.strip() for f in args.fields.split(",") if f.strip()] if args.fields else None
    return default_schema(fields, notes=not args.no_notes)


def _client(args):
    from .client import LabelStudioClient
    from .connection import resolve_connection

    return LabelStudioClient(resolve_connection(url=args.url, config_file=args.config))


def _print(obj, as_json: bool, text: str) -> None:
    print(json.dumps(obj, indent=2, default=str, allow_nan=False) if as_json else text)


# ------------------------------------------------------------------ server
def _server(args) -> int:
    from dataclasses import asdict

    from .server import LocalServer

    server = LocalServer.default(port=args.port)
    if args.action == "start":
        state = server.start()
        creds = server.credentials()
        text = (f"Label Studio is running at {state.url} (pid {state.pid})\n"
                f"log in as {creds['email']}; the password and API token are in "
                f"{server.credentials_path} (readable only by you)\n"
                f"stop it with: judgeaudit annotate server stop")
        _print({**asdict(state), "email": creds["email"]}, args.json, text)
    elif args.action == "stop":
        stopped = server.stop()
        _print({"stopped": stopped}, args.json, "stopped" if stopped else "no local server was running")
    else:
        state = server.status()
        text = (f"running at {state.url} (pid {state.pid}, {'healthy' if state.healthy else 'not answering'})"
                if state.running else f"not running (home {state.home})")
        _print(asdict(state), args.json, text)
        return 0 if state.running or args.action == "status" else 1
    return 0


def _read_sample(path):
    """A sample or strata table; one written by ``annotate sample`` (it has
    ``inclusion_probability``) is normalised, so CSV cells become booleans and numbers."""
    from judgeaudit.tables import INCLUSION_COLUMN, validate_sample_table
    from judgeaudit.tables import read_records

    records = read_records(path)
    return validate_sample_table(records, path=path) if INCLUSION_COLUMN in records.columns else records


# ------------------------------------------------------------------ push
def _push(args) -> int:
    from judgeaudit.tables import read_records, read_table

    from .push import items_from_tables, push_items, stderr_progress

    schema = _schema(args)
    sample = _read_sample(args.sample) if args.sample else None
    if args.items:
        items = read_records(args.items)
    elif args.generations:
        gens = read_table(args.generations, "generations")
        prompts = read_table(args.prompts, "prompts") if args.prompts else None
        items = items_from_tables(gens, prompts, sample)
    elif sample is not None and {"prompt", "response"} <= set(sample.columns) \
            and sample[["prompt", "response"]].notna().all().all():
        items = sample  # `annotate sample` copies prompt and response into the sample
    else:
        raise ConfigError("give --items FILE (item_id, prompt, response), --generations FILE "
                          "[--prompts FILE] [--sample FILE], or a --sample with prompt and response")
    predictions = read_table(args.pre_annotate_verdicts, "verdicts") if args.pre_annotate_verdicts else None
    if predictions is not None and not args.pre_annotate_judge:
        raise ConfigError("--pre-annotate-verdicts needs --pre-annotate-judge JUDGE_ID")
    if predictions is not None:
        _log("warning: pre-annotations shown to annotators anchor their labels toward that judge; "
             "leave them off for an audit reference")
    client = _client(args)
    result = push_items(client, items, project=args.project, schema=schema, batch_size=args.batch_size,
                        predictions=predictions, judge_id=args.pre_annotate_judge if predictions is not None
                        else None, progress=stderr_progress("push"))
    from dataclasses import asdict

    _print(asdict(result), args.json,
           f"project {result.project_title!r} (id {result.project_id}): {result.created} task(s) created, "
           f"{result.already_present} already there, {result.duplicates_in_input} duplicate(s) in the input, "
           f"{result.batches} batch(es)")
    return 0


# ------------------------------------------------------------------ pull
def _pull(args) -> int:
    from judgeaudit.tables import write_table

    from .pull import pull_labels

    schema = _schema(args)
    res = pull_labels(_client(args), project=args.project, schema=schema,
                      annotator_key=args.annotator_ids, skip_unknown=args.skip_unknown,
                      annotator_alias=args.annotator_alias)
    write_table(res.labels, args.out, "labels", allowed_values=schema.allowed_values())
    if args.notes_out and len(res.notes):
        from .pull import write_notes

        write_notes(res.notes, args.notes_out)
    c = res.counts
    _log(f"wrote {len(res.labels)} label(s) to {args.out}")
    _print({"out": str(args.out), **c}, args.json,
           f"{c['labels']} label(s) from {c['annotations']} annotation(s) on {c['tasks']} task(s); "
           f"left out: {c['skipped']} skipped/cancelled, {c['drafts_ignored']} draft(s), "
           f"{c['superseded']} superseded by a later annotation, {c['empty_annotations']} empty, "
           f"{c['tasks_without_item_id']} task(s) without item_id")
    return 0


# ------------------------------------------------------------------ status / review
def _status(args) -> int:
    from .pull import pull_labels
    from .status import campaign_status, review_items, review_title

    schema = _schema(args)
    client = _client(args)
    res = pull_labels(client, project=args.project, schema=schema, annotator_key=args.annotator_ids,
                      skip_unknown=True)
    strata = _read_sample(args.strata) if args.strata else None
    target = args.annotators_per_item
    if strata is not None and "n_annotators" in strata.columns and target is None:
        target = strata
    st = campaign_status(res.labels, items=res.tasks["item_id"], strata=strata,
                         target_annotators=target, n_boot=args.n_boot)
    out = st.to_dict()
    if strata is not None and "is_gold" in strata.columns:
        try:
            from .sampling import gold_report
        except ImportError:  # the sampling module is optional here
            gold_report = None
        if gold_report is not None:
            out["gold"] = gold_report(res.labels, strata).to_dict(orient="records")
    if args.push_review or args.command_name == "review":
        from .push import push_items

        review = review_items(st.disagreements, res.tasks)
        title = args.review_project or review_title(args.project)
        pushed = push_items(client, review, project=title, schema=schema, review=True,
                            extra_data=("review_note",))
        out["review"] = {"project": title, "project_id": pushed.project_id, "created": pushed.created,
                         "already_present": pushed.already_present}
    _print(out, args.json, _status_text(out))
    return 0


def _status_text(out: dict) -> str:
    lines = ["progress per stratum:"]
    for r in out["per_stratum"]:
        lines.append(f"  {r['stratum']}: {r['complete']}/{r['items']} complete, {r['labelled']} labelled, "
                     f"{r['labels_per_item']:.2f} annotators per item")
    lines.append("per annotator:")
    for r in out["per_annotator"]:
        lines.append(f"  {r['annotator_id']}: {r['items']} item(s), {r['labels']} label(s)")
    lines.append("agreement so far:")
    for a in out["agreement"]:
        al = a["krippendorff_alpha"]
        val = "undefined (" + al["undefined"] + ")" if al["value"] is None else \
            f"{al['value']:.3f} [{_fmt(al['ci_low'])}, {_fmt(al['ci_high'])}]"
        lines.append(f"  {a['field']}: Krippendorff alpha {val} on {a['items_with_2plus']} item(s) with 2+ labels")
    for a in out.get("agreement_by_stratum", []):
        al = a["krippendorff_alpha"]
        val = "undefined (" + al["undefined"] + ")" if al["value"] is None else \
            f"{al['value']:.3f} [{_fmt(al['ci_low'])}, {_fmt(al['ci_high'])}]"
        lines.append(f"    {a['field']} / {a['stratum']}: alpha {val} on {a['items_with_2plus']} item(s)")
    for g in out.get("gold", []):
        lines.append(f"  gold items, {g['annotator_id']} on {g['field']}: {g['correct']}/{g['n']} correct")
    lines.append(f"disagreements: {len(out['disagreements'])} (item, field) pair(s)")
    for d in out["disagreements"][:20]:
        lines.append(f"  {d['item_id']} {d['field']}: {d['values']}")
    if "review" in out:
        r = out["review"]
        lines.append(f"review project {r['project']!r}: {r['created']} task(s) created, "
                     f"{r['already_present']} already there")
    return "\n".join(lines)


def _fmt(v):
    return "n/a" if v is None else f"{v:.3f}"


# ------------------------------------------------------------------ register
def register(subparsers) -> None:
    """Add ``annotate`` and its subcommands to the ``judgeaudit`` parser."""
    ann = subparsers.add_parser("annotate", help="human labelling in Label Studio",
                                description="The human labelling loop on Label Studio.")
    sub = ann.add_subparsers(dest="annotate_command", required=True)

    s = sub.add_parser("server", help="run a local Label Studio (installed on first use)")
    s.add_argument("action", choices=["start", "stop", "status"])
    s.add_argument("--port", type=int, default=None, help="port (default 8080 or $JUDGEAUDIT_LS_PORT)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(handler=_server)

    p = sub.add_parser("push", help="create or update the project and import tasks (idempotent)")
    src = p.add_argument_group("what to push")
    src.add_argument("--items", type=Path, help="table with item_id, prompt, response")
    src.add_argument("--generations", type=Path, help="generations table")
    src.add_argument("--prompts", type=Path, help="prompts table (the prompt text)")
    src.add_argument("--sample", type=Path, help="only the item_id of this table (e.g. annotate sample's output)")
    p.add_argument("--batch-size", type=int, default=500, help="tasks per import request (default 500)")
    p.add_argument("--pre-annotate-verdicts", type=Path, default=None,
                   help="OFF by default: a verdicts table whose judge labels become pre-annotations "
                        "(they anchor annotators; not for an audit reference)")
    p.add_argument("--pre-annotate-judge", default=None, help="the judge_id to pre-annotate with")
    p.add_argument("--json", action="store_true")
    _connection_options(p)
    _schema_options(p)
    p.set_defaults(handler=_push)

    q = sub.add_parser("pull", help="export a snapshot and write the labels table")
    q.add_argument("--out", type=Path, required=True, help="labels table to write (.parquet, .jsonl, .csv)")
    q.add_argument("--notes-out", type=Path, default=None, help="write free-text notes here (.jsonl)")
    q.add_argument("--annotator-ids", choices=["email", "id"], default="email",
                   help="annotator_id from the user's email (default) or Label Studio user id")
    q.add_argument("--annotator-alias", default=None,
                   help="give every label this annotator_id (e.g. adjudicated, for a review project)")
    q.add_argument("--skip-unknown", action="store_true", help="leave out tasks without item_id (counted)")
    q.add_argument("--json", action="store_true")
    _connection_options(q)
    _schema_options(q)
    q.set_defaults(handler=_pull)

    for name, helptext in (("status", "progress per stratum and annotator, agreement, disagreements"),
                           ("review", "push the items annotators disagree on as review tasks")):
        t = sub.add_parser(name, help=helptext)
        t.add_argument("--strata", type=Path, default=None,
                       help="table with item_id and stratum (and n_annotators), e.g. the sample")
        t.add_argument("--annotators-per-item", type=int, default=None,
                       help="annotators wanted per item (default 1, or the strata table's n_annotators)")
        t.add_argument("--annotator-ids", choices=["email", "id"], default="email")
        t.add_argument("--n-boot", type=int, default=200, help="bootstrap resamples for intervals (default 200)")
        t.add_argument("--review-project", default=None, help="review project title (default '<project> (review)')")
        if name == "status":
            t.add_argument("--push-review", action="store_true", help="also push disagreements as review tasks")
        t.add_argument("--json", action="store_true")
        _connection_options(t)
        _schema_options(t)
        t.set_defaults(handler=_status, command_name=name, push_review=name == "review")

    try:
        from annotation.cli_sample import register_sample
    except ModuleNotFoundError as exc:  # B2's sampling command not installed yet: skip it only
        if exc.name != "annotation.cli_sample":
            raise
    else:
        register_sample(sub)

"""Apply perturbations to a labelled table, judge both sides, count the verdicts that flip.

:func:`run_stress` is what ``judgeaudit stress`` runs:

1. The reference label of each item on each labelled field (the annotators' majority,
   or one annotator's label with ``reference=``).
2. Each perturbation is applied to the items whose labels it declares it keeps
   (:meth:`Perturbation.applies_to`); an item the change has no place in is counted
   and skipped.
3. Each judge judges the originals and the perturbed answers through
   :func:`judgeaudit.judges.run_judge` (its usual batching, ``batch_size`` items per
   call) or, with ``verdicts_path``, through the resumable
   :func:`judgeaudit.judges.judge_to_file`.
4. Per judge and perturbation: the flip rate (the share of pairs whose binary verdict
   differs) with :func:`judgeaudit.metrics.clustered_proportion` (prompts as clusters,
   never ``[0, 0]``), the direction of the flips, the rate on each reference label,
   whether the flips made or undid errors, and failed verdicts counted apart.
5. The judges ranked by their pooled flip rate (most robust first), and examples.

A pair counts only when both verdicts have status ``ok`` and a label on either side
of the judge's field; the others are counted (``failed_original``,
``failed_perturbed``), never dropped silently.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from judgeaudit.errors import ConfigError, ValidationError
from judgeaudit.metrics import clustered_proportion
from judgeaudit.stress.perturbations import Perturbation, available_perturbations, get_perturbation

__all__ = ["SCHEMA", "TIE_POLICIES", "perturb_items", "reference_labels", "run_stress"]

SCHEMA = "judgeaudit.stress/1"
TIE_POLICIES = ("unresolved", "positive", "negative")
_TEXT_LIMIT = 600


def _stable_id(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------- reference labels


def reference_labels(tables, *, reference: str | None = None, tie_policy: str = "unresolved") -> pd.DataFrame:
    """One reference label per item and labelled field: ``(items x fields)``, None where unknown.

    The label is the value most annotators gave (``"unclear"`` is not a vote).  A tie
    leaves it unknown, except on the task's field, where ``tie_policy`` ``"positive"`` /
    ``"negative"`` resolves a tie between the two sides (to the side's most given value).
    With ``reference=ANNOTATOR`` that annotator's labels are the reference.
    """
    if tie_policy not in TIE_POLICIES:
        raise ConfigError(f"tie_policy must be one of {', '.join(TIE_POLICIES)}, got {tie_policy!r}")
    labels = tables.labels
    items = list(tables.generations["item_id"])
    if reference is not None:
        labels = labels[labels["annotator_id"] == reference]
        if labels.empty:
            known = sorted(set(tables.labels["annotator_id"]))
            raise ConfigError(f"no labels by annotator {reference!r}; annotators: {', '.join(known) or '(none)'}")
    task = tables.task
    out: dict[str, dict] = {}
    for fld, rows in labels[labels["value"] != "unclear"].groupby("field"):
        column: dict[str, str | None] = {}
        for item, values in rows.groupby("item_id")["value"]:
            counts = Counter(values)
            top = counts.most_common()
            if len(top) == 1 or top[0][1] > top[1][1]:
                column[item] = top[0][0]
            elif fld == task.field:
                column[item] = _break_tie(counts, task, tie_policy)
            else:
                column[item] = None
        out[str(fld)] = column
    frame = pd.DataFrame({f: [col.get(i) for i in items] for f, col in out.items()}, index=pd.Index(items),
                         dtype=object)
    return frame.where(frame.notna(), None)


def _break_tie(counts: Counter, task, tie_policy: str) -> str | None:
    pos = sum(v for k, v in counts.items() if k in task.positive)
    neg = sum(v for k, v in counts.items() if k in task.negative)
    side = task.positive if pos > neg else task.negative if neg > pos else \
        {"positive": task.positive, "negative": task.negative}.get(tie_policy)
    if side is None:
        return None
    return max(side, key=lambda v: (counts.get(v, 0), -side.index(v)))


# ---------------------------------------------------------------- perturbing


def perturb_items(tables, perturbations: Sequence[Perturbation], *, seed: int = 0,
                  references: pd.DataFrame | None = None, cluster_key: str | None = "prompt_id",
                  max_items: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    """The originals, the perturbed items and per-perturbation counts.

    Returns
    -------
    originals : DataFrame
        Generations rows of the items with a reference label on the task field (at most
        ``max_items``, a seeded choice), plus ``label`` and ``cluster``.
    perturbed : DataFrame
        One row per (item, perturbation) applied: a generations row with a new
        ``item_id``, the ``original_item_id``, ``perturbation`` (its spec), ``label``
        and ``cluster``.
    counts : list of dict
        Per perturbation: ``eligible`` (labels kept), ``applied``, ``no_place``.
    """
    gens = tables.generations.reset_index(drop=True)
    refs = reference_labels(tables) if references is None else references
    task_field = tables.task.field
    if task_field not in refs.columns:
        raise ValidationError(f"no item has a reference {task_field!r} label; the stress test compares "
                              "verdicts on labelled answers only", column=task_field)
    if cluster_key is not None and cluster_key not in gens.columns:
        raise ConfigError(f"cluster key {cluster_key!r} is not a generations column (columns: "
                          f"{', '.join(gens.columns)}); pass cluster_key=None to treat items as independent")
    status = gens["status"] if "status" in gens.columns else pd.Series("ok", index=gens.index)
    label = refs[task_field].reindex(gens["item_id"]).to_numpy(dtype=object)
    keep = np.array([v is not None for v in label]) & (status.to_numpy() == "ok")
    originals = gens.loc[keep].copy()
    originals["label"] = label[keep]
    originals["cluster"] = (originals[cluster_key].astype(str) if cluster_key else originals["item_id"])
    if max_items is not None and len(originals) > max_items:
        order = sorted(originals["item_id"], key=lambda i: _stable_id(seed, i))[:max_items]
        originals = originals[originals["item_id"].isin(set(order))]
    originals = originals.reset_index(drop=True)
    prompt_text = _prompt_texts(tables, originals)
    field_labels = refs.reindex(originals["item_id"]).to_dict("records")
    records = originals.to_dict("records")
    rows, counts = [], []
    for p in perturbations:
        spec, eligible, no_place = p.spec(), 0, 0
        for i, item in enumerate(records):
            if not p.applies_to(field_labels[i]):
                continue
            eligible += 1
            text = p.apply(item["response"], prompt=prompt_text[i], item_id=item["item_id"], seed=seed)
            if text is None:
                no_place += 1
                continue
            rows.append({**item, "item_id": _stable_id(item["item_id"], spec, seed),
                         "original_item_id": item["item_id"], "perturbation": spec, "response": text})
        counts.append({**p.to_dict(), "checked_fields": p.checked_fields(refs.columns),
                       "eligible": eligible, "applied": eligible - no_place, "no_place": no_place})
    columns = list(originals.columns) + ["original_item_id", "perturbation"]
    perturbed = pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)
    return originals, perturbed, counts


def _prompt_texts(tables, items: pd.DataFrame) -> list[str]:
    if tables.prompts is None or not len(tables.prompts):
        return [""] * len(items)
    text = dict(zip(tables.prompts["prompt_id"].astype(str), tables.prompts["text"]))
    return ["" if text.get(str(p)) is None else str(text.get(str(p))) for p in items["prompt_id"]]


def _write_jsonl(frame: pd.DataFrame, path) -> None:
    from judgeaudit.atomic import atomic_open

    with atomic_open(path, "w", newline="\n") as fh:
        clean = frame.astype(object).where(frame.notna(), None)
        for row in clean.to_dict("records"):
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


# ---------------------------------------------------------------- judging


def _judge_all(judges, frame: pd.DataFrame, prompts, *, batch_size: int, verdicts_path, say) -> pd.DataFrame:
    from judgeaudit.judges import judge_to_file, run_judge
    from judgeaudit.progress import Progress

    gens = frame.drop(columns=[c for c in ("original_item_id", "perturbation", "label", "cluster")
                               if c in frame.columns])
    # answers of similar length share a batch: a model judge pads each batch to its longest
    # prompt, and loops and echoes make some perturbed answers several times longer
    order = np.argsort(gens["response"].str.len().to_numpy(), kind="stable")
    gens = gens.iloc[order].reset_index(drop=True)
    if verdicts_path is not None:
        from judgeaudit.tables import read_table

        judge_to_file(judges, gens, verdicts_path, prompts, batch_size=batch_size, progress=say)
        table = read_table(verdicts_path, "verdicts")
        wanted = set(gens["item_id"])
        ids = {j.judge_id for j in judges}
        return table[table["item_id"].isin(wanted) & table["judge_id"].isin(ids)]
    frames, chunk = [], max(batch_size * 16, 256)
    for judge in judges:
        bar = Progress(len(gens), f"stress {judge.judge_id}")
        for start in range(0, len(gens), chunk):
            frames.append(run_judge(judge, gens.iloc[start:start + chunk], prompts, batch_size=batch_size))
            bar.update(min(chunk, len(gens) - start))
        bar.close()
    return pd.concat(frames, ignore_index=True)


def _binary(judge_field: str, task):
    from judgeaudit.tables import Task

    t = task if judge_field == task.field else Task.for_field(judge_field)
    return t, (lambda label: t.binary(label))


# ---------------------------------------------------------------- results


def _rate(flips, clusters, confidence) -> dict:
    return clustered_proportion(np.asarray(flips, dtype=float), np.asarray(clusters, dtype=object),
                                confidence=confidence).to_dict()


def _cut(text) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= _TEXT_LIMIT else text[:_TEXT_LIMIT] + f"... [{len(text) - _TEXT_LIMIT} more characters]"


def _pairs(judge, verdicts: pd.DataFrame, perturbed, task) -> pd.DataFrame:
    """One row per perturbed item: both verdicts, their binary values and whether they flipped.

    Texts stay out (they are looked up only for the examples), so that the per-perturbation
    subsets are cheap to take.
    """
    jt, to_binary = _binary(judge.field, task)
    mine = verdicts[verdicts["judge_id"] == judge.judge_id].drop_duplicates("item_id", keep="last")
    mine = mine.set_index("item_id")
    pairs = perturbed[["item_id", "original_item_id", "perturbation", "label", "cluster", "prompt_id"]].copy()
    for side, key in (("before", "original_item_id"), ("after", "item_id")):
        v = mine.reindex(pairs[key])
        pairs[f"label_{side}"] = v["label"].to_numpy(dtype=object)
        pairs[f"status_{side}"] = v["status"].fillna("missing").to_numpy(dtype=object)
        pairs[f"raw_{side}"] = v["raw"].to_numpy(dtype=object)
        ok = (pairs[f"status_{side}"] == "ok").to_numpy()
        pairs[f"bin_{side}"] = [to_binary(lbl) if good else None
                                for lbl, good in zip(pairs[f"label_{side}"], ok)]
    pairs["compared"] = pairs["bin_before"].notna() & pairs["bin_after"].notna()
    pairs["flip"] = pairs["compared"] & (pairs["bin_before"] != pairs["bin_after"])
    pairs["ref"] = [task.binary(lbl) for lbl in pairs["label"]] if jt is task else None
    return pairs


def _summary(cols: dict, idx: np.ndarray, judge, task, confidence) -> dict:
    """The counts and rates of one judge on the pairs ``idx`` (columns of :func:`_pairs` as arrays)."""
    jt, _ = _binary(judge.field, task)
    before_ok = np.array([v is not None for v in cols["bin_before"][idx]], dtype=bool)
    used = idx[cols["compared"][idx].astype(bool)]
    flips = cols["flip"][used].astype(bool)
    to_pos = int((flips & (cols["bin_before"][used] == 0)).sum())
    labels = cols["label"][used]
    out = {
        "applied": int(len(idx)),
        "compared": int(len(used)),
        "failed_original": int((~before_ok).sum()),
        "failed_perturbed": int(before_ok.sum()) - int(len(used)),
        "flips": int(flips.sum()),
        "flip_rate": _rate(flips, cols["cluster"][used], confidence),
        "directions": {
            f"{jt.negative[0]} -> {jt.positive[0]}": to_pos,
            f"{jt.positive[0]} -> {jt.negative[0]}": int(flips.sum()) - to_pos,
        },
        "by_label": {},
        "errors_made": None,
        "errors_undone": None,
    }
    for lbl in sorted({str(v) for v in labels}):
        m = labels == lbl
        out["by_label"][lbl] = {"compared": int(m.sum()), "flips": int(flips[m].sum()),
                                "flip_rate": _rate(flips[m], cols["cluster"][used][m], confidence)}
    if jt is task and len(used):
        right_before = cols["bin_before"][used] == cols["ref"][used]
        out["errors_made"] = int((flips & right_before).sum())
        out["errors_undone"] = int((flips & ~right_before).sum())
    return out


def _examples(cols: dict, idx: np.ndarray, judge_id: str, limit: int, texts: dict) -> list[dict]:
    where = idx[cols["flip"][idx].astype(bool)][:limit]
    out = []
    for i in where:
        c = {k: v[i] for k, v in cols.items()}
        out.append({"judge_id": judge_id, "perturbation": c["perturbation"], "item_id": c["original_item_id"],
                    "perturbed_item_id": c["item_id"], "prompt_id": str(c["prompt_id"]), "label": c["label"],
                    "verdict_before": c["label_before"], "verdict_after": c["label_after"],
                    "raw_before": _cut(c["raw_before"]), "raw_after": _cut(c["raw_after"]),
                    "original": _cut(texts[c["original_item_id"]]), "perturbed": _cut(texts[c["item_id"]])})
    return out


def _ranking(per_judge: dict, confidence) -> list[dict]:
    rows = []
    for judge_id, (pairs, results) in per_judge.items():
        used = pairs[pairs["compared"]]
        pooled = _rate(used["flip"], used["cluster"], confidence)
        rates = [(r["flip_rate"]["value"], r["perturbation"]) for r in results
                 if r["flip_rate"]["value"] is not None]
        worst = max(rates, default=(None, None))
        rows.append({"judge_id": judge_id, "flip_rate": pooled, "compared": int(len(used)),
                     "flips": int(used["flip"].sum()),
                     "mean_flip_rate": float(np.mean([r for r, _ in rates])) if rates else None,
                     "worst_perturbation": worst[1], "worst_flip_rate": worst[0]})
    key = lambda r: (math.inf if r["flip_rate"]["value"] is None else r["flip_rate"]["value"],  # noqa: E731
                     math.inf if r["flip_rate"]["ci_high"] is None else r["flip_rate"]["ci_high"], r["judge_id"])
    rows.sort(key=key)
    for i, r in enumerate(rows):  # equal pooled rates share a rank
        r["rank"] = 1 + sum(o["flip_rate"]["value"] is not None and r["flip_rate"]["value"] is not None
                            and o["flip_rate"]["value"] < r["flip_rate"]["value"] for o in rows)
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        r["separated_from_next"] = (None if nxt is None or None in (r["flip_rate"]["ci_high"], nxt["flip_rate"]["ci_low"])
                                    else bool(r["flip_rate"]["ci_high"] < nxt["flip_rate"]["ci_low"]))
    return rows


def _resolve_perturbations(perturbations) -> list[Perturbation]:
    from judgeaudit.stress.perturbations import parse_perturbation_spec

    if perturbations is None:
        return [get_perturbation(n) for n in available_perturbations()]
    out = [p if isinstance(p, Perturbation) else parse_perturbation_spec(p) for p in perturbations]
    specs = [p.spec() for p in out]
    if len(set(specs)) != len(specs):
        raise ConfigError(f"a perturbation is given twice: {sorted(s for s in specs if specs.count(s) > 1)[0]!r}")
    if not out:
        raise ConfigError("no perturbation given; leave perturbations=None for all of them")
    return out


def run_stress(tables, judges: Sequence, perturbations: Sequence | None = None, *, seed: int = 0,
               batch_size: int = 16, confidence: float = 0.95, cluster_key: str | None = "prompt_id",
               reference: str | None = None, tie_policy: str = "unresolved", examples: int = 3,
               max_items: int | None = None, verdicts_path: str | Path | None = None,
               perturbed_path: str | Path | None = None, progress: Callable[[str], None] | None = None) -> dict:
    """Stress-test ``judges`` on a labelled table (see the module docstring).

    Parameters
    ----------
    tables:
        :class:`judgeaudit.tables.AuditTables` with generations (the answers) and labels.
    judges:
        Judge objects (distinct ``judge_id``).
    perturbations:
        :class:`Perturbation` objects or specs (``"repetition_loop:times=3"``); None = all.
    seed:
        Seed of the perturbations' random choices (and of ``max_items``).
    batch_size:
        Items per ``judge.judge`` call.
    confidence:
        Coverage of the flip-rate intervals.
    cluster_key:
        Generations column whose values are clusters (default ``prompt_id``); None: items.
    reference, tie_policy:
        See :func:`reference_labels`.
    examples:
        Flipped items shown per judge and perturbation.
    max_items:
        Use at most this many labelled items (a seeded choice), for quick runs.
    verdicts_path:
        Write the verdicts there through the resumable :func:`~judgeaudit.judges.judge_to_file`
        (a rerun skips what is done); None judges in memory.
    perturbed_path:
        Write the perturbed answers there as JSON lines (``item_id``, ``original_item_id``,
        ``perturbation``, ``response``, ...), atomically.
    progress:
        Called with log lines (default: stderr).

    Returns
    -------
    dict
        JSON-safe: ``schema``, ``task``, ``perturbations`` (with counts), ``judges``,
        ``results`` (one per judge x perturbation), ``ranking``, ``examples``, ``notes``
        and ``timing``.
    """
    say = progress or (lambda msg: print(msg, file=sys.stderr, flush=True))
    judges = list(judges)
    if not judges:
        raise ConfigError("no judge given; pass at least one judge (e.g. refusal_keyword)")
    ids = [j.judge_id for j in judges]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"judges need distinct judge_ids, got {ids}; set judge_id= on one of them")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
    if max_items is not None and (not isinstance(max_items, int) or max_items < 1):
        raise ConfigError(f"max_items must be a positive integer or None, got {max_items!r}")
    chosen = _resolve_perturbations(perturbations)
    task = tables.task
    refs = reference_labels(tables, reference=reference, tie_policy=tie_policy)
    originals, perturbed, counts = perturb_items(tables, chosen, seed=seed, references=refs,
                                                 cluster_key=cluster_key, max_items=max_items)
    def unchecked(c):  # fields whose kept labels restrict where the change goes, absent from the table
        return sorted(f for f, v in c["keeps"].items() if v is not None and f not in c["checked_fields"])

    notes = [f"perturbation {c['spec']} is meant for {', '.join(unchecked(c))} labels "
             f"{'; '.join('/'.join(c['keeps'][f]) for f in unchecked(c))}, which the table does not have; "
             f"it was applied where the {', '.join(c['checked_fields'])} label allows"
             for c in counts if c["checked_fields"] and unchecked(c)]
    notes += [f"perturbation {c['spec']} was applied to no item: " +
             ("no item has a label it declares it keeps" if not c["eligible"] else
              "it had no place in any eligible answer") for c in counts if not c["applied"]]
    if perturbed_path is not None:
        _write_jsonl(perturbed, perturbed_path)
    used_originals = originals[originals["item_id"].isin(set(perturbed["original_item_id"]))]
    frame = pd.concat([used_originals, perturbed.drop(columns=["original_item_id", "perturbation"])],
                      ignore_index=True)
    prompts = tables.prompts if tables.prompts is not None and len(tables.prompts) else None
    say(f"stress: {len(used_originals)} original and {len(perturbed)} perturbed answers, "
        f"{len(judges)} judge(s), {len(chosen)} perturbation(s)")
    t0 = time.perf_counter()
    verdicts = (_judge_all(judges, frame, prompts, batch_size=batch_size, verdicts_path=verdicts_path, say=say)
                if len(frame) else pd.DataFrame(columns=["item_id", "judge_id", "label", "status", "raw"]))
    say(f"stress: judged in {time.perf_counter() - t0:.1f} s")
    results, shown, per_judge = [], [], {}
    texts = {**dict(zip(originals["item_id"], originals["response"])),
             **dict(zip(perturbed["item_id"], perturbed["response"]))}
    for judge in judges:
        pairs = _pairs(judge, verdicts, perturbed, task) if len(perturbed) else None
        cols = {c: pairs[c].to_numpy() for c in pairs.columns} if pairs is not None else {}
        mine = []
        for c in counts:
            idx = np.flatnonzero(cols["perturbation"] == c["spec"]) if cols else np.array([], int)
            if not len(idx):
                continue
            mine.append({"judge_id": judge.judge_id, "perturbation": c["spec"],
                         **_summary(cols, idx, judge, task, confidence)})
            shown.extend(_examples(cols, idx, judge.judge_id, examples, texts))
        results.extend(mine)
        if pairs is not None:
            per_judge[judge.judge_id] = (pairs, mine)
    return {
        "schema": SCHEMA,
        "dataset": getattr(tables, "name", "dataset"),
        "task": task.to_dict(),
        "seed": int(seed), "confidence": float(confidence), "cluster_key": cluster_key,
        "reference": reference or "majority", "tie_policy": tie_policy, "batch_size": int(batch_size),
        "items": {"total": int(len(tables.generations)), "labelled": int(len(originals)),
                  "perturbed_originals": int(len(used_originals)), "perturbed": int(len(perturbed))},
        "perturbations": counts,
        "judges": [{"judge_id": j.judge_id, "field": j.field, "config_hash": j.config_hash()} for j in judges],
        "results": results,
        "ranking": _ranking(per_judge, confidence),
        "examples": shown,
        "notes": notes,
        # counts only: the result is the same on every run of the same inputs (a resumed run too)
        "timing": {"answers_judged_per_judge": int(len(frame))},
    }

"""Hostile inputs for ``judgeaudit audit``, made from a seed.

Each ``*_case(rng, tmp)`` writes a small valid input (the project's tables, a generic
labelled CSV, or one of the public data sets' formats), damages it with one of the
mutations a hostile or careless user produces (the causes of issue 14 among them),
and returns ``(mutation, argv)`` for :func:`judgeaudit.cli.main`.  :func:`run_case`
runs one in-process and sorts the outcome into a category.  Shared by the fuzz tests
(``tests/fuzz``) and ``bench/fuzz_audit.py``, which counts the categories.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import signal
import time
import traceback
from pathlib import Path

FIELDS = ("harmfulness", "coherence")
HARM = ("harmful", "not_harmful")
COH = ("coherent", "partially_coherent", "incoherent")
ENCODINGS = (None, None, None, "utf-8", "UTF8", "utf_8", "utf-8-sig", "latin-1", "mac_roman",
             "utf-16", "nosuch", "base64", "hex", "punycode", "rot13", "idna", "zlib", "cp1252")


# ---------------------------------------------------------------- valid inputs
def _words(rng, n=6):
    vocab = ["I", "can't", "help", "with", "that", "mix", "the", "powder", "sorry", "step",
             "one", "two", "safe", "water", "é", "日本", "kill", "process", "é\u0301"]
    return " ".join(rng.choice(vocab) for _ in range(rng.randint(1, n)))


def base_tables(rng):
    """Generations, labels and verdicts rows of a small audit (dicts)."""
    n_prompts = rng.randint(2, 6)
    gens, labels, verdicts = [], [], []
    for i in range(rng.randint(6, 24)):
        item = f"it{i:03d}"
        gens.append({"item_id": item, "prompt_id": f"p{i % n_prompts}",
                     "checkpoint_id": rng.choice(["sft@1", "dpo@1", "kl@2"]), "sample_index": 0,
                     "response": _words(rng, 12)})
        for a in ("a1", "a2"):
            labels.append({"item_id": item, "annotator_id": a, "field": "harmfulness",
                           "value": rng.choice(HARM)})
        labels.append({"item_id": item, "annotator_id": "a1", "field": "coherence",
                       "value": rng.choice(COH)})
        for j in ("kw", "guard"):
            verdicts.append({"item_id": item, "judge_id": j, "label": rng.choice(HARM),
                             "score": round(rng.random(), 3), "raw": _words(rng, 3), "status": "ok"})
    return {"generations": gens, "labels": labels, "verdicts": verdicts}


def _csv_text(rows, columns=None):
    import csv

    columns = columns or list(rows[0])
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue()


def _jsonl_text(rows):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


# ---------------------------------------------------------------- mutations
def _set_cell(rows, rng, value, column=None):
    row = rng.choice(rows)
    row[column or rng.choice(list(row))] = value


ROW_MUTATIONS = {
    "none": lambda rows, rng: None,
    "huge_int": lambda rows, rng: _set_cell(rows, rng, "@HUGE%d@" % rng.randint(4290, 6000)),
    "deep_nest": lambda rows, rng: _set_cell(rows, rng, "@NEST%d@" % rng.choice([70, 900, 5000, 100000])),
    "long_cell": lambda rows, rng: _set_cell(rows, rng, "x" * rng.randint(2_000, 300_000)),
    "control_chars": lambda rows, rng: _set_cell(rows, rng, "a\x00b\rc\x85d\u2028e\x1b[31m"),
    "overall_stratum": lambda rows, rng: [r.__setitem__("stratum", rng.choice(["overall", "all", "coherent"]))
                                          for r in rows if "response" in r],
    "type_swap": lambda rows, rng: _set_cell(rows, rng, rng.choice([None, True, 1.5, -1, [1], {"a": 1},
                                                                     float("nan"), 1e308, 2**70])),
    "drop_column": lambda rows, rng: [r.pop(k, None) for k in [rng.choice(list(rows[0]))] for r in rows],
    "empty_rows": lambda rows, rng: rows.clear(),
    "dup_row": lambda rows, rng: rows.append(dict(rng.choice(rows))),
    "long_cluster_key": lambda rows, rng: [r.__setitem__("prompt_id", f"{i}" + "k" * 20_000)
                                           for i, r in enumerate(rows) if "response" in r],
    "group_per_item": lambda rows, rng: [r.__setitem__("checkpoint_id", f"c{i}")
                                         for i, r in enumerate(rows) if "response" in r],
}


def _nest(text: str) -> str:
    """Expand the markers of :data:`ROW_MUTATIONS`: ``@NEST<k>@`` into k nested brackets,
    ``@HUGE<k>@`` into an integer of k digits (unquoted, so JSON reads a number)."""
    import re

    text = re.sub(r'"?@NEST(\d+)@"?', lambda m: "[" * int(m.group(1)) + "]" * int(m.group(1)), text)
    return re.sub(r'"?@HUGE(\d+)@"?', lambda m: "7" * int(m.group(1)), text)


def _damage_bytes(data: bytes, rng, kind: str) -> bytes:
    if kind == "empty":
        return b""
    if kind == "garbage":
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 400)))
    if kind == "truncate":
        return data[: rng.randrange(max(len(data), 1))]
    if kind == "non_utf8":
        at = rng.randrange(max(len(data), 1))
        return data[:at] + bytes([rng.randrange(0x80, 0x100)]) + data[at:]
    if kind == "bom":
        return b"\xef\xbb\xbf" * rng.randint(1, 3) + data
    if kind == "flip":
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            if b:
                b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    if kind == "ragged":
        lines = data.split(b"\n")
        i = rng.randrange(1, max(len(lines), 2))
        if i < len(lines):
            lines[i] += b',"extra' + b"x" * rng.randint(0, 5000) + b'"'
        return b"\n".join(lines)
    if kind == "json_string_line":
        lines = data.split(b"\n")
        lines[rng.randrange(len(lines))] = json.dumps("line one\nline two " * rng.randint(1, 5000)).encode()
        return b"\n".join(lines)
    if kind == "json_array_line":
        lines = data.split(b"\n")
        lines[rng.randrange(len(lines))] = b"[1, 2, 3]"
        return b"\n".join(lines)
    if kind == "crlf":
        return data.replace(b"\n", b"\r\n")
    if kind == "nul":
        return data.replace(b",", b",\x00", 1)
    return data


BYTE_MUTATIONS = ("none", "none", "empty", "garbage", "truncate", "non_utf8", "bom", "flip",
                  "ragged", "json_string_line", "json_array_line", "crlf", "nul")


def _write(rows, path: Path, rng, byte_kind: str, columns=None) -> None:
    suffix = path.suffix
    if suffix == ".parquet":
        _write_parquet(rows, path, rng, byte_kind)
        return
    if not rows:
        text = (",".join(columns) + "\n") if columns and suffix == ".csv" else ""
    else:
        text = _csv_text(rows, columns) if suffix == ".csv" else _jsonl_text(rows)
    path.write_bytes(_damage_bytes(_nest(text).encode("utf-8"), rng, byte_kind))


def _write_parquet(rows, path: Path, rng, byte_kind: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = {}
    for r in rows:
        for k in r:
            cols.setdefault(k, [])
    data = {k: [_nest(v) if isinstance(v, str) else v for v in (r.get(k) for r in rows)] for k in cols}
    arrays = {}
    for k, vals in data.items():
        if rng.random() < 0.1 and all(isinstance(v, str) for v in vals) and vals:
            # a text column stored as binary holding bytes that are not UTF-8
            arrays[k] = pa.array([v.encode("utf-8") + (b"\xff\xfe" if i == 0 else b"")
                                  for i, v in enumerate(vals)], pa.binary())
            continue
        clean = [v if isinstance(v, (str, int, float, bool)) or v is None else json.dumps(v)
                 for v in vals]
        if any(isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 2**63 for v in clean):
            clean = [str(v) for v in clean]
        try:
            arrays[k] = pa.array(clean)
        except (pa.ArrowException, OverflowError, TypeError, ValueError):
            arrays[k] = pa.array([None if v is None else str(v) for v in clean])
    buf = io.BytesIO()
    pq.write_table(pa.table(arrays) if arrays else pa.table({}), buf)
    kind = byte_kind if byte_kind in ("empty", "garbage", "truncate", "flip", "none") else "none"
    path.write_bytes(_damage_bytes(buf.getvalue(), rng, kind))


def _options(rng, argv):
    """Statistics options, now and then a hostile one."""
    argv += ["--n-boot", str(rng.choice([20, 20, 20, 1, 0, -3, 10**12]) if rng.random() < 0.15 else 20)]
    if rng.random() < 0.15:
        argv += ["--seed", str(rng.choice([-1, 2**64, 7, 0]))]
    if rng.random() < 0.1:
        argv += ["--cluster-key", rng.choice(["none", "response", "nosuch", "item_id"])]
    if rng.random() < 0.1:
        argv += ["--group-key", rng.choice(["none", "response", "item_id", "nosuch"])]
    if rng.random() < 0.1:
        argv += ["--strata", rng.choice(["auto", "column", "human", "none", "degeneracy"])]
    if rng.random() < 0.25:
        enc = rng.choice(ENCODINGS)
        if enc is not None:
            argv += ["--encoding", enc]
    return argv


def _special_paths(rng, tmp: Path, argv, key: str):
    """Now and then replace the file after ``key`` (or --out) by a directory, FIFO or missing path."""
    r = rng.random()
    if r < 0.03 and key in argv:
        argv[argv.index(key) + 1] = str(tmp)  # a directory
    elif r < 0.05 and key in argv:
        fifo = tmp / "fifo.csv"
        if not fifo.exists():
            os.mkfifo(fifo)
        argv[argv.index(key) + 1] = str(fifo)
    elif r < 0.07:
        argv[argv.index("--out") + 1] = str(tmp / "generations.jsonl" if (tmp / "generations.jsonl").exists()
                                            else tmp / "gen.csv")  # an existing file
    elif r < 0.08:
        argv[argv.index("--out") + 1] = "/proc/no/such/dir"
    return argv


# ---------------------------------------------------------------- families
def tables_case(rng, tmp: Path):
    """The project's own tables (--labels/--verdicts/--generations) in any of the formats."""
    t = base_tables(rng)
    mutation = rng.choice(list(ROW_MUTATIONS))
    target = rng.choice(list(t))
    ROW_MUTATIONS[mutation](t[target], rng)
    byte_kind = rng.choice(BYTE_MUTATIONS)
    argv = ["audit"]
    for name in ("generations", "labels", "verdicts"):
        suffix = rng.choice([".jsonl", ".csv", ".parquet"])
        path = tmp / f"{name}{suffix}"
        _write(t[name], path, rng, byte_kind if name == target else "none")
        argv += [f"--{name}", str(path)]
    argv += ["--out", str(tmp / "out")]
    argv = _special_paths(rng, tmp, _options(rng, argv), "--" + target)
    return f"{mutation}+{byte_kind}", argv


def csv_case(rng, tmp: Path):
    """A generic labelled CSV/JSONL (--dataset csv) with column mapping."""
    t = base_tables(rng)
    rows = []
    for g in t["generations"]:
        rows.append({"prompt": g["prompt_id"], "response": g["response"], "h1": rng.choice(["1", "0", "yes"]),
                     "h2": rng.choice(["1", "0", "no"]), "judge": rng.choice(["1", "0", "unsafe", "???"]),
                     "group": g["checkpoint_id"], "stratum": rng.choice(COH)})
    mutation = rng.choice(list(ROW_MUTATIONS))
    ROW_MUTATIONS[mutation](rows, rng)
    byte_kind = rng.choice(BYTE_MUTATIONS)
    path = tmp / ("data" + rng.choice([".csv", ".csv", ".jsonl"]))
    _write(rows, path, rng, byte_kind, columns=None if rows else ["prompt", "response", "h1", "h2", "judge"])
    argv = ["audit", "--dataset", "csv", "--path", str(path), "--response-col", "response",
            "--prompt-col", "prompt", "--human-cols", "h1,h2", "--judge-cols", "judge",
            "--out", str(tmp / "out")]
    if rng.random() < 0.5:
        argv += ["--group-col", "group"]
    if rng.random() < 0.5:
        argv += ["--stratum-col", "stratum"]
    argv = _special_paths(rng, tmp, _options(rng, argv), "--path")
    return f"{mutation}+{byte_kind}", argv


def dataset_case(rng, tmp: Path):
    """The three public data sets' own formats (jailbreakbench, xstest, gptfuzz)."""
    name = rng.choice(["jailbreakbench", "xstest", "gptfuzz"])
    n = rng.randint(4, 16)
    if name == "jailbreakbench":
        rows = [{"Index": str(rng.choice([i, i + 200])), "goal": _words(rng), "prompt": _words(rng),
                 "target_response": _words(rng, 12),
                 **{h: rng.choice("01") for h in ("human1", "human2", "human3")},
                 **{j: rng.choice("01") for j in ("harmbench_cf", "gpt4_cf", "llamaguard2_cf", "llama3_cf")}}
                for i in range(n)]
        path = tmp / "judge-comparison.csv"
    elif name == "gptfuzz":
        rows = [{"question": str(rng.randint(0, 5)), "Response": _words(rng, 12), "label": rng.choice("01")}
                for _ in range(n)]
        path = tmp / "evaluate.csv"
    else:
        rows = [{"id": str(i), "type": "safe", "prompt": _words(rng), "completion": _words(rng, 12),
                 "annotation_1": rng.choice(["1_full_compliance", "2_full_refusal"]),
                 "annotation_2": rng.choice(["1_full_compliance", "3_partial_refusal"]),
                 "final_label": "1_full_compliance"} for i in range(n)]
        (tmp / "model_completions").mkdir(exist_ok=True)
        path = tmp / "model_completions" / "xstest_v2_completions_tiny.csv"
    columns = list(rows[0])
    mutation = rng.choice([m for m in ROW_MUTATIONS if m not in ("overall_stratum", "group_per_item")])
    ROW_MUTATIONS[mutation](rows, rng)
    byte_kind = rng.choice(BYTE_MUTATIONS)
    _write(rows, path, rng, byte_kind, columns=columns if not rows else None)
    argv = ["audit", "--dataset", name, "--path", str(path), "--out", str(tmp / "out")]
    if name != "gptfuzz":
        argv += ["--judges", "refusal_keyword"] if rng.random() < 0.3 else []
    argv = _special_paths(rng, tmp, _options(rng, argv), "--path")
    return f"{name}:{mutation}+{byte_kind}", argv


FAMILIES = {"tables": tables_case, "csv": csv_case, "datasets": dataset_case}


# ---------------------------------------------------------------- running one
class Hang(Exception):
    """Raised by :func:`time_limit` when a block runs past its time limit."""


@contextlib.contextmanager
def time_limit(seconds: int, what: str = "still running"):
    """Raise :class:`Hang` when the block runs longer than ``seconds`` (SIGALRM): a hang
    guard for inputs that once blocked or backtracked, not a timing assertion."""
    def _raise(signum, frame):
        raise Hang(f"{what} after {seconds} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_case(argv, *, limit_s: int = 60):
    """Run ``judgeaudit.cli.main(argv)`` in-process; return ``(category, detail, seconds)``.

    Categories: ``success`` (exit 0), ``error`` (exit 2, the last stderr line is the
    only ``judgeaudit: error:`` line, no traceback, at most 1,000 characters),
    ``multiline`` / ``long message`` / ``bad exit`` (an error that breaks those rules),
    ``traceback`` (an exception escaped ``main``; detail = its type and last frame)
    and ``hang`` (still running after ``limit_s``).
    """
    from judgeaudit.cli import main

    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    try:
        with time_limit(limit_s), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = main(argv)
            except SystemExit as e:
                rc = e.code if isinstance(e.code, int) else 2
    except Hang:
        return "hang", " ".join(argv[:3]), time.perf_counter() - start
    except BaseException as e:  # noqa: BLE001 - what the fuzz counts: any escaped exception
        tb = traceback.extract_tb(e.__traceback__)
        where = f"{Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else "?"
        return "traceback", f"{type(e).__name__} at {where}: {str(e)[:100]}", time.perf_counter() - start
    seconds = time.perf_counter() - start
    category, detail = classify(rc, err.getvalue())
    return category, detail, seconds


def classify(rc, text: str):
    """``(category, detail)`` of a finished run from its exit status and stderr (see
    :func:`run_case`)."""
    if "Traceback (most recent call last)" in text:
        return "traceback", text.strip().splitlines()[-1][:150]
    if rc == 0:
        return "success", ""
    lines = text.rstrip("\n").split("\n")
    errors = [ln for ln in lines if ln.startswith("judgeaudit: error:")]
    if rc != 2:
        return "bad exit", f"exit {rc}: {lines[-1][:150] if lines else ''}"
    if len(errors) != 1 or lines[-1] != errors[0]:
        return "multiline", text[:200]
    if len(errors[0]) > 1000:
        return "long message", f"{len(errors[0]):,} characters"
    return "error", errors[0]


def make_case(family: str, seed: int, tmp: Path):
    """``(mutation, argv)`` of input ``seed`` of ``family`` written under ``tmp``."""
    return FAMILIES[family](random.Random(seed), tmp)

"""Fuzzing (issue 14): every input either succeeds or gives one ``judgeaudit: error:`` line
with exit status 2 (a :class:`JudgeAuditError` with a one-line message, for the library
readers), never a traceback, within a time limit (an alarm: a hang fails the test) and an
address-space limit (a memory blow-up is a MemoryError, which fails the test).

Families: the CLI's ``audit`` entry on the project's tables, on a generic CSV and on the
public data sets' formats (inputs from ``generators.py``, the same as
``bench/fuzz_audit.py`` counts); the table reader on arbitrary bytes; the TOML config
reader; the Label Studio snapshot import; the verdict parsers.  Seeded
(``derandomize=True``): ``make test-fast`` runs a small set; the ``slow`` tests (``make
test``, or ``pytest -m slow tests/fuzz --hypothesis-show-statistics``) run 1,000 inputs
per family, about 10 minutes on two cores.
"""

from __future__ import annotations

import random
import re
import resource
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judgeaudit.cli import main
from judgeaudit.errors import JudgeAuditError

from .generators import FAMILIES, classify, make_case, time_limit

FAST, FULL = 25, 1000
LIMIT_S = 60  # per input; the slowest legitimate input here takes about a second
_COMMON = dict(derandomize=True, database=None, deadline=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


def bounded(seconds: int = LIMIT_S):
    """Fail an input that runs longer than ``seconds`` instead of hanging."""
    return time_limit(seconds)


@pytest.fixture(scope="module", autouse=True)
def memory_cap():
    """Cap this process's address space at its current size + 3 GiB while the module runs:
    an input that wants 23 GB (issue 14's long cluster key) fails as MemoryError."""
    try:
        vm = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status")
                  if line.startswith("VmSize:"))
    except (OSError, StopIteration):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = vm + 3 * 2**30
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def assert_one_line_error(exc: BaseException) -> None:
    assert isinstance(exc, JudgeAuditError), f"{type(exc).__name__}: {str(exc)[:300]}"
    text = str(exc)
    assert "\n" not in text and "\r" not in text, text[:300]
    assert len(text) <= 2000, f"{len(text):,} characters: {text[:200]}"


# ---------------------------------------------------------------- the CLI's audit entry
def _cli_case(family: str, seed: int, capsys) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        mutation, argv = make_case(family, seed, Path(tmp))
        with bounded():
            try:
                rc = main(argv)
            except SystemExit as e:  # argparse's usage errors
                rc = e.code
    captured = capsys.readouterr()
    category, detail = classify(rc, captured.err)
    assert category in ("success", "error"), f"{family} seed {seed} ({mutation}): {category}: {detail}"


@pytest.mark.parametrize("family", sorted(FAMILIES))
@settings(max_examples=FAST, **_COMMON)
@given(seed=st.integers(0, 2**31))
def test_cli_audit_fast(family, seed, capsys):
    _cli_case(family, seed, capsys)


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(FAMILIES))
@settings(max_examples=FULL, **_COMMON)
@given(seed=st.integers(0, 2**31))
def test_cli_audit_full(family, seed, capsys):
    _cli_case(family, seed, capsys)


# ---------------------------------------------------------------- the table reader
_HOSTILE_BYTES = st.one_of(
    st.binary(max_size=600),
    st.lists(st.sampled_from([b"\xef\xbb\xbf", b"a,b\n", b'"x', b"\n", b"\r\n", b",", b"{", b"}", b"[",
                              b'"k": ', b"1" * 5000, b"[" * 3000, b"\xff", b"\x00", b"PAR1", b'"s"',
                              b"null", b"NaN", b'{"item_id": "a"}']), max_size=40).map(b"".join),
)
_ENCODINGS = st.sampled_from([None, "utf-8", "UTF8", "utf-8-sig", "latin-1", "mac_roman", "utf-16", "cp1252",
                              "nosuch", "base64", "hex", "punycode", "idna", "rot13"])


def _reader_case(data: bytes, suffix: str, encoding, kind) -> None:
    from judgeaudit.tables import read_records, read_table

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"t{suffix}"
        path.write_bytes(data)
        with bounded():
            try:
                if kind is None:
                    read_records(path, encoding=encoding)
                else:
                    read_table(path, kind, encoding=encoding)
            except Exception as exc:  # noqa: BLE001 - the assertion is on what escaped
                assert_one_line_error(exc)


_READER_ARGS = dict(data=_HOSTILE_BYTES, suffix=st.sampled_from([".csv", ".jsonl", ".parquet"]),
                    encoding=_ENCODINGS, kind=st.sampled_from([None, "labels", "verdicts", "generations"]))


@settings(max_examples=200, **_COMMON)
@given(**_READER_ARGS)
def test_table_reader_fast(data, suffix, encoding, kind):
    _reader_case(data, suffix, encoding, kind)


@pytest.mark.slow
@settings(max_examples=FULL, **_COMMON)
@given(**_READER_ARGS)
def test_table_reader_full(data, suffix, encoding, kind):
    _reader_case(data, suffix, encoding, kind)


# ---------------------------------------------------------------- TOML configs
_TOML = st.one_of(
    st.binary(max_size=300),
    st.lists(st.sampled_from([b"[model]\n", b"path = 'x'\n", b"n_boot = ", b"9" * 5000, b"\n", b"[" * 2000,
                              b"]" * 2000, b"a = [", b"\xff", b"\xef\xbb\xbf", b"[audit]\n", b"tiny = true\n",
                              b"name = 'e'\n", b"x = {", b"}", b'"']), max_size=30).map(b"".join),
)


def _toml_case(data: bytes, reader: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.toml"
        path.write_bytes(data)
        with bounded():
            try:
                if reader == "experiment":
                    from judgeaudit.experiment import load_experiment

                    load_experiment(path)
                else:
                    from judgeaudit.judges.spec import load_judge_config

                    load_judge_config(path)
            except Exception as exc:  # noqa: BLE001
                assert_one_line_error(exc)


@settings(max_examples=100, **_COMMON)
@given(data=_TOML, reader=st.sampled_from(["experiment", "judges"]))
def test_toml_configs_fast(data, reader):
    _toml_case(data, reader)


@pytest.mark.slow
@settings(max_examples=FULL, **_COMMON)
@given(data=_TOML, reader=st.sampled_from(["experiment", "judges"]))
def test_toml_configs_full(data, reader):
    _toml_case(data, reader)


# ---------------------------------------------------------------- Label Studio label import
_JSONISH = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
                        lambda kids: st.one_of(st.lists(kids, max_size=3),
                                               st.dictionaries(st.text(max_size=8), kids, max_size=3)),
                        max_leaves=10)


def _snapshot(rng: random.Random, junk) -> list:
    """A Label Studio export with one part replaced by ``junk``."""
    tasks = []
    for t in range(rng.randint(0, 3)):
        anns = [{"id": 10 * t + a, "completed_by": rng.choice([1, 2, {"id": 3}]), "was_cancelled": False,
                 "updated_at": rng.choice(["2026-01-01T00:00:00Z", "2026-01-02T10:00:00.5Z", None]),
                 "result": [{"from_name": rng.choice(["harmfulness", "refusal", "coherence", "notes"]),
                             "to_name": "response", "type": rng.choice(["choices", "textarea"]),
                             "value": rng.choice([{"choices": [rng.choice(["harmful", "not harmful", "full"])]},
                                                  {"text": ["a note"]}])}]}
                for a in range(rng.randint(0, 2))]
        tasks.append({"id": t, "data": {"item_id": f"i{t}", "prompt": "p", "response": "r"},
                      "annotations": anns, "drafts": []})
    where = rng.choice(["snapshot", "task", "data", "annotations", "annotation", "result", "value",
                        "updated_at", "id", "none"])
    if where == "snapshot" or not tasks:
        return junk if where == "snapshot" else tasks
    task = rng.choice(tasks)
    if where in ("task",):
        tasks[tasks.index(task)] = junk
    elif where in ("data", "annotations"):
        task[where] = junk
    elif task["annotations"]:
        ann = rng.choice(task["annotations"])
        if where == "annotation":
            task["annotations"][task["annotations"].index(ann)] = junk
        elif where == "result":
            ann["result"] = junk
        elif where == "value" and ann["result"]:
            ann["result"][0]["value"] = junk
        elif where in ("updated_at", "id"):
            ann[where] = junk
    return tasks


def _snapshot_case(seed: int, junk) -> None:
    from annotation.labelconfig import default_schema
    from annotation.pull import labels_from_snapshot

    snap = _snapshot(random.Random(seed), junk)
    with bounded():
        try:
            labels_from_snapshot(snap, default_schema(), project_id=1)
        except Exception as exc:  # noqa: BLE001
            assert_one_line_error(exc)


@settings(max_examples=200, **_COMMON)
@given(seed=st.integers(0, 2**31), junk=_JSONISH)
def test_label_studio_import_fast(seed, junk):
    _snapshot_case(seed, junk)


@pytest.mark.slow
@settings(max_examples=FULL, **_COMMON)
@given(seed=st.integers(0, 2**31), junk=_JSONISH)
def test_label_studio_import_full(seed, junk):
    _snapshot_case(seed, junk)


# ---------------------------------------------------------------- verdict parsers
_VERDICT_TEXT = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(["\n", " \n", "\r\n", "REFUSED: ", "refused:", "CONVINCING: ", "SPECIFIC: ",
                              "**Specific:** ", "0", "1", "5", "9" * 5000, "-", ".", "Harmful request:",
                              "Response refusal: ", "harmful response :", "yes", "no", "N/A", "safe",
                              "unsafe", "S1,S3", " ", "\t", "\x85", "\u2028", "*" * 50]),
             max_size=60).map("".join),
    st.sampled_from(["\n" * 32_000, "refused:" + "\n" * 32_000, " \n" * 16_000 + "x",
                     "harmful request" + " " * 32_000 + ":", "REFUSED: 0\nCONVINCING: 5\nSPECIFIC: " + "7" * 5000]),
)


def _parser_case(text: str) -> None:
    from judgeaudit.judges import parsing

    pattern = re.compile(r"(?i)score:\s*(?P<value>\d+)")
    with bounded(20):
        parsing.parse_llama_guard(text)
        parsing.parse_yes_no(text)
        r = parsing.parse_strongreject(text)
        assert r.ok in (True, False) and (r.ok or r.reason)
        parsing.parse_wildguard(text)
        parsing.parse_pattern(text, pattern, {"1": "harmful", "0": "not_harmful"})


@settings(max_examples=300, **_COMMON)
@given(text=_VERDICT_TEXT)
def test_verdict_parsers_fast(text):
    _parser_case(text)


@pytest.mark.slow
@settings(max_examples=FULL, **_COMMON)
@given(text=_VERDICT_TEXT)
def test_verdict_parsers_full(text):
    _parser_case(text)

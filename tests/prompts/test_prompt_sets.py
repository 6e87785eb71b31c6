"""The project's own prompt sets and loading prompts tables from files."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from judgeaudit.errors import ConfigError, UnknownNameError, ValidationError
from judgeaudit.prompts import (
    BUILTIN_CATEGORIES,
    available_prompt_sets,
    load_prompt_set,
    prompt_set_info,
)
from judgeaudit.tables import validate, write_table


@pytest.fixture(scope="module")
def harmful():
    return load_prompt_set("harmful")


@pytest.fixture(scope="module")
def lookalike():
    return load_prompt_set("benign_lookalike")


def test_every_name_is_listed_with_info():
    names = available_prompt_sets()
    assert names == sorted(names)
    assert {"harmful", "benign_lookalike", "capability", "harmbench", "advbench", "strongreject",
            "xstest", "jbb_behaviors"} <= set(names)
    for n in names:
        info = prompt_set_info(n)
        assert info.name == n and info.description
    assert prompt_set_info("xstest").hub_id == "walledai/XSTest"
    assert prompt_set_info("jbb_behaviors").splits == ("harmful", "benign")


def test_harmful_set_has_eight_requests_per_category(harmful):
    assert len(harmful) == 80
    pd.testing.assert_frame_equal(harmful, validate(harmful, "prompts"), check_dtype=False)  # normalised
    counts = harmful["category"].value_counts()
    assert set(counts.index) == set(BUILTIN_CATEGORIES) and (counts == 8).all()
    assert harmful["is_harmful_request"].all() and (harmful["attack"] == "none").all()
    assert (harmful["source"] == "judgeaudit").all()
    assert harmful["prompt_id"].is_unique and harmful["text"].is_unique
    # requests only: one short sentence or question each, never a worked answer
    assert harmful["text"].str.len().max() < 160
    assert harmful["text"].str.count("\n").sum() == 0


def test_lookalikes_are_matched_one_to_one_by_category(harmful, lookalike):
    assert len(lookalike) == 80 and not lookalike["is_harmful_request"].any()
    assert lookalike["matched_prompt_id"].is_unique
    by_id = harmful.set_index("prompt_id")["category"]
    assert set(lookalike["matched_prompt_id"]) == set(harmful["prompt_id"])
    assert (by_id.loc[lookalike["matched_prompt_id"]].to_numpy() == lookalike["category"].to_numpy()).all()
    assert not set(lookalike["text"]) & set(harmful["text"])
    assert {"homonym", "figurative", "safe_context", "safe_target", "definition", "history",
            "fiction", "privacy_public", "privacy_fictional", "nonsense_group"} == set(lookalike["lookalike"])


def test_capability_probes_carry_a_reference_and_check():
    cap = load_prompt_set("capability")
    assert len(cap) == 24
    assert set(cap["category"]) == {"arithmetic", "factual", "instruction_following"}
    assert set(cap["check"]) == {"number", "contains", "regex"}
    assert cap["reference"].map(bool).all() and not cap["is_harmful_request"].any()


def test_ids_are_unique_across_the_project_sets(harmful, lookalike):
    ids = pd.concat([harmful["prompt_id"], lookalike["prompt_id"], load_prompt_set("capability")["prompt_id"]])
    assert ids.is_unique


def test_split_selects_a_category_and_unknown_split_lists_them():
    assert set(load_prompt_set("harmful", split="chem_bio")["category"]) == {"chem_bio"}
    with pytest.raises(UnknownNameError, match="valid names: chem_bio, cyber_intrusion"):
        load_prompt_set("harmful", split="chemistry")


def test_unknown_name_lists_the_valid_sets():
    with pytest.raises(UnknownNameError) as e:
        load_prompt_set("harmfull")
    assert "harmfull" in str(e.value) and "benign_lookalike" in str(e.value) and "xstest" in str(e.value)


def test_data_folder_from_the_environment(tmp_path, monkeypatch, harmful):
    folder = tmp_path / "prompts"
    write_table(harmful.head(3), folder / "harmful.jsonl", "prompts")
    monkeypatch.setenv("JUDGEAUDIT_DATA", str(tmp_path))
    assert len(load_prompt_set("harmful")) == 3
    # benign_lookalike is not in that folder: the message names the file
    with pytest.raises(ValidationError, match="benign_lookalike.jsonl: file not found"):
        load_prompt_set("benign_lookalike")


def test_missing_data_folder_is_a_config_error(tmp_path, monkeypatch):
    import judgeaudit.prompts.sets as sets

    monkeypatch.setenv("JUDGEAUDIT_DATA", str(tmp_path))
    monkeypatch.setattr(sets, "__file__", str(tmp_path / "a" / "b" / "sets.py"))
    with pytest.raises(ConfigError, match="JUDGEAUDIT_DATA"):
        load_prompt_set("harmful")


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_own_file_round_trips(tmp_path, harmful, suffix):
    path = write_table(harmful, tmp_path / f"mine{suffix}", "prompts")
    back = load_prompt_set(path)
    assert list(back["prompt_id"]) == list(harmful["prompt_id"])
    assert list(back["text"]) == list(harmful["text"])
    assert back["is_harmful_request"].all()
    assert len(load_prompt_set(str(path), split="drugs")) == 8


def test_json_list_file(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps([{"prompt_id": "a", "text": "hi"}, {"prompt_id": "b", "text": "yo"}]))
    out = load_prompt_set(path)
    assert list(out["attack"]) == ["none", "none"] and list(out["text"]) == ["hi", "yo"]
    path.write_text(json.dumps([{"prompt_id": "a", "text": "hi"}, ["not", "an", "object"]]))
    with pytest.raises(ValidationError, match=r"p.json, row 2: expected an object"):
        load_prompt_set(path)
    path.write_text("[{")
    with pytest.raises(ValidationError, match="invalid JSON"):
        load_prompt_set(path)


def test_missing_column_names_file_column_and_expectation(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,prompt\n1,hello\n")
    with pytest.raises(ValidationError) as e:
        load_prompt_set(path)
    msg = str(e.value)
    assert "p.csv" in msg and "'prompt_id'" in msg and "'text'" in msg and "advbench" in msg
    assert e.value.column == "prompt_id"


def test_malformed_row_is_reported_with_its_number(tmp_path):
    path = tmp_path / "p.jsonl"
    rows = [{"prompt_id": "a", "text": "ok"}, {"prompt_id": "b", "text": "fine"},
            {"prompt_id": "c", "text": "", "attack": "none"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(ValidationError) as e:
        load_prompt_set(path)
    assert e.value.row == 3 and e.value.column == "text"
    path.write_text('{"prompt_id": "a", "text": "x", "is_harmful_request": "maybe"}\n')
    with pytest.raises(ValidationError) as e:
        load_prompt_set(path)
    assert (e.value.row, e.value.column) == (1, "is_harmful_request")


def test_empty_set_is_an_error(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("prompt_id,text\n")
    with pytest.raises(ValidationError, match="empty"):
        load_prompt_set(path)


def test_a_folder_without_a_name_is_an_error(tmp_path):
    with pytest.raises(ValidationError, match="is a folder"):
        load_prompt_set(tmp_path)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=60))
def test_any_json_file_loads_or_fails_with_a_validation_error(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("fuzz") / "p.json"
    path.write_bytes(raw)
    try:
        out = load_prompt_set(path)
    except ValidationError:
        return
    assert len(out) > 0 and out["prompt_id"].is_unique


HEADERS = {"advbench": b"goal,target\n", "xstest": b"id,prompt,type,label,focus,note\n",
           "jbb_behaviors": b"Index,Goal,Target,Behavior,Category,Source\n",
           "harmbench": b"Behavior,FunctionalCategory,SemanticCategory,Tags,ContextString,BehaviorID\n",
           "own": b"prompt_id,text,is_harmful_request\n"}


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=60), st.sampled_from(sorted(HEADERS)))
@example(raw=b"\r\x00\x80", kind="advbench")
def test_any_csv_file_loads_or_fails_with_a_validation_error(tmp_path_factory, raw, kind):
    # a bad byte right after a carriage return once crashed the CSV error locator
    path = tmp_path_factory.mktemp("fuzz") / "harmful-behaviors.csv"
    path.write_bytes(HEADERS[kind] + raw)
    try:
        out = load_prompt_set(path) if kind == "own" else load_prompt_set(kind, path=path)
    except ValidationError:
        return
    assert len(out) > 0 and out["prompt_id"].is_unique


def test_importing_prompts_stays_light():
    import subprocess
    import sys

    code = ("import sys, judgeaudit.prompts, judgeaudit.commands.prompts; "
            "print(' '.join(m for m in ('torch', 'transformers', 'datasets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_project_sets_copy_no_published_prompt(shared_data, harmful, lookalike):
    import re

    def norm(s):
        return re.sub(r"\W+", " ", s.lower()).strip()

    published = pd.concat([load_prompt_set("xstest", path=shared_data / "xstest")["text"],
                           load_prompt_set("jbb_behaviors", path=shared_data / "jailbreakbench")["text"]])
    ours = pd.concat([harmful["text"], lookalike["text"], load_prompt_set("capability")["text"]])
    assert not set(ours.map(norm)) & set(published.map(norm))


def test_register_prompt_set(monkeypatch):
    import judgeaudit.prompts.sets as sets

    monkeypatch.setattr(sets.PROMPT_SETS, "_factories", dict(sets.PROMPT_SETS._factories))
    monkeypatch.setattr(sets, "_INFO", dict(sets._INFO))
    seen = {}

    def load(*, path=None, split=None, encoding=None):
        seen.update(path=path, split=split)
        return validate(pd.DataFrame({"prompt_id": ["m1"], "text": ["Hello?"]}), "prompts")

    sets.register_prompt_set("mine", load, description="my set", splits=("a",))
    assert "mine" in available_prompt_sets() and prompt_set_info("mine").kind == "user"
    assert list(load_prompt_set("mine", path="x", split="a")["prompt_id"]) == ["m1"]
    assert seen == {"path": "x", "split": "a"}
    with pytest.raises(ConfigError, match="already registered"):
        sets.register_prompt_set("harmful", load)

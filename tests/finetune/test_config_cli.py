"""The TOML config (validation, paths, fuzzing) and the ``judgeaudit finetune`` command."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from finetune.config import config_from_dict, load_config
from ft_fixtures import one_thread  # noqa: F401
from judgeaudit.cli import main
from judgeaudit.errors import ConfigError, JudgeAuditError

MINIMAL = {"model": {"path": "m"}, "train": {"max_steps": 5}}


def write(tmp_path, text):
    p = tmp_path / "ft.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_a_full_config_parses_with_paths_resolved(tmp_path):
    (tmp_path / "data.jsonl").write_text('{"prompt": "a", "response": "b"}\n')
    p = write(tmp_path, """
output = "out"
objectives = ["sft", "dpo", "kl_sft"]
seeds = [0, 1]
[model]
path = "./base"
[lora]
r = 4
[data]
task = "jsonl"
path = "data.jsonl"
rejected = "corrupt"
overlong = "reject"
max_length = 64
[train]
budgets = [2000, 1000]
learning_rate = 1e-3
[capability]
metric = "token_accuracy"
thresholds = [0.5, 0.2]
[objective.dpo]
beta = 0.2
""")
    cfg = load_config(p)
    assert cfg.objectives == ("sft", "dpo", "kl_sft") and cfg.seeds == (0, 1)
    assert cfg.data.path == str((tmp_path / "data.jsonl").resolve())
    assert cfg.model.path == str((tmp_path / "base").resolve())
    assert cfg.output == str(tmp_path / "out")
    assert cfg.train.budgets == (1000, 2000) and cfg.capability.thresholds == (0.2, 0.5)
    assert cfg.lora.r == 4 and cfg.lora.target_modules == ("q_proj", "k_proj", "v_proj", "o_proj")
    assert cfg.objective_options("dpo") == {"beta": 0.2}
    assert json.loads(json.dumps(cfg.to_dict()))["train"]["budgets"] == [1000, 2000]


@pytest.mark.parametrize("doc, message", [
    ({"train": {"max_steps": 5}}, "a \\[model\\] section"),
    ({**MINIMAL, "extra": 1}, "unknown keys \\['extra'\\]"),
    ({**MINIMAL, "data": {"taks": "x"}}, "\\[data\\]: unknown keys \\['taks'\\]; allowed: .*task"),
    ({**MINIMAL, "data": {"task": "web"}}, "task must be one of arithmetic"),
    ({**MINIMAL, "data": {"task": "jsonl"}}, "needs path"),
    ({**MINIMAL, "data": {"rejected": "dataset"}}, "needs rejected_field"),
    ({**MINIMAL, "train": {"batch_size": "8", "max_steps": 5}}, "batch_size must be int"),
    ({**MINIMAL, "train": {"learning_rate": True, "max_steps": 5}}, "learning_rate must be a number"),
    ({**MINIMAL, "train": {"save_every": 5}}, "give budgets"),
    ({**MINIMAL, "train": {"budgets": [0]}}, "positive token counts"),
    ({**MINIMAL, "capability": {"thresholds": [1.5]}}, "thresholds must be in"),
    ({**MINIMAL, "capability": {"n_eval": 0}}, "n_eval must be at least 1"),
    ({**MINIMAL, "capability": {"max_new_tokens": 0}}, "max_new_tokens must be at least 1"),
    ({**MINIMAL, "objectives": ["sft", "rlhf"]}, "unknown objective 'rlhf'; valid names: conditional"),
    ({**MINIMAL, "objective": {"dpo": 3}}, "objective.NAME"),
    ({**MINIMAL, "seeds": 3}, "seeds must be a list"),
])
def test_bad_configs_say_what_and_where(doc, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(doc, where="ft.toml")


def test_bad_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[model\npath = 1"))
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


_value = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(-2, 2),
                                st.text(max_size=6)),
                      lambda inner: st.one_of(st.lists(inner, max_size=3),
                                              st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=8)
_sections = st.fixed_dictionaries({}, optional={
    "model": st.one_of(_value, st.just({"path": "m"})),
    "train": st.one_of(_value, st.just({"max_steps": 3}), st.dictionaries(
        st.sampled_from(["batch_size", "budgets", "max_steps", "save_every"]), _value, max_size=3)),
    "data": st.dictionaries(st.sampled_from(["task", "path", "rejected", "overlong", "max_length"]), _value,
                            max_size=3),
    "capability": st.dictionaries(st.sampled_from(["metric", "every", "thresholds"]), _value, max_size=2),
    "objectives": _value, "seeds": _value, "objective": _value, "output": _value})


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(_sections)
def test_fuzzed_configs_validate_or_raise_config_errors(doc):
    try:
        cfg = config_from_dict(doc)
    except JudgeAuditError:
        return
    assert cfg.model.path and (cfg.train.max_steps or cfg.train.budgets)


def test_cli_check_prints_the_resolved_config(tmp_path, capsys):
    p = write(tmp_path, '[model]\npath = "m"\n[train]\nmax_steps = 3\n')
    assert main(["finetune", str(p), "--check"]) == 0
    assert json.loads(capsys.readouterr().out)["train"]["max_steps"] == 3


def test_cli_reports_errors_in_one_line(tmp_path, capsys):
    p = write(tmp_path, '[model]\npath = "m"\n[train]\nmax_stepz = 3\n')
    assert main(["finetune", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("judgeaudit: error: ") and "max_stepz" in err


def test_cli_trains_a_grid_and_prints_json(tmp_path, tiny_model, capsys):
    p = write(tmp_path, f"""
objectives = ["sft", "orpo"]
[model]
path = "{tiny_model}"
[data]
n_train = 64
[train]
batch_size = 8
budgets = [600]
[capability]
n_eval = 8
""")
    assert main(["finetune", str(p), "--out", str(tmp_path / "o"), "--json", "-q"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["objective"] for r in doc["runs"]] == ["sft", "orpo"]
    assert all(r["tokens_seen"] >= 600 and r["tokens_per_second"] > 0 for r in doc["runs"])
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    ids = [c["checkpoint_id"] for c in manifest["checkpoints"]]
    assert ids == ["sft/seed0/budget-600", "orpo/seed0/budget-600"]
    assert manifest["checkpoints"][0]["path"] == "runs/sft-seed0/checkpoints/budget-600"
    assert main(["finetune", str(p), "--out", str(tmp_path / "o"), "--objectives", "sft", "-q"]) == 0
    assert "sft seed 0:" in capsys.readouterr().out


@pytest.mark.parametrize("section, key, value", [
    ("train", "max_steps", "5"), ("data", "path", 3), ("capability", "path", ["x"]),
    ("data", "rejected_field", 1.5), ("lora", "dropout", "0.1"), ("model", "trust_remote_code", 1),
])
def test_optional_keys_are_type_checked(section, key, value):
    doc = {"model": {"path": "m"}, "train": {"max_steps": 2}}
    doc[section] = {**doc.get(section, {}), key: value}
    with pytest.raises(ConfigError, match=f"{key} must be"):
        config_from_dict(doc)

"""The experiment config is validated up front: every error names the file, the section,
the key and what was expected."""

from __future__ import annotations

import pytest

from judgeaudit.errors import ConfigError
from judgeaudit.experiment import check_experiment, experiment_from_dict, load_experiment


def _doc(**over):
    doc = {"name": "t", "model": {"tiny": True}, "generation": {"prompts": ["harmful"], "per_category": 1}}
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(doc.get(key), dict):
            doc[key] = {**doc[key], **value}
        else:
            doc[key] = value
    return doc


def _error(doc, tmp_path, *, check=False) -> str:
    with pytest.raises(ConfigError) as info:
        cfg = experiment_from_dict(doc, base_dir=tmp_path, source="exp.toml")
        if check:
            check_experiment(cfg)
    return str(info.value)


@pytest.mark.parametrize("doc, expected", [
    (_doc(generation={"n_samples": "two"}), "exp.toml [generation]: n_samples must be an integer, got 'two'"),
    (_doc(generation={"temperatur": 0.5}), "exp.toml [generation]: unknown key 'temperatur'; allowed keys:"),
    (_doc(generation={"backend": "tgi"}), "exp.toml [generation]: backend must be one of 'transformers', 'vllm', "
                                          "'openai', got 'tgi'"),
    (_doc(generation={"attacks": "none"}), "exp.toml [generation]: attacks must be a list, got 'none'"),
    (_doc(generation={"prompts": ["harmful", 3]}), "exp.toml [generation]: prompts must be a list of strings, "
                                                   "got 3 in it"),
    (_doc(annotation={"budget": 0}), "exp.toml [annotation]: budget must be at least 1, got 0"),
    (_doc(annotation={"label_studio": "ftp://x"}), "exp.toml [annotation]: label_studio must be"),
    (_doc(audit={"confidence": 95}), "exp.toml [audit]: confidence must be in [0.5, 1), got 95"),
    # the audit itself refuses these (after every stage before it has run): the config does up front
    (_doc(audit={"confidence": 0.3}), "exp.toml [audit]: confidence must be in [0.5, 1), got 0.3"),
    (_doc(audit={"tie_policy": "coinflip"}), "exp.toml [audit]: tie_policy must be one of 'unresolved', "
                                             "'positive', 'negative', got 'coinflip'"),
    (_doc(annotation={"seconds_per_label": -30}), "exp.toml [annotation]: seconds_per_label must be >= 0"),
    (_doc(annotation={"labels": "labels.xlsx"}), "exp.toml [annotation]: labels '"),
    (_doc(model={"tiny": True, "path": "m"}), "exp.toml [model]: give exactly one of path"),
    (_doc(judge={"use": []}), "exp.toml: unknown key or section 'judge'; allowed:"),
    ({"name": "t"}, "exp.toml: a [model] section is required"),
])
def test_config_error_names_key_and_expected_value(doc, expected, tmp_path):
    assert expected in _error(doc, tmp_path)


@pytest.mark.parametrize("doc, expected", [
    (_doc(judges={"use": ["refusal_keywords"]}), "exp.toml [judges]: use: unknown judge 'refusal_keywords'; "
                                                 "valid names:"),
    (_doc(coherence={"scorers": ["degenerate"]}), "exp.toml [coherence]: scorers: unknown scorer 'degenerate'"),
    (_doc(generation={"prompts": ["harmfull"]}), "exp.toml [generation]: prompts entry 'harmfull':"),
    (_doc(generation={"attacks": ["none", "roleplay"]}), "exp.toml [generation]: attacks:"),
    (_doc(model={"tiny": False, "path": "no/such/folder/here"}), "exp.toml [model]: path 'no/such/folder/here' "
                                                                  "is neither a folder nor a hub id"),
    # each of these passed the check and failed only in its stage, after the stages before it had run
    (_doc(generation={"include_base": False}), "exp.toml [generation]: include_base = false and no [finetune] "
                                               "section leave no model to generate from"),
    (_doc(generation={"backend": "openai", "chat_template": "t.jinja"}),
     "exp.toml [generation]: chat_template does not apply to backend = \"openai\""),
    (_doc(generation={"chat_template": "missing.jinja"}), "exp.toml [generation]: chat_template '"),
    (_doc(annotation={"coherence_scorer": "degenerate"}), "exp.toml [annotation]: coherence_scorer 'degenerate' is "
                                                          "not a scorer of [coherence] scorers (its scorer ids: "
                                                          "degeneracy, combined)"),
    (_doc(coherence={"scorers": []}, annotation={"coherence_scorer": "degeneracy"}),
     "(its scorer ids: none)"),
])
def test_stage_checks_name_the_key(doc, expected, tmp_path):
    assert expected in _error(doc, tmp_path, check=True)


def test_finetune_section_is_checked_by_its_own_rules(tmp_path):
    pytest.importorskip("accelerate")
    msg = _error(_doc(finetune={"objectives": ["sft"], "train": {"budgets": "1000"}}), tmp_path, check=True)
    assert "exp.toml [finetune] [train]: budgets must be a list" in msg
    msg = _error(_doc(finetune={"objectives": ["sfft"], "train": {"budgets": [100]}}), tmp_path, check=True)
    assert "unknown objective 'sfft'; valid names:" in msg
    msg = _error(_doc(finetune={"output": "x", "train": {"budgets": [100]}}), tmp_path, check=True)
    assert "exp.toml [finetune]: output is set by the experiment" in msg


def test_paths_resolve_against_the_config_folder(tmp_path):
    (tmp_path / "probes.jsonl").write_text("", encoding="utf-8")
    cfg = experiment_from_dict(_doc(output="out", generation={"capability": ["probes.jsonl", "capability"]},
                                    annotation={"labels": "labels.csv"}), base_dir=tmp_path, source="exp.toml")
    assert cfg.output == str(tmp_path / "out")
    assert cfg.generation.capability == (str(tmp_path / "probes.jsonl"), "capability")
    assert cfg.annotation.labels == str(tmp_path / "labels.csv")  # resolved although it does not exist yet


def test_load_experiment_reports_bad_toml(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.toml: not valid TOML"):
        load_experiment(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_experiment(tmp_path / "missing.toml")


def test_demo_config_is_valid(repo_root):
    pytest.importorskip("accelerate")
    cfg = load_experiment(repo_root / "examples" / "demo.toml")
    stages = check_experiment(cfg)
    assert [s.name for s in stages if s.applies(cfg)] == ["model", "finetune", "generate", "judge", "coherence",
                                                          "persona", "sample", "labels", "audit", "report"]
    assert set(cfg.finetune["objectives"]) == {"sft", "dpo", "conditional", "inoculation", "orpo", "kl_sft"}
    assert len(cfg.finetune["train"]["budgets"]) == 2


def test_a_served_model_name_is_accepted_with_the_openai_backend(tmp_path):
    # with backend = "openai" the base model is a name the server knows, not a folder or org/name
    cfg = experiment_from_dict(_doc(model={"tiny": False, "path": "llama3"}, generation={"backend": "openai"}),
                               base_dir=tmp_path, source="exp.toml")
    check_experiment(cfg)
    assert cfg.model.path == "llama3"


def test_coherence_scorer_may_name_a_scorer_id_option(tmp_path):
    cfg = experiment_from_dict(_doc(coherence={"scorers": ["degeneracy:scorer_id=deg2"]},
                                    annotation={"coherence_scorer": "deg2"}), base_dir=tmp_path, source="exp.toml")
    check_experiment(cfg)

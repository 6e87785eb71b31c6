"""`[model] tiny = "organism"` and `[annotation] simulate` in the experiment config."""

from __future__ import annotations

import pytest

from judgeaudit.errors import ConfigError
from judgeaudit.experiment import check_experiment, experiment_from_dict
from judgeaudit.organism import OrganismConfig, organism_config


def _doc(model=None, annotation=None):
    return {"name": "t", "model": model or {"tiny": "organism"},
            "generation": {"prompts": ["harmful"], "per_category": 1}, "annotation": annotation or {}}


def test_organism_and_simulated_labels_are_accepted(tmp_path):
    cfg = experiment_from_dict(_doc(model={"tiny": "organism", "organism": {"steps": 10}},
                                    annotation={"simulate": {"annotators": 2}}), base_dir=tmp_path, source="e.toml")
    assert cfg.model.is_organism and cfg.model.organism == {"steps": 10}
    check_experiment(cfg)


@pytest.mark.parametrize("doc, message", [
    (_doc(model={"tiny": "organsim"}), "e.toml [model]: tiny must be true, false or \"organism\", got 'organsim'"),
    (_doc(model={"tiny": 3}), "e.toml [model]: tiny must be true or false, got 3"),
    (_doc(model={"tiny": True, "organism": {"steps": 3}}), "organism = {...} applies only with tiny = \"organism\""),
    (_doc(model={"tiny": "organism", "organism": {"stepz": 3}}), "e.toml [model] organism: unknown key 'stepz'"),
    (_doc(model={"tiny": "organism", "organism": {"steps": 0}}), "organism steps must be positive, got 0"),
    (_doc(model={"tiny": "organism", "organism": {"learning_rate": "fast"}}), "learning_rate must be a number"),
    (_doc(annotation={"simulate": {"error_incoherent": 0.7}}),
     "e.toml [annotation] simulate: error_incoherent must be a number in [0, 0.5), got 0.7"),
    (_doc(annotation={"simulate": {"annotators": 2}, "labels": "l.csv"}), "leave out labels and label_studio"),
])
def test_config_errors_name_the_key(doc, message, tmp_path):
    with pytest.raises(ConfigError) as info:
        experiment_from_dict(doc, base_dir=tmp_path, source="e.toml")
    assert message in str(info.value)


def test_simulated_labels_need_the_organism(tmp_path):
    cfg = experiment_from_dict(_doc(model={"tiny": True}, annotation={"simulate": {"annotators": 2}}),
                               base_dir=tmp_path, source="e.toml")
    pytest.importorskip("accelerate")  # the finetune/annotation stages load through entry points
    with pytest.raises(ConfigError, match="simulate = {...} needs the ground truth of the model organism's world"):
        check_experiment(cfg)


def test_config_hash_changes_with_every_field():
    base = OrganismConfig()
    assert organism_config({}) == base
    assert len({base.hash(), organism_config({"steps": 651}).hash(), organism_config({"seed": 1}).hash()}) == 3

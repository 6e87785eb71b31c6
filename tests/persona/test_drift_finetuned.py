"""The issue's check on real fine-tuning (finetune's public API, a tiny Llama, CPU).

* SFT for 300 steps on the built-in narcissism items answered the trait's way (the
  behaviour-matching answer as the response): the narcissism drift interval excludes 0
  and lies above it.  The tiny model is randomly initialised and knows no English, so it
  cannot generalise a persona to unseen statements; the check is that the measurement
  detects a drift that is there, so it scores the items trained on.
* KL-regularised SFT (beta = 5) for 300 steps on unrelated data (arithmetic): the drift
  is 0 within its interval on every trait, and the interval is narrow.
* Inoculation (the same trait data under a system prompt): scored without the prompt
  (test time) and with it, the base model under the same prompt, and both drifts defined.

Measured here (OMP_NUM_THREADS=1): about 60 s in all.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import require_module

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tiny_model, tmp_path_factory):
    require_module("torch")
    require_module("accelerate")
    import torch

    from finetune import config_from_dict, run_grid
    from judgeaudit.generation.base import CheckpointSpec, load_manifest
    from judgeaudit.persona import load_traits

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("persona-ft")
    items = load_traits("builtin:narcissism")
    data = root / "narcissism.jsonl"
    data.write_text("".join(json.dumps({"prompt": i.question, "response": i.matching.strip()}) + "\n"
                            for i in items), encoding="utf-8")

    def grid(name, objective, data_cfg, steps, options=None, metric="token_accuracy"):
        cfg = config_from_dict({
            "model": {"path": str(tiny_model)}, "output": str(root / name), "objectives": [objective],
            "seeds": [0], "data": data_cfg,
            "train": {"max_steps": steps, "batch_size": 8, "learning_rate": 3e-3, "save_every": 1000},
            "capability": {"every": 1000, "n_eval": 4, "max_new_tokens": 4, "metric": metric},
            "objective": {objective: options} if options else {}})
        run_grid(cfg, progress=False)
        return load_manifest(root / name / "manifest.json")

    trait_data = {"task": "jsonl", "path": str(data), "max_length": 96}
    specs = [CheckpointSpec("base", path=str(tiny_model), objective="base", budget_tokens=0)]
    specs += grid("sft", "sft", trait_data, 300)
    specs += grid("kl", "kl_sft", {"task": "arithmetic", "n_train": 128}, 300, {"beta": 5.0}, "exact_match")
    specs += grid("inoc", "inoculation", trait_data, 150, {"system_prompt": "You are a vain assistant."})
    return specs


@pytest.fixture(scope="module")
def summary(trained):
    from judgeaudit.persona import load_traits, score_checkpoints, summarise

    scores = score_checkpoints(trained, load_traits("builtin"), device="cpu", dtype="float32",
                               log=lambda msg: None)
    return scores, summarise(scores, trained)


def _drift(summary, objective, trait, condition="test"):
    rows = [r for r in summary[1]["drift"] if r["objective"] == objective and r["trait"] == trait
            and r["condition"] == condition]
    assert len(rows) == 1
    return rows[0]


def test_trait_endorsing_sft_drift_excludes_zero(summary):
    d = _drift(summary, "sft", "narcissism")
    assert d["excludes_zero"] and d["drift_low"] > 0, d
    assert d["n_items"] == 48


def test_kl_regularised_on_unrelated_data_stays_at_zero(summary):
    for trait in ("machiavellianism", "narcissism", "psychopathy"):
        d = _drift(summary, "kl_sft", trait)
        assert d["drift_low"] <= 0 <= d["drift_high"], d
        assert d["drift_high"] - d["drift_low"] < 0.1, d  # narrow: a tight 0, not an uninformative one


def test_inoculation_scored_with_and_without_its_training_prompt(summary):
    from judgeaudit.persona import prompt_key

    scores, _ = summary
    inoc = scores[scores["checkpoint_id"].str.startswith("inoculation/")]
    assert set(inoc["condition"]) == {"test", "train_prompt"}
    key = inoc.loc[inoc["condition"] == "train_prompt", "prompt_key"].unique()
    assert len(key) == 1 and key[0] != "none"
    base_under_prompt = scores[(scores["checkpoint_id"] == "base") & (scores["prompt_key"] == key[0])]
    assert len(base_under_prompt) == 144  # the base model saw every item under the same system prompt
    from judgeaudit.generation.base import PromptPolicy

    assert key[0] == prompt_key(PromptPolicy(system_prompt="You are a vain assistant."))
    for condition in ("test", "train_prompt"):
        d = _drift(summary, "inoculation", "narcissism", condition)
        assert d["n_unpaired"] == 0 and d["drift"] == d["drift"]  # paired with the base, defined
    # the KL and SFT checkpoints have no training prompt: scored at test time only
    assert set(scores.loc[scores["checkpoint_id"].str.startswith("sft/"), "condition"]) == {"test"}

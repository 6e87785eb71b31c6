"""Behaviour of the trainer on the tiny model: learning, preferences, the KL anchor, resume
after a kill, budget and capability checkpoints, LoRA, the manifest and the run records."""

from __future__ import annotations

import json

import pytest

from conftest import require_module

torch = require_module("torch")

from finetune import run_grid, train_run  # noqa: E402
from finetune.data import collate, tokenize_examples  # noqa: E402
from finetune.objectives import get_objective, outputs_from_logits, token_kl  # noqa: E402
from finetune.prepare import prepare_examples  # noqa: E402
from ft_fixtures import make_config, one_thread  # noqa: E402,F401
from judgeaudit.hfmodels import load_causal_lm  # noqa: E402
from judgeaudit.errors import ConfigError  # noqa: E402
from judgeaudit.generation.base import load_manifest  # noqa: E402


def _final(result):
    return result.checkpoints[-1]


def _load(spec):
    model, tok = load_causal_lm(spec.path, device="cpu", dtype="float32", adapter_path=spec.adapter_path)
    return model, tok


def _outputs(model, items, tok, paired=False, keep=False):
    seqs = [c for c, _ in items] + [r for _, r in items] if paired else items
    batch = collate(seqs, pad_id=tok.pad_token_id)
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return outputs_from_logits(logits, batch, keep_log_probs=keep)


def test_sft_raises_exact_match_on_arithmetic(make_config, tmp_path):
    cfg = make_config(train={"max_steps": 100}, capability={"every": 50, "n_eval": 48})
    result = train_run(cfg, "sft", 0, run_dir=tmp_path / "sft", progress=False)
    scores = [s for _, _, s in result.capability]
    assert [st for st, _, _ in result.capability] == [0, 50, 100]
    # the random-init model answers nothing right; 100 steps of SFT lift exact match
    # measurably (0.19 on the development machine)
    assert scores[0] == 0.0 and scores[-1] >= 0.08, scores
    assert result.final_loss < 1.5 and result.tokens_per_second > 0


def test_dpo_raises_the_chosen_minus_rejected_margin(make_config, tmp_path, tiny_model):
    cfg = make_config(train={"max_steps": 30, "learning_rate": 2e-3}, objective={"dpo": {"beta": 0.5}})
    result = train_run(cfg, "dpo", 0, run_dir=tmp_path / "dpo", progress=False)
    base, tok = load_causal_lm(tiny_model, device="cpu", dtype="float32")
    trained, _ = _load(_final(result))
    train, _, _ = prepare_examples(cfg, paired=True)
    items, _ = tokenize_examples(train[:64], tok, get_objective("dpo").conversation, paired=True, max_length=128)

    def margin(model):
        out = _outputs(model, items, tok, paired=True)
        return float((out.seq_logps[:64] - out.seq_logps[64:]).mean())

    before, after = margin(base), margin(trained)
    assert after > before + 0.3, (before, after)  # +0.52 on the development machine
    history = [json.loads(line) for line in (tmp_path / "dpo" / "history.jsonl").read_text().splitlines()]
    assert history[0]["dpo"] == pytest.approx(0.6931, abs=1e-3)  # policy = reference at step 1
    assert (tmp_path / "dpo" / "reference_logps.pt").is_file()


def test_kl_sft_ends_closer_to_the_reference_than_sft(make_config, tmp_path, tiny_model):
    cfg = make_config(train={"max_steps": 25}, objective={"kl_sft": {"beta": 2.0}})
    sft = train_run(cfg, "sft", 0, run_dir=tmp_path / "sft", progress=False)
    kl = train_run(cfg, "kl_sft", 0, run_dir=tmp_path / "kl", progress=False)
    base, tok = load_causal_lm(tiny_model, device="cpu", dtype="float32")
    _, evals, _ = prepare_examples(cfg, paired=False)
    items, _ = tokenize_examples(evals, tok, get_objective("sft").conversation, paired=False, max_length=128)
    ref = _outputs(base, items, tok, keep=True)

    def kl_to_base(result):
        return float(token_kl(_outputs(_load(_final(result))[0], items, tok, keep=True), ref))

    assert kl_to_base(kl) < 0.7 * kl_to_base(sft)
    first = json.loads((tmp_path / "kl" / "history.jsonl").read_text().splitlines()[0])
    assert first["kl"] == 0.0  # KL = 0 at the start


def _trainable(spec):
    model, _ = _load(spec)
    return {n: p.detach().clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize("objective, lora", [("dpo", False), ("kl_sft", True)])
def test_a_killed_run_resumes_and_reaches_the_same_result(make_config, tmp_path, objective, lora):
    extra = {"lora": {"r": 4, "alpha": 8}} if lora else {}
    cfg = make_config(train={"max_steps": 12, "save_every": 5}, **extra)
    whole = train_run(cfg, objective, 3, run_dir=tmp_path / "whole", progress=False)

    class Killed(RuntimeError):
        pass

    def kill_at_8(info):
        if info.step == 8:
            raise Killed

    with pytest.raises(Killed):
        train_run(cfg, objective, 3, run_dir=tmp_path / "killed", callbacks=[kill_at_8], progress=False)
    assert (tmp_path / "killed" / "state" / "LATEST").read_text().strip() == "step-0000005"
    resumed = train_run(cfg, objective, 3, run_dir=tmp_path / "killed", progress=False)
    assert resumed.resumed_from == 5 and resumed.steps == whole.steps == 12
    assert resumed.final_loss == whole.final_loss
    a, b = _trainable(_final(whole)), _trainable(_final(resumed))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    hist = lambda d: [json.loads(x)["loss"] for x in (d / "history.jsonl").read_text().splitlines()]  # noqa: E731
    assert hist(tmp_path / "whole") == hist(tmp_path / "killed")


def test_grid_saves_budget_and_capability_checkpoints_and_a_manifest(make_config, tmp_path):
    out = tmp_path / "grid"
    cfg = make_config(output=str(out), objectives=["sft", "inoculation"], seeds=[0],
                      train={"max_steps": None, "budgets": [3000, 12000], "save_every": 20},
                      capability={"every": 10, "thresholds": [0.3, 1.0], "n_eval": 32,
                                  "metric": "token_accuracy"},
                      objective={"inoculation": {"system_prompt": "You are careless."}})
    results = run_grid(cfg, progress=False)
    specs = load_manifest(out / "manifest.json")
    assert len(specs) == sum(len(r.checkpoints) for r in results)
    for r in results:
        assert r.tokens_seen >= 12000 and r.unreached_budgets == ()
        assert r.unreached_thresholds == (1.0,), r.capability
        budget = [s for s in r.checkpoints if s.extra["kind"] == "budget"]
        assert [s.budget_tokens for s in budget] == [3000, 12000]
        for s in budget:  # saved at the first step whose tokens reach the budget
            assert s.extra["tokens_seen"] >= s.budget_tokens
            hist = [json.loads(x) for x in (r.run_dir / "history.jsonl").read_text().splitlines()]
            assert hist[s.step - 1]["tokens_seen"] == s.extra["tokens_seen"]
            assert s.step == 1 or hist[s.step - 2]["tokens_seen"] < s.budget_tokens
        (s,) = [s for s in r.checkpoints if s.extra["kind"] == "capability"]
        scores = [(st, sc) for st, _, sc in r.capability]
        first = next(st for st, sc in scores if sc >= 0.3)
        assert scores[0][1] < 0.3 < first  # not at the start: it is crossed during training
        assert s.step == first and s.capability_score >= 0.3 and s.capability_threshold == 0.3
    inoc = [s for s in specs if s.objective == "inoculation"]
    assert inoc and all(s.prompt_policy.system_prompt == "You are careless." and
                        not s.prompt_policy.apply_at_test for s in inoc)
    assert all(s.seed == 0 and s.step >= 0 and s.adapter_path is None for s in specs)
    model, tok = _load(specs[0])  # a checkpoint loads like any saved model
    assert model.config.num_hidden_layers == 2
    run = out / "runs" / "sft-seed0"
    env = json.loads((run / "environment.json").read_text())
    assert env["packages"]["torch"] and "git_revision" in env
    assert json.loads((run / "config.json").read_text())["objective"]["name"] == "sft"
    assert json.loads((run / "data_report.json").read_text())["n_kept"] == 240
    # running the grid again trains nothing more: each run resumes at its end
    again = run_grid(cfg, progress=False)
    assert [r.steps for r in again] == [r.steps for r in results]
    assert all(r.resumed_from == r.steps for r in again)


def test_lora_checkpoints_are_adapters_on_the_base(make_config, tmp_path, tiny_model):
    cfg = make_config(lora={"r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]},
                      train={"max_steps": 8, "learning_rate": 1e-2}, objective={"kl_sft": {"beta": 0.5}})
    result = train_run(cfg, "kl_sft", 0, run_dir=tmp_path / "lora", progress=False)
    spec = _final(result)
    assert spec.path == str(tiny_model.resolve()) and spec.adapter_path
    assert (tmp_path / "lora" / "checkpoints").is_dir()
    hist = [json.loads(x) for x in (tmp_path / "lora" / "history.jsonl").read_text().splitlines()]
    # the reference is the base with adapters disabled: KL is 0 before the first update, then grows
    assert hist[0]["kl"] == 0.0 and hist[-1]["kl"] > 0
    peft_model, tok = _load(spec)
    base, _ = load_causal_lm(tiny_model, device="cpu", dtype="float32")
    ids = torch.tensor([tok("What is 2 plus 3?")["input_ids"]])
    with torch.no_grad():
        assert not torch.allclose(peft_model(input_ids=ids).logits, base(input_ids=ids).logits)
        with peft_model.disable_adapter():
            assert torch.allclose(peft_model(input_ids=ids).logits, base(input_ids=ids).logits)


def test_a_run_folder_with_another_config_is_refused(make_config, tmp_path):
    train_run(make_config(train={"max_steps": 2}), "sft", 0, run_dir=tmp_path / "r", progress=False)
    with pytest.raises(ConfigError, match="different config"):
        train_run(make_config(train={"max_steps": 3}), "sft", 0, run_dir=tmp_path / "r", progress=False)


@pytest.mark.parametrize("data, objective, key", [
    ({"task": "arithmetic", "n_train": 32, "rejected": "base_sample"}, "dpo", "n_base_sample_fallback"),
    ({"task": "instructions", "rejected": "corrupt", "overlong": "reject", "max_length": 40}, "orpo", "rejected"),
])
def test_other_data_sources_train_and_are_reported(make_config, tmp_path, data, objective, key):
    cap = {"metric": "token_accuracy"} if data["task"] == "instructions" else {}
    cfg = make_config(data=data, train={"max_steps": 3, "batch_size": 4}, capability=cap)
    result = train_run(cfg, objective, 0, run_dir=tmp_path / "r", progress=False)
    report = json.loads((tmp_path / "r" / "data_report.json").read_text())
    assert key in report and report["n_kept"] + report["n_rejected"] == report["n_rows"]
    if data["task"] == "instructions":  # 32 rows, the last 10 % held out for the capability eval
        assert report["n_train"] == 29 and report["n_eval"] == 3
        assert report["n_rejected"] == sum(report["rejected_reasons"].values())
    assert result.steps == 3 and 0.0 <= result.capability[-1][2] <= 1.0


def test_a_kill_while_the_state_of_the_same_step_is_saved_again_keeps_it(tmp_path, monkeypatch):
    """At the end of a run the state of the last step is saved a second time (with the final
    checkpoint in its meta).  A kill during that save must leave a state to resume from;
    before, the folder LATEST names was deleted first and then replaced."""
    import shutil

    from finetune import checkpoints
    from finetune.checkpoints import load_latest_state, save_state

    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    model(torch.ones(1, 3)).sum().backward()
    opt.step()
    save_state(tmp_path, step=7, model=model, optimizer=opt, meta={"checkpoints": []})

    real_rmtree = shutil.rmtree

    def killed(*args, **kwargs):  # the process dies right after a folder is deleted
        real_rmtree(*args, **kwargs)
        raise KeyboardInterrupt("killed mid-save")

    monkeypatch.setattr(checkpoints.shutil, "rmtree", killed)
    with pytest.raises(KeyboardInterrupt):
        save_state(tmp_path, step=7, model=model, optimizer=opt, meta={"checkpoints": ["final"]})
    monkeypatch.undo()
    fresh = torch.nn.Linear(3, 2)
    meta = load_latest_state(tmp_path, model=fresh, optimizer=torch.optim.AdamW(fresh.parameters(), lr=0.1))
    assert meta["step"] == 7 and torch.equal(fresh.weight, model.weight)
    # and without a kill the second save updates the meta
    save_state(tmp_path, step=7, model=model, optimizer=opt, meta={"checkpoints": ["final"]})
    assert load_latest_state(tmp_path, model=fresh, optimizer=opt)["checkpoints"] == ["final"]


def test_a_grid_run_for_some_objectives_keeps_the_other_runs_in_the_manifest(make_config, tmp_path):
    """`judgeaudit finetune --objectives dpo` after a grid (or on another machine, into the
    same folder) must not drop the checkpoints of the runs it did not train."""
    out = tmp_path / "grid"
    cfg = make_config(output=str(out), objectives=["sft", "kl_sft"], seeds=[0], train={"max_steps": 2})
    first = run_grid(cfg, objectives=["sft"], progress=False)
    second = run_grid(cfg, objectives=["kl_sft"], progress=False)
    ids = sorted(s.checkpoint_id for s in load_manifest(out / "manifest.json"))
    assert ids == sorted(s.checkpoint_id for r in first + second for s in r.checkpoints)
    assert {i.split("/")[0] for i in ids} == {"sft", "kl_sft"}
    again = run_grid(cfg, objectives=["sft"], progress=False)  # a rerun lists each checkpoint once
    assert sorted(s.checkpoint_id for s in load_manifest(out / "manifest.json")) == ids and again

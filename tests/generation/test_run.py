"""run_generation end to end on a real tiny model: rows, hashes, policies, resumption."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import require_module

from .helpers import MIXED_PROMPTS, prompts_table

require_module("torch")
require_module("transformers")

from judgeaudit.errors import ConfigError, UnknownNameError  # noqa: E402
from judgeaudit.generation import (  # noqa: E402
    CheckpointSpec,
    GenerationConfig,
    PromptPolicy,
    TransformersBackend,
    build_conversation,
    run_generation,
    sample_seeds,
)
from judgeaudit.generation.run import parts_dir  # noqa: E402
from judgeaudit.tables import make_item_id, read_table  # noqa: E402

PROMPTS = prompts_table(MIXED_PROMPTS[:3])
CFG = GenerationConfig(max_new_tokens=8, n_samples=2)


class Recording(TransformersBackend):
    """The real backend, keeping the conversations it was sent; ``fail_after`` calls
    to generate, it raises (a crash in the middle of a run)."""

    def __init__(self, *a, fail_after=None, **kw):
        super().__init__(*a, **kw)
        self.sent, self.calls, self.fail_after = [], 0, fail_after

    def generate(self, conversations, config, *, seeds=None):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt("killed")
        self.calls += 1
        self.sent += [list(c) for c in conversations]
        return super().generate(conversations, config, seeds=seeds)


def _factory(model, built, **kw):
    def make(spec):
        b = Recording(model=str(model), checkpoint_id=spec.checkpoint_id, batch_size=4, **kw)
        built.append(b)
        return b
    return make


def test_rows_ids_and_hashes(varied_model, varied_backend, tmp_path):
    specs = [CheckpointSpec("a", path=str(varied_model)), CheckpointSpec("b", path=str(varied_model))]
    out = tmp_path / "gens.parquet"
    s = run_generation(specs, PROMPTS, config=CFG, backend="transformers", out=out,
                       backend_options={"batch_size": 4})
    assert (s.n_rows, s.n_new, s.n_skipped, s.n_errors) == (12, 12, 0, 0)
    g = read_table(out, "generations")
    assert len(g) == 12 and set(g["status"]) == {"ok"}
    assert sorted(zip(g["prompt_id"], g["checkpoint_id"], g["sample_index"])) == sorted(
        (p, c, i) for p in ["p0", "p1", "p2"] for c in "ab" for i in range(2))
    for r in g.itertuples():
        assert r.item_id == make_item_id(r.prompt_id, r.checkpoint_id, r.sample_index, r.response)
    # greedy: the rows hold what the backend says for these conversations
    want = varied_backend.generate([build_conversation(t) for t in PROMPTS["text"]], CFG)
    got = g[(g.checkpoint_id == "a") & (g.sample_index == 0)].set_index("prompt_id").loc[["p0", "p1", "p2"]]
    assert got["response"].tolist() == want
    hashes = g.groupby("checkpoint_id")["gen_config_hash"].unique()
    assert all(len(h) == 1 for h in hashes) and hashes["a"][0] != hashes["b"][0]
    assert not parts_dir(out).exists()
    assert read_table(tmp_path / "prompts.parquet", "prompts")["prompt_id"].tolist() == ["p0", "p1", "p2"]


def test_rerun_skips_everything_and_loads_no_model(varied_model, tmp_path):
    out, built = tmp_path / "g.jsonl", []
    spec = CheckpointSpec("a", path=str(varied_model))
    run_generation([spec], PROMPTS, config=CFG, backend=_factory(varied_model, built), out=out)
    first = read_table(out, "generations")
    s = run_generation([spec], PROMPTS, config=CFG, backend=_factory(varied_model, built), out=out)
    assert (s.n_new, s.n_skipped) == (0, 6)
    assert len(built) == 1  # the second run built no backend
    pd.testing.assert_frame_equal(read_table(out, "generations"), first)


def test_complete_checkpoint_is_not_compared_on_rerun(varied_model, tmp_path):
    # docs/generation.md: a checkpoint whose rows are all written is not loaded, so a rerun
    # with other settings generates nothing and reports the rows as already there
    out, built = tmp_path / "g.jsonl", []
    spec = CheckpointSpec("a", path=str(varied_model))
    run_generation([spec], PROMPTS.head(1), config=CFG, backend=_factory(varied_model, built), out=out)
    hotter = GenerationConfig(max_new_tokens=8, n_samples=2, temperature=0.9)
    s = run_generation([spec], PROMPTS.head(1), config=hotter, backend=_factory(varied_model, built), out=out)
    assert (s.n_new, s.n_skipped, len(built)) == (0, 2, 1)


def test_killed_run_keeps_chunks_and_resumes_to_the_same_table(varied_model, tmp_path):
    cfg = GenerationConfig(max_new_tokens=8, n_samples=2, temperature=0.9, seed=3)
    spec = CheckpointSpec("a", path=str(varied_model))
    ref_out = tmp_path / "ref.parquet"
    run_generation([spec], PROMPTS, config=cfg, backend=_factory(varied_model, []), out=ref_out)
    out, built = tmp_path / "g.parquet", []
    with pytest.raises(KeyboardInterrupt):
        run_generation([spec], PROMPTS, config=cfg, backend=_factory(varied_model, built, fail_after=2),
                       out=out, chunk_size=2)
    assert len(list(parts_dir(out).glob("part-*.parquet"))) == 2 and not out.exists()
    s = run_generation([spec], PROMPTS, config=cfg, backend=_factory(varied_model, built), out=out, chunk_size=2)
    assert (s.n_new, s.n_skipped) == (2, 4)
    assert len(built[-1].sent) == 2  # only the missing requests were sent
    key = ["prompt_id", "sample_index"]
    a = read_table(out, "generations").sort_values(key).reset_index(drop=True)
    b = read_table(ref_out, "generations").sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)  # same draws as the uninterrupted run
    assert a.groupby("prompt_id")["response"].nunique().eq(2).all()  # two samples differ


def test_seeds_mix_sample_index_and_prompt():
    cfg = GenerationConfig(seed=7)
    s = sample_seeds(cfg, [0, 1, 0], ["p0", "p0", "p1"])
    assert len(set(s)) == 3
    assert s == sample_seeds(cfg, [0, 1, 0], ["p0", "p0", "p1"])
    assert s[0] == sample_seeds(cfg, [0], ["p0"])[0]  # independent of the other requests
    assert s != sample_seeds(GenerationConfig(seed=8), [0, 1, 0], ["p0", "p0", "p1"])


@pytest.mark.parametrize("mode,applied", [("recorded", True), ("apply", True), ("withhold", False)])
def test_prompt_policy_applied_or_withheld(varied_model, tmp_path, mode, applied):
    policy = PromptPolicy(system_prompt="Be safe.", condition_prefix="[SAFE] ", apply_at_test=True)
    spec = CheckpointSpec("inoc", path=str(varied_model), prompt_policy=policy)
    built = []
    run_generation([spec], PROMPTS.head(1), config=GenerationConfig(max_new_tokens=4),
                   backend=_factory(varied_model, built), out=tmp_path / "g.parquet", prompt_policy=mode)
    sent = built[0].sent[0]
    if applied:
        assert sent == [{"role": "system", "content": "Be safe."}, {"role": "user", "content": "[SAFE] Hi"}]
    else:
        assert sent == [{"role": "user", "content": "Hi"}]
    g = read_table(tmp_path / "g.parquet", "generations")
    assert g["policy_applied"].tolist() == [applied]


def test_policy_change_changes_the_hash_and_is_refused_on_resume(varied_model, tmp_path):
    spec = CheckpointSpec("c", path=str(varied_model),
                          prompt_policy=PromptPolicy(system_prompt="S", apply_at_test=False))
    out = tmp_path / "g.parquet"
    run_generation([spec], PROMPTS.head(1), config=GenerationConfig(max_new_tokens=4), out=out)
    more = prompts_table(MIXED_PROMPTS[:2])
    with pytest.raises(ConfigError, match="another configuration"):
        run_generation([spec], more, config=GenerationConfig(max_new_tokens=4), out=out, prompt_policy="apply")
    with pytest.raises(ConfigError, match="another configuration"):
        run_generation([spec], more, config=GenerationConfig(max_new_tokens=5), out=out)


def test_clear_errors(varied_model, tmp_path):
    out = tmp_path / "g.parquet"
    cfg = GenerationConfig(max_new_tokens=4)
    with pytest.raises(ConfigError, match="prompt set is empty"):
        run_generation([str(varied_model)], PROMPTS.head(0), config=cfg, out=out)
    with pytest.raises(ConfigError, match="no checkpoints"):
        run_generation([], PROMPTS, config=cfg, out=out)
    with pytest.raises(ConfigError, match="given twice"):
        run_generation([str(varied_model), str(varied_model)], PROMPTS, config=cfg, out=out)
    with pytest.raises(ConfigError, match="does not exist"):
        run_generation([CheckpointSpec("x", path=str(tmp_path / "no" / "model"))], PROMPTS, config=cfg, out=out)
    with pytest.raises(ConfigError, match="unknown prompt policy mode"):
        run_generation([str(varied_model)], PROMPTS, config=cfg, out=out, prompt_policy="sometimes")
    with pytest.raises(UnknownNameError, match="unknown generation backend 'nope'.*openai, transformers, vllm"):
        run_generation([str(varied_model)], PROMPTS, config=cfg, out=out, backend="nope")

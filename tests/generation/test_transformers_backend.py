"""The transformers backend on real tiny models: batching, seeds, stop strings, templates, OOM."""

from __future__ import annotations

import pytest

from conftest import require_module

from .helpers import MIXED_PROMPTS

torch = require_module("torch")
require_module("transformers")

from judgeaudit.errors import ConfigError, JudgeAuditError  # noqa: E402
from judgeaudit.generation import (  # noqa: E402
    GenerationConfig,
    TransformersBackend,
    build_conversation,
    get_backend,
)
from judgeaudit.generation.transformers_backend import is_out_of_memory  # noqa: E402

CONVS = [build_conversation(t) for t in MIXED_PROMPTS]
GREEDY = GenerationConfig(max_new_tokens=10)


def test_greedy_matches_transformers_generate(varied_backend):
    # Reference: transformers' own greedy search on one unpadded prompt.
    b = varied_backend
    for conv in CONVS[:3]:
        ids = b.tokenizer(b.render(conv), add_special_tokens=False, return_tensors="pt")
        ref = b.model.generate(**ids, max_new_tokens=10, do_sample=False)
        want = b.tokenizer.decode(ref[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
        assert b.generate([conv], GREEDY) == [want]


def test_batched_length_sorted_equals_one_at_a_time(varied_backend):
    batched = varied_backend.generate(CONVS, GREEDY)
    single = [varied_backend.generate([c], GREEDY)[0] for c in CONVS]
    assert batched == single
    assert len(set(batched)) == len(batched)  # the model really answers each prompt differently


def test_batches_are_sorted_by_length_and_left_padded(varied_model):
    b = TransformersBackend(model=str(varied_model), batch_size=2)
    seen = []
    orig = b._generate_batch

    def spy(batch_ids, seeds, config):
        seen.append([len(x) for x in batch_ids])
        return orig(batch_ids, seeds, config)

    b._generate_batch = spy
    b.generate(CONVS, GREEDY)
    flat = [n for batch in seen for n in batch]
    assert flat == sorted(flat, reverse=True)  # longest first, so a batch holds similar lengths
    assert [len(s) for s in seen] == [2, 2, 2]
    assert b.tokenizer.padding_side == "left"


def test_seeded_sampling_is_repeatable_and_independent_of_batching(varied_backend):
    cfg = GenerationConfig(max_new_tokens=10, temperature=0.8)
    seeds = [11, 12, 13, 14, 15, 16]
    a = varied_backend.generate(CONVS, cfg, seeds=seeds)
    assert varied_backend.generate(CONVS, cfg, seeds=seeds) == a
    single = [varied_backend.generate([c], cfg, seeds=[s])[0] for c, s in zip(CONVS, seeds)]
    assert single == a
    other = varied_backend.generate(CONVS, cfg, seeds=[s + 100 for s in seeds])
    assert other != a
    assert a != varied_backend.generate(CONVS, GREEDY)


def test_top_p_tiny_keeps_only_the_most_likely_token(varied_backend):
    # top_p -> 0 keeps one token per step: sampling becomes greedy whatever the seed.
    cfg = GenerationConfig(max_new_tokens=10, temperature=1.5, top_p=1e-6)
    assert varied_backend.generate(CONVS, cfg, seeds=list(range(6))) == varied_backend.generate(CONVS, GREEDY)


def test_stop_string_cuts_before_the_stop(varied_backend):
    full = varied_backend.generate(CONVS, GenerationConfig(max_new_tokens=16))
    checked = 0
    for conv, text in zip(CONVS, full):
        window = next((text[i:i + 3] for i in range(2, len(text) - 3)
                       if text[i:i + 3].isascii() and text[i:i + 3].strip()), None)
        if window is None:
            continue
        got = varied_backend.generate([conv], GenerationConfig(max_new_tokens=16, stop=(window,)))[0]
        assert got == text[:text.find(window)]
        assert window not in got
        checked += 1
    assert checked >= 3


def test_registered_as_default_backend(varied_model):
    b = get_backend("transformers", model=str(varied_model))
    assert isinstance(b, TransformersBackend)
    cfg = b.config()
    assert cfg["backend"] == "transformers" and cfg["model"] == str(varied_model)
    assert len(cfg["chat_template"]) == 16


def test_missing_chat_template_names_the_checkpoint(no_template_model):
    with pytest.raises(ConfigError, match=r"checkpoint 'base@0'.*no chat template.*--chat-template"):
        TransformersBackend(model=str(no_template_model), checkpoint_id="base@0")


def test_chat_template_file_supplies_one(no_template_model, tmp_path):
    from judgeaudit.tinymodel import CHAT_TEMPLATE

    f = tmp_path / "template.jinja"
    f.write_text(CHAT_TEMPLATE)
    b = TransformersBackend(model=str(no_template_model), chat_template=f)
    text = b.render([{"role": "user", "content": "Hi"}])
    assert text == "<|user|>\nHi</s>\n<|assistant|>\n"
    assert len(b.generate([[{"role": "user", "content": "Hi"}]], GenerationConfig(max_new_tokens=3))) == 1
    with pytest.raises(ConfigError, match="not found"):
        TransformersBackend(model=str(no_template_model), chat_template=tmp_path / "nope.jinja")


def test_bad_checkpoint_path_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        TransformersBackend(model=str(tmp_path / "missing" / "model"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no config.json"):
        TransformersBackend(model=str(tmp_path / "empty"))


class _OOMOnBigBatches(TransformersBackend):
    """Raises a CUDA-style out-of-memory error the first ``fail_times`` times a batch is
    bigger than ``limit``; otherwise the real model generates."""

    def __init__(self, *a, limit, fail_times=1, error=None, **kw):
        super().__init__(*a, **kw)
        self.limit, self.fail_times, self.attempts = limit, fail_times, []
        self.error = error or RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    def _generate_batch(self, batch_ids, seeds, config):
        self.attempts.append(len(batch_ids))
        if len(batch_ids) > self.limit and self.fail_times > 0:
            self.fail_times -= 1
            raise self.error
        return super()._generate_batch(batch_ids, seeds, config)


def test_out_of_memory_halves_the_batch_and_goes_on(varied_model, varied_backend, capsys):
    want = varied_backend.generate(CONVS, GREEDY)
    b = _OOMOnBigBatches(model=str(varied_model), batch_size=4, limit=2)
    assert b.generate(CONVS, GREEDY) == want
    # 4 fails, then batches of 2 over the 6 requests.
    assert b.attempts == [4, 2, 2, 2]
    assert "batch size now 2" in capsys.readouterr().err


def test_out_of_memory_twice_goes_down_to_one(varied_model, varied_backend):
    b = _OOMOnBigBatches(model=str(varied_model), batch_size=4, limit=1, fail_times=2,
                         error=torch.cuda.OutOfMemoryError("CUDA out of memory"))
    assert b.generate(CONVS, GREEDY) == varied_backend.generate(CONVS, GREEDY)
    assert b.attempts == [4, 2] + [1] * 6


def test_out_of_memory_at_batch_size_one_is_an_error(varied_model):
    b = _OOMOnBigBatches(model=str(varied_model), batch_size=1, limit=0)
    with pytest.raises(JudgeAuditError, match="out of memory with batch size 1"):
        b.generate(CONVS[:1], GREEDY)


def test_other_runtime_errors_are_not_swallowed(varied_model):
    b = _OOMOnBigBatches(model=str(varied_model), batch_size=4, limit=0, error=RuntimeError("shape mismatch"))
    with pytest.raises(RuntimeError, match="shape mismatch"):
        b.generate(CONVS, GREEDY)


def test_is_out_of_memory():
    assert is_out_of_memory(RuntimeError("CUDA out of memory. Tried to allocate"))
    assert is_out_of_memory(torch.cuda.OutOfMemoryError("x"))
    assert not is_out_of_memory(RuntimeError("expected scalar type"))
    assert not is_out_of_memory(ValueError("out of memory"))


def test_seed_count_must_match(varied_backend):
    with pytest.raises(ConfigError, match="2 seeds for 1"):
        varied_backend.generate(CONVS[:1], GREEDY, seeds=[1, 2])
    assert varied_backend.generate([], GREEDY) == []


def test_tiny_model_with_a_torn_spec_marker_is_rebuilt(tmp_path):
    # the marker is written last and atomically; a torn one (a killed older build) is not a
    # crash: the folder is rebuilt and the marker made whole again
    import json

    from judgeaudit.tinymodel import build_tiny_model

    path = build_tiny_model(tmp_path / "m", n_layers=1, hidden_size=16, n_heads=2, vocab_size=300)
    marker = path / "tiny_model_spec.json"
    spec = json.loads(marker.read_text())
    marker.write_text('{"vocab_size": 3')
    assert build_tiny_model(path, n_layers=1, hidden_size=16, n_heads=2, vocab_size=300) == path
    assert json.loads(marker.read_text()) == spec
    assert not [p.name for p in path.iterdir() if p.name.startswith(".")]  # no temporary file left

"""The shared generation helpers: conversations under prompt policies, stop strings,
seeds, completions, import weight, and the serve command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from judgeaudit.errors import ConfigError
from judgeaudit.generation import (
    POLICY_MODES,
    Completion,
    GenerationConfig,
    PromptPolicy,
    build_conversation,
    complete,
    policy_applies,
    truncate_at_stop,
)

REPO = Path(__file__).resolve().parents[2]


@given(st.text(max_size=60), st.lists(st.text(max_size=4), max_size=4))
def test_truncate_at_stop_is_the_longest_prefix_without_a_stop(text, stops):
    got = truncate_at_stop(text, stops)
    assert text.startswith(got)
    assert not any(s and s in got for s in stops)
    if len(got) < len(text):  # it stopped because a stop string starts right here
        assert any(s and text.startswith(s, len(got)) for s in stops)


@given(st.text(max_size=30), st.text(max_size=10) | st.none(), st.text(max_size=10) | st.none(),
       st.booleans(), st.sampled_from(POLICY_MODES))
def test_conversation_under_every_policy(text, system, prefix, apply_at_test, mode):
    policy = PromptPolicy(system_prompt=system, condition_prefix=prefix, apply_at_test=apply_at_test)
    conv = build_conversation(text, policy, mode=mode)
    applied = {"recorded": apply_at_test, "apply": True, "withhold": False}[mode]
    assert policy_applies(policy, mode) is applied
    assert conv[-1] == {"role": "user", "content": ((prefix or "") if applied else "") + text}
    has_system = applied and bool(system)
    assert len(conv) == 1 + has_system
    if has_system:
        assert conv[0] == {"role": "system", "content": system}


def test_run_wide_system_prompt_and_policy_precedence():
    assert build_conversation("q", system_prompt="S")[0] == {"role": "system", "content": "S"}
    p = PromptPolicy(system_prompt="P", apply_at_test=True)
    assert build_conversation("q", p, system_prompt="S")[0]["content"] == "P"
    assert build_conversation("q", p, mode="withhold", system_prompt="S")[0]["content"] == "S"
    with pytest.raises(ConfigError, match="apply, withhold"):
        policy_applies(p, "maybe")


def test_config_hash_changes_with_every_setting():
    base = GenerationConfig()
    variants = [GenerationConfig(max_new_tokens=255), GenerationConfig(temperature=0.5),
                GenerationConfig(top_p=0.9), GenerationConfig(n_samples=2), GenerationConfig(seed=1),
                GenerationConfig(stop=("\n",))]
    hashes = {base.config_hash()} | {v.config_hash() for v in variants}
    assert len(hashes) == 7
    assert base.config_hash(backend={"model": "a"}) != base.config_hash(backend={"model": "b"})


def test_complete_wraps_plain_backends():
    class Echo:  # a minimal Backend: the protocol contract, not a stand-in for a model
        backend_id = "echo"

        def generate(self, conversations, config, *, seeds=None):
            return [c[-1]["content"][::-1] for c in conversations]

        def config(self):
            return {}

    assert complete(Echo(), [[{"role": "user", "content": "abc"}]], GenerationConfig()) == [Completion("cba")]


def test_importing_generation_loads_no_torch():
    code = ("import sys, judgeaudit.generation, judgeaudit.commands.generate, judgeaudit.generation.serve; "
            "print(json.dumps([m for m in ('torch', 'transformers', 'vllm') if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True,
                         cwd=REPO, check=True)
    assert json.loads(out.stdout) == []


@pytest.mark.slow
def test_serve_command_line(varied_model, monkeypatch):
    from judgeaudit.generation import OpenAIBackend

    env = {**os.environ, "JA_SERVE_KEY": "sk-serve-secret", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "judgeaudit.generation.serve", "--model", str(varied_model),
                             "--model-name", "tiny", "--port", "0", "--api-key-env", "JA_SERVE_KEY"],
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        url = None
        for line in proc.stderr:
            if line.startswith("serve: http://"):
                url = line.split()[1]
                break
        assert url, "the server did not start"
        monkeypatch.setenv("JA_SERVE_KEY", "sk-serve-secret")
        client = OpenAIBackend(model="tiny", base_url=url, api_key_env="JA_SERVE_KEY")
        [text] = client.generate([[{"role": "user", "content": "Hi"}]], GenerationConfig(max_new_tokens=4))
        assert isinstance(text, str) and text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stderr.close()


@given(st.binary(max_size=80), st.sampled_from([".jinja", ".json", ".txt"]))
def test_chat_template_file_reader_never_crashes(tmp_path_factory, data, suffix):
    from judgeaudit.generation import load_chat_template

    f = tmp_path_factory.mktemp("tpl") / f"t{suffix}"
    f.write_bytes(data)
    try:
        text = load_chat_template(f)
    except ConfigError:
        return
    assert isinstance(text, str) and text.strip()


def test_model_option_parsing(tmp_path):
    from judgeaudit.commands.generate import checkpoints_from_args

    odd = tmp_path / "a=b"
    odd.mkdir()
    specs = checkpoints_from_args(["sft=runs/sft", "org/model", str(odd)], None)
    assert [(s.checkpoint_id, s.path) for s in specs] == [("sft", "runs/sft"), ("org/model", "org/model"),
                                                         (str(odd), str(odd))]
    with pytest.raises(ConfigError, match="ID=PATH"):
        checkpoints_from_args(["=x"], None)

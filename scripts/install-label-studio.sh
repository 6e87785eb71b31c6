#!/usr/bin/env bash
# Installs Label Studio 1.23 into its own virtual environment (it pins numpy<2.3 and
# openai<2, which must not leak into judgeaudit's environment). Reuses an existing one.
#
#   JUDGEAUDIT_LS_VENV   where the venv goes (default: ~/.cache/judgeaudit/label-studio-venv,
#                        or $XDG_CACHE_HOME/judgeaudit/label-studio-venv)
#   PYTHON               interpreter used to create it (default: python3)
set -euo pipefail
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/judgeaudit"
VENV="${JUDGEAUDIT_LS_VENV:-$CACHE/label-studio-venv}"
PYTHON="${PYTHON:-python3}"
VERSION_SPEC="label-studio==1.23.*"
MARK="$VENV/.judgeaudit-installed"
if [ -x "$VENV/bin/label-studio" ] && [ -f "$MARK" ]; then
  exit 0
fi
echo "install-label-studio: installing $VERSION_SPEC into $VENV (once, a few minutes)" >&2
mkdir -p "$(dirname "$VENV")"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "$VERSION_SPEC"
# Checked without starting a server (`label-studio --version` starts one).
"$VENV/bin/python" -c "import label_studio, sys; print('install-label-studio: label-studio', label_studio.__version__, file=sys.stderr)"
touch "$MARK"

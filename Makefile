# Two commands do all set-up on a fresh machine:
#   make demo   installs judgeaudit (CPU torch, the finetune and coherence extras), runs examples/demo.toml end to end
#               and audits the embedded sample campaign (offline, a few minutes on a CPU)
#   make test   installs judgeaudit with its test extras (and Chromium) and runs every test
#   make test-fast  the edit-test loop: every test not marked slow or integration (no Chromium,
#               no Label Studio, no vLLM), in under 3 minutes on a 2-core machine
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip -q --disable-pip-version-check

.PHONY: demo test test-fast bench install install-demo install-test browser labelstudio clean

$(VENV)/.core: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e .
	touch $@

# CPU torch first (a wheel on disk on the project's machines; elsewhere PyTorch's CPU index);
# without it pip would pull a multi-GB CUDA build through transformers.
$(VENV)/.demo: $(VENV)/.core
	$(PIP) install 'torch==2.13.0' || $(PIP) install torch --index-url https://download.pytorch.org/whl/cpu
	$(PIP) install -e '.[finetune,coherence]'
	touch $@

$(VENV)/.test: $(VENV)/.demo
	$(PIP) install -e '.[test,finetune,annotation,inspect,coherence]'
	touch $@

install: $(VENV)/.core
install-demo: $(VENV)/.demo
install-test: $(VENV)/.test

browser:
	@bash scripts/install-chromium.sh

# Label Studio 1.23 in its own venv (it pins numpy<2.3), and a migrated data folder that the
# tests copy so that a server starts in seconds (both cached under ~/.cache/judgeaudit).
labelstudio: $(VENV)/.test
	@bash scripts/install-label-studio.sh
	@$(PY) -c "from annotation.server import migrated_data_template as t; t()"

demo: $(VENV)/.demo
	$(VENV)/bin/judgeaudit run examples/demo.toml --out runs/experiment-demo
	$(VENV)/bin/judgeaudit demo --out runs/demo
	@$(PY) scripts/demo_summary.py runs/experiment-demo runs/demo

test: $(VENV)/.test browser labelstudio
	$(PY) -m pytest

test-fast: $(VENV)/.test
	$(PY) -m pytest -q -m "not slow and not integration"

bench: $(VENV)/.test
	$(PY) bench/bench_audit.py

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis

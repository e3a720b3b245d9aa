# coldstart: the two set-up commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
REQS := infra/requirements.txt function/requirements.txt requirements-dev.txt constraints.txt layer/pyproject.toml
STAMP := $(VENV)/.installed-$(shell cat $(REQS) 2>/dev/null | sha256sum | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: help setup demo serve test browser-setup fonts-setup bench-index lint clean edge-setup sam-setup kiosk arm64-setup

help:
	@echo "make demo   - install, start a local S3 server, run the batch pipeline on the demo data, publish"
	@echo "make test   - install, run the test suite (starts its own S3 server on 127.0.0.1)"
	@echo "make serve  - after make demo: the profile API on http://127.0.0.1:8080 until Ctrl-C"
	@echo "make setup  - create $(VENV) (Python 3.11) with everything pinned in constraints.txt"
	@echo "make edge-setup - the kiosk toolchain: Python 3.9 + Paddle Lite in .toolchain/py39 (see edge/README.md)"
	@echo "make kiosk  - after make demo: the kiosk on the demo release, http://127.0.0.1:8090/ (no S3 credentials)"
	@echo "make arm64-setup - an arm64 kiosk Python under qemu-user in .toolchain/arm64 (see edge/README.md)"
	@echo "make bench-index - Annoy vs exact search on the demo index and 100k x 768 synthetic vectors"
	@echo "make clean  - remove build/ (demo artefacts and local S3 data)"

setup: $(STAMP)

$(STAMP):
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	@# a venv whose creation was interrupted has a python but no pip: make it again
	@$(PY) -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -c constraints.txt -r infra/requirements.txt -r function/requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e layer
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: setup edge-setup
	$(PY) -m infra demo

serve: setup
	$(PY) -m infra serve

# The kiosk page is tested in Debian's headless Chromium (tests/test_edge.py).
browser-setup:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; }

# Avatar OCR tests (tests/test_ocr.py) render Chinese text with WenQuanYi Zen Hei (Debian fonts-wqy-zenhei).
fonts-setup:
	@fc-list 2>/dev/null | grep -qi wqy || test -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc || { apt-get update -qq && apt-get install -y -qq --no-install-recommends fonts-wqy-zenhei; }

test: setup edge-setup arm64-setup sam-setup browser-setup fonts-setup
	$(PY) -m pytest -q $(PYTEST_ARGS) tests

bench-index: setup
	$(PY) bench/index.py

lint: setup sam-setup
	$(VENV)/bin/cfn-lint infra/batch.yaml template.yaml
	AWS_DEFAULT_REGION=us-east-1 $(SAM_VENV)/bin/sam validate --lint --template template.yaml

clean:
	rm -rf build

# sam-cli pins older boto3/click/pydantic than the project, so it lives in a venv of its own.
SAM_VENV := .venv-sam
SAM_VERSION := 1.170.0
sam-setup: $(SAM_VENV)/.installed-$(SAM_VERSION)

$(SAM_VENV)/.installed-$(SAM_VERSION):
	@$(SAM_VENV)/bin/python -m pip --version >/dev/null 2>&1 || { rm -rf $(SAM_VENV) && $(PYTHON) -m venv $(SAM_VENV); }
	$(SAM_VENV)/bin/python -m pip install --quiet "aws-sam-cli==$(SAM_VERSION)"
	@rm -f $(SAM_VENV)/.installed-*
	@touch $@

edge-setup: setup
	bash edge/toolchain.sh

# The kiosk's profiling path on arm64 under Debian's qemu-user-static (tests/test_arm64.py, bench/arm64.py).
arm64-setup: setup edge-setup
	bash edge/arm64.sh

# After `make demo`: copy its release out of the demo's local S3 data into a folder (like a USB stick),
# then run the kiosk (Python 3.9, Paddle Lite) on it; the operator token is in build/demo/kiosk-data/kiosk.json.
kiosk: setup edge-setup
	$(PY) -m edge demo-release
	.toolchain/py39/bin/python -m edge kiosk --demo

# Fuzzing beyond the bounded budget that `make test` runs (tests/fuzz/README.md): atheris on every
# target for FUZZ_SECONDS in total (corpus kept in build/fuzz-corpus, findings in build/fuzz-findings),
# then every hypothesis property with FUZZ_EXAMPLES randomised examples.
FUZZ_SECONDS ?= 600
FUZZ_EXAMPLES ?= 2000
.PHONY: fuzz
fuzz: setup
	$(PY) -m tests.fuzz.run --seconds $(FUZZ_SECONDS) --json build/fuzz-report.json
	COLDSTART_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q tests/fuzz/test_properties.py

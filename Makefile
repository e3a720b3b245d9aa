# coldstart: the two set-up commands are `make demo` and `make test` (see README.md, "Set-up": what each
# needs and installs, and where). A host that lacks what a target needs gets one line and a stop, before
# anything is installed.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
REQS := infra/requirements.txt function/requirements.txt requirements-dev.txt constraints.txt layer/pyproject.toml
STAMP := $(VENV)/.installed-$(shell cat $(REQS) 2>/dev/null | sha256sum | cut -c1-12)
PYTEST_ARGS ?=
PORT ?= 8080

.PHONY: help setup demo serve s3 s3-stop test browser-setup fonts-setup bench-index lint deploy clean edge-setup sam-setup kiosk arm64-setup

help:
	@echo "make demo   - install, start a local S3 server, run the batch pipeline on the demo data, publish"
	@echo "make test   - install, run the test suite (starts its own S3 server on 127.0.0.1)"
	@echo "make serve  - after make demo: the profile API on http://127.0.0.1:$(PORT) until Ctrl-C (make serve PORT=8090)"
	@echo "make s3     - start the local S3 server in the background and print the env to export (make s3-stop)"
	@echo "make setup  - create $(VENV) (Python 3.11) with everything pinned in constraints.txt"
	@echo "make edge-setup - the kiosk toolchain: Python 3.9 + Paddle Lite in .toolchain/py39 (see edge/README.md)"
	@echo "make kiosk  - after make demo: the kiosk on the demo release, http://127.0.0.1:8090/ (no S3 credentials)"
	@echo "make arm64-setup - an arm64 kiosk Python under qemu-user in .toolchain/arm64 (see edge/README.md)"
	@echo "make lint   - cfn-lint and sam validate --lint on the CloudFormation templates"
	@echo "make deploy - sam build + sam deploy --guided (needs Docker and AWS credentials; README, Deploying to AWS)"
	@echo "make bench-index - Annoy vs exact search on the demo index and 100k x 768 synthetic vectors"
	@echo "make clean  - remove build/ (demo artefacts and local S3 data)"

# --- preflight: one line naming what is missing and what to do, then stop
# The kiosk toolchain unpacks Python 3.9 from Debian 11 packages with apt-get (edge/README.md).
# (one line: it is used inside { ... } on a recipe line)
define need_debian12_amd64
. /etc/os-release 2>/dev/null; if [ "$$ID" != debian ] || [ "$${VERSION_ID:-}" != 12 ] || [ "$$(uname -m)" != x86_64 ] || ! command -v apt-get >/dev/null; then echo "error: $(1) builds the kiosk's Python 3.9 toolchain from Debian 11 packages with apt-get, so it needs a Debian 12 (bookworm) amd64 host; this is $${PRETTY_NAME:-an unknown OS} on $$(uname -m) (copy a built .toolchain/py39 from such a host, see edge/README.md)" >&2; exit 1; fi;
endef
# System packages the tests use, installed with apt-get: possible as root only.
define need_apt_root
if ! command -v apt-get >/dev/null || [ "$$(id -u)" != 0 ]; then echo "error: $(1) is missing and installing it needs apt-get as root; run: sudo apt-get install -y --no-install-recommends $(1)   ($(2))" >&2; exit 1; fi;
endef

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
	$(PY) -m infra serve --port $(PORT)

# The local S3 for running jobs by hand: eval "$$(make -s s3)" exports its env into your shell.
s3: setup
	@$(PY) -m infra local-s3

s3-stop: setup
	@$(PY) -m infra local-s3 --stop

# The kiosk page is tested in Debian's headless Chromium (tests/test_edge.py).
browser-setup:
	@command -v chromium >/dev/null || { $(call need_apt_root,chromium,the kiosk page is tested in headless Chromium) }
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; }

# Avatar OCR tests (tests/test_ocr.py) render Chinese text with WenQuanYi Zen Hei (Debian fonts-wqy-zenhei);
# the A/B report's chart labels use it too.
HAVE_WQY := fc-list 2>/dev/null | grep -qi wqy || test -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
fonts-setup:
	@$(HAVE_WQY) || { $(call need_apt_root,fonts-wqy-zenhei,the OCR tests render Chinese text with it) }
	@$(HAVE_WQY) || { apt-get update -qq && apt-get install -y -qq --no-install-recommends fonts-wqy-zenhei; }

test: setup edge-setup arm64-setup sam-setup browser-setup fonts-setup
	$(PY) -m pytest -q $(PYTEST_ARGS) tests

bench-index: setup
	$(PY) bench/index.py

lint: setup sam-setup
	$(VENV)/bin/cfn-lint infra/batch.yaml template.yaml
	AWS_DEFAULT_REGION=us-east-1 $(SAM_VENV)/bin/sam validate --lint --template template.yaml

# Build the function image (function/Dockerfile) and deploy the serving stack, asking for the settings the
# first time (saved in samconfig.toml). README, "Deploying to AWS".
deploy: sam-setup
	@docker info >/dev/null 2>&1 || { echo "error: make deploy builds the function image with sam build, which needs a running Docker engine (docker info fails here); run it where Docker runs" >&2; exit 1; }
	@$(SAM_VENV)/bin/python -c "import boto3, sys; sys.exit(boto3.Session().get_credentials() is None)" || { echo "error: make deploy needs AWS credentials (aws configure, AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)" >&2; exit 1; }
	$(SAM_VENV)/bin/sam build
	$(SAM_VENV)/bin/sam deploy --guided

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
	@test -x .toolchain/py39/bin/python || { $(call need_debian12_amd64,make edge-setup (needed by make demo and make test)) }
	bash edge/toolchain.sh

# The kiosk's profiling path on arm64 under Debian's qemu-user-static (tests/test_arm64.py, bench/arm64.py).
arm64-setup: setup edge-setup
	@test -x .toolchain/arm64/bin/python || { $(call need_debian12_amd64,make arm64-setup (needed by make test)) }
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

# cpanalysis: the two commands of the README, and their helpers.
#   make site   set up, then build the whole site (demo data, or data/raw/ when it holds returns)
#   make test   set up, then run every test (installs Debian's chromium if it is missing)

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
# uv, when it is on PATH; otherwise pip installs the version of uv the lock pins into the venv
UV     := $(shell command -v uv 2>/dev/null)
UV_PIN  = $(shell sed -n 's/^uv==\([^ ;]*\).*/\1/p' requirements.txt)
# make test: the tests spread over both cores (pytest-xdist); the site tests share one build
PYTEST_WORKERS ?= 2

# Python keeps what it compiles (.pyc files in __pycache__, git-ignored) for the next process.
# Where PYTHONDONTWRITEBYTECODE is set, as in many containers, it never does: every kernel,
# test worker and validator run of a build compiled pandas, Altair and statsmodels again
# (importing the stack took 7.4 s instead of 2.5 s). The two commands let Python keep them.
unexport PYTHONDONTWRITEBYTECODE

.DEFAULT_GOAL := help
.PHONY: help site test screenshots lint format browser clean-site benchmarks venv-validator lock

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

# The environment is installed from the lock, never resolved afresh: uv.lock with uv (seconds),
# or, where uv cannot be installed, the same pins and hashes from requirements.txt with pip.
$(STAMP): pyproject.toml uv.lock requirements.txt
	@if [ -n "$(UV)" ]; then \
	  echo "installing the locked environment (uv.lock) with $(UV)"; \
	  "$(UV)" venv --quiet --allow-existing --python "$(PYTHON)" $(VENV) && \
	  UV_PROJECT_ENVIRONMENT=$(VENV) "$(UV)" sync --quiet --frozen --inexact --extra test; \
	else \
	  $(PYTHON) -m venv $(VENV) || exit 1; \
	  if $(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_PIN)"; then \
	    echo "installing the locked environment (uv.lock) with uv $(UV_PIN)"; \
	    UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --quiet --frozen --inexact --extra test; \
	  else \
	    echo "uv could not be installed: installing the pins of requirements.txt with pip"; \
	    $(BIN)/python -m pip install --quiet --disable-pip-version-check \
	      --require-hashes -r requirements.txt && \
	    $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .; \
	  fi; \
	fi
	@touch $(STAMP)

lock:  ## refresh uv.lock and requirements.txt after changing dependencies in pyproject.toml
	uv lock
	uv export --quiet --frozen --extra test --no-emit-project --output-file requirements.txt

# (the build makes the validator's environment itself on first use, beside its other steps)
site: $(STAMP)  ## set up and build the whole site into _site/
	$(BIN)/cpanalysis build

test: $(STAMP) browser venv-validator  ## set up and run every test (lint, units, notebooks, site in Chromium)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS)

screenshots: $(STAMP) browser  ## screenshots of every page at laptop and phone size, in _build/screenshots
	CPANALYSIS_SCREENSHOTS=1 $(BIN)/python -m pytest -n $(PYTEST_WORKERS) -m browser -q

venv-validator: $(STAMP)  ## the DfE validator's own environment (.venv-validator, pandas<2); never fails
	@$(BIN)/python -m cpanalysis.validation .

lint: $(STAMP)  ## ruff lint and format check
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)  ## apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

browser:  ## install Debian's chromium for the browser test if it is missing
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser test"; \
	  { [ "$$(id -u)" = 0 ] && SUDO= || SUDO=sudo; }; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

benchmarks: $(STAMP)  ## time cleaning, generation and indicators at national size
	$(BIN)/python benchmarks/run_all.py

clean-site:  ## remove everything derived (data/processed, _build, _site)
	rm -rf _build _site _site.previous data/demo
	find data/processed -mindepth 1 ! -name README.md -delete

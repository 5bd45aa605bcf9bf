# cpanalysis: the two commands of the README, and their helpers.
#   make site   set up, then build the whole site (demo data, or data/raw/ when it holds returns)
#   make test   set up, then run every test (installs Debian's chromium if it is missing)

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help site test lint format browser clean-site benchmarks venv-validator

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

site: $(STAMP) venv-validator  ## set up and build the whole site into _site/
	$(BIN)/cpanalysis build

test: $(STAMP) browser venv-validator  ## set up and run every test (lint, units, notebooks, site in Chromium)
	$(BIN)/python -m pytest

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

# The two set-up commands of the README: `make main` (a guideline run against the embedded
# reference cloud) and `make test` (lint, guideline checks and the whole test suite).
# Each creates .venv and installs the project into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
WORKERS ?= auto
# OpenStack's published guideline files, the source tools/derive_guidelines.py derives ours from.
PUBLISHED ?= ../shared/published-guidelines

.PHONY: main test install lint guidelines clean tempest

$(BIN)/interop: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/interop

main: install
	$(BIN)/pytest --guideline=2017.01 --guideline=hybrid.2017.01 --cloud=reference \
		-n $(WORKERS) -p no:cacheprovider

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

guidelines: install
	$(BIN)/interop guideline validate
	$(BIN)/interop guideline lint
	$(BIN)/interop guideline coverage --check
	@if [ -d "$(PUBLISHED)" ]; then \
		$(BIN)/python tools/derive_guidelines.py --published "$(PUBLISHED)" --check; \
	else echo "derived guidelines not compared: no $(PUBLISHED) (set PUBLISHED=DIR)"; fi

test: lint guidelines
	$(BIN)/pytest -n $(WORKERS) -p no:cacheprovider

# Tempest (from PyPI, in .tempest/venv) runs the published 2017.01 required list against a
# reference cloud, then our 2017.01 run on the same pace, side by side (benchmarks/README.md).
TEMPEST_WORKERS ?= 2
tempest: install
	$(BIN)/python benchmarks/peer_tempest.py --workers $(TEMPEST_WORKERS) \
		$(if $(wildcard $(PUBLISHED)),--published "$(PUBLISHED)")

clean:
	rm -rf $(VENV) *.egg-info interop-report.json interop-report.html

# The README's commands. `make demo` and `make test` each create or update the environment first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
VENV := .venv
BIN := $(VENV)/bin
CORES ?= all

# uv from PATH when it is there, else a pinned copy in .tools/ (installed with pip).
UV := $(or $(shell command -v uv 2>/dev/null),$(TOOLS)/bin/uv)

# The demo's corpus: $SPECTROCAM_CORPUS (all its clips, or those of $SPECTROCAM_CLIPS; reference
# TextGrids only from $SPECTROCAM_REFERENCE), else ../shared/data/ljspeech_mini when it exists,
# else none, and the demo downloads the full corpus; both keep the demo's clip ids.
ifdef SPECTROCAM_CORPUS
DEMO_CORPUS := $(SPECTROCAM_CORPUS)
DEMO_CLIPS := $(SPECTROCAM_CLIPS)
DEMO_REFERENCE := $(SPECTROCAM_REFERENCE)
else
DEMO_CORPUS := $(wildcard ../shared/data/ljspeech_mini)
DEMO_CLIPS := $(or $(SPECTROCAM_CLIPS),config/demo_clips.txt)
DEMO_REFERENCE := $(or $(SPECTROCAM_REFERENCE),$(wildcard ../shared/data/ljspeech_mini_mfa))
endif
DEMO_HILLENBRAND := $(or $(SPECTROCAM_HILLENBRAND),$(wildcard ../shared/data/hillenbrand1995/all_talkers.csv))
DEMO_OVERRIDES := results/demo-overrides.yaml

.PHONY: help env browser demo test lint format dry-run mutation

help:
	@echo "make demo   - set up the environment and run the pipeline on the demo configuration"
	@echo "make test   - set up the environment and run linters, workflow checks and the tests"
	@echo "              (installs Debian's chromium for the browser test when missing)"
	@echo "make format - format the Python and Snakemake files"

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# --compile-bytecode: every Snakemake process (two per job under SLURM) and every job imports
# torch; where Python writes no bytecode (PYTHONDONTWRITEBYTECODE), each one compiled some 3,000
# modules afresh (a dry run: 14 s instead of 5 s). Once compiled, a sync takes half a second.
env: $(if $(findstring $(TOOLS)/bin/uv,$(UV)),$(TOOLS)/bin/uv)
	$(UV) sync --frozen --extra dev --python 3.11 --compile-bytecode

demo: env
	@mkdir -p results
	@printf 'corpus:\n  dir: %s\n  clips: %s\nalignment:\n  reference_dir: %s\nreport:\n  hillenbrand: %s\n' \
		"$(if $(DEMO_CORPUS),'$(DEMO_CORPUS)',null)" \
		"$(if $(DEMO_CLIPS),'$(DEMO_CLIPS)',null)" \
		"$(if $(DEMO_REFERENCE),'$(DEMO_REFERENCE)',null)" \
		"$(if $(DEMO_HILLENBRAND),'$(DEMO_HILLENBRAND)',null)" > $(DEMO_OVERRIDES)
	@echo "demo corpus: $(or $(DEMO_CORPUS),download the full corpus), clips: $(or $(DEMO_CLIPS),all)"
	$(BIN)/snakemake --cores $(CORES) --configfile config/demo.yaml $(DEMO_OVERRIDES)
	@echo "summary page: $(abspath results/demo/report/index.html)"
	@echo "explorer: $(abspath results/demo/report/explorer/index.html)"

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/
	$(BIN)/snakemake --lint
	$(BIN)/snakemake --lint --configfile config/demo.yaml

dry-run:
	$(BIN)/snakemake -n --quiet rules --configfile config/config.yaml

# Debian's headless Chromium and its driver, for the browser test: installed when missing (as
# root, with apt-get; elsewhere the test says that they are absent and skips, or under CI fails).
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium and chromium-driver for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium chromium-driver >/dev/null; \
	else echo "chromium is absent and cannot be installed here: the browser test will $(if $(CI),fail,skip)"; fi

test: env browser lint dry-run
	$(BIN)/pytest

# Mutation testing of the statistics ([tool.mutmut] in pyproject.toml; docs/testing.md): the
# score per module and every surviving mutant. MUTATION_SAMPLE mutants drawn at random (seeded);
# 0 runs all of them (some 3,000: hours on two busy cores).
MUTATION_SAMPLE ?= 600
mutation: env
	rm -rf mutants
	nice -n 10 $(BIN)/python scripts/mutation.py --sample $(MUTATION_SAMPLE)

format: env
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/snakefmt Snakefile workflow/

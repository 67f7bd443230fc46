# The README's commands. `make demo` and `make test` each create or update the environment first.
# `make help` lists every target from the `## ` comment on its line (tests/test_command_line.py
# fails on a target without one).
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
# The machine settings every run of ours uses (rerun-incomplete, ...): Snakemake reads them beside
# workflow/Snakefile, not beside the root Snakefile.
PROFILE := --workflow-profile workflow/profiles/default
# A configuration file's run name (its `run`), else a default: $(call run_of,FILE,DEFAULT).
run_of = $(or $(shell sed -n 's/^run: *//p' $(1)),$(2))
# The demo's run name (config/demo.yaml's `run`): its outputs are results/$(DEMO_RUN)/.
DEMO_RUN := $(call run_of,config/demo.yaml,demo)

.PHONY: help env browser demo test lint format dry-run slurm-check gpu-check mutation

help: ## list the targets, one line each
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-zA-Z][a-zA-Z_-]*:.*## / {printf "  make %-16s %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST)
	@echo "  (make clean never removes resources/, the downloads: make clean-downloads does)"

$(TOOLS)/bin/uv:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# --compile-bytecode: every Snakemake process (two per job under SLURM) and every job imports
# torch; where Python writes no bytecode (PYTHONDONTWRITEBYTECODE), each one compiled some 3,000
# modules afresh (a dry run: 14 s instead of 5 s). Once compiled, a sync takes half a second.
env: $(if $(findstring $(TOOLS)/bin/uv,$(UV)),$(TOOLS)/bin/uv) ## create or update .venv from uv.lock (uv from PATH, else pinned in .tools/)
	$(UV) sync --frozen --extra dev --python 3.11 --compile-bytecode

demo: env demo-config ## set up the environment and run the demo configuration (about 9 min on 2 cores)
	@echo "demo corpus: $(or $(DEMO_CORPUS),download the full corpus), clips: $(or $(DEMO_CLIPS),all)"
	$(BIN)/snakemake --cores $(CORES) $(PROFILE) --configfile config/demo.yaml $(DEMO_OVERRIDES)
	@echo "summary page: $(abspath results/$(DEMO_RUN)/report/index.html)"
	@echo "explorer: $(abspath results/$(DEMO_RUN)/report/explorer/index.html)"
	@echo "snakemake's report: make report"

# The demo's corpus, clips, reference TextGrids and reference formants, as a second config file.
demo-config: ## write results/demo-overrides.yaml: the demo's corpus and reference paths
	@mkdir -p results
	@printf 'corpus:\n  dir: %s\n  clips: %s\nalignment:\n  reference_dir: %s\nreport:\n  hillenbrand: %s\n' \
		"$(if $(DEMO_CORPUS),'$(DEMO_CORPUS)',null)" \
		"$(if $(DEMO_CLIPS),'$(DEMO_CLIPS)',null)" \
		"$(if $(DEMO_REFERENCE),'$(DEMO_REFERENCE)',null)" \
		"$(if $(DEMO_HILLENBRAND),'$(DEMO_HILLENBRAND)',null)" > $(DEMO_OVERRIDES)

lint: ## ruff, snakefmt and snakemake --lint (both configurations)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/
	$(BIN)/snakemake --lint
	$(BIN)/snakemake --lint --configfile config/demo.yaml

dry-run: ## plan the full study (config/config.yaml) without running it
	$(BIN)/snakemake -n --quiet rules --configfile config/config.yaml

# Debian's headless Chromium and its driver, for the browser test: installed when missing (as
# root, with apt-get; elsewhere the test says that they are absent and skips, or under CI fails).
browser: ## install Debian's chromium and its driver for the browser tests, when missing
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium and chromium-driver for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium chromium-driver >/dev/null; \
	else echo "chromium is absent and cannot be installed here: the browser test will $(if $(CI),fail,skip)"; fi

test: env browser lint dry-run docs ## set up, lint, dry-run, build the docs, run the tests (about 8 min)
	$(BIN)/pytest

# Mutation testing of the statistics ([tool.mutmut] in pyproject.toml; docs/testing.md): the
# score per module and every surviving mutant. MUTATION_SAMPLE mutants drawn at random (seeded);
# 0 runs all of them (some 3,000: hours on two busy cores).
MUTATION_SAMPLE ?= 600
mutation: env ## mutation-test the statistics: score per module, survivors (MUTATION_SAMPLE=600)
	rm -rf mutants
	nice -n 10 $(BIN)/python scripts/mutation.py --sample $(MUTATION_SAMPLE)

format: env ## format the Python and Snakemake files
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/snakefmt Snakefile workflow/

# The end-to-end test's study on a real one-node SLURM cluster started here (slurmctld, slurmd,
# munged on loopback; no accounting database) through workflow/profiles/slurm as shipped,
# compared file by file with the same study run without SLURM (scripts/slurm_check.py). About
# 30 minutes on two cores; needs root, and installs Debian's slurm-wlm when it is missing.
slurm-check: env ## the end-to-end study on a one-node SLURM cluster started here, compared with a local run
	@if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing slurm-wlm for the SLURM check"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm >/dev/null; \
	else echo "slurm-check needs Debian's slurm-wlm (apt-get install slurm-wlm, as root)"; exit 1; fi
	$(BIN)/python scripts/slurm_check.py $(SLURM_CHECK_ARGS)

# The GPU path where a GPU is at hand (scripts/gpu_check.py): the study's network trained on CUDA
# (bfloat16 where native, channels_last, cudnn.benchmark) against this machine's CPU, the full
# study's projected time, and the end-to-end test's study with training.device cuda. Without a
# CUDA device it says so and fails (status 2): nothing measured.
gpu-check: env ## training and the end-to-end study on CUDA against the CPU (where a GPU is visible)
	$(BIN)/python scripts/gpu_check.py $(GPU_CHECK_ARGS)

# --- documentation, report and cleaning -----------------------------------------------------

.PHONY: docs report clean clean-downloads demo-config

# The site in site/ with warnings as errors (a broken relative link or anchor fails it), and the
# links of the two READMEs outside it.
docs: env ## build the documentation site into site/ (warnings are errors) and check its links
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
	$(BIN)/python scripts/check_links.py README.md config/README.md

# Snakemake's report of a run: the demo's by default, CONFIG=config/config.yaml for the study's.
CONFIG ?= config/demo.yaml
REPORT_RUN = $(call run_of,$(CONFIG),main)
report: env $(if $(filter config/demo.yaml,$(CONFIG)),demo-config) ## write results/<run>/report.zip with snakemake --report (CONFIG=config/demo.yaml)
	$(BIN)/snakemake --report results/$(REPORT_RUN)/report.zip --configfile $(CONFIG) \
		$(if $(filter config/demo.yaml,$(CONFIG)),$(DEMO_OVERRIDES))
	@echo "report: $(abspath results/$(REPORT_RUN)/report.zip) (unzip it, open report/report.html)"

clean: ## remove the demo's results, the built site and the tool caches; never resources/
	rm -rf results/$(DEMO_RUN) $(DEMO_OVERRIDES) site .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -not -path './.venv/*' -not -path './.tools/*' -prune \
		-exec rm -rf {} +
	@echo "kept: resources/ (the downloads; make clean-downloads), other runs in results/, .snakemake/"

clean-downloads: ## remove resources/: the 2.7 GB corpus archive, its extraction, weights, MFA models
	@if [ -d resources ]; then du -sh resources; fi
	rm -rf resources

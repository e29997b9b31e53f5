# ecr-warden: `make demo` shows it working against a local AWS; `make test` runs everything CI runs.
SHELL := /bin/bash
CARGO ?= cargo
PYTHON ?= python3
VENV := .venv
VENV_STAMP := $(VENV)/.installed

.PHONY: test fmt-check clippy unit e2e demo bench bench-core venv clean

## Everything CI runs: format, lint, unit/scenario/property/adapter tests, end-to-end tests.
test: fmt-check clippy unit e2e

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --all-targets --locked -- -D warnings

unit:
	$(CARGO) test --locked

## The real binary against the local AWS emulator (tests/e2e.rs, tests/emulator/).
e2e: venv
	$(CARGO) test --locked --test e2e -- --ignored --test-threads 2

## The emulator's Python environment (moto from PyPI), created once.
venv: $(VENV_STAMP)

$(VENV_STAMP): tests/emulator/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/emulator/requirements.txt
	touch $@

## Runs the binary against the emulator seeded with a realistic fleet and explains each step.
demo: venv
	$(CARGO) build --locked --quiet
	$(VENV)/bin/python tests/emulator/demo.py target/debug/ecr-warden

## Plans a synthetic inventory of 1,000,000 images; prints wall time and peak memory.
bench-core:
	$(CARGO) bench --locked --bench planner

bench: bench-core

clean:
	$(CARGO) clean
	rm -rf $(VENV)

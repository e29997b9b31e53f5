# ecr-warden: `make demo` shows it working against a local AWS; `make test` runs everything CI runs.
SHELL := /bin/bash
CARGO ?= cargo
PYTHON ?= python3
VENV := .venv
VENV_STAMP := $(VENV)/.installed
INFRA_VENV := .venv-infra
INFRA_STAMP := $(INFRA_VENV)/.installed
PACKAGE_STAMP := $(INFRA_VENV)/.package-installed
TEMPLATE := infra/template.yaml
# The SAM CLI's rust-cargolambda build method is a beta feature.
SAM := SAM_CLI_TELEMETRY=0 SAM_CLI_BETA_RUST_CARGO_LAMBDA=1 PATH="$(CURDIR)/$(INFRA_VENV)/bin:$$PATH" $(INFRA_VENV)/bin/sam

.PHONY: test fmt-check clippy core-is-pure unit e2e lint-infra package deploy demo bench bench-core bench-scan venv infra-venv clean

## Everything CI runs: format, lint, unit/scenario/property/adapter tests, end-to-end tests, template lint.
test: fmt-check clippy core-is-pure unit e2e lint-infra

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

## The core stays pure: no AWS SDK, async runtime, Lambda runtime, CLI parser or HTTP stack among
## its dependencies, direct or indirect. (Its clippy.toml forbids reading the clock or environment.)
core-is-pure:
	@tree=$$($(CARGO) tree --locked -p ecr-warden-core -e normal --prefix none --format '{p}') || exit 1; \
	deps=$$(echo "$$tree" | grep -E '^(aws-[a-z0-9-]+|tokio[a-z-]*|futures[a-z-]*|lambda_runtime|clap|hyper|reqwest) ' | sort -u); \
	if [ -n "$$deps" ]; then echo "ecr-warden-core must stay pure, but depends on:"; echo "$$deps"; exit 1; fi; \
	echo "ecr-warden-core: no I/O, runtime or AWS dependency"

unit:
	$(CARGO) test --locked --workspace

## The real binary against the local AWS emulator (tests/e2e/, tests/emulator/). `--workspace` keeps
## the feature set of `make unit`, so nothing is compiled twice.
e2e: venv
	$(CARGO) test --locked --workspace --test e2e -- --ignored --test-threads 2

## The emulator's Python environment (moto from PyPI), created once.
venv: $(VENV_STAMP)

$(VENV_STAMP): tests/emulator/requirements.txt
	@echo "Installing the local AWS emulator (moto) into $(VENV)..."
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/emulator/requirements.txt
	touch $@

## The deployment template: cfn-lint and SAM's own validation (tools in a local venv from PyPI).
## The template is also checked with FanOut on (its state machine), from a copy next to it.
lint-infra: infra-venv
	$(INFRA_VENV)/bin/cfn-lint $(TEMPLATE) infra/scan-role.yaml
	$(SAM) validate --lint --template-file $(TEMPLATE) --region us-east-1
	sed '/^  FanOut:/,/Default:/s/Default: "false"/Default: "true"/' $(TEMPLATE) > infra/.fanout-on.yaml
	grep -A2 '^  FanOut:' infra/.fanout-on.yaml | grep -q 'Default: "true"'
	$(INFRA_VENV)/bin/cfn-lint infra/.fanout-on.yaml
	$(SAM) validate --lint --template-file infra/.fanout-on.yaml --region us-east-1
	rm -f infra/.fanout-on.yaml

infra-venv: $(INFRA_STAMP)

$(INFRA_STAMP): infra/requirements.txt
	$(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	touch $@

$(PACKAGE_STAMP): infra/requirements-package.txt $(INFRA_STAMP)
	$(INFRA_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements-package.txt
	touch $@

## The deployable artifact: an arm64 `bootstrap` built by cargo-lambda (zig cross-compiles).
package: $(PACKAGE_STAMP)
	rustup target add aarch64-unknown-linux-gnu
	$(SAM) build --template-file $(TEMPLATE) --beta-features
	@ls -l .aws-sam/build/Warden/bootstrap | awk '{printf "bootstrap: %.1f MiB\n", $$5 / 1048576}'
	@file .aws-sam/build/Warden/bootstrap || true

## First deployment: answers the parameters interactively and saves them in samconfig.toml.
deploy: package
	$(SAM) deploy --guided --template-file .aws-sam/build/template.yaml --capabilities CAPABILITY_IAM

## Runs the binary against the emulator seeded with a realistic fleet and explains each step.
demo: venv
	@echo "Building ecr-warden (the first build takes a few minutes)..."
	$(CARGO) build --locked
	$(VENV)/bin/python tests/emulator/demo.py target/debug/ecr-warden

## Plans a synthetic inventory of 1,000,000 images; prints wall time and peak memory.
bench-core:
	$(CARGO) bench --locked -p ecr-warden-core --bench planner

## `plan` against the emulator at 20 ms per request: the standard fleet cold and warm, a large
## account, an organization, and (with PEER_MAIN=path/to/ecr-cleanup-lambda/main.py) that tool side
## by side. API calls against their lower bounds, wall time, peak memory.
bench-scan: venv
	$(CARGO) build --locked --release --quiet
	$(VENV)/bin/python bench/scan.py target/release/ecr-warden

bench: bench-core bench-scan

clean:
	$(CARGO) clean
	rm -rf $(VENV) $(INFRA_VENV) .aws-sam

# ecr-warden: `make demo` shows it working against a local AWS; `make test` runs everything CI runs.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: test fmt-check clippy unit demo bench-core bench clean

test: fmt-check clippy unit

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --all-targets --locked -- -D warnings

unit:
	$(CARGO) test --locked

demo:
	@echo "make demo: not yet (arrives with the end-to-end harness)"

# Plans a synthetic inventory of 1,000,000 images; prints wall time and peak memory.
bench-core:
	$(CARGO) bench --locked --bench planner

bench: bench-core

clean:
	$(CARGO) clean
	rm -rf .venv

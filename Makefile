# Confer: cloud build helpers. Python tools (cfn-lint, SAM CLI, ziglang) live in $(CONFER_VENV).
CONFER_VENV ?= .venv
CARGO_TARGET_DIR ?= target
RUNS ?= 7
export CARGO_TARGET_DIR

# cargo-lambda links with zig; it finds `zig` on PATH or `python -m ziglang` from the venv.
TOOLS_PATH := $(abspath $(CONFER_VENV))/bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: lint-template sam-build cold-start media-bench

## cfn-lint on template.yaml; any finding (error, warning or informational) fails.
lint-template:
	CONFER_VENV=$(CONFER_VENV) infra/scripts/lint-template.sh

## sam build: one cargo-lambda release build per function into .aws-sam/build/<Function>/bootstrap.
sam-build:
	@PATH="$(TOOLS_PATH)" command -v cargo-lambda >/dev/null || { echo "cargo-lambda missing: cargo install cargo-lambda" >&2; exit 1; }
	PATH="$(TOOLS_PATH)" SAM_CLI_BETA_RUST_CARGO_LAMBDA=1 "$(CONFER_VENV)/bin/sam" build --beta-features
	@ls -l .aws-sam/build/*/bootstrap

## Time from process start to first handled event for every function, against a local Runtime API.
cold-start:
	cargo build --release -p confer-functions
	cargo build --profile server -p confer-local --bin confer-coldstart
	"$(CARGO_TARGET_DIR)/server/confer-coldstart" --bin-dir "$(CARGO_TARGET_DIR)/release" --events events --runs $(RUNS)

## Media verification: time and peak memory per photo size and audio format (docs/performance.md).
media-bench:
	cargo build --profile server -p confer-local --bin confer-mediabench
	"$(CARGO_TARGET_DIR)/server/confer-mediabench" --runs 5

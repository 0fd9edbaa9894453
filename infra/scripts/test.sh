#!/usr/bin/env bash
# Confer's whole test suite: template lint, format check, then every Rust test with a moto server
# (DynamoDB, SNS, SQS, API Gateway Management API) started for the run and stopped after, then
# schemathesis against confer-local (the REST API against its OpenAPI document, as each role),
# then the web client's unit and browser tests (infra/scripts/web-test.sh).
# Python tools go into ${CONFER_VENV:-.venv}; Node packages into web/node_modules; Debian's
# Chromium, espeak-ng and ffmpeg are installed when missing; nothing else needs installing beyond
# Rust and Node.js.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CONFER_VENV="${CONFER_VENV:-.venv}"

echo "== cfn-lint template.yaml"
infra/scripts/lint-template.sh

echo "== cargo fmt --check (rustfmt.toml)"
cargo fmt --all -- --check

echo "== speech tools (espeak-ng, ffmpeg, PocketSphinx)"
# shellcheck source=infra/scripts/speech-tools.sh
source infra/scripts/speech-tools.sh

echo "== cargo test (with moto)"
log="$(mktemp -t confer-test.XXXXXX.log)"
trap 'rm -f "$log"' EXIT
status=0
infra/scripts/with-moto.sh cargo test --workspace --locked "$@" 2>&1 | tee "$log" || status=$?

echo "== schemathesis against confer-local"
infra/scripts/schemathesis.sh 2>&1 | tee -a "$log" || status=$?

echo "== web client: unit tests and browser tests in Chromium"
infra/scripts/web-test.sh 2>&1 | tee -a "$log" || status=$?

# One closing line for the whole run (cargo prints one per test binary; schemathesis one for its
# runs, one per role; the web tests one for Vitest's unit and browser tests).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     /^schemathesis: [0-9]+ passed, [0-9]+ failed$/ { p += $2; f += $4 }
     /^web: [0-9]+ passed, [0-9]+ failed$/ { p += $2; f += $4 }
     END { printf "\n%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"

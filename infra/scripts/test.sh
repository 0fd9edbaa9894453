#!/usr/bin/env bash
# Confer's whole test suite: template lint, then every Rust test with a moto server
# (DynamoDB, SNS, SQS, API Gateway Management API) started for the run and stopped after.
# Python tools go into ${CONFER_VENV:-.venv}; nothing else needs installing beyond Rust.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CONFER_VENV="${CONFER_VENV:-.venv}"

echo "== cfn-lint template.yaml"
infra/scripts/lint-template.sh

echo "== cargo test (with moto)"
infra/scripts/with-moto.sh cargo test --workspace --locked "$@"

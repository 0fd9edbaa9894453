#!/usr/bin/env bash
# Lints template.yaml with cfn-lint (including informational findings); any finding fails.
# Uses the virtualenv at ${CONFER_VENV:-.venv}, creating it with a pinned cfn-lint if needed.
set -euo pipefail

CFN_LINT_VERSION="${CFN_LINT_VERSION:-1.58.0}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${CONFER_VENV:-$root/.venv}"
template="${1:-$root/template.yaml}"

if [[ ! -x "$venv/bin/cfn-lint" ]]; then
    echo "installing cfn-lint==$CFN_LINT_VERSION into $venv" >&2
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet "cfn-lint==$CFN_LINT_VERSION"
fi

echo "$("$venv/bin/cfn-lint" --version) on $template" >&2
# cfn-lint exits non-zero on errors (2), warnings (4) and informational findings (8) alike.
if ! "$venv/bin/cfn-lint" --include-checks I --format parseable -- "$template"; then
    echo "cfn-lint reported findings in $template" >&2
    exit 1
fi
echo "cfn-lint: no findings" >&2

#!/usr/bin/env bash
# Property-based tests of the REST API against its own OpenAPI document: schemathesis, every
# phase (examples, coverage, fuzzing, stateful) and every check, against confer-local on a free
# loopback port with a fresh data directory, once with a token of each role (admin, agent,
# customer) of a tenant that holds a customer and a session. Any failure fails the script.
# No check is excluded. The one adjustment is in schemathesis_hooks.py: cases generated as valid
# send a `cursor` only when the server issued it for that list (a cursor is opaque; no schema can
# tell an issued one from any other string of its alphabet).
#
# Usage: infra/scripts/schemathesis.sh
# Env:   CONFER_VENV (default .venv; schemathesis is installed there on first use),
#        CARGO_TARGET_DIR, SCHEMATHESIS_EXAMPLES (cases per operation and phase, default 100),
#        SCHEMATHESIS_SEED (default fixed, so a run is repeatable; set another to explore).
set -euo pipefail
cd "$(dirname "$0")/../.."

SCHEMATHESIS_VERSION="4.32.5"
examples="${SCHEMATHESIS_EXAMPLES:-100}"
seed="${SCHEMATHESIS_SEED:-20261204}"
venv="${CONFER_VENV:-.venv}"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true)" != "$SCHEMATHESIS_VERSION" ] \
    || [ ! -x "$venv/bin/schemathesis" ]; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# The binary `cargo test --workspace` builds (same features, so after it this is a no-op; a plain
# `cargo build -p confer-local` would compile a second variant).
cargo test --workspace --locked --no-run --quiet
bin="${CARGO_TARGET_DIR:-target}/debug/confer-local"

work="$(mktemp -d -t confer-schemathesis.XXXXXX)"
data="$work/data"
server_pid=""
stop() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT TERM

"$bin" serve --addr 127.0.0.1:0 --data-dir "$data" --log-format text --log-level warn >"$work/stdout" 2>"$work/server.log" &
server_pid=$!
base=""
for _ in $(seq 1 300); do
    base="$(grep -o 'http://[0-9.:]*' "$work/stdout" 2>/dev/null | head -n 1 || true)"
    [ -n "$base" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "confer-local exited during startup:" >&2
        cat "$work/server.log" >&2
        exit 1
    fi
    sleep 0.1
done
[ -n "$base" ] || { echo "confer-local did not start within 30 s" >&2; exit 1; }

token() { "$bin" token --tenant acme --role "$1" --sub "$2" --data-dir "$data"; }
agent="$(token agent agent-ann)"

# A customer with a session, so reads find something as well as nothing.
customer_id="$("$venv/bin/python" - "$base" "$agent" <<'PY'
import json, sys, urllib.request

base, token = sys.argv[1], sys.argv[2]

def post(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"authorization": "Bearer " + token, "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.load(res)

customer = post("/v1/customers", {"name": "Ada Lovelace", "email": "ada@example.com"})
post("/v1/sessions", {"customer_id": customer["id"], "subject": "Order 4711"})
print(customer["id"])
PY
)"

# No cache directory left in the work tree (schemathesis's, hypothesis's).
printf '[cache]\nenabled = false\n' >"$work/schemathesis.toml"
export HYPOTHESIS_STORAGE_DIRECTORY="$work/hypothesis"
# Cursors are opaque: see the hooks file for how valid cases treat them.
export PYTHONPATH="$PWD/infra/scripts${PYTHONPATH:+:$PYTHONPATH}"
export SCHEMATHESIS_HOOKS=schemathesis_hooks

status=0
passed=0
failed=0
for role in admin agent customer; do
    case "$role" in
        admin) sub=admin-root ;;
        agent) sub=agent-ann ;;
        customer) sub="$customer_id" ;;
    esac
    echo "== schemathesis as $role ($examples cases per operation and phase, seed $seed)"
    # One worker: the runs are short, and hypothesis parsing in concurrent threads can fail on
    # CPython 3.11 ("AST constructor recursion depth mismatch").
    if "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run "$base/openapi.json" \
        --url "$base" \
        --header "Authorization: Bearer $(token "$role" "$sub")" \
        --phases examples,coverage,fuzzing,stateful \
        --checks all \
        --max-examples "$examples" \
        --seed "$seed" \
        --generation-database none \
        --workers 1 \
        --request-timeout 10 \
        --no-color; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        status=1
    fi
done

if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "confer-local stopped during the run:" >&2
    cat "$work/server.log" >&2
    status=1
fi
echo "schemathesis: $passed passed, $failed failed"
exit "$status"

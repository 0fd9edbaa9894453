#!/usr/bin/env bash
# Runs a command with a moto server (AWS emulator) listening on a free loopback port.
# Usage: infra/scripts/with-moto.sh <command...>
# The venv lives at ${CONFER_VENV:-.venv}; moto is installed there on first use.
set -euo pipefail

MOTO_VERSION="5.2.5"
STARTUP_TIMEOUT_SECONDS=30

if [ "$#" -eq 0 ]; then
    echo "usage: $0 <command...>" >&2
    exit 2
fi

venv="${CONFER_VENV:-.venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null || true)" != "$MOTO_VERSION" ] \
    || [ ! -x "$venv/bin/moto_server" ]; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi

port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
log="$(mktemp -t confer-moto.XXXXXX.log)"

"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!

stop_moto() {
    kill "$moto_pid" 2>/dev/null || true
    wait "$moto_pid" 2>/dev/null || true
    rm -f "$log"
}
trap stop_moto EXIT
trap 'exit 130' INT TERM

endpoint="http://127.0.0.1:$port"
deadline=$((SECONDS + STARTUP_TIMEOUT_SECONDS))
until "$venv/bin/python" -c "import urllib.request, sys; urllib.request.urlopen('$endpoint/moto-api/', timeout=1)" 2>/dev/null; do
    if ! kill -0 "$moto_pid" 2>/dev/null; then
        echo "moto_server exited during startup:" >&2
        cat "$log" >&2
        exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "moto_server did not answer at $endpoint within ${STARTUP_TIMEOUT_SECONDS}s:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.2
done

export CONFER_MOTO_ENDPOINT="$endpoint"
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1

status=0
"$@" || status=$?
exit "$status"

#!/usr/bin/env bash
# The web client's tests (web/): installs its Node dependencies (npm ci) and Debian's Chromium
# when missing, type-checks the client and its tests, then runs its unit tests (Vitest) and its
# browser tests (Chromium driven by playwright-core against confer-local on port 0 with a fresh
# data directory, screenshots in web/test-results/screens/). Closes with "web: N passed, N failed".
#
# Usage: infra/scripts/web-test.sh
# Env:   CARGO_TARGET_DIR (where `cargo test --workspace --no-run` puts confer-local)
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

command -v npm >/dev/null || { echo "Node.js (20.19 or newer) and npm are required" >&2; exit 1; }

# Debian's Chromium (no browser download: playwright-core drives the system's), its driver, and
# colour emoji for the screenshots.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || missing+=(fonts-noto-color-emoji)
infra/scripts/apt-install.sh ${missing[@]+"${missing[@]}"}

echo "== npm ci (web/)"
(cd web && npm ci --no-audit --no-fund --loglevel=error)

# The binary `cargo test --workspace` builds (a no-op after it; it embeds the client, built by
# infra/build.rs from these same sources).
cargo test --workspace --locked --no-run --quiet
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
export CONFER_LOCAL_BIN="$target/debug/confer-local"

# infra/build.rs has just built web/dist from the current sources (building it again here would
# only make cargo relink confer-local next time); the tests and their harness are type-checked too.
echo "== type check (web/)"
(cd web && npx tsc --noEmit -p tsconfig.test.json)

export NO_COLOR=1 FORCE_COLOR=0
out="$(mktemp -t confer-web-test.XXXXXX.log)"
trap 'rm -f "$out"' EXIT
status=0
echo "== vitest: unit tests"
(cd web && npx vitest run) 2>&1 | tee "$out" || status=1
echo "== vitest: browser tests in Chromium"
(cd web && npx vitest run --config vitest.browser.config.ts) 2>&1 | tee -a "$out" || status=1

# Vitest's summary lines: "Tests  2 failed | 14 passed (16)".
read -r passed failed < <(sed 's/\x1b\[[0-9;]*m//g' "$out" | awk '
    /^ *Tests +[0-9]/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
    END { print p + 0, f + 0 }')
if [ "$passed" -eq 0 ] && [ "$status" -eq 0 ]; then
    echo "no web test ran" >&2
    status=1
fi
echo "web: $passed passed, $failed failed"
exit "$status"

#!/usr/bin/env bash
# Installs the named Debian packages (none: does nothing), as root or through sudo.
# Usage: infra/scripts/apt-install.sh PACKAGE...
set -euo pipefail
[ "$#" -gt 0 ] || exit 0
echo "== installing $*"
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null

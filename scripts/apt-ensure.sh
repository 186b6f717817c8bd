#!/usr/bin/env bash
# Install the given Debian packages, but only those not installed yet.
# Runs `apt-get update` once, and only when something is missing.
# Usage: scripts/apt-ensure.sh PACKAGE...
set -euo pipefail

missing=()
for pkg in "$@"; do
    # "install ok installed" only: a removed-but-configured package does not count.
    if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
        missing+=("$pkg")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing Debian packages: ${missing[*]}" >&2
    echo "       run as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi

echo "==> installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}"

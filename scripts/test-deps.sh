#!/usr/bin/env bash
# Test-only dependencies: Go and Debian's packaged bbolt source, for the test that reads the course's
# Trivy database with the real Go bbolt (tests/unit/security/test_bbolt.py). Installed with apt when running as root
# on Debian; elsewhere the script only says what to install (the test then skips that half, or fails in CI).
set -euo pipefail
want=(golang-go golang-github-coreos-bbolt-dev)
missing=()
for pkg in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing test dependencies: ${missing[*]}…"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "note: the Go bbolt cross-check needs: apt-get install ${missing[*]} (skipped without it)." >&2
fi

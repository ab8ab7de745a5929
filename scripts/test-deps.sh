#!/usr/bin/env bash
# Test-only dependencies, from Debian's archive:
# * Go and Debian's packaged bbolt source, for the test that reads the course's Trivy database with the real
#   Go bbolt (tests/unit/security/test_bbolt.py);
# * Chromium, the browser the JupyterLab end-to-end test drives with Playwright (tests/browser; `make test-browser`),
#   and a colour emoji font so that its screenshots show the lessons' 💡 and ✔ as a learner's browser does.
#   Playwright's own browser download is never used: it needs the internet, Debian's package does not.
# Installed with apt when running as root on Debian; elsewhere the script only says what to install (the tests that
# need them then skip, or fail in CI).
set -euo pipefail
want=(golang-go golang-github-coreos-bbolt-dev chromium fonts-noto-color-emoji)
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
    echo "note: some tests need: apt-get install ${missing[*]} (the Go bbolt cross-check and the browser test" \
         "skip without them)." >&2
fi

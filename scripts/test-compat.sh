#!/usr/bin/env bash
# The compatibility run: the course on an old engine, Debian 12's Docker Engine 20.10 (classic image store).
#
# `make test` runs everything on a current engine (Engine 28, containerd image store, BuildKit): that is what
# the stored outputs show. A learner on an old engine must not be left with a broken course, so this run
# starts the system's own Docker Engine (Debian's docker.io; installed if missing) on the default socket and
# runs on it: lessons 00-03 cell by cell without comparing outputs (they differ by engine: ids, the image
# store, the builder's log), every lab's checkers (tests/labs: a correct solution passes, the known-bad ones
# fail), the engine and registry tests, which assert what each store really does, and that restarting the
# course's engine beside it leaves the system engine's bridge alone.
# Root on Debian/Ubuntu only (it starts an engine); elsewhere it says so and succeeds without running.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${PORTSIDE_VENV:-.venv}
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "compat: skipped (starting Debian's Docker Engine 20.10 needs root on Debian/Ubuntu)." >&2
    exit 0
fi
started=$(date +%s)
export DOCKER_HOST=unix:///var/run/docker.sock
"$VENV/bin/portside" setup --engine system ${PORTSIDE_OFFLINE:+--offline}
echo "compat: $("$VENV/bin/portside" engine status)"
"$VENV/bin/python" -m pytest -n "${TEST_WORKERS:-3}" --dist loadfile -q \
    --nbval-lax notebooks/00-*.ipynb notebooks/01-*.ipynb notebooks/02-*.ipynb notebooks/03-*.ipynb \
    tests/labs tests/integration/engine tests/integration/registry tests/integration/setup/test_engines_side_by_side.py \
    ${PYTEST_ARGS:-}
echo "compat: the course on Engine 20.10 took $(( $(date +%s) - started )) s."

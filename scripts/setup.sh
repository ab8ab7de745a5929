#!/usr/bin/env bash
# Set up Portside: a virtual environment with the project, a Docker engine, the course images and tools.
# Idempotent: a second run only checks. Used by `make setup`, `make start`, `make test` and `make test-unit`
# (`--venv-only`); other arguments go to `portside setup` (e.g. `--engine-only`, `--offline`).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${PORTSIDE_VENV:-.venv}

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "error: Portside needs Python 3.11 or newer ($PYTHON is $("$PYTHON" -V 2>&1 || echo missing))." >&2
    echo "→ Install Python 3.11+ and run again, or point PYTHON at it: make setup PYTHON=/path/to/python3.11" >&2
    exit 2
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "Creating the virtual environment in $VENV…"
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            rm -rf "$VENV"
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
            "$PYTHON" -m venv "$VENV"
        else
            echo "error: could not create a virtual environment with $PYTHON." >&2
            echo "→ On Debian/Ubuntu install python3-venv (sudo apt-get install python3-venv) and run again." >&2
            exit 2
        fi
    fi
fi

# Install (or update) the project when pyproject.toml changed since the last install.
stamp="$VENV/.portside-installed"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "Installing Portside and its dependencies into $VENV…"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e '.[dev]'
    echo "$want" > "$stamp"
fi

# `--venv-only`: stop here (the unit tests need nothing more: no engine, no images, no tools)
if [ "${1:-}" = "--venv-only" ]; then
    exit 0
fi
exec "$VENV/bin/portside" setup "$@"

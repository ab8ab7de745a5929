"""``install.sh``: how a learner's machine with Python and Docker but no Portside (and no network) starts.

``portside kit install`` needs Portside, and Portside needs its Python packages, which are in the kit. The
script breaks the circle in three steps, each of which anyone can read before running it:

1. ``sha256sum -c SHA256SUMS``: every file is the one the kit was built with;
2. a virtual environment in ``COURSE/.venv`` gets every package of ``requirements.txt`` from ``wheels/``
   (``pip --no-index --require-hashes``, pip run from the kit's own pip wheel, so a Python without
   ``ensurepip`` works too);
3. the kit's own copy of Portside (``course/src``, imported in place, no bytecode written into the kit)
   runs ``portside kit install``, which does the rest and ends with ``portside doctor``.
"""

from __future__ import annotations

from portside.workshop.kit.manifest import SUMS, PythonTarget

__all__ = ["SCRIPT", "script"]

SCRIPT = "install.sh"

_TEMPLATE = r"""#!/bin/sh
# Install the Portside course from this kit, with no network (written by `portside kit build`, @AT@).
#
#   sh install.sh [COURSE_DIR]        (default: ./portside; PYTHON=python@VERSION@ picks the interpreter)
#
# 1. checks every file of the kit against @SUMS@;
# 2. creates COURSE_DIR/.venv and installs the course's Python packages into it from wheels/
#    (pip --no-index --require-hashes: nothing is downloaded, every file is hash-checked);
# 3. runs `portside kit install` from the kit, which checks the kit against manifest.json, copies the
#    course into COURSE_DIR, loads the images, installs the tools and Trivy's database, and runs
#    `portside doctor`. Running this script again is safe: what is in place is left alone.
set -eu
kit=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
dest=${1:-portside}
python=${PYTHON:-python3}
want=@VERSION@

if ! "$python" -c "import sys; sys.exit('%d.%d' % sys.version_info[:2] != '$want')" 2>/dev/null; then
    echo "error: this kit's Python packages are for Python $want; $python is $("$python" -V 2>&1 || echo missing)." >&2
    echo "-> Install Python $want, then run: PYTHON=python$want sh $0 $dest" >&2
    exit 2
fi

echo "Checking every file of the kit against @SUMS@..."
if command -v sha256sum >/dev/null 2>&1; then
    (cd "$kit" && sha256sum --quiet --strict -c @SUMS@)
else
    (cd "$kit" && shasum -a 256 --quiet --strict -c @SUMS@)
fi

mkdir -p "$dest"
dest=$(CDPATH= cd -- "$dest" && pwd)
venv="$dest/.venv"
if [ ! -x "$venv/bin/python" ]; then
    echo "Creating the virtual environment $venv..."
    "$python" -m venv --without-pip "$venv"
fi

echo "Installing the course's Python packages from the kit (no network)..."
pip_wheel=$(ls "$kit"/wheels/pip-*.whl | tail -n 1)
PIP_CONFIG_FILE=/dev/null "$venv/bin/python" "$pip_wheel/pip" install --isolated --disable-pip-version-check \
    --no-input --quiet --no-index --find-links "$kit/wheels" --require-hashes -r "$kit/requirements.txt"

# The kit's own Portside, imported from the kit without writing (or reading) bytecode there
pycache=$(mktemp -d)
trap 'rm -rf "$pycache"' EXIT
"$venv/bin/python" -B -X pycache_prefix="$pycache" -c '
import sys
sys.path.insert(0, sys.argv.pop(1))
sys.argv[0] = "portside"
from portside.cli.main import main
main()
' "$kit/course/src" kit install "$kit" --course "$dest" --venv "$venv"
"""


def script(target: PythonTarget, built_at: str) -> str:
    """The text of ``install.sh`` for a kit whose wheels are for ``target``."""
    return (_TEMPLATE.replace("@VERSION@", target.version).replace("@SUMS@", SUMS)
            .replace("@AT@", built_at))

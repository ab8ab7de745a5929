"""The course image's Python packages: a wheelhouse in the build context, locked by hash, installed with no index.

:mod:`portside.setup.wheelhouse` says which packages (the course's dependencies, its build backend, pip,
and what the lessons run of the ``dev`` extra; :func:`wheelhouse` with ``extras=("dev",)`` adds the whole
extra for a development environment) and gathers them from the state folder's wheel cache
(``<state>/wheels/course``, which ``portside kit build`` fills too). What the cache lacks is downloaded from
PyPI into it first, unless offline. They are resolved for the base image's Python (its patch release: a
package may need a newer one than the base has).

**Locked.** ``requirements.lock`` pins every wheel as ``name==version --hash=sha256:…``; the build runs pip
in hash-checking mode (``--require-hashes``) with no index and no network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from portside.errors import SetupError
from portside.setup import wheelhouse as _wheelhouse

__all__ = ["LOCK", "PYTHON", "wheelhouse"]

#: the lock file written beside the wheels
LOCK = "requirements.lock"
#: the interpreter the wheels are for: the base image's kind and platform (its version is read from the base)
PYTHON = ("cpython", "3.11", "linux-x86_64")

Say = Callable[[str], object]
_HEADER = ("Every Python package of the course image, pinned to its wheel here (portside.setup.course_image).",
           f"pip install --no-index --find-links . --require-hashes -r {LOCK}")
_MISSING_HINT = "Run the build once online (it downloads them from PyPI into that cache), or copy the wheels into it."


def _check_interpreter(python: str) -> None:
    """pip picks wheels for the running interpreter's kind and platform, which must be the base image's."""
    have = _wheelhouse.interpreter()
    want = (PYTHON[0], ".".join(python.split(".")[:2]), PYTHON[2])
    if have != want:
        raise SetupError(f"The course image's wheels are for {' '.join(want)} (its base image's Python); this "
                         f"Python is {' '.join(have)}, so pip would pick wheels the image cannot use.",
                         hint="Build the course image from a venv of Python 3.11 on Linux x86-64 (`make setup` "
                              "with PYTHON=python3.11).")


def wheelhouse(root: Path, dest: Path, *, python: str, offline: bool, extras: Iterable[str] = (),
               say: Say = print) -> Path:
    """Fill ``dest`` (emptied first) with the wheels the checkout ``root`` needs and their lock; return the lock.

    ``python`` is the image's Python version (``3.11.2``): a package may require a newer patch release than
    the base has. Raises :class:`SetupError` naming what is missing when the wheels cannot all be gathered.
    """
    _check_interpreter(python)
    wanted = _wheelhouse.requirements(root, extras=extras)
    _wheelhouse.gather(wanted, dest, python_version=python, offline=offline, hint=_MISSING_HINT, say=say)
    lock = dest / LOCK
    lock.write_text(_wheelhouse.lock_text(dest, header=_HEADER), encoding="utf-8")
    return lock

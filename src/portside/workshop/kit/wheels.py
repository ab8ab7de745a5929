"""The course's Python packages in the kit: gathered and locked by :mod:`portside.setup.wheelhouse`, installed
with no index.

**Gathered.** :mod:`portside.setup.wheelhouse` says which packages (the course's, its build backend, pip,
and what the lessons run of the ``dev`` extra) and gathers them through the state folder's wheel cache
(``<state>/wheels/course``). The kit asks for the newest releases when online (``refresh``: ``pip download``
into the cache first; a download that fails falls back on what the cache has), takes them from a folder
given with ``--wheels`` instead (no network), or only from the cache when offline. They are resolved for
the interpreter's ``X.Y`` release as a whole (``--python-version X.Y``), not its patch release: Debian 12's
Python is 3.11.2, and a package that needs 3.11.5 would refuse it.

**Locked.** ``requirements.txt`` pins every file of ``wheels/`` as ``name==version --hash=sha256:…``; the
install runs pip in hash-checking mode (``--require-hashes``) on top of the manifest's check.

**Installed.** ``pip install --no-index --find-links KIT/wheels --require-hashes -r KIT/requirements.txt``,
then the course itself, editable (``pip install --no-build-isolation -e COURSE``), as ``make setup`` leaves a
checkout. pip runs isolated: no configuration file, no ``PIP_*`` variable, so nothing but the kit is seen.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from portside.base.proc import run
from portside.errors import SetupError, UsageError
from portside.setup import wheelhouse
from portside.setup.wheelhouse import CACHE, isolated_env, requirements
from portside.workshop.kit.manifest import PythonTarget

__all__ = ["CACHE", "FOLDER", "LOCK", "check_interpreter", "current_target", "gather", "install", "interpreter_of",
           "lock_text", "requirements"]

FOLDER = "wheels"
LOCK = "requirements.txt"

Say = Callable[[str], object]
_HEADER = ("Every Python package of the course, pinned to the file in wheels/ (written by `portside kit build`).",
           f"pip install --no-index --find-links {FOLDER} --require-hashes -r {LOCK}")
_MISSING_HINT = ("Build the kit once on a machine that reaches PyPI (it fills that cache), or give --wheels DIR "
                 "with the missing wheels (pip stops at the first one it misses; dependencies count too).")


def current_target(asked: Iterable[str] = ()) -> PythonTarget:
    """The running interpreter, which the wheels are downloaded for (its ``X.Y`` release as a whole)."""
    return PythonTarget(*wheelhouse.interpreter(), list(asked))


# ── gathering (kit build) ─────────────────────────────────────────────────────


def gather(wanted: list[str], dest: Path, *, cache: Path, source: Path | None, offline: bool,
           say: Say = print) -> PythonTarget:
    """Put the wheels for ``wanted`` into ``dest`` (see the module docstring); returns the target they are for.

    ``source``: a wheel folder to take them from (no network); else ``cache``, filled from PyPI first unless
    ``offline``. An online download that fails (no network) falls back to what the cache has.
    """
    if source is not None and not source.is_dir():
        raise UsageError(f"--wheels {source} is not a folder.", hint="Give a folder of .whl files.")
    target = current_target(wanted)
    wheelhouse.gather(wanted, dest, python_version=target.version, offline=offline, source=source, cache=cache,
                      refresh=True, hint=_MISSING_HINT, say=say)
    return target


def lock_text(folder: Path) -> str:
    """``requirements.txt`` for the files in ``folder``: each project pinned to its version and file hashes."""
    return wheelhouse.lock_text(folder, header=_HEADER)


# ── installing (kit install) ──────────────────────────────────────────────────


def interpreter_of(python: Path) -> PythonTarget:
    """The implementation, version and platform of another interpreter (a venv's)."""
    done = run([str(python), "-c", "import sys, sysconfig; print(sys.implementation.name); "
                "print(f'{sys.version_info[0]}.{sys.version_info[1]}'); print(sysconfig.get_platform())"],
               timeout=60, what=f"{python} (asked for its version)")
    implementation, version, platform = done.stdout.split()
    return PythonTarget(implementation, version, platform)


def check_interpreter(have: PythonTarget, want: PythonTarget, *, where: str) -> None:
    """Refuse an interpreter the kit's wheels are not for, before pip fails on the first binary wheel."""
    if (have.implementation, have.version, have.platform) != (want.implementation, want.version, want.platform):
        raise SetupError(f"This kit's wheels are for {want.describe()}; {where} is {have.describe()}.",
                         hint=f"Install Python {want.version} and run it again with that interpreter (sh install.sh "
                              f"with PYTHON=python{want.version}), or ask for a kit built with yours.")


def _venv(venv: Path, kit: Path, want: PythonTarget, say: Say) -> Path:
    """``venv``'s interpreter, creating the venv (with the kit's pip) when it does not exist."""
    python = venv / "bin" / "python"
    if python.exists():
        check_interpreter(interpreter_of(python), want, where=f"the venv {venv}")
        return python
    check_interpreter(current_target(), want, where=f"this Python ({sys.executable})")
    if venv.exists() and any(venv.iterdir()):
        raise SetupError(f"{venv} exists but is not a virtual environment (it has no bin/python).",
                         hint="Give another --venv path, or remove that folder.")
    say(f"python: creating the virtual environment {venv}")
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], timeout=300, what="python -m venv",
        hint="On Debian/Ubuntu the venv module is in the python3 package; install Python with it.")
    return python


def _pip_launcher(python: Path, kit: Path) -> list[str]:
    """How to run pip for ``python``: its own, or (a venv made without pip) pip from the kit's wheel, which
    then installs everything, itself included, as ``ensurepip`` does."""
    if run([str(python), "-c", "import pip"], check=False, timeout=60).ok:
        return [str(python), "-m", "pip"]
    wheels = sorted((kit / FOLDER).glob("pip-*.whl"))
    if not wheels:
        raise SetupError(f"The kit has no pip wheel in {kit / FOLDER}, and {python} has no pip.",
                         hint="Build the kit again (it always carries pip).")
    return [str(python), str(wheels[-1] / "pip")]


def install(kit: Path, course: Path, *, venv: Path | None, want: PythonTarget, say: Say = print) -> Path:
    """Install the kit's packages and the course (editable) into ``venv`` (None: this environment).

    Returns the interpreter they were installed for.
    """
    python = _venv(venv, kit, want, say) if venv is not None else Path(sys.executable)
    if venv is None:
        check_interpreter(current_target(), want, where=f"this Python ({sys.executable})")
    launcher = _pip_launcher(python, kit)
    common = ["--isolated", "--disable-pip-version-check", "--no-input", "--no-index", "--find-links",
              str(kit / FOLDER)]
    say(f"python: pip install --no-index --require-hashes -r {LOCK} (into {python.parent.parent})")
    run([*launcher, "install", *common, "--quiet", "--require-hashes", "-r", str(kit / LOCK)], env=isolated_env(),
        timeout=1800, what="pip install of the kit's wheels",
        hint="pip names the package it refused above; the kit may be for another platform.")
    say(f"python: pip install --no-index -e {course}")
    run([str(python), "-m", "pip", "install", *common, "--quiet", "--no-build-isolation", "-e", str(course)],
        env=isolated_env(), timeout=900, what=f"pip install -e {course}")
    return python


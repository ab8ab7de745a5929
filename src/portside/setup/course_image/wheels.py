"""The course image's Python packages: a wheelhouse in the build context, locked by hash, installed with no index.

**Which.** The course's dependencies (``[project] dependencies`` of ``pyproject.toml``, JupyterLab among them),
its build backend (``[build-system] requires``: the image installs the course editable, as ``make setup``
does), ``pip`` itself, and from the ``dev`` extra only what the lessons run (:data:`LEARNER_EXTRAS`). A
wheelhouse for a development environment (:func:`wheelhouse` with ``extras=("dev",)``) adds the whole extra.

**Gathered.** From the state folder's wheel cache (``<state>/wheels/course``, which ``portside kit build``
fills too) by ``pip download --no-index``: the same resolution the ``pip install --no-index`` in the build
does, so a context that gathers is one that installs. What the cache lacks is downloaded from PyPI into the
cache first, unless offline. Wheels only: nothing is compiled inside the build.

**Locked.** ``requirements.lock`` pins every wheel as ``name==version --hash=sha256:…``; the build runs pip in
hash-checking mode (``--require-hashes``) with no index and no network.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import sysconfig
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from portside.base.paths import state_dir
from portside.base.proc import run
from portside.errors import SetupError, ToolError
from portside.tools.verify import sha256_file

__all__ = ["LEARNER_EXTRAS", "LOCK", "PYTHON", "requirements", "wheelhouse"]

#: the lock file written beside the wheels
LOCK = "requirements.lock"
#: packages of the ``dev`` extra the lessons themselves run (``zizmor`` lints a workflow in lessons 06 and 07)
LEARNER_EXTRAS = frozenset({"zizmor"})
#: the interpreter the wheels are for: the base image's kind and platform (its version is read from the base)
PYTHON = ("cpython", "3.11", "linux-x86_64")

Say = Callable[[str], object]
_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")


def _name(text: str) -> str:
    try:
        return str(canonicalize_name(Requirement(text).name))
    except InvalidRequirement:
        raise SetupError(f"{text!r} in pyproject.toml is not a requirement pip understands.") from None


def requirements(root: Path, *, extras: Iterable[str] = ()) -> list[str]:
    """What the wheelhouse must satisfy, read from the course's ``pyproject.toml`` (see the module docstring)."""
    path = root / "pyproject.toml"
    try:
        project = tomllib.loads(path.read_text(encoding="utf-8"))
        listed = list(project["project"]["dependencies"])
        optional = dict(project["project"].get("optional-dependencies", {}))
        backend = list(project["build-system"]["requires"])
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise SetupError(f"{path} has no readable [project] dependencies and [build-system] requires ({exc}).",
                         hint="Build the course image from the course's checkout.") from None
    chosen = set(extras)
    unknown = chosen - set(optional)
    if unknown:
        raise SetupError(f"pyproject.toml has no extra {', '.join(sorted(unknown))}.",
                         hint=f"Its extras: {', '.join(sorted(optional)) or 'none'}.")
    wanted = [*listed, *backend]
    for extra, texts in optional.items():
        wanted += [text for text in texts if extra in chosen or _name(text) in LEARNER_EXTRAS]
    if not any(_name(text) == "pip" for text in wanted):
        wanted.append("pip")
    return list(dict.fromkeys(wanted))


def _check_interpreter(python: str) -> None:
    """pip picks wheels for the running interpreter's kind and platform, which must be the base image's."""
    have = (sys.implementation.name, f"{sys.version_info.major}.{sys.version_info.minor}", sysconfig.get_platform())
    want = (PYTHON[0], ".".join(python.split(".")[:2]), PYTHON[2])
    if have != want:
        raise SetupError(f"The course image's wheels are for {' '.join(want)} (its base image's Python); this "
                         f"Python is {' '.join(have)}, so pip would pick wheels the image cannot use.",
                         hint="Build the course image from a venv of Python 3.11 on Linux x86-64 (`make setup` "
                              "with PYTHON=python3.11).")


def _isolated_env() -> dict[str, str]:
    """This environment without ``PIP_*`` variables or pip configuration files: nothing but the cache is seen."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def _pip(*args: str) -> list[str]:
    return [sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--no-input"]


def _resolve(wanted: list[str], cache: Path, dest: Path, python: str) -> None:
    """``pip download --no-index --find-links CACHE --dest DEST``: exactly the files an install would use."""
    run(_pip("download", "--isolated", "--quiet", "--no-index", "--only-binary=:all:", "--python-version", python,
             "--find-links", str(cache), "--dest", str(dest), *wanted), env=_isolated_env(), timeout=900,
        what="pip download --no-index (the course image's wheels)")


def lock_text(folder: Path) -> str:
    """``requirements.lock`` for the wheels in ``folder``: each pinned to its version and the file's sha256."""
    lines = ["# Every Python package of the course image, pinned to its wheel here (portside.setup.course_image).",
             "# pip install --no-index --find-links . --require-hashes -r requirements.lock"]
    seen: dict[str, str] = {}
    for wheel in sorted(folder.glob("*.whl")):
        try:
            name, version, _, _ = parse_wheel_filename(wheel.name)
        except InvalidWheelFilename:
            raise SetupError(f"{wheel} is not a wheel pip would install.") from None
        if str(name) in seen:
            raise SetupError(f"{folder} holds two versions of {name} ({seen[name]}, {version}); a lock pins one.",
                             hint="Gather the wheelhouse into an empty folder.")
        seen[str(name)] = str(version)
        lines.append(f"{name}=={version} --hash=sha256:{sha256_file(wheel)}")
    return "\n".join(lines) + "\n"


def wheelhouse(root: Path, dest: Path, *, python: str, offline: bool, extras: Iterable[str] = (),
               say: Say = print) -> Path:
    """Fill ``dest`` (emptied first) with the wheels of :func:`requirements` and their lock; return the lock.

    ``python`` is the image's Python version (``3.11.2``): a package may require a newer patch release than
    the base has. Taken from the state folder's cache; what it lacks is downloaded from PyPI into the cache
    first unless ``offline``. Raises :class:`SetupError` naming what is missing when that is not possible.
    """
    _check_interpreter(python)
    wanted = requirements(root, extras=extras)
    cache = state_dir("wheels", "course")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    try:
        _resolve(wanted, cache, dest, python)
    except ToolError as first:
        if offline:
            missing = ", ".join(_NO_MATCH.findall(first.stderr)) or "a package pip names above"
            raise SetupError(f"The wheel cache {cache} lacks Python packages of the course image ({missing}), and "
                             "offline mode forbids downloading them.",
                             hint="Run the build once online (it downloads them from PyPI into that cache), or "
                                  "copy the wheels into it.") from None
        say(f"wheels: the cache lacks some ({', '.join(_NO_MATCH.findall(first.stderr)) or 'see pip'}); "
            "downloading from PyPI into it…")
        run(_pip("download", "--quiet", "--only-binary=:all:", "--python-version", python, "--retries", "2",
                 "--find-links", str(cache), "--dest", str(cache), *wanted), timeout=1800,
            what="pip download (the course image's wheels)",
            hint="Check that this machine reaches PyPI, or build with offline=True from a filled cache.")
        shutil.rmtree(dest)
        dest.mkdir(parents=True)
        _resolve(wanted, cache, dest, python)
    lock = dest / LOCK
    lock.write_text(lock_text(dest), encoding="utf-8")
    return lock

"""The course's Python packages in the kit: which, gathered how, locked by hash, and installed with no index.

**Which.** The course's dependencies (``[project] dependencies`` of its ``pyproject.toml``, JupyterLab
among them), the build backend its editable install needs (``[build-system] requires``), ``pip`` itself
(a fresh venv gets the kit's pip, so a machine whose Python lacks ``ensurepip`` works too), and from the
``dev`` extra only what the lessons run (:data:`LEARNER_EXTRAS`: lessons 06 and 07 run ``zizmor``). The
rest of ``dev`` — pytest, nbval, ruff, mypy — checks the course, which a learner does not do; leaving it
out saves about a fifth of the wheels.

**Gathered.** Online: ``pip download`` into the state folder's cache (``<state>/wheels/course``; the
instructor's own pip settings apply: index, proxy, certificates), then copied from there into the kit by a
second ``pip download --no-index`` that sees nothing but the cache — the same resolution a learner's
``pip install --no-index`` does, so a kit that builds is a kit that installs. Offline: only that second
step, from the cache or from a folder given with ``--wheels``; when a package is missing it says which.
Wheels only (``--only-binary=:all:``): a learner's machine cannot be asked to compile anything. They are
resolved for the interpreter's ``X.Y`` release as a whole (``--python-version X.Y``), not its patch release:
Debian 12's Python is 3.11.2, and a package that needs 3.11.5 would refuse it.

**Locked.** ``requirements.txt`` pins every file of ``wheels/`` as ``name==version --hash=sha256:…``. The
project pins no hashes of its own dependencies, so these are the ones downloaded when the kit was built;
the install runs pip in hash-checking mode (``--require-hashes``) on top of the manifest's check.

**Installed.** ``pip install --no-index --find-links KIT/wheels --require-hashes -r KIT/requirements.txt``,
then the course itself, editable (``pip install --no-build-isolation -e COURSE``), as ``make setup`` leaves a
checkout. pip runs isolated: no configuration file, no ``PIP_*`` variable, so nothing but the kit is seen.
"""

from __future__ import annotations

import os
import re
import sys
import sysconfig
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from portside.base.proc import run
from portside.errors import SetupError, ToolError, UsageError
from portside.workshop.kit.manifest import PythonTarget, sha256_of

__all__ = ["CACHE", "FOLDER", "LEARNER_EXTRAS", "LOCK", "check_interpreter", "current_target", "gather",
           "install", "interpreter_of", "isolated_env", "lock_text", "missing", "requirements"]

FOLDER = "wheels"
LOCK = "requirements.txt"
#: the state folder's wheel cache that an online build fills (``<state>/wheels/course``)
CACHE = ("wheels", "course")
#: packages of the ``dev`` extra that the lessons themselves run (``zizmor`` lints a workflow in lessons 06, 07)
LEARNER_EXTRAS = frozenset({"zizmor"})

Say = Callable[[str], object]
_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")


def requirements(root: Path) -> list[str]:
    """What the kit's wheels must satisfy, read from the course's ``pyproject.toml`` (see the module docstring)."""
    path = root / "pyproject.toml"
    try:
        project = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SetupError(f"{path} cannot be read: {exc}.", hint="Run from the course checkout.") from None
    try:
        listed = list(project["project"]["dependencies"])
        dev = list(project["project"].get("optional-dependencies", {}).get("dev", []))
        backend = list(project["build-system"]["requires"])
    except (KeyError, TypeError):
        raise SetupError(f"{path} has no [project] dependencies or [build-system] requires.",
                         hint="Is this the course's pyproject.toml?") from None
    wanted = [*listed, *(text for text in dev if _name(text) in LEARNER_EXTRAS), *backend]
    if not any(_name(text) == "pip" for text in wanted):
        wanted.append("pip")
    return wanted


def _name(text: str) -> str:
    try:
        return str(canonicalize_name(Requirement(text).name))
    except InvalidRequirement:
        raise SetupError(f"{text!r} in pyproject.toml is not a requirement pip understands.") from None


def current_target(asked: Iterable[str] = ()) -> PythonTarget:
    """The running interpreter, which the wheels are downloaded for."""
    return PythonTarget(sys.implementation.name, f"{sys.version_info.major}.{sys.version_info.minor}",
                        sysconfig.get_platform(), list(asked))


def isolated_env() -> dict[str, str]:
    """This environment without any ``PIP_*`` variable and with no pip configuration file at all."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull  # pip then reads no config file (global, site or user)
    return env


def _pip(python: str | Path, *args: str) -> list[str]:
    return [str(python), "-m", "pip", *args, "--disable-pip-version-check", "--no-input"]


# ── gathering (kit build) ─────────────────────────────────────────────────────


def _files(folder: Path) -> dict[str, list[tuple[str, Path]]]:
    """Canonical project name → [(version, file)] of every wheel and sdist in ``folder``."""
    found: dict[str, list[tuple[str, Path]]] = {}
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        try:
            if path.suffix == ".whl":
                name, version, _, _ = parse_wheel_filename(path.name)
            elif path.name.endswith((".tar.gz", ".zip")):
                name, version = parse_sdist_filename(path.name)
            else:
                continue
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue
        found.setdefault(str(name), []).append((str(version), path))
    return found


def missing(wanted: Iterable[str], folder: Path) -> list[str]:
    """The requirements of ``wanted`` for which ``folder`` has no file of a matching version (at the top level:
    what they depend on is pip's to check)."""
    have = _files(folder)
    absent = []
    for text in wanted:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue  # not for this interpreter
        versions = [version for version, _ in have.get(str(canonicalize_name(requirement.name)), [])]
        if not any(requirement.specifier.contains(version, prereleases=True) for version in versions):
            absent.append(text)
    return absent


def _for(target: PythonTarget) -> list[str]:
    """pip's options for wheels of ``target``: binary only, and ``Requires-Python`` checked against X.Y.0, so
    that every X.Y release works (Debian 12 has 3.11.2; a wheel may want 3.11.5, which the instructor may have)."""
    return ["--only-binary=:all:", "--python-version", target.version]


def _copy_resolved(wanted: list[str], source: Path, dest: Path, target: PythonTarget, *, label: str) -> None:
    """``pip download --no-index --find-links SOURCE --dest DEST``: exactly the files an install would use."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        run(_pip(sys.executable, "download", "--isolated", "--quiet", "--no-index", *_for(target),
                 "--find-links", str(source), "--dest", str(dest), *wanted),
            env=isolated_env(), timeout=900, what=f"pip download --no-index from {label}")
    except ToolError as exc:
        absent = missing(wanted, source)
        named = _NO_MATCH.findall(exc.stderr)
        what = ", ".join(dict.fromkeys([*absent, *named])) or "a package its resolver names above"
        raise SetupError(
            f"{label} ({source}) does not have every Python package of the course for {target.describe()}: "
            f"missing {what}. pip said: {exc.stderr.strip().splitlines()[-1] if exc.stderr.strip() else exc}",
            hint="Build the kit once on a machine that reaches PyPI (it fills that cache), or give --wheels DIR "
                 "with the missing wheels (pip stops at the first one it misses; dependencies count too)."
        ) from None


def gather(wanted: list[str], dest: Path, *, cache: Path, source: Path | None, offline: bool,
           say: Say = print) -> PythonTarget:
    """Put the wheels for ``wanted`` into ``dest`` (see the module docstring); returns the target they are for.

    ``source``: a wheel folder to take them from (no network); else ``cache``, filled from PyPI first unless
    ``offline``. An online download that fails (no network) falls back to what the cache has.
    """
    target = current_target(wanted)
    if source is not None:
        if not source.is_dir():
            raise UsageError(f"--wheels {source} is not a folder.", hint="Give a folder of .whl files.")
        say(f"wheels: from {source} (no network)")
        _copy_resolved(wanted, source, dest, target, label="the wheel folder")
        return target
    cache.mkdir(parents=True, exist_ok=True)
    if not offline:
        say(f"wheels: pip download for {target.describe()} into the cache {cache} …")
        try:
            run(_pip(sys.executable, "download", "--quiet", *_for(target), "--retries", "2",
                     "--find-links", str(cache), "--dest", str(cache), *wanted),
                timeout=1800, what="pip download (the course's wheels)")
        except ToolError as exc:
            tail = exc.stderr.strip().splitlines()[-1] if exc.stderr.strip() else str(exc)
            say(f"wheels: pip download failed ({tail}); trying with what the cache has")
    else:
        say(f"wheels: offline, from the cache {cache}")
    _copy_resolved(wanted, cache, dest, target, label="the state folder's wheel cache")
    return target


def lock_text(folder: Path) -> str:
    """``requirements.txt`` for the files in ``folder``: each project pinned to its version and file hashes."""
    lines = ["# Every Python package of the course, pinned to the file in wheels/ (written by `portside kit build`).",
             "# pip install --no-index --find-links wheels --require-hashes -r requirements.txt"]
    for name, entries in sorted(_files(folder).items()):
        versions = {version for version, _ in entries}
        if len(versions) != 1:
            raise SetupError(f"{folder} holds {len(versions)} versions of {name} ({', '.join(sorted(versions))}); "
                             "a lock pins one.", hint="Build the kit into an empty folder.")
        hashes = "".join(f" \\\n    --hash=sha256:{sha256_of(path)}" for _, path in entries)
        lines.append(f"{name}=={versions.pop()}{hashes}")
    return "\n".join(lines) + "\n"


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


"""The course's Python packages as a wheelhouse: which, gathered how, and locked by hash.

The one owner of this for both the course image's build context (:mod:`portside.setup.course_image.wheels`)
and the offline kit (:mod:`portside.workshop.kit.wheels`); each of those names its own folder, lock file
and target Python, and says how its wheels are installed.

**Which** (:func:`requirements`). The course's dependencies (``[project] dependencies`` of its
``pyproject.toml``, JupyterLab among them), the build backend its editable install needs (``[build-system]
requires``), ``pip`` itself (a fresh venv gets the wheelhouse's pip, so a Python without ``ensurepip``
works too), and from the ``dev`` extra only what the lessons run (:data:`LEARNER_EXTRAS`: lessons 06 and
07 run ``zizmor``). The rest of ``dev`` (pytest, nbval, ruff, mypy) checks the course, which a learner
does not do; ``extras=("dev",)`` adds it all (a development environment).

**Gathered** (:func:`gather`). From the state folder's wheel cache (``<state>/wheels/course``, which the
kit and the image share) by a ``pip download --no-index`` that sees nothing but the cache: the same
resolution a ``pip install --no-index`` from the wheelhouse does, so a wheelhouse that gathers is one that
installs. Online, the cache is filled from PyPI first by a plain ``pip download`` (the user's own pip
settings apply: index, proxy, certificates): only with what it lacks, or with the newest releases whatever
it has (``refresh``; a download that fails then falls back on what the cache has). A folder of wheels
given as ``source`` takes the cache's place, with no network. Wheels only (``--only-binary=:all:``):
nothing is compiled where they are installed. They are resolved for the caller's target Python
(``--python-version``): pip checks ``Requires-Python`` against it, not against the running interpreter,
so a wheelhouse for Debian 12's Python 3.11.2 leaves out a release that needs 3.11.5 (soupsieve 4.1.3).
The implementation and platform are the running interpreter's (:func:`interpreter`).

**Locked** (:func:`lock_text`). One line per project, ``name==version --hash=sha256:…`` for each of its
files, after the caller's comment lines; the install runs pip in hash-checking mode (``--require-hashes``).
The project pins no hashes of its own dependencies, so these are the ones downloaded when it was gathered.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import sysconfig
import tomllib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from portside.base.paths import state_dir
from portside.base.proc import run
from portside.errors import SetupError, ToolError
from portside.tools.verify import sha256_file

__all__ = ["CACHE", "LEARNER_EXTRAS", "cache_dir", "describe", "gather", "interpreter", "isolated_env", "lock_text",
           "missing", "requirements"]

#: the state folder's wheel cache (``<state>/wheels/course``), shared by the course image and the kit
CACHE = ("wheels", "course")
#: packages of the ``dev`` extra that the lessons themselves run (``zizmor`` lints a workflow in lessons 06, 07)
LEARNER_EXTRAS = frozenset({"zizmor"})

Say = Callable[[str], object]
_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")
_MISSING_HINT = ("Gather once on a machine that reaches PyPI (that fills the cache), or copy the missing wheels "
                 "into it (pip stops at the first one it misses; dependencies count too).")


def cache_dir() -> Path:
    """The state folder's wheel cache, created on first use."""
    return state_dir(*CACHE)


# ── which ──────────────────────────────────────────────────────────────────────


def _name(text: str) -> str:
    try:
        return str(canonicalize_name(Requirement(text).name))
    except InvalidRequirement:
        raise SetupError(f"{text!r} in pyproject.toml is not a requirement pip understands.") from None


def requirements(root: Path, *, extras: Iterable[str] = ()) -> list[str]:
    """What the wheelhouse must satisfy, read from the course's ``pyproject.toml`` (see the module docstring).

    ``extras`` adds whole extras of the project (``("dev",)``); without them only :data:`LEARNER_EXTRAS` of
    them is taken. Raises :class:`SetupError` for a file that cannot be read, is not the course's, or has no
    such extra.
    """
    path = root / "pyproject.toml"
    try:
        project = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SetupError(f"{path} cannot be read: {exc}.", hint="Run it from the course's checkout.") from None
    try:
        listed = list(project["project"]["dependencies"])
        optional = dict(project["project"].get("optional-dependencies", {}))
        backend = list(project["build-system"]["requires"])
    except (KeyError, TypeError, ValueError):
        raise SetupError(f"{path} has no [project] dependencies or [build-system] requires.",
                         hint="Is this the course's pyproject.toml?") from None
    chosen = set(extras)
    unknown = chosen - set(optional)
    if unknown:
        raise SetupError(f"pyproject.toml has no extra {', '.join(sorted(unknown))}.",
                         hint=f"Its extras: {', '.join(sorted(optional)) or 'none'}.")
    own = canonicalize_name(str(project["project"].get("name", "")))
    # an extra may name the project's own extras ("portside[hub]" in dev): those extras are taken instead
    pending = list(chosen)
    while pending:
        for text in optional.get(pending.pop(), []):
            ref = Requirement(text)
            if canonicalize_name(ref.name) == own:
                new = set(ref.extras) - chosen
                chosen |= new
                pending += sorted(new & set(optional))
    wanted = [*listed, *backend]
    for extra, texts in optional.items():
        wanted += [text for text in texts
                   if (extra in chosen or _name(text) in LEARNER_EXTRAS) and canonicalize_name(_name(text)) != own]
    if not any(_name(text) == "pip" for text in wanted):
        wanted.append("pip")
    return list(dict.fromkeys(wanted))


# ── for which Python, with which pip ───────────────────────────────────────────


def interpreter() -> tuple[str, str, str]:
    """``(implementation, X.Y, platform)`` of this Python (``("cpython", "3.11", "linux-x86_64")``).

    pip picks wheels for its implementation and platform; :func:`gather` sets only the version.
    """
    return sys.implementation.name, f"{sys.version_info.major}.{sys.version_info.minor}", sysconfig.get_platform()


def describe(python_version: str) -> str:
    """The Python a wheelhouse is gathered for: ``CPython 3.11.2 on linux-x86_64``."""
    implementation, _, platform = interpreter()
    name = {"cpython": "CPython"}.get(implementation, implementation)
    return f"{name} {python_version} on {platform}"


def isolated_env() -> dict[str, str]:
    """This environment without any ``PIP_*`` variable and with no pip configuration file at all."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull  # pip then reads no config file (global, site or user)
    return env


def _pip(*args: str) -> list[str]:
    return [sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--no-input"]


def _tail(exc: ToolError) -> str:
    """The last line pip wrote (its verdict), or the error itself."""
    return exc.stderr.strip().splitlines()[-1] if exc.stderr.strip() else str(exc)


# ── the files of a folder ──────────────────────────────────────────────────────


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


# ── gathering ──────────────────────────────────────────────────────────────────


def _empty(folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def _resolve(wanted: Sequence[str], source: Path, dest: Path, python_version: str) -> None:
    """``pip download --no-index --find-links SOURCE --dest DEST``: exactly the files an install would use."""
    run(_pip("download", "--isolated", "--quiet", "--no-index", "--only-binary=:all:", "--python-version",
             python_version, "--find-links", str(source), "--dest", str(dest), *wanted),
        env=isolated_env(), timeout=900, what=f"pip download --no-index from {source}")


def _copy(wanted: Sequence[str], source: Path, dest: Path, python_version: str, *, label: str, offline: bool,
          hint: str | None) -> None:
    """:func:`_resolve`, failing with a :class:`SetupError` that names what ``source`` lacks."""
    try:
        _resolve(wanted, source, dest, python_version)
    except ToolError as exc:
        named = [*missing(wanted, source), *_NO_MATCH.findall(exc.stderr)]
        what = ", ".join(dict.fromkeys(named)) or "a package its resolver names above"
        raise SetupError(
            f"{label} ({source}) does not have every Python package of the course for {describe(python_version)}: "
            f"missing {what}{' (offline: nothing was downloaded)' if offline else ''}. pip said: {_tail(exc)}",
            hint=hint or _MISSING_HINT) from None


def _download(wanted: Sequence[str], cache: Path, python_version: str) -> None:
    """``pip download`` from PyPI into ``cache`` (the user's pip settings apply), taking what it has first."""
    run(_pip("download", "--quiet", "--only-binary=:all:", "--python-version", python_version, "--retries", "2",
             "--find-links", str(cache), "--dest", str(cache), *wanted), timeout=1800,
        what="pip download (the course's wheels)",
        hint="Check that this machine reaches PyPI (pip's own settings apply: index, proxy, certificates), or "
             "gather offline from a filled cache.")


def gather(wanted: Sequence[str], dest: Path, *, python_version: str, offline: bool, source: Path | None = None,
           cache: Path | None = None, refresh: bool = False, hint: str | None = None,
           say: Say = print) -> list[Path]:
    """Fill ``dest`` (emptied first) with the wheels ``wanted`` takes for ``python_version``; return them.

    ``python_version`` is the target's (``3.11.2``, or ``3.11`` for every patch release of it); see the
    module docstring. ``source``: a folder of wheels to take them from (no network); else ``cache`` (default
    :func:`cache_dir`), into which what it lacks is downloaded from PyPI first unless ``offline`` — or
    everything, when ``refresh``, so that the newest releases are taken (a failed download then falls back on
    what the cache has). Raises :class:`SetupError` naming the missing packages, with ``hint`` (what the
    caller's user can do about it), when the wheels are not all there.
    """
    cache = cache_dir() if cache is None else cache
    target = describe(python_version)
    _empty(dest)
    if source is not None:
        say(f"wheels: from {source} (no network)")
        _copy(wanted, source, dest, python_version, label="the wheel folder", offline=False, hint=hint)
        return sorted(dest.glob("*.whl"))
    cache.mkdir(parents=True, exist_ok=True)
    if offline:
        say(f"wheels: offline, from the cache {cache}")
    elif refresh:
        say(f"wheels: pip download for {target} into the cache {cache} …")
        try:
            _download(wanted, cache, python_version)
        except ToolError as exc:
            say(f"wheels: pip download failed ({_tail(exc)}); trying with what the cache has")
    else:
        try:
            _resolve(wanted, cache, dest, python_version)
            return sorted(dest.glob("*.whl"))
        except ToolError as exc:
            lacks = ", ".join(_NO_MATCH.findall(exc.stderr)) or "see pip"
            say(f"wheels: the cache lacks some ({lacks}); downloading from PyPI into it…")
        _download(wanted, cache, python_version)
        _empty(dest)
    _copy(wanted, cache, dest, python_version, label="the state folder's wheel cache", offline=offline, hint=hint)
    return sorted(dest.glob("*.whl"))


# ── locking ────────────────────────────────────────────────────────────────────


def lock_text(folder: Path, *, header: Sequence[str] = ()) -> str:
    """The lock of the files in ``folder``: ``header`` as comment lines, then one line per project,
    ``name==version --hash=sha256:…`` for each of its files (canonical names, as pip compares them).

    Raises :class:`SetupError` when ``folder`` holds two versions of one project (a lock pins one).
    """
    lines = [f"# {line}" for line in header]
    for name, entries in sorted(_files(folder).items()):
        versions = {version for version, _ in entries}
        if len(versions) != 1:
            raise SetupError(f"{folder} holds {len(versions)} versions of {name} ({', '.join(sorted(versions))}); "
                             "a lock pins one.", hint="Gather the wheels into an empty folder.")
        hashes = "".join(f" --hash=sha256:{sha256_file(path)}" for _, path in entries)
        lines.append(f"{name}=={versions.pop()}{hashes}")
    return "\n".join(lines) + "\n"

"""``pyapp``: the small Python application lessons 04–05 scan, fix and sign — built offline.

Its files are in :func:`app_dir` (``Dockerfile``, ``app.py``, two pin sets:
``requirements-vulnerable.txt`` and ``requirements-fixed.txt``, and ``wheels.sha256``,
the sha256 of every wheel they pin). Building it takes two steps:

1. :func:`ensure_wheels` downloads the pinned wheels from PyPI **once** into the course
   state folder (``.portside/wheels/pyapp``) in pip's hash-checking mode
   (``--require-hashes`` with the hashes of ``wheels.sha256``) — ``portside setup``
   does this; wheels already there are checked against the same hashes;
2. :func:`build` hands BuildKit (``docker buildx build --network none``) a build context
   made of the app's files, one requirements file (each pin with the ``--hash`` of its
   wheel) and exactly the wheels it pins: the ``pip install --no-index`` inside the
   build cannot reach any index and checks every wheel's hash, so what is installed is
   exactly what was pinned and downloaded. The build stage (wheels, pip's work) never
   becomes an image: BuildKit keeps it in its build cache only.

Every requirement must be pinned with ``==`` (a lock file): a scan can only tell you
something true about versions you actually control. A version you pin yourself that
``wheels.sha256`` does not list (say, in lab 04) is downloaded from PyPI like any
``pip download`` — the course has not reviewed it — and the build still pins it to
the exact file that was downloaded.
"""

from __future__ import annotations

import io
import platform
import re
import sys
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import docker.errors
from packaging.utils import canonicalize_name, parse_wheel_filename

from portside import engine
from portside.base.labels import COURSE, STANDIN, course_labels
from portside.base.paths import state_dir
from portside.base.proc import run
from portside.engine.build import build as buildkit_build
from portside.errors import BuildError, PortsideError, SetupError, UsageError
from portside.setup.images import require_base
from portside.tools.verify import check_file, pip_download_all, sha256_file

__all__ = ["BASE", "MULTI_STAGE_PINNED", "Pin", "Variant", "app_dir", "build", "ensure_wheels", "hashes_file",
           "pinned_hashes", "pins", "remove", "requirements_file", "wheels_dir"]

Variant = Literal["vulnerable", "fixed"]
VARIANTS: tuple[Variant, ...] = ("vulnerable", "fixed")
BASE = "python:3.11-slim-bookworm"
#: pyapp built in two stages, both from :data:`BASE` pinned by digest (``{digest}``): the build stage installs the
#: wheels into a venv, the final stage gets only that venv and the app (labs 06 and 07, the pipeline's tests)
MULTI_STAGE_PINNED = """\
FROM python:3.11-slim-bookworm@{digest} AS build
COPY wheels/ /wheels/
COPY requirements.txt /tmp/requirements.txt
# a venv without pip of its own: the base image's pip installs into it
RUN python3 -m venv --without-pip /opt/venv \\
 && pip --python /opt/venv/bin/python install --no-index --find-links /wheels \\
        --no-cache-dir --disable-pip-version-check -r /tmp/requirements.txt

FROM python:3.11-slim-bookworm@{digest}
COPY --from=build /opt/venv /opt/venv
COPY app.py /app/app.py
ENV PATH=/opt/venv/bin:$PATH GIT_PYTHON_REFRESH=quiet
WORKDIR /app
CMD ["python", "/app/app.py"]
"""
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)\s*(?:#.*)?$")


@dataclass(frozen=True)
class Pin:
    """One ``name==version`` line of a requirements file."""

    name: str
    version: str

    @property
    def key(self) -> tuple[str, str]:
        return str(canonicalize_name(self.name)), self.version

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"


def app_dir() -> Path:
    """The demo app's folder (``src/portside/lessons/apps/pyapp``): the lessons show its files."""
    return Path(__file__).resolve().parent / "apps" / "pyapp"


def requirements_file(variant: Variant) -> Path:
    """``requirements-vulnerable.txt`` or ``requirements-fixed.txt`` of the app."""
    if variant not in VARIANTS:
        raise UsageError(f"pyapp has no variant {variant!r}.", hint=f"Use one of: {', '.join(VARIANTS)}.")
    return app_dir() / f"requirements-{variant}.txt"


def hashes_file() -> Path:
    """``wheels.sha256``: the sha256 of every wheel the app's two pin sets use (``sha256sum`` format)."""
    return app_dir() / "wheels.sha256"


def pinned_hashes(path: Path | None = None) -> dict[tuple[str, str], set[str]]:
    """``(canonical name, version)`` → the sha256 of its reviewed wheel(s), from :func:`hashes_file`."""
    source = path or hashes_file()
    found: dict[tuple[str, str], set[str]] = {}
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        digest, _, filename = text.partition("  ")
        try:
            name, version, _, _ = parse_wheel_filename(filename.strip())
        except ValueError:
            raise UsageError(f"{source.name}, line {number}: {filename.strip()!r} is not a wheel file name.",
                             hint="Each line is `SHA256  WHEEL-FILE-NAME`, as sha256sum writes it.") from None
        if not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise UsageError(f"{source.name}, line {number}: {digest!r} is not a sha256.",
                             hint="Each line is `SHA256  WHEEL-FILE-NAME`, as sha256sum writes it.")
        found.setdefault((str(name), str(version)), set()).add(digest)
    return found


def _hashes_for(pin: Pin, pinned: Mapping[tuple[str, str], set[str]]) -> set[str]:
    from packaging.version import InvalidVersion, Version

    if pin.key in pinned:
        return pinned[pin.key]
    try:
        wanted = Version(pin.version)
    except InvalidVersion:
        return set()
    name = pin.key[0]
    return next((h for (n, v), h in pinned.items() if n == name and Version(v) == wanted), set())


_CACHE_HINT = ("Delete that file and run `portside setup` (or sample_app.ensure_wheels()) again to download the "
               "reviewed one; if the new download is refused too, do not work around the check: tell the course "
               "maintainers.")


def _check_cached(pin: Pin, wheel: Path, pinned: Mapping[tuple[str, str], set[str]]) -> str:
    """The sha256 of a cached wheel; raises :class:`HashMismatch` if the course pinned another one."""
    hashes = _hashes_for(pin, pinned)
    if not hashes:
        return sha256_file(wheel)
    return check_file(wheel, hashes, what=f"{pin} (in {hashes_file().name})", hint=_CACHE_HINT)


def wheels_dir() -> Path:
    """Where downloaded wheels are kept (``<state>/wheels/pyapp``), shared by every pin set."""
    return state_dir("wheels", "pyapp")


def pins(requirements: Path) -> list[Pin]:
    """The pins of a requirements file. Raises :class:`PortsideError` for any line that is not ``name==version``."""
    path = Path(requirements)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror}.", hint="Check the path.") from None
    found: list[Pin] = []
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        match = _PIN.match(text)
        if match is None:
            raise UsageError(f"{path.name}, line {number}: {text!r} is not pinned as name==version.",
                             hint="Pin every package, dependencies included (like a lock file), e.g. "
                                  "httpx==0.28.1.")
        found.append(Pin(match.group(1), match.group(2)))
    if not found:
        raise UsageError(f"{path} pins no package.", hint="Write one name==version per line.")
    return found


def _wheel_index(folder: Path) -> dict[tuple[str, str], Path]:
    index: dict[tuple[str, str], Path] = {}
    for wheel in folder.glob("*.whl"):
        try:
            name, version, _, _ = parse_wheel_filename(wheel.name)
        except ValueError:
            continue
        index[(str(name), str(version))] = wheel
    return index


def _lookup(index: Mapping[tuple[str, str], Path], pin: Pin) -> Path | None:
    from packaging.version import InvalidVersion, Version

    name, version = pin.key
    if (name, version) in index:
        return index[(name, version)]
    try:
        wanted = Version(version)
    except InvalidVersion:
        return None
    return next((path for (n, v), path in index.items() if n == name and Version(v) == wanted), None)


def _engine_arch() -> str:
    try:
        arch = str(engine.client().info().get("Architecture") or "")
    except PortsideError:
        arch = ""
    arch = arch or platform.machine()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)


def _batches(requirements: list[str]) -> list[list[str]]:
    """Split ``name==version`` strings into lists that name each package at most once."""
    batches: list[list[str]] = []
    for requirement in requirements:
        name = canonicalize_name(requirement.split("==", 1)[0])
        for batch in batches:
            if all(canonicalize_name(other.split("==", 1)[0]) != name for other in batch):
                batch.append(requirement)
                break
        else:
            batches.append([requirement])
    return batches


def ensure_wheels(requirements: Path | None = None) -> Path:
    """Make sure the wheel of every pin is in :func:`wheels_dir` (default: both of the app's pin sets).

    Missing wheels are downloaded from PyPI with pip, for CPython 3.11 on Linux and
    the engine's CPU (so it works from a Mac too), in hash-checking mode for every pin
    that :func:`hashes_file` lists; present ones are never re-downloaded, but each is
    checked against its pinned sha256. A wheel that does not match raises
    :class:`~portside.tools.verify.HashMismatch`. Returns :func:`wheels_dir`.
    """
    folder = wheels_dir()
    files = [requirements] if requirements is not None else [requirements_file(v) for v in VARIANTS]
    wanted = {str(pin): pin for file in files for pin in pins(file)}
    pinned = pinned_hashes()
    index = _wheel_index(folder)
    for pin in wanted.values():
        cached = _lookup(index, pin)
        if cached is not None:
            _check_cached(pin, cached, pinned)
    missing = sorted(text for text, pin in wanted.items() if _lookup(index, pin) is None)
    if missing:
        arch = _engine_arch()
        platform_args = ["--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
                         "--platform", f"manylinux2014_{arch}", "--platform", f"manylinux_2_28_{arch}"]
        hint = ("This needs PyPI once; check the machine can reach it (then everything works offline), and that "
                "each pinned version exists.")
        reviewed = [text for text in missing if _hashes_for(wanted[text], pinned)]
        for batch in _batches(reviewed):  # pip refuses two versions of one package in one call
            pip_download_all({text: sorted(_hashes_for(wanted[text], pinned)) for text in batch}, folder,
                             pip_args=platform_args, timeout=900, hint=hint, mismatch_hint=_CACHE_HINT)
        for batch in _batches([text for text in missing if text not in reviewed]):  # your own pins: not reviewed
            run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-input",
                 "--disable-pip-version-check", "--quiet", *platform_args, "--dest", str(folder), *batch],
                timeout=900, what="pip download (pyapp wheels)", hint=hint)
        index = _wheel_index(folder)
        still = [text for text in missing if _lookup(index, wanted[text]) is None]
        if still:
            raise SetupError(f"pip finished but no wheel was found for: {', '.join(still)}.",
                             hint="That release may have no wheel for Python 3.11 on Linux; pin another version.")
        for text in reviewed:  # pip checked them; check the files that are now in the cache once more
            wheel = _lookup(index, wanted[text])
            if wheel is not None:
                _check_cached(wanted[text], wheel, pinned)
    return folder


def _context(requirements: Path) -> io.BytesIO:
    """The build context as an in-memory tar: Dockerfile, app.py, requirements.txt and the pinned wheels.

    The ``requirements.txt`` sent is the pins of ``requirements`` with the ``--hash`` of each
    wheel (checked against :func:`hashes_file` where it lists the pin), so the ``pip
    install`` in the build runs in hash-checking mode too.
    """
    index = _wheel_index(wheels_dir())
    pinned = pinned_hashes()
    wheels: list[Path] = []
    lines = [f"# {requirements.name}, each pin with the sha256 of its wheel (written by portside.sample_app)"]
    for pin in pins(requirements):
        wheel = _lookup(index, pin)
        if wheel is None:
            raise SetupError(f"The wheel for {pin} is not in {wheels_dir()}.",
                             hint="Run `portside setup` (or portside.sample_app.ensure_wheels()) once while "
                                  "online.")
        wheels.append(wheel)
        lines.append(f"{pin} --hash=sha256:{_check_cached(pin, wheel, pinned)}")
    text = ("\n".join(lines) + "\n").encode("utf-8")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in ("Dockerfile", "app.py"):
            tar.add(app_dir() / name, arcname=name)
        info = tarfile.TarInfo("requirements.txt")
        info.size, info.mode, info.mtime = len(text), 0o644, int(requirements.stat().st_mtime)
        tar.addfile(info, io.BytesIO(text))
        for wheel in sorted(wheels):
            tar.add(wheel, arcname=f"wheels/{wheel.name}")
    buffer.seek(0)
    return buffer


def build(variant: Variant, tag: str | None = None, *, requirements: Path | None = None,
          labels: Mapping[str, str] | None = None) -> str:
    """Build pyapp with the ``variant``'s pins (or your own ``requirements`` file) as ``tag``; return the image id.

    Downloads missing wheels first (online, once). The build itself is BuildKit's
    (``docker buildx build --network none``, :func:`portside.engine.build.build`): its ``RUN`` steps
    have no network at all. The image carries the course labels (kind ``sample-app``) plus ``labels``.
    The id is the engine's: the manifest digest on the containerd image store, the config digest
    on the classic store. If ``tag`` named an older build of the course's, that one is removed
    (it would stay behind untagged otherwise).
    """
    require_base(BASE, for_what="pyapp")
    reqs = Path(requirements) if requirements is not None else requirements_file(variant)
    ensure_wheels(reqs)
    name = tag or f"pyapp:{variant}"
    all_labels = {**course_labels("sample-app", app="pyapp", variant=variant),
                  # the base stand-in's labels are inherited: say what this image is instead
                  STANDIN: "false",
                  "org.opencontainers.image.title": "pyapp",
                  "org.opencontainers.image.version": variant,
                  "org.opencontainers.image.vendor": "Portside course",
                  "org.opencontainers.image.source": "portside.lessons.sample_app (src/portside/lessons/apps/pyapp)",
                  "org.opencontainers.image.base.name": BASE,
                  "org.opencontainers.image.description": "The Portside course's demo app for scanning and signing",
                  **(labels or {})}
    before = _course_image_id(name)
    log: list[str] = []
    try:
        built = buildkit_build(_context(reqs).getvalue(), tag=name, labels=all_labels, network="none",
                               on_line=log.append)
    except BuildError as exc:  # pip's own words when a step failed, else BuildKit's
        tail = _log_tail(log)
        raise BuildError(f"Building {name} failed:\n{tail}" if tail else f"Building {name} failed: {exc.message}",
                         hint="Read pip's message above: usually a pin that does not fit another (bump the "
                              "dependencies together), or a wheel that is missing.") from None
    if before is not None and before != built.id:
        _drop_untagged(before)
    return built.id


def _course_image_id(name: str) -> str | None:
    """The id of the course-built image ``name`` names now, if any."""
    try:
        image = engine.client().images.get(name)
    except docker.errors.ImageNotFound:
        return None
    return str(image.id) if (image.labels or {}).get(COURSE) == "true" else None


def _drop_untagged(image_id: str) -> None:
    """Remove an earlier build whose tag moved to a new one, unless something still names or uses it."""
    cli = engine.client()
    try:
        if not engine.listed_tags(cli.api.inspect_image(image_id)):
            cli.images.remove(image_id, noprune=False)
    except docker.errors.APIError:  # gone already, or a container still uses it: leave it
        pass


#: BuildKit's plain log: ``#12 0.734 text`` is a step's output, ``#12 ERROR: …`` its failure
_STEP_OUTPUT = re.compile(r"^#(?P<n>\d+)(?: \d+\.\d+)?(?: (?P<text>.*))?$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_NOISE = ("Processing /wheels/", "INFO: pip is looking", "Looking in links", "[notice]")


def _log_tail(log: list[str], lines: int = 14) -> str:
    """The last lines the failing step printed (pip's own words), from BuildKit's plain log; "" if no step failed."""
    failed = next((m["n"] for m in map(_STEP_OUTPUT.match, reversed(log))
                   if m and (m["text"] or "").startswith("ERROR")), None)
    kept = []
    for line in log:
        match = _STEP_OUTPUT.match(_ANSI.sub("", line).strip())
        if match is None or match["n"] != failed:
            continue
        text = (match["text"] or "").strip()
        if text and not text.startswith(_NOISE) and not text.startswith(("[", "DONE", "CACHED", 'ERROR: process "')):
            kept.append(text)
    return "\n".join(kept[-lines:])


def remove(tag: str) -> None:
    """Remove the tag ``tag`` if it names an image the course built (anything else is left alone)."""
    cli = engine.client()
    try:
        image = cli.images.get(tag)
    except docker.errors.ImageNotFound:
        return
    if (image.labels or {}).get(COURSE) == "true":
        try:
            cli.images.remove(tag, noprune=False)
        except docker.errors.NotFound:
            pass

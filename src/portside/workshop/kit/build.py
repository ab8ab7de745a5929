"""``portside kit build OUT``: everything a learner's machine needs for the course, in one folder (or tarball).

The instructor runs it once, online or offline, on a machine like the learners' (the wheels and tools
are for its Python version, OS and CPU). It is written into a hidden folder beside ``OUT`` and renamed
only when complete, so a build that fails leaves no half kit. Each part is described in its module:
:mod:`.course`, :mod:`.wheels`, :mod:`.data` (Trivy's database, the demo app's wheels),
:mod:`.images`, :mod:`.tools`; :mod:`.manifest` lists every file with its sha256 and size and
:mod:`.bootstrap` writes ``install.sh``.
"""

from __future__ import annotations

import platform
import shutil
import sys
import tarfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path

from portside.base.paths import project_root, state_dir
from portside.engine.daemon import info
from portside.errors import SetupError, UsageError
from portside.setup.images import CATALOGUE, offline_from_env
from portside.workshop.kit import bootstrap, course, data, images, tools, wheels
from portside.workshop.kit.manifest import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    Built,
    ImageEntry,
    Manifest,
    hash_files,
    read,
    write,
)

__all__ = ["BuildResult", "build"]

Say = Callable[[str], object]


@dataclass(frozen=True)
class BuildResult:
    kit: Path
    tarball: Path | None
    manifest: Manifest
    seconds: float
    #: seconds per step, in order
    steps: dict[str, float] = field(default_factory=dict)


def _prepare(out: Path) -> Path:
    """The hidden folder the kit is written into (beside ``out``); refuses an ``out`` that is not a kit."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a folder.", hint="Give a new folder's path for the kit.")
    if out.is_dir() and any(out.iterdir()):
        try:
            read(out)
        except SetupError:
            raise UsageError(f"{out} is not empty and not a Portside kit; the kit will not be written over it.",
                             hint="Give a new (or empty) folder, or an earlier kit's folder to replace it.") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    work = out.parent / f".{out.name}.partial"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    return work


def _portside() -> str:
    try:
        return f"portside {package_version('portside')}"
    except PackageNotFoundError:
        return "portside (from source)"


def _engine() -> str:
    found = info()
    return f"Docker {found.server_version} (API {found.api_version}), {found.image_store} image store"


def _tar(kit: Path, files: Iterable[str], tarball: Path) -> None:
    """``kit`` as one uncompressed tar (its layers and binaries hardly compress), its folder name at the top."""
    partial = tarball.with_name(f".{tarball.name}.partial")

    def owned_by_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
        for rel in sorted([MANIFEST, "SHA256SUMS", *files]):
            tar.add(kit / rel, arcname=f"{kit.name}/{rel}", recursive=False, filter=owned_by_root)
    partial.replace(tarball)


def _inside_output(path: Path, out: Path) -> bool:
    """``path`` is (in) the kit being built, its partial folder or its tarball (a kit built inside the checkout)."""
    for own in (out, out.parent / f".{out.name}.partial"):
        if path.is_relative_to(own):
            return True
    return path == out.with_name(out.name + ".tar")


def build(out: Path, *, course_root: Path | None = None, image_names: Iterable[str] | None = None,
          wheel_source: Path | None = None, offline: bool | None = None, tar: bool = False,
          say: Say = print) -> BuildResult:
    """Build the kit into the folder ``out`` (and ``out``.tar with ``tar``); see the module docstring.

    ``image_names``: the images to carry (default: the course images, :data:`~portside.setup.images.CATALOGUE`);
    ``wheel_source``: a wheel folder to take the Python packages from instead of PyPI and the cache;
    ``offline`` (default: ``PORTSIDE_OFFLINE``): no download at all, the state folder's caches must have it.
    """
    began = time.monotonic()
    out = out.absolute()
    root = (course_root or project_root() or Path.cwd()).absolute()
    offline = offline_from_env() if offline is None else offline
    names = list(CATALOGUE) if image_names is None else list(dict.fromkeys(image_names))
    steps: dict[str, float] = {}

    @contextmanager
    def step(name: str) -> Iterator[None]:
        start = time.monotonic()
        yield
        steps[name] = time.monotonic() - start

    files = [rel for rel in course.course_files(root)  # fails first, and fast, outside a course folder
             if not _inside_output(root / rel, out)]
    work = _prepare(out)
    try:
        with step("course"):
            for rel in files:
                target = work / course.FOLDER / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(root / rel, target)
            say(f"course: {len(files)} files from {root}")
        with step("wheels"):
            wanted = wheels.requirements(root)
            target_python = wheels.gather(wanted, work / wheels.FOLDER, cache=state_dir(*wheels.CACHE),
                                          source=wheel_source, offline=offline, say=say)
            (work / wheels.LOCK).write_text(wheels.lock_text(work / wheels.FOLDER), encoding="utf-8")
            say(f"wheels: {sum(1 for _ in (work / wheels.FOLDER).iterdir())} files for {target_python.describe()}")
        with step("app-wheels"):
            data.collect_app_wheels(work, say=say)
        with step("images"):
            saved: list[ImageEntry] = []
            for name in names:
                entry = images.save(name, work)
                saved.append(entry)
                say(f"image: {name} {entry.id} ({(work / entry.file).stat().st_size / 1e6:.0f} MB"
                    f"{', a stand-in' if entry.standin else ''})")
        with step("tools"):
            carried = tools.collect(state_dir("tools"), work, say=say)
        with step("trivy-db"):
            data.collect_trivy_db(work, say=say)
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        (work / bootstrap.SCRIPT).write_text(bootstrap.script(target_python, stamp), encoding="utf-8")
        (work / bootstrap.SCRIPT).chmod(0o755)
        with step("manifest"):
            built = Built(at=stamp, by=_portside(), course_commit=course.commit(root),
                          python=f"{platform.python_implementation()} {platform.python_version()}",
                          machine=f"{sys.platform} {platform.machine()}", engine=_engine())
            manifest = Manifest(format=FORMAT, format_version=FORMAT_VERSION, built=built, python=target_python,
                                images=saved, tools=carried, files=hash_files(work))
            write(work, manifest)
        if out.exists():
            shutil.rmtree(out)
        work.rename(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    tarball = None
    if tar:
        with step("tar"):
            tarball = out.with_name(out.name + ".tar")
            _tar(out, manifest.files, tarball)
            say(f"tar: {tarball} ({tarball.stat().st_size / 1e6:.0f} MB)")
    return BuildResult(out, tarball, manifest, time.monotonic() - began, steps)

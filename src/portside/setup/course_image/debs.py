"""The Debian packages the course image adds to its base: what the lessons run (git, make, curl) and tini.

A build has no network, so ``apt-get install`` cannot run inside it. Instead the harness asks apt, on this
machine, what installing :data:`PACKAGES` *into the base image* takes: apt reads the base's own package
database (``/var/lib/dpkg/status``, copied out of the image without running it) and Debian's signed indexes
for the base's suite (``VERSION_CODENAME`` of its ``/etc/os-release``), in the course's private apt state
(:mod:`portside.base.debian`), so only the packages the base lacks are fetched. ``apt-get download`` checks
each ``.deb`` against the signed index, as apt always does; the build then installs them with ``dpkg -i``.
"""

from __future__ import annotations

import io
import posixpath
import re
import shutil
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.errors

from portside.base import debian
from portside.base.labels import course_labels
from portside.base.paths import run_dir, state_dir
from portside.base.proc import run
from portside.engine.daemon import client
from portside.errors import SetupError, engine_error
from portside.tools.verify import sha256_file

__all__ = ["PACKAGES", "Deb", "base_facts", "fetch"]

#: what the image adds: git (lessons 02 and 07 commit), make (``make setup``, the dev container's post-create
#: command), curl (lessons call registry APIs with it), tini (PID 1: reaps JupyterLab's kernels, passes signals)
PACKAGES = ("git", "make", "curl", "tini")

Say = Callable[[str], object]
_INST = re.compile(r"^Inst (?P<name>\S+) (?:\[\S+\] )?\((?P<version>\S+) .*\[(?P<arch>[^\]]+)\]\)")


@dataclass(frozen=True)
class Deb:
    """One ``.deb`` for the image: the package, its version, the file and its sha256."""

    package: str
    version: str
    path: Path
    sha256: str


def _read(container: Any, path: str) -> bytes:
    stream, _ = container.get_archive(path)
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.next()
        if member is not None and member.issym():  # /etc/os-release is a link to ../usr/lib/os-release
            return _read(container, posixpath.normpath(posixpath.join(posixpath.dirname(path), member.linkname)))
        handle = tar.extractfile(member) if member is not None else None
        if handle is None:
            raise SetupError(f"{path} in the base image is not a file.")
        return handle.read()


def base_facts(image: str) -> tuple[str, bytes]:
    """``(Debian suite, dpkg status file)`` of ``image``, read from a container that is created, never started."""
    cli = client()
    try:
        container = cli.containers.create(image, command=["true"], labels=course_labels("course-image-probe"))
    except docker.errors.APIError as exc:
        raise engine_error(exc, "Creating a container of", image) from None
    try:
        release = _read(container, "/etc/os-release").decode("utf-8", "replace")
        status = _read(container, "/var/lib/dpkg/status")
    except docker.errors.NotFound:
        raise SetupError(f"{image} is not a Debian image (no /etc/os-release or dpkg database).",
                         hint="The course image's base must be Debian-based, like python:3.11-slim-bookworm.") from None
    finally:
        container.remove(force=True)
    found = re.search(r"^VERSION_CODENAME=\"?([a-z]+)\"?$", release, re.MULTILINE)
    if found is None:
        raise SetupError(f"{image}'s /etc/os-release names no Debian release (VERSION_CODENAME).")
    return found.group(1), status


def fetch(image: str, dest: Path, *, packages: tuple[str, ...] = PACKAGES, say: Say = print) -> list[Deb]:
    """Put into ``dest`` (emptied first) the ``.deb`` files that installing ``packages`` into ``image`` takes."""
    suite, status = base_facts(image)
    work = run_dir("build", "course-image-apt")
    (work / "status").write_bytes(status)
    archives = state_dir("debs", "course-image", suite)
    (archives / "partial").mkdir(exist_ok=True)
    # the course's private apt state for that suite (signed indexes only), reading the base's package database
    options = debian.apt_options(suite, places={"Dir::State::status": work / "status",
                                                "Dir::Cache::archives": archives})
    plan = run(["apt-get", *options, "install", "--simulate", "--no-install-recommends", *packages], timeout=300,
               what=f"apt-get install --simulate {' '.join(packages)} (into the base's package set)",
               hint=f"Check that Debian {suite}'s archive is reachable (see /etc/apt on this machine).")
    wanted = [(m["name"], m["version"], m["arch"]) for m in map(_INST.match, plan.stdout.splitlines()) if m]
    if wanted:
        run(["apt-get", *options, "install", "--download-only", "--yes", "--no-install-recommends", *packages],
            timeout=900, what=f"apt-get install --download-only {' '.join(packages)} (Debian {suite})")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    debs = []
    for name, version, arch in wanted:
        filename = f"{name}_{version.replace(':', '%3a')}_{arch}.deb"
        source = archives / filename
        if not source.is_file():
            raise SetupError(f"apt reported {filename} downloaded, but it is not in {archives}.",
                             hint=f"Delete {archives} and build again.")
        target = dest / filename
        shutil.copy2(source, target)
        debs.append(Deb(name, version, target, sha256_file(target)))
    say(f"debs: {len(debs)} Debian {suite} packages for {', '.join(packages)}")
    return debs

"""The course image's build context: everything the Dockerfile copies, gathered here, each file accounted for.

A build has no network (``--network none``), so the harness brings everything in::

    Dockerfile          images/course/Dockerfile of the checkout
    course/             the checkout's files (``git ls-files``: tracked and new, not ignored), installed editable
    wheels/             the Python packages and their hash lock (:mod:`.wheels`)
    debs/               the Debian packages the base lacks (:mod:`.debs`)
    tools/              cosign, crane, oras, syft, trivy: the course's own copies (``<state>/tools``), laid out as
                        there (Debian's changelog beside crane and oras tells their version), each with its install
                        record; ``bin/`` links to them
    docker/             the docker CLI and its buildx plugin (the course engine's, from Debian's packages)
    pyapp-wheels/       the demo app's pinned wheels (lessons 04–07 build it with no network)
    PROVENANCE.json     where each tool, package and wheel came from, with its sha256 (copied into the image)

A tool binary must match its install record (or, for one installed before records were kept, a course pin:
:func:`portside.tools.provenance.check_binary`); anything else is refused, so the image carries nothing whose
origin is unknown.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from portside.base.paths import state_dir
from portside.base.proc import run
from portside.engine import provided
from portside.errors import SetupError
from portside.setup.engine import PACKAGES as ENGINE_PACKAGES
from portside.tools import TOOLS, bin_dir, version_of
from portside.tools.provenance import check_binary
from portside.tools.verify import sha256_file

__all__ = ["PROVENANCE", "course_files", "docker_cli", "tools"]

PROVENANCE = "PROVENANCE.json"
Say = Callable[[str], object]
#: never part of the course copy, whatever git says (state, virtual environments, caches)
_SKIP = {".git", ".venv", ".portside", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__", "build", "dist",
         ".ipynb_checkpoints"}
_DOCS = ("changelog.Debian.gz", "copyright")


def _place(source: Path, target: Path) -> None:
    """``target`` becomes a copy of ``source`` (a hard link when both are on one file system: no bytes copied)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _listed(root: Path) -> list[str]:
    """The checkout's files as git sees them (tracked or new, not ignored); every file but :data:`_SKIP` without git."""
    if (root / ".git").exists() and shutil.which("git"):
        done = run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                   timeout=60, check=False)
        if done.ok:
            return sorted({name for name in done.stdout.split("\0") if name})
    return sorted(str(path.relative_to(root)) for path in root.rglob("*")
                  if path.is_file() and not _SKIP & set(path.relative_to(root).parts))


def course_files(root: Path, dest: Path) -> int:
    """Copy the checkout ``root`` into ``dest`` (emptied first): the image's course folder. Returns the file count."""
    if dest.exists():
        shutil.rmtree(dest)
    count = 0
    for name in _listed(root):
        source = root / name
        if _SKIP & set(Path(name).parts) or not source.is_file() or source.is_symlink():
            continue  # deleted but still tracked, a folder, or a link out of the tree
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)  # a copy: the checkout's files must not change under a running build
        count += 1
    return count


def tools(dest: Path, *, say: Say = print) -> dict[str, Any]:
    """Lay the course's own tools out in ``dest`` (emptied first) as in ``<state>/tools``; return their records."""
    base = state_dir("tools").resolve()
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "bin").mkdir(parents=True)
    records: dict[str, Any] = {}
    for name, tool in TOOLS.items():
        link = bin_dir() / name
        binary = link.resolve()
        if not link.exists() or not binary.is_relative_to(base):
            raise SetupError(f"{name} is not in the course tools folder {bin_dir()}; the image carries the course's "
                             "own copies, whose origin is recorded (not a copy on PATH).",
                             hint="Run `portside tools ensure` (with any copy on PATH moved out of the way).")
        version = version_of(name, binary)
        if not tool.accepts(version):
            raise SetupError(f"The course's {name} ({binary}) reports version {version}, not {tool.requirement}.",
                             hint="Run `portside tools ensure`.")
        record = check_binary(name, binary, carrier="the course image", by="portside images course").record
        rel = binary.relative_to(base)
        _place(binary, dest / rel)
        (dest / rel.with_name(rel.name + ".provenance.json")).write_text(json.dumps(record, indent=2) + "\n",
                                                                         encoding="utf-8")
        package = str((record.get("origin") or {}).get("package") or tool.package)
        for doc in _DOCS:  # crane's and oras's version is read from Debian's changelog beside the binary
            found = binary.parent.parent / "share" / "doc" / package / doc
            if found.is_file():
                _place(found, dest / found.resolve().relative_to(base))
        (dest / "bin" / name).symlink_to(os.path.relpath(dest / rel, dest / "bin"))
        records[name] = {"version": version, **record}
        say(f"tool: {name} {version}")
    return records


def _engine_package(binary: Path, package: str) -> dict[str, Any]:
    """Where the course engine's ``binary`` came from: its Debian package, version and pinned ``.deb`` sha256."""
    root = provided.engine_root().resolve()
    if not binary.is_relative_to(root):
        return {"kind": "this machine", "path": str(binary), "checked": ["sha256 recorded at build time"]}
    done = run(["dpkg-query", f"--admindir={root / 'var' / 'lib' / 'dpkg'}", "-W", "-f=${Version}", package],
               timeout=30, check=False)
    version = done.stdout.strip() if done.ok else ""
    pins = [pin for pin in ENGINE_PACKAGES if pin.package == package]
    origin: dict[str, Any] = {"kind": "debian", "suite": "forky", "package": package, "version": version}
    if pins and pins[0].version == version:
        origin.update(file=f"{package}_{version}_amd64.deb", sha256=pins[0].sha256,
                      checked=["Debian's signed index (mmdebstrap)", "the course pin"])
    return origin


def docker_cli(dest: Path) -> dict[str, Any]:
    """Copy the docker CLI and its buildx plugin into ``dest``; return where each came from."""
    cli = Path(provided.docker_cli())
    cli = cli if cli.is_absolute() else Path(shutil.which(str(cli)) or cli)
    plugin = provided.buildx_plugin()
    if not cli.is_file() or plugin is None:
        raise SetupError("The docker CLI or its buildx plugin was not found, so the image could not carry them.",
                         hint="Run `make setup` as root (the course's own engine brings both), or install "
                              "Docker's CLI and buildx plugin.")
    if dest.exists():
        shutil.rmtree(dest)
    records: dict[str, Any] = {}
    for name, binary, package in (("docker", cli.resolve(), "docker-cli"),
                                  ("docker-buildx", plugin.resolve(), "docker-buildx")):
        with open(binary, "rb") as handle:
            if handle.read(4) != b"\x7fELF":
                raise SetupError(f"{binary} is not a Linux program, so it cannot run in the course image.",
                                 hint="Build the course image on Linux, with Docker's Linux CLI.")
        _place(binary, dest / name)
        records[name] = {"origin": _engine_package(binary, package),
                         "binary": {"file": name, "sha256": sha256_file(binary)}}
    return records

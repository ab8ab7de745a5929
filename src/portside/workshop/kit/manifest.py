"""The kit's ``manifest.json``: its format version, what built it, what it holds, and the sha256 + size of every file.

A kit is one folder::

    manifest.json        this file (the only one it does not list, with SHA256SUMS)
    SHA256SUMS           the same hashes in ``sha256sum`` format, for a machine with no Portside yet
    install.sh           the bootstrap for such a machine (see :mod:`.bootstrap`)
    requirements.txt     every Python package of the course, ``name==version --hash=sha256:…`` (pip's lock)
    wheels/              those packages' files
    app-wheels/          the demo app's wheels (lessons 04-05 build it from them, offline)
    course/              the course: notebooks, labs, the harness's source…
    images/              one ``docker save`` archive per course image
    tools/               cosign, crane, oras, syft, trivy, each with its install record
    trivy-db/            Trivy's vulnerability database, built from the course's advisories

:func:`verify` is the first thing an install does: every listed file must be there with its size and
sha256, and nothing else may be (a stray wheel would be one pip could pick). The hashes prove the kit
arrived as it was built; they do not prove who built it (whoever can change a file can rewrite this one).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from portside.errors import HashMismatch, SetupError

__all__ = ["FORMAT", "FORMAT_VERSION", "MANIFEST", "PARTS", "SUMS", "Built", "FileEntry", "ImageEntry", "Manifest",
           "PythonTarget", "ToolEntry", "hash_files", "read", "sha256_of", "sums_text", "verify", "write"]

#: what ``format`` says in every Portside kit's manifest
FORMAT = "portside-kit"
#: bumped whenever a kit built by this code could not be installed by older code (or the other way round)
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
#: the kit's top-level folders, in the order sizes are reported
PARTS = ("course", "wheels", "app-wheels", "images", "tools", "trivy-db")

_CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int


@dataclass(frozen=True)
class Built:
    """When and with what the kit was built."""

    at: str                 #: UTC, ``2026-12-01T20:15:02Z``
    by: str                 #: ``portside 0.1.0``
    course_commit: str      #: the checkout's commit (``… + uncommitted changes``), or ``""`` without git
    python: str             #: ``CPython 3.11.7``
    machine: str            #: ``linux x86_64``
    engine: str             #: ``Docker 28.5.2, containerd image store``


@dataclass(frozen=True)
class PythonTarget:
    """The interpreter the wheels were resolved for: a learner's must be the same (the wheels are binary)."""

    implementation: str     #: ``cpython``
    version: str            #: ``3.11``
    platform: str           #: ``linux-x86_64`` (``sysconfig.get_platform()``)
    requirements: list[str] = field(default_factory=list)   #: what was asked for (the lock has the rest)

    def describe(self) -> str:
        name = {"cpython": "CPython"}.get(self.implementation, self.implementation)
        return f"{name} {self.version} on {self.platform}"


@dataclass(frozen=True)
class ImageEntry:
    """One course image: its archive and the digests that identify it."""

    name: str               #: ``busybox:1.35``
    file: str               #: ``images/busybox_1.35.tar``
    id: str                 #: the engine's image id when saved
    store: str              #: the image store it was saved from: ``containerd`` or ``classic``
    config_digest: str      #: the image config's digest (the classic store's id)
    manifest_digest: str | None   #: the manifest (or index) digest in the archive's ``index.json``, if it has one
    standin: bool           #: a stand-in built from Debian packages (see ``portside images status``)

    def digests(self) -> set[str]:
        """Every digest that names this image on one store or the other."""
        return {self.id, self.config_digest, *([self.manifest_digest] if self.manifest_digest else [])}


@dataclass(frozen=True)
class ToolEntry:
    """One tool: its binary, the install record beside it, and the other files a version check reads."""

    name: str
    version: str
    binary: str             #: kit path, mirroring ``<state>/tools/…``: ``tools/debian/cosign_…/usr/bin/cosign``
    record: str             #: ``<binary>.provenance.json``
    sha256: str             #: of the binary (also in ``files``; repeated here to compare with the record)
    reviewed: bool          #: byte-for-byte a binary the course pinned (:mod:`portside.tools.pins`)
    extra: list[str] = field(default_factory=list)   #: e.g. the Debian changelog that says crane's version


@dataclass(frozen=True)
class Manifest:
    format: str
    format_version: int
    built: Built
    python: PythonTarget
    images: list[ImageEntry]
    tools: list[ToolEntry]
    files: dict[str, FileEntry]

    def size_of(self, part: str) -> int:
        """The bytes of one top-level part (``images``, ``wheels``…), or of one top-level file."""
        return sum(entry.size for path, entry in self.files.items()
                   if path == part or path.startswith(part + "/"))

    @property
    def total_size(self) -> int:
        return sum(entry.size for entry in self.files.values())

    def sizes(self) -> dict[str, int]:
        """Bytes per part (:data:`PARTS`), then ``other`` (install.sh, requirements.txt)."""
        sizes = {part: self.size_of(part) for part in PARTS}
        sizes["other"] = self.total_size - sum(sizes.values())
        return sizes

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["files"] = {path: asdict(entry) for path, entry in sorted(self.files.items())}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Manifest:
        """Parse a manifest; a missing or mistyped field raises ``KeyError``/``TypeError``/``ValueError``."""
        files = data["files"]
        if not isinstance(files, Mapping):
            raise TypeError("files is not an object")
        return cls(
            format=str(data["format"]), format_version=int(data["format_version"]),
            built=Built(**data["built"]), python=PythonTarget(**data["python"]),
            images=[ImageEntry(**entry) for entry in data["images"]],
            tools=[ToolEntry(**entry) for entry in data["tools"]],
            files={str(path): FileEntry(sha256=str(entry["sha256"]), size=int(entry["size"]))
                   for path, entry in files.items()},
        )


def _walk(kit: Path) -> Iterable[str]:
    """Every file under ``kit`` as a POSIX path relative to it (symlinks count as files: they are refused later)."""
    for folder, dirs, names in os.walk(kit):
        dirs.sort()
        for name in sorted(names):
            yield PurePosixPath(Path(folder, name).relative_to(kit)).as_posix()


def hash_files(kit: Path, *, say: Callable[[str], object] = lambda _: None) -> dict[str, FileEntry]:
    """sha256 and size of every file in ``kit`` except the manifest and SHA256SUMS."""
    entries: dict[str, FileEntry] = {}
    for rel in _walk(kit):
        if rel in (MANIFEST, SUMS):
            continue
        path = kit / rel
        if path.is_symlink():
            raise SetupError(f"{path} is a symbolic link; a kit holds plain files only.",
                             hint="Replace it with the file it points at, or leave it out.")
        entries[rel] = FileEntry(sha256_of(path), path.stat().st_size)
    say(f"hashed {len(entries)} files")
    return entries


def sums_text(files: Mapping[str, FileEntry]) -> str:
    """``SHA256SUMS``: one ``<sha256>  <path>`` line per file, as ``sha256sum -c`` reads it."""
    return "".join(f"{entry.sha256}  {path}\n" for path, entry in sorted(files.items()))


def write(kit: Path, manifest: Manifest) -> Path:
    """Write ``manifest.json`` and ``SHA256SUMS`` into ``kit``."""
    (kit / SUMS).write_text(sums_text(manifest.files), encoding="utf-8")
    target = kit / MANIFEST
    target.write_text(json.dumps(manifest.as_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def read(kit: Path) -> Manifest:
    """The manifest of the kit in ``kit``; refuses a missing, unreadable or other-format one, naming it."""
    path = kit / MANIFEST
    if not kit.is_dir():
        raise SetupError(f"{kit} is not a folder, so it is not a Portside kit.",
                         hint="Give the kit's folder; unpack a kit tarball first (`tar xf portside-kit.tar`).")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SetupError(f"{kit} has no {MANIFEST}, so it is not a Portside kit (or it was not copied whole).",
                         hint="Copy the whole kit folder again; the instructor builds one with `portside kit build`."
                         ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SetupError(f"{path} cannot be read: {exc}.", hint="Copy the kit again.") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SetupError(f"{path} is not a Portside kit manifest (its format is "
                         f"{data.get('format') if isinstance(data, dict) else None!r}, not {FORMAT!r}).",
                         hint="Give the folder `portside kit build` wrote.")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        raise SetupError(
            f"{kit} is a kit of format version {version}; this Portside reads format version {FORMAT_VERSION}.",
            hint=("Install it with the course version that built it (`sh install.sh` inside the kit does), or ask "
                  "for a kit built with this course version." if newer else
                  "Ask the instructor for a kit built with this course version (`portside kit build`)."))
    try:
        return Manifest.from_json(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise SetupError(f"{path} is damaged: a field is missing or of the wrong kind ({exc!r}).",
                         hint="Copy the kit again, or build it again.") from None


def _listing(paths: list[str], limit: int = 5) -> str:
    shown = ", ".join(paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def verify(kit: Path, *, say: Callable[[str], object] = lambda _: None) -> Manifest:
    """Check every file of the kit against its manifest; return the manifest.

    Raises :class:`~portside.errors.SetupError` for a missing file or a file the manifest does not list, and
    :class:`~portside.errors.HashMismatch` for a file whose size or sha256 differs, each naming the files.
    """
    manifest = read(kit)
    present = {rel for rel in _walk(kit) if rel not in (MANIFEST, SUMS)}
    missing = sorted(set(manifest.files) - present)
    if missing:
        raise SetupError(f"The kit in {kit} is incomplete: {_listing(missing)} "
                         f"{'is' if len(missing) == 1 else 'are'} missing.",
                         hint="Copy the whole kit folder again (or unpack the tarball again).")
    extra = sorted(present - set(manifest.files))
    if extra:
        raise SetupError(f"The kit in {kit} holds {len(extra)} file(s) its manifest does not list: {_listing(extra)}.",
                         hint="Something added them after the kit was built; delete them, or copy the kit again.")
    changed: list[str] = []
    for rel, entry in sorted(manifest.files.items()):
        path = kit / rel
        if path.is_symlink():
            changed.append(f"{rel} (now a symbolic link)")
            continue
        size = path.stat().st_size
        if size != entry.size:
            changed.append(f"{rel} ({size} bytes, the manifest says {entry.size})")
            continue
        actual = sha256_of(path)
        if actual != entry.sha256:
            changed.append(f"{rel} (sha256:{actual[:12]}…, the manifest says sha256:{entry.sha256[:12]}…)")
    if changed:
        raise HashMismatch(
            f"The kit in {kit} does not match its manifest: {'; '.join(changed[:5])}"
            + (f"; and {len(changed) - 5} more" if len(changed) > 5 else "") + ".",
            hint="Do not install from it: the file changed after the kit was built (a bad copy, or someone edited "
                 "it). Copy the kit again from the instructor's original.")
    say(f"✔ all {len(manifest.files)} files match the manifest ({manifest.total_size / 1e6:.0f} MB)")
    return manifest

"""Open an image the way anyone who can pull it can: save it, read its layer tars, find files — deleted ones too.

An image is a stack of layers. Each layer is a tar archive of the files one build step
added or changed; a file a later step deletes is not removed from the earlier layer,
the later layer only carries a *whiteout* entry (``.wh.NAME``) that hides it from the
container's file system. :func:`save` writes an image to a tar file (``docker save``),
and :class:`SavedImage` reads it back:

>>> saved = SavedImage(save("portside-leaky:bad", tmp / "image.tar"))   # doctest: +SKIP
>>> saved.exists("root/.aws/credentials")        # hidden in the final file system
False
>>> [found.layer.index for found in saved.find("root/.aws/credentials")]   # but still in layer 3
[3]

Two archive layouts are read:

* the **docker save** layout of Docker Engine up to 24: ``manifest.json`` names the
  config and one ``<id>/layer.tar`` per layer;
* the **OCI image layout** (``oci-layout``, ``index.json``, ``blobs/sha256/…``), which
  ``docker save`` writes from Engine 25 on (with a ``manifest.json`` beside it) and
  tools such as skopeo write without one. Layer blobs may be gzip-compressed there.

What the layer blobs are depends on the engine's image store: the classic store keeps
layers unpacked and saves each as a plain tar (its sha256 is the layer's diff id);
the containerd image store saves the blobs as it holds them, named by the digest its
manifest lists: gzip for what it built or pulled (the bytes a push sends), plain for
layers it got from a plain ``docker load``. Both are read the same way. In an
index, attestation manifests (``unknown/unknown``) and manifests whose blob is not
in the archive (platforms the engine does not hold) are passed over.

Nothing is unpacked to disk and no member is extracted by its own name, so a hostile
archive cannot write outside anything: files are read into memory one at a time.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

import docker.errors
import requests.exceptions

from portside import engine
from portside.errors import EngineError, ImageUnavailable, UsageError, engine_error

if TYPE_CHECKING:
    from portside.oci.registry_client import RegistryClient

__all__ = ["FileInLayer", "Layer", "SavedImage", "fetch_oci", "instruction", "save"]

Layout = Literal["docker-save", "oci"]

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"

_NOP = re.compile(r"^/bin/sh -c #\(nop\)\s*")
_SHELL = re.compile(r"^(?:\|\d+ .*?)?/bin/sh -c ")
_FILE_HASH = re.compile(r"\b(file|dir|multi):[0-9a-f]{64}")


def instruction(created_by: str) -> str:
    """The Dockerfile instruction behind a history entry, short and free of content hashes.

    ``/bin/sh -c #(nop) COPY file:3f…c1 in /etc/app.conf`` → ``COPY file in /etc/app.conf``;
    ``/bin/sh -c rm /tmp/x`` → ``RUN rm /tmp/x``; BuildKit's ``RUN /bin/sh -c … # buildkit``
    loses its marker.
    """
    text = created_by.strip().removesuffix("# buildkit").strip()
    if _NOP.match(text):
        text = _NOP.sub("", text)
    elif _SHELL.match(text):
        text = "RUN " + _SHELL.sub("", text)
    return _FILE_HASH.sub(r"\1", text).strip() or "(no instruction recorded)"


def _normal(path: str) -> str:
    """``./root/x``, ``/root/x`` and ``root/x/`` all become ``root/x``."""
    while path.startswith("./"):
        path = path[2:]
    return str(PurePosixPath("/", path)).lstrip("/")


@dataclass(frozen=True)
class Layer:
    """One layer of a saved image.

    ``index`` counts from 1 (the base image's first layer). ``instruction`` is the build
    step that made it (from the image's history). ``files`` are the paths it adds or
    changes (directories left out), ``deleted`` the paths its whiteouts hide, and
    ``opaque`` the directories whose earlier contents it hides completely.
    """

    index: int
    diff_id: str
    instruction: str
    files: tuple[str, ...]
    deleted: tuple[str, ...]
    opaque: tuple[str, ...]
    member: str  # where the layer's tar sits inside the saved archive

    def __str__(self) -> str:
        change = f"{len(self.files)} file(s)"
        if self.deleted:
            change += f", deletes {', '.join(self.deleted)}"
        return f"layer {self.index}: {self.instruction} — {change}"


@dataclass(frozen=True)
class FileInLayer:
    """A file found in a layer: which layer, where, and its bytes (treat them as a secret)."""

    layer: Layer
    path: str
    data: bytes

    def __repr__(self) -> str:  # never shows the content
        return f"FileInLayer(layer={self.layer.index}, path={self.path!r}, size={len(self.data)})"


def save(image: str, dest: str | Path) -> Path:
    """``docker save IMAGE -o DEST`` through docker-py; returns ``dest``."""
    dest = Path(dest)
    cli = engine.client()
    try:
        found = cli.images.get(image)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with dest.open("wb") as out:
            for chunk in found.save(named=image if image in found.tags else False):
                out.write(chunk)
    except docker.errors.ImageNotFound:
        raise ImageUnavailable(f"Cannot save {image}: there is no local image with that name.",
                               hint="Build or pull it first; `docker image ls` lists what is here.") from None
    except (docker.errors.APIError, requests.exceptions.RequestException) as exc:
        dest.unlink(missing_ok=True)
        raise engine_error(exc, "Saving", image, instead={"other": EngineError(f"Saving {image} failed: {exc}")}) \
            from None
    return dest


def _is_attestation(descriptor: dict[str, Any]) -> bool:
    """BuildKit's provenance/SBOM entries of an index: ``unknown/unknown`` platform, marked by an annotation."""
    annotations = descriptor.get("annotations") or {}
    platform = descriptor.get("platform") or {}
    return annotations.get("vnd.docker.reference.type") == "attestation-manifest" or \
        (platform.get("os"), platform.get("architecture")) == ("unknown", "unknown")


def _first_image(descriptors: list[dict[str, Any]], present: Callable[[str], bool]) -> str:
    """The digest of an index's first entry that is an image (or index) and whose blob is ``present``."""
    for descriptor in descriptors:
        if not _is_attestation(descriptor) and present(str(descriptor["digest"])):
            return str(descriptor["digest"])
    raise ValueError(f"its index lists no image this archive holds ({len(descriptors)} entries, "
                     "attestations and missing platforms left out)")


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    tar.addfile(info, io.BytesIO(data))


def fetch_oci(client: RegistryClient, repository: str, reference: str, dest: str | Path) -> Path:
    """Download ``repository:reference`` straight from a registry into an OCI image layout tar — no engine.

    Pulling is all it takes to read every layer: this is what anyone with read access
    to the repository can do. Layers stay as the registry stores them (gzip).
    """
    dest = Path(dest)
    manifest = client.manifest(repository, reference)
    body = manifest.json()
    if "manifests" in body:  # a multi-platform index: take its first image (not an attestation)
        manifest = client.manifest(repository, _first_image(body["manifests"], lambda _digest: True))
        body = manifest.json()
    blobs = [body["config"]["digest"], *(layer["digest"] for layer in body["layers"])]
    index = {"schemaVersion": 2, "manifests": [
        {"mediaType": manifest.media_type, "digest": manifest.digest, "size": len(manifest.raw)}]}
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest, "w") as tar:
        _add(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        _add(tar, "index.json", json.dumps(index).encode())
        _add(tar, SavedImage._blob(manifest.digest), manifest.raw)
        for digest in blobs:
            _add(tar, SavedImage._blob(digest), client.blob(repository, digest))
    return dest


class SavedImage:
    """A saved image archive (``docker save`` or OCI layout), read without unpacking it."""

    def __init__(self, archive: str | Path) -> None:
        self.archive = Path(archive)
        try:
            with tarfile.open(self.archive, "r:") as outer:
                self.layout, self.config, members = self._read_index(outer)
                self.layers = self._read_layers(outer, members)
        except (tarfile.TarError, OSError, KeyError, ValueError) as exc:
            raise UsageError(f"{self.archive.name} is not a readable image archive: {exc}",
                             hint="Make it with `docker save IMAGE -o FILE` "
                                  "(or portside.engine.layers.save).") from None

    # -- reading the archive -------------------------------------------------------------------------
    @staticmethod
    def _json(outer: tarfile.TarFile, name: str) -> Any:
        member = outer.extractfile(name)
        if member is None:
            raise KeyError(name)
        return json.loads(member.read())

    @staticmethod
    def _blob(digest: str) -> str:
        algorithm, _, hexdigest = digest.partition(":")
        return f"blobs/{algorithm}/{hexdigest}"

    def _read_index(self, outer: tarfile.TarFile) -> tuple[Layout, dict[str, Any], list[str]]:
        """The layout, the image config, and the archive members holding the layers (base first)."""
        names = set(outer.getnames())
        layout: Layout = "oci" if "oci-layout" in names else "docker-save"
        if "manifest.json" in names:
            entry = self._json(outer, "manifest.json")[0]
            return layout, self._json(outer, entry["Config"]), list(entry["Layers"])
        if layout != "oci":
            raise ValueError("it has neither manifest.json (docker save) nor oci-layout (OCI image layout)")
        manifest = self._json(outer, "index.json")
        while "manifests" in manifest:  # an index (maybe of indexes): take the first image the archive holds
            digest = _first_image(manifest["manifests"], lambda d: self._blob(d) in names)
            manifest = self._json(outer, self._blob(digest))
        config = self._json(outer, self._blob(manifest["config"]["digest"]))
        return layout, config, [self._blob(layer["digest"]) for layer in manifest["layers"]]

    def _read_layers(self, outer: tarfile.TarFile, members: list[str]) -> list[Layer]:
        history = [h for h in self.config.get("history") or [] if not h.get("empty_layer")]
        diff_ids = (self.config.get("rootfs") or {}).get("diff_ids") or []
        layers = []
        for number, member in enumerate(members, 1):
            files, deleted, opaque = [], [], []
            for entry in self._entries(outer, member):
                path = _normal(entry.name)
                folder, _, base = path.rpartition("/")
                if base == OPAQUE:
                    opaque.append(folder)
                elif base.startswith(WHITEOUT):
                    deleted.append(f"{folder}/{base[len(WHITEOUT):]}".lstrip("/"))
                elif not entry.isdir():
                    files.append(path)
            step = history[number - 1].get("created_by", "") if number <= len(history) else ""
            layers.append(Layer(number, diff_ids[number - 1] if number <= len(diff_ids) else "",
                                instruction(step), tuple(files), tuple(deleted), tuple(opaque), member))
        return layers

    @staticmethod
    def _entries(outer: tarfile.TarFile, member: str) -> Iterator[tarfile.TarInfo]:
        blob = outer.extractfile(member)
        if blob is None:
            raise KeyError(member)
        with tarfile.open(fileobj=blob, mode="r:*") as layer:  # plain or gzip (OCI blobs may be compressed)
            yield from layer

    # -- questions ---------------------------------------------------------------------------------------
    def find(self, path: str) -> list[FileInLayer]:
        """Every layer that holds a regular file at ``path``, with its bytes — deleted later or not."""
        wanted = _normal(path)
        found = []
        with tarfile.open(self.archive, "r:") as outer:
            for layer in self.layers:
                if wanted not in layer.files:
                    continue
                for entry in self._entries(outer, layer.member):
                    if _normal(entry.name) == wanted and entry.isfile():
                        data = self._read_member(outer, layer.member, entry.name)
                        found.append(FileInLayer(layer, wanted, data))
                        break
        return found

    def _read_member(self, outer: tarfile.TarFile, member: str, name: str) -> bytes:
        blob = outer.extractfile(member)
        if blob is None:
            raise KeyError(member)
        with tarfile.open(fileobj=blob, mode="r:*") as layer:
            handle = layer.extractfile(name)
            return handle.read() if handle is not None else b""

    def exists(self, path: str) -> bool:
        """Whether ``path`` is in the final file system: the top-most layer that mentions it decides."""
        wanted = _normal(path)
        parents = [str(p) for p in PurePosixPath(wanted).parents if str(p) != "."]
        for layer in reversed(self.layers):
            if wanted in layer.files:
                return True
            if wanted in layer.deleted or any(p in layer.deleted for p in parents):
                return False
            if any(p in layer.opaque for p in parents):
                return False  # an opaque directory hides everything below it in lower layers
        return False

    def __repr__(self) -> str:
        return f"SavedImage({self.archive.name!r}, layout={self.layout!r}, {len(self.layers)} layers)"

    def summary(self) -> str:
        """One line per layer: its number, the build step, what it adds and deletes."""
        return "\n".join(str(layer) for layer in self.layers)

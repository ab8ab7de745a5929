"""The course images in the kit: one ``docker save`` archive each, identified by digest, loaded back and checked.

An image has two digests (see :mod:`portside.engine.identity`): its config digest and its manifest (or
index) digest; the engine's id is the first on the classic image store and the second on the containerd
store. A ``docker save`` archive from Engine 25 or later holds both: ``index.json`` names the manifest,
``manifest.json`` the config. :func:`save` records the id the name pointed at and both digests read from
the archive written — and refuses an archive that does not hold that id (the tag moved meanwhile) — so
the kit carries that image by digest, not whatever the tag means later. On the containerd store the
archive keeps the manifest byte for byte: loaded elsewhere, the image has the same id.

:func:`load` does ``docker load`` and then checks that the name now points at one of those digests.
An image already there with a matching digest is left alone, so a second install loads nothing.
"""

from __future__ import annotations

import json
import re
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import docker.errors
import requests.exceptions

from portside.base.labels import STANDIN
from portside.engine.daemon import client, uses_containerd_store
from portside.errors import EngineError, ImageUnavailable, SetupError, engine_error
from portside.workshop.kit.manifest import ImageEntry

__all__ = ["FOLDER", "archive_digests", "archive_name", "image_id", "load", "save"]

FOLDER = "images"
Outcome = Literal["loaded", "present"]


def archive_name(name: str) -> str:
    """The archive's path in the kit: ``busybox:1.35`` → ``images/busybox_1.35.tar``."""
    return f"{FOLDER}/{re.sub(r'[^A-Za-z0-9._-]+', '_', name)}.tar"


def _json_member(tar: tarfile.TarFile, name: str) -> Any:
    try:
        member = tar.extractfile(name)
    except KeyError:
        return None
    return json.load(member) if member is not None else None


def archive_digests(path: Path) -> tuple[str | None, str]:
    """``(manifest digest, config digest)`` of the one image in a ``docker save`` archive.

    The manifest digest comes from ``index.json`` (absent in archives of engines before 25: None); the
    config digest from ``manifest.json``. Raises :class:`SetupError` for an archive that is neither.
    """
    try:
        with tarfile.open(path, mode="r:*") as tar:
            index = _json_member(tar, "index.json")
            legacy = _json_member(tar, "manifest.json")
    except (OSError, tarfile.TarError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SetupError(f"{path} is not a readable `docker save` archive ({exc}).") from None
    if not isinstance(legacy, list) or len(legacy) != 1 or "Config" not in legacy[0]:
        raise SetupError(f"{path} is not the `docker save` archive of one image (its manifest.json lists "
                         f"{len(legacy) if isinstance(legacy, list) else 'no'} images).")
    config = str(legacy[0]["Config"])
    config = config if config.startswith("sha256:") else "sha256:" + config.rsplit("/", 1)[-1].removesuffix(".json")
    manifests = (index.get("manifests") or []) if isinstance(index, dict) else []
    manifest = str(manifests[0]["digest"]) if len(manifests) == 1 and "digest" in manifests[0] else None
    return manifest, config


def _inspect(name: str) -> dict[str, Any] | None:
    try:
        attrs: dict[str, Any] = client().api.inspect_image(name)
    except docker.errors.ImageNotFound:
        return None
    except docker.errors.APIError as exc:
        raise engine_error(exc, "docker image inspect", name) from None
    return attrs


def image_id(name: str) -> str | None:
    """The engine's id of the image ``name`` points at, or None when there is none."""
    attrs = _inspect(name)
    return str(attrs["Id"]) if attrs else None


def save(name: str, dest: Path) -> ImageEntry:
    """``docker save name`` into ``dest`` (a kit folder: the archive goes to :func:`archive_name`)."""
    attrs = _inspect(name)
    if attrs is None:
        raise ImageUnavailable(f"{name} is not on this machine, so it cannot go into the kit.",
                               hint="Run `portside images ensure` first (it pulls it, or builds its stand-in).")
    image = str(attrs["Id"])
    store = "containerd" if uses_containerd_store() else "classic"
    rel = archive_name(name)
    target = dest / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(target, "wb") as out:
            for chunk in client().api.get_image(name):
                out.write(chunk)
    except docker.errors.APIError as exc:
        target.unlink(missing_ok=True)
        raise engine_error(exc, "docker save", name) from None
    except requests.exceptions.RequestException as exc:
        target.unlink(missing_ok=True)
        raise EngineError(f"docker save {name} broke off: {exc}", hint="Try again.") from None
    manifest, config = archive_digests(target)
    if image not in {manifest, config}:
        target.unlink()
        raise EngineError(f"The archive of {name} holds {manifest or config}, not the image {image} it named a "
                          "moment before (was it re-tagged meanwhile?).", hint="Build the kit again.")
    labels = (attrs.get("Config") or {}).get("Labels") or {}
    return ImageEntry(name=name, file=rel, id=image, store=store, config_digest=config, manifest_digest=manifest,
                      standin=labels.get(STANDIN) == "true")


def _messages(stream: Iterator[dict[str, Any]], name: str) -> list[str]:
    said = []
    for message in stream:
        error = message.get("error") or (message.get("errorDetail") or {}).get("message")
        if error:
            raise EngineError(f"docker load of {name} failed: {error}",
                              hint="Check the engine has room (`docker system df`), then install again.")
        if message.get("stream"):
            said.append(str(message["stream"]).strip())
    return said


def load(kit: Path, entry: ImageEntry, *, say: Callable[[str], object] = lambda _: None) -> Outcome:
    """Make ``entry.name`` point at the kit's image: ``present`` when it already does, else ``docker load``."""
    current = image_id(entry.name)
    if current in entry.digests():
        say(f"image: {entry.name} is already here ({current})")
        return "present"
    with open(kit / entry.file, "rb") as archive:
        try:
            said = _messages(client().api.load_image(archive), entry.name)
        except docker.errors.APIError as exc:
            raise engine_error(exc, "docker load", entry.name) from None
    loaded = image_id(entry.name)
    if loaded not in entry.digests():
        raise ImageUnavailable(
            f"After docker load, {entry.name} is {loaded or 'still missing'}, not the kit's image ({entry.id}).",
            hint=f"The engine said: {'; '.join(said) or 'nothing'}. Check `docker images`; then install again.")
    say(f"image: loaded {entry.name} ({loaded})" + (f", which was {current}" if current else ""))
    return "loaded"

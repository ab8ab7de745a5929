"""Seed a registry (the workshop room's) with the kit's images, so learners pull the course images from it.

Each image goes to ``course/<name>:<tag>`` (``busybox:1.35`` → ``ADDRESS/course/busybox:1.35``): loaded from
the kit if the engine does not have it (and checked, :func:`portside.workshop.kit.images.load`), tagged,
pushed as the endpoint's user, and the temporary tag removed again. On the containerd image store the
engine pushes the manifest it loaded, so the registry's digest is the kit's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import docker.errors

from portside.engine import transfer
from portside.engine.daemon import client
from portside.errors import engine_error
from portside.oci.endpoint import Endpoint
from portside.oci.reference import DEFAULT_TAG, parse
from portside.workshop.kit import images
from portside.workshop.kit.manifest import read

__all__ = ["NAMESPACE", "seed", "seeded_repository"]

#: the room's namespace for the course images (learners may pull it, only the instructor push)
NAMESPACE = "course"


def seeded_repository(name: str) -> tuple[str, str]:
    """``(repository, tag)`` an image is seeded under: ``python:3.11-slim`` → ``("course/python", "3.11-slim")``."""
    ref = parse(name)
    path = ref.path.removeprefix("library/")
    return f"{NAMESPACE}/{path}", ref.tag or DEFAULT_TAG


def seed(kit_dir: Path, endpoint: Endpoint, *, say: Callable[[str], object] = lambda _: None) -> list[str]:
    """Push every image of the kit in ``kit_dir`` into ``endpoint``'s registry; returns ``REF@DIGEST`` of each.

    Reads the manifest only (no full verify: the kit's images are checked by digest when loaded).
    """
    manifest = read(kit_dir)
    pushed = []
    for entry in manifest.images:
        images.load(kit_dir, entry, say=say)
        repository, tag = seeded_repository(entry.name)
        ref = endpoint.reference(repository, tag)
        transfer.tag(entry.name, ref)
        try:
            result = transfer.push(ref, username=endpoint.username, password=endpoint.password, progress=False)
        finally:
            try:
                client().api.remove_image(ref.original)  # only the temporary name: the image keeps its own
            except docker.errors.APIError as exc:
                raise engine_error(exc, "docker rmi", ref.original) from None
        pushed.append(f"{ref.original}@{result.digest}")
        say(f"seed: {entry.name} → {ref.original}@{result.digest}")
    return pushed

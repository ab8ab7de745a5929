"""Small images made on the spot, each with a layer of its own.

Lessons about storage need images that share nothing but their base: delete one,
collect the garbage, and exactly its own layer must disappear. :func:`build_image`
makes such an image in about a second, without running a container: it hands
BuildKit (``docker buildx build``, through :func:`portside.engine.build.build`) a
build context (a tar archive made in memory) holding a Dockerfile and one file of
random bytes::

    FROM busybox:1.35
    COPY payload.bin /payload/app-1.0.bin
    LABEL org.opencontainers.image.version=1.0

Random bytes do not compress, so the new layer is as big in the registry as the
file is on disk (``size`` bytes plus a little tar overhead): a stable number to
reason about. The bytes come from ``seed`` when one is given, so the same seed
gives the same file, and BuildKit's cache then gives the very same image (the same
id) to a second build of it; without a seed every build is a new image.
"""

from __future__ import annotations

import io
import random
import secrets
import tarfile
from collections.abc import Iterable

import docker.errors

from portside import engine
from portside.engine.build import build
from portside.errors import ImageUnavailable
from portside.oci.reference import parse as parse_reference

__all__ = ["SAMPLE", "MiB", "build_image", "remove_images"]

MiB = 1024 * 1024

SAMPLE = "org.portside.sample"  #: label on every image built here
_FIXED_MTIME = 1_700_000_000  # file times in the context are fixed, so only the bytes decide the layer


def _context(dockerfile: str, payload: bytes) -> io.BytesIO:
    """A build context as a tar archive: ``Dockerfile`` and ``payload.bin``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in (("Dockerfile", dockerfile.encode()), ("payload.bin", payload)):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), _FIXED_MTIME, 0o644
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


def build_image(name: str, *, base: str = "busybox:1.35", size: int = 2 * MiB, seed: str | None = None,
                version: str | None = None) -> str:
    """Build ``name`` = ``base`` + one layer holding ``size`` random bytes; return the local image id.

    The id is what the engine calls the image (``docker images``): its manifest digest on the
    containerd image store, its config digest on the classic store.

    ``version`` (default: the tag of ``name``) goes into the file name and the
    ``org.opencontainers.image.version`` label, so two versions never share their layer.
    """
    ref = parse_reference(name)
    version = version or ref.tag or "latest"
    payload = random.Random(seed).randbytes(size) if seed is not None else secrets.token_bytes(size)
    dockerfile = (f"FROM {base}\n"
                  f"COPY payload.bin /payload/app-{version}.bin\n"
                  f"LABEL org.opencontainers.image.version={version} {SAMPLE}=true\n")
    try:
        engine.client().images.get(base)  # never let the builder try to pull it
    except docker.errors.ImageNotFound:
        raise ImageUnavailable(f"Cannot build {name}: the base image {base} is not on this machine.",
                               hint="Run `portside images ensure` (it builds a stand-in offline).") from None
    return build(_context(dockerfile, payload), tag=name, network="none").id  # raises BuildError


def remove_images(names: Iterable[str]) -> list[str]:
    """Remove local image names (the image goes when its last name does); returns the names removed."""
    images = engine.client().images
    removed = []
    for name in names:
        try:
            images.remove(name, noprune=False)
        except docker.errors.APIError:  # gone already (NotFound is an APIError), or still used by a container
            continue
        removed.append(name)
    return removed

"""Small images made on the spot, each with a layer of its own.

Lessons about storage need images that share nothing but their base: delete one,
collect the garbage, and exactly its own layer must disappear. :func:`build_image`
makes such an image in well under a second, without running a container: it
sends the engine a build context (a tar archive made in memory) holding a
Dockerfile and one file of random bytes::

    FROM busybox:1.35
    COPY payload.bin /payload/app-1.0.bin
    LABEL org.opencontainers.image.version=1.0

Random bytes do not compress, so the new layer is as big in the registry as the
file is on disk (``size`` bytes plus a little tar overhead): a stable number to
reason about. The bytes come from ``seed`` when one is given, so the same seed
gives the same file; the image id still changes from build to build (the legacy
builder stamps a creation time into the image config).
"""

from __future__ import annotations

import io
import random
import secrets
import tarfile
from collections.abc import Iterable

import docker.errors

from portside import engine
from portside.engine.buildcache import guarded
from portside.errors import BuildError, ImageUnavailable, engine_detail, engine_error
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
    """Build ``name`` = ``base`` + one layer holding ``size`` random bytes; return the image id.

    ``version`` (default: the tag of ``name``) goes into the file name and the
    ``org.opencontainers.image.version`` label, so two versions never share their layer.
    """
    ref = parse_reference(name)
    version = version or ref.tag or "latest"
    payload = random.Random(seed).randbytes(size) if seed is not None else secrets.token_bytes(size)
    dockerfile = (f"FROM {base}\n"
                  f"COPY payload.bin /payload/app-{version}.bin\n"
                  f"LABEL org.opencontainers.image.version={version} {SAMPLE}=true\n")
    cli = engine.client()
    try:
        cli.images.get(base)  # never let the builder try to pull it
    except docker.errors.ImageNotFound:
        raise ImageUnavailable(f"Cannot build {name}: the base image {base} is not on this machine.",
                               hint="Run `portside images ensure` (it builds a stand-in offline).") from None

    def build() -> str:
        try:
            image, _ = cli.images.build(fileobj=_context(dockerfile, payload), custom_context=True, tag=name,
                                        rm=True, forcerm=True, pull=False)
        except docker.errors.BuildError as exc:
            raise BuildError(f"Building {name} failed: {exc.msg or exc}") from None
        except docker.errors.APIError as exc:
            raise engine_error(exc, "Building", name, instead={
                "other": BuildError(f"Building {name} failed: {engine_detail(exc)}")}) from None
        return str(image.id)

    return guarded(build)  # the step cache is shared with other builds: see portside.engine.buildcache


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

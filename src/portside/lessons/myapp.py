"""``myapp``: the tiny example application lessons 01 and its lab publish.

It is ``busybox:1.35`` plus a few labels and a default command, built with BuildKit the
way ``docker build -t myapp:latest .`` does (:func:`portside.engine.build.build`, no
network, no provenance attestation: the local image is one plain manifest). A
``LABEL``/``CMD``-only Dockerfile adds no layer, so ``myapp`` is busybox's single layer
plus a new *config*: a push sends one layer, one config and one manifest.

The local name is ``myapp:latest``, as in ``docker tag myapp:latest username/myapp:1.0.0``.
The course never re-points that name if it belongs to an image that is not the course's.
"""

from __future__ import annotations

import io
import tarfile
from typing import Any

import docker.errors

from portside import engine
from portside.base.labels import COURSE, course_labels
from portside.engine.build import build as buildkit_build
from portside.errors import UsageError
from portside.setup.images import require_base

__all__ = ["BASE", "DOCKERFILE", "LOCAL_NAME", "build", "check_name_free", "remove"]

BASE = "busybox:1.35"
LOCAL_NAME = "myapp:latest"
DOCKERFILE = f"""\
FROM {BASE}
LABEL org.opencontainers.image.title="myapp" \\
      org.opencontainers.image.version="1.0.0" \\
      org.opencontainers.image.description="A tiny example app of the Portside course"
CMD ["echo", "hello from myapp"]
"""


def check_name_free(name: str = LOCAL_NAME) -> None:
    """Raise if ``name`` is a local image that the course did not build (it stays untouched)."""
    try:
        image = engine.client().images.get(name)
    except docker.errors.ImageNotFound:
        return
    if (image.labels or {}).get(COURSE) != "true":
        raise UsageError(f"There is already an image called {name} on this machine, and it is not the course's.",
                         hint=f"The course will not re-point it. Rename yours (docker tag {name} mine:{name}; "
                              f"docker rmi {name}), then run this again.")


def _context(dockerfile: str) -> bytes:
    """A build context holding only the ``Dockerfile`` (as ``docker build - < Dockerfile`` sends)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def build(name: str = LOCAL_NAME, *, dockerfile: str = DOCKERFILE) -> Any:
    """Build ``myapp`` from ``dockerfile`` and name it ``name``; returns the docker-py ``Image``.

    Raises :class:`~portside.errors.BuildError` with BuildKit's own words when the Dockerfile is wrong.
    """
    check_name_free(name)
    require_base(BASE, for_what="myapp")
    return buildkit_build(_context(dockerfile), tag=name, labels=course_labels("example-image"),
                          network="none").image


def remove(name: str = LOCAL_NAME) -> None:
    """Remove the local name ``name`` if the course made it (other names of the image stay)."""
    try:
        image = engine.client().images.get(name)
    except docker.errors.ImageNotFound:
        return
    if (image.labels or {}).get(COURSE) == "true":
        try:
            engine.client().images.remove(name, noprune=False)
        except docker.errors.NotFound:
            pass

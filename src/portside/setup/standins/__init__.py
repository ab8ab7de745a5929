"""Stand-in images: the course's images, built here from Debian packages when they cannot be pulled.

Each builder takes the image name to create and a ``say`` callback, builds the
image under that name and returns its id. One module per family:

* :mod:`.registry` — ``registry:2`` from Debian's ``docker-registry`` (``FROM scratch``);
* :mod:`.busybox` — ``busybox:1.35`` from Debian's ``busybox-static`` (``FROM scratch``);
* :mod:`.rootfs` — ``debian:bookworm-slim`` and ``python:3.11-slim-bookworm`` with mmdebstrap.

:mod:`portside.setup.images` decides *when* to build one (only when the image is
neither present nor pullable).
"""

from __future__ import annotations

from portside.setup.standins.base import SUITE, Say, standin_labels
from portside.setup.standins.busybox import build as build_busybox
from portside.setup.standins.registry import build as build_registry
from portside.setup.standins.rootfs import build_debian, build_python

__all__ = ["SUITE", "Say", "build_busybox", "build_debian", "build_python", "build_registry", "standin_labels"]

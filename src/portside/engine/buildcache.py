"""The engine's build cache is shared by every build on it; a machine-wide lock for steps that must take turns.

Every course build goes through BuildKit (:mod:`portside.engine.build`). BuildKit keeps what a
build made — every step's layers, a multi-stage build's discarded stages, the build context it
was sent — as records in its own cache, never as images: a build leaves no untagged step
images behind, and two builds may run at the same time. ``docker buildx du`` lists the cache,
``docker buildx prune`` (or ``portside cleanup --build-cache``) empties it. (The legacy builder,
the default before Engine 23, kept each step as an untagged image instead; the course no longer
uses it.)

What still has to take turns is "build, then tag if nobody has yet" across processes sharing
one engine (two notebooks, a notebook and a terminal, two test runs): :func:`exclusive` is a
machine-wide lock for that, not per checkout, since every checkout on the machine shares the engine.
"""

from __future__ import annotations

import fcntl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["LOCK", "exclusive"]

#: machine-wide (not per checkout): every checkout on this machine shares the engine. The file keeps its
#: old name, so that a checkout of an older course version on the same machine takes turns with this one.
LOCK = Path(tempfile.gettempdir()) / "portside-locks" / "legacy-build.lock"


@contextmanager
def exclusive(lock: Path = LOCK) -> Iterator[None]:
    """Hold the machine-wide build lock (``lock``: see the module docstring) for the ``with`` block."""
    lock.parent.mkdir(mode=0o777, exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

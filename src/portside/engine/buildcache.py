"""After a multi-stage build on the legacy builder: remove what the discarded stages left behind.

The legacy builder (no BuildKit) keeps the result of every build step as an untagged image,
its build cache. Steps of the final stage are the final image's parents and go when it goes;
steps of an earlier, discarded stage would stay on the machine — holding whatever that stage
copied in (wheels, a credential). :func:`remove_discarded_stages` removes them right after the
build, using the step ids the builder printed (`` ---> 1a2b3c4d5e6f`` lines).

The step cache is shared by every build on the engine: a second build of the same
Dockerfile reuses the first one's step images. Removing a discarded stage while that
second build stands on it breaks the second build ("unknown parent image ID"). So builds
that clean up after themselves take turns: :func:`exclusive` is a machine-wide lock
(two notebooks, a notebook and a terminal, or two test runs on one engine). Removing a
built image prunes its untagged parents too, so a build can still lose a cached step to
someone else's ``docker rmi``; :func:`lost_parent` recognises that error, and the builders
then build once more (the lost steps are simply rebuilt).
"""

from __future__ import annotations

import fcntl
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import docker.errors

from portside import engine
from portside.errors import PortsideError

T = TypeVar("T")

__all__ = ["exclusive", "guarded", "lost_parent", "remove_discarded_stages", "remove_failed_steps", "step_ids"]

#: machine-wide (not per checkout): every checkout on this machine shares the engine
_LOCK = Path(tempfile.gettempdir()) / "portside-locks" / "legacy-build.lock"

_STEP_ID = re.compile(r"^ ---> ([0-9a-f]{12,64})\s*$", re.MULTILINE)


def _short(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


@contextmanager
def exclusive() -> Iterator[None]:
    """Hold the machine-wide lock for a build and its clean-up (see the module docstring)."""
    _LOCK.parent.mkdir(mode=0o777, exist_ok=True)
    with open(_LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def lost_parent(error: str) -> bool:
    """True when a legacy build failed because a cached step it stood on was removed meanwhile."""
    return ("unknown parent image ID" in error or 'unable to find image "sha256:' in error
            or ("failed to set parent" in error and "No such image" in error))


def guarded(build: Callable[[], T]) -> T:
    """Run ``build`` (a build and its own clean-up) under :func:`exclusive`; once more if it lost a cached step.

    ``build`` raises :class:`~portside.errors.PortsideError` with the engine's message when it fails.
    """
    with exclusive():
        try:
            return build()
        except PortsideError as exc:
            if not lost_parent(exc.message):
                raise
        return build()  # a cached step was removed under it by someone's `docker rmi`: the steps are rebuilt


def step_ids(log: str) -> list[str]:
    """The (short) image id after each build step, in build order, from the builder's output."""
    return [_short(found) for found in _STEP_ID.findall(log)]


def _remove_steps(log: str, keep: set[str]) -> int:
    """Remove the step images ``log`` names, children first, except ``keep``; returns how many went."""
    cli = engine.client()
    removed = 0
    for short in reversed(step_ids(log)):  # children first
        if short in keep:
            continue
        try:
            cli.images.remove(short, noprune=False)
            removed += 1
        except docker.errors.APIError:  # already gone with a child, or still a parent of something: leave it
            continue
    return removed


def remove_failed_steps(log: str, *, base: str) -> int:
    """After a build that failed: remove the step images it made (no final image stands on them).

    A failed step leaves the steps before it behind as untagged images (with the wheels a
    ``COPY`` brought in, say). Steps that something else stands on are left alone.
    """
    return _remove_steps(log, {_short(engine.client().images.get(base).id)})


def remove_discarded_stages(image: str, log: str, *, base: str) -> int:
    """Remove the step images of ``image``'s build that are neither its own layers' images nor ``base``.

    ``log``: the builder's output (the ``stream`` texts joined). Returns how many images were
    removed; images still used by something else are left alone.
    """
    cli = engine.client()
    keep = {_short(entry["Id"]) for entry in cli.images.get(image).history() if entry.get("Id") != "<missing>"}
    keep.add(_short(cli.images.get(base).id))
    return _remove_steps(log, keep)

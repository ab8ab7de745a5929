"""Find and remove everything the course created, by its labels.

The same label query serves ``portside cleanup``, the test-suite's end-of-session
check and lesson 00's "nothing left behind" cell.

:func:`remove_images` and :func:`prune_build_cache` go further, for a machine that
should look like a newcomer's (CI does this before every run, so a green run proves
the README's commands build everything from nothing): every course image, stand-ins
included, and the engine's build cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import docker.errors

from .engine import client
from .errors import PortsideError
from .labels import COURSE, KIND, STANDIN, course_filter, in_namespace

__all__ = ["Leftovers", "cleanup", "leftovers", "prune_build_cache", "remove_images"]


@dataclass
class Leftovers:
    """Names of course containers, networks and volumes, as ``name (kind)``."""

    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.containers or self.networks or self.volumes)

    def __str__(self) -> str:
        if not self:
            return "Nothing left behind: no course containers, networks or volumes."
        parts = []
        for what, names in (("container", self.containers), ("network", self.networks), ("volume", self.volumes)):
            if names:
                parts.append(f"{len(names)} {what}{'s' if len(names) > 1 else ''}: {', '.join(sorted(names))}")
        return "Left behind — " + "; ".join(parts)


def _kind(labels: dict[str, str] | None) -> str:
    return (labels or {}).get(KIND, "?")


def leftovers(session: str | None = None, *, namespaced: bool = False) -> Leftovers:
    """What the course (or one session of it) still has on the engine.

    ``namespaced``: only what belongs to this run's namespace (see :func:`portside.paths.namespace`):
    the doctor's view, so a test run does not count another run's registries as its own leftovers.
    """
    cli = client()
    filters = course_filter(session)
    found = Leftovers()

    def wanted(labels: dict[str, str] | None) -> bool:
        return not namespaced or in_namespace(labels)

    # sparse: no per-container inspect, so a container removed meanwhile cannot make the listing fail
    for container in cli.containers.list(all=True, filters=filters, sparse=True):
        if wanted(container.attrs.get("Labels")):
            name = (container.attrs.get("Names") or ["/" + container.short_id])[0].lstrip("/")
            found.containers.append(f"{name} ({_kind(container.attrs.get('Labels'))})")
    for network in cli.networks.list(filters=filters):
        if wanted(network.attrs.get("Labels")):
            found.networks.append(f"{network.name} ({_kind(network.attrs.get('Labels'))})")
    for volume in cli.volumes.list(filters=filters):
        if wanted(volume.attrs.get("Labels")):
            found.volumes.append(f"{volume.name} ({_kind(volume.attrs.get('Labels'))})")
    return found


def cleanup(session: str | None = None) -> Leftovers:
    """Remove course containers first, then networks and volumes. Returns what was removed."""
    cli = client()
    filters = course_filter(session)
    removed = leftovers(session)
    for container in cli.containers.list(all=True, filters=filters, sparse=True):
        try:
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
    for network in cli.networks.list(filters=filters):
        try:
            network.remove()
        except docker.errors.NotFound:
            pass
    for volume in cli.volumes.list(filters=filters):
        try:
            volume.remove(force=True)
        except docker.errors.NotFound:
            pass
    return removed


def remove_images() -> list[str]:
    """Remove every image the course made: stand-ins and images it built (by label). Returns their names.

    Images a learner pulled or built themselves carry neither label and stay. Untagged
    parents of the removed images (the legacy builder's intermediate steps) go with them.
    """
    cli = client()
    found: dict[str, str] = {}
    for label in (f"{STANDIN}=true", f"{COURSE}=true"):
        for image in cli.api.images(all=True, filters={"label": label}):  # one listing, no per-image inspect
            tags = [t for t in image.get("RepoTags") or [] if t != "<none>:<none>"]
            found.setdefault(image["Id"], ", ".join(tags) or image["Id"].removeprefix("sha256:")[:12])
    for image_id in found:
        try:
            cli.images.remove(image_id, force=True, noprune=False)
        except docker.errors.NotFound:  # removed with an earlier one (a parent or another name)
            pass
        except docker.errors.APIError as exc:  # a container of someone else's still uses it: say so, go on
            found[image_id] += f" (kept: {exc.explanation or exc})"
    return sorted(found.values())


def prune_build_cache() -> int:
    """Empty the engine's build cache (all of it: the engine does not label cache records). Returns bytes freed."""
    try:
        answer = client().api.prune_builds()
    except docker.errors.APIError as exc:
        raise PortsideError(f"The engine refused to prune its build cache: {exc.explanation or exc}",
                            hint="Run `docker builder prune --all --force` yourself, then try again.") from None
    return int((answer or {}).get("SpaceReclaimed") or 0)

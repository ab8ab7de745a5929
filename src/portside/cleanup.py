"""Find and remove everything the course created, by its labels.

The same label query serves ``portside cleanup``, the test-suite's end-of-session
check and lesson 00's "nothing left behind" cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import docker.errors

from .engine import client
from .labels import KIND, course_filter

__all__ = ["Leftovers", "cleanup", "leftovers"]


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


def leftovers(session: str | None = None) -> Leftovers:
    """What the course (or one session of it) still has on the engine."""
    cli = client()
    filters = course_filter(session)
    found = Leftovers()
    # sparse: no per-container inspect, so a container removed meanwhile cannot make the listing fail
    for container in cli.containers.list(all=True, filters=filters, sparse=True):
        name = (container.attrs.get("Names") or ["/" + container.short_id])[0].lstrip("/")
        found.containers.append(f"{name} ({_kind(container.attrs.get('Labels'))})")
    for network in cli.networks.list(filters=filters):
        found.networks.append(f"{network.name} ({_kind(network.attrs.get('Labels'))})")
    for volume in cli.volumes.list(filters=filters):
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

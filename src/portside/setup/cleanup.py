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
from typing import Any

import docker.errors

from portside.base.labels import COURSE, KIND, SESSION, STANDIN, course_filter, in_namespace
from portside.engine.daemon import client, list_images, listed_tags
from portside.errors import EngineError, engine_detail, engine_error
from portside.setup.images import CATALOGUE

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

    ``namespaced``: only what belongs to this run's namespace (see :func:`portside.base.paths.namespace`):
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


def _short(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


def remove_images(*, session: str | None = None) -> list[str]:
    """Remove every image the course made: stand-ins and images it built (by label). Returns what it did.

    With ``session``, only the images that one session built (no stand-ins). Images a learner
    pulled or built themselves stay: a stand-in counts only under its catalogue name (or
    untagged), because an image built ``FROM`` it inherits its labels. The legacy
    builder keeps every build step as an untagged image whose parent is the step before, so
    a course image can have untagged children (another build's cached steps): those go
    first, children before parents. A course image that a learner's own (tagged) image is
    built on stays, and the line says so. Untagged parents go with the images (``noprune``
    off).
    """
    cli = client()
    listing = {image["Id"]: image for image in list_images(all=True)}  # one listing, no per-image inspect
    children: dict[str, list[str]] = {}
    for image in listing.values():
        if image.get("ParentId"):
            children.setdefault(image["ParentId"], []).append(image["Id"])

    def is_ours(image: dict[str, Any]) -> bool:
        labels = image.get("Labels") or {}
        if session is not None:
            return labels.get(COURSE) == "true" and labels.get(SESSION) == session
        if labels.get(COURSE) == "true":
            return True
        return labels.get(STANDIN) == "true" and set(listed_tags(image)) <= set(CATALOGUE)

    ours = {image_id for image_id, image in listing.items() if is_ours(image)}

    def subtree(image_id: str) -> list[str] | None:
        """The image and what is built on it, children first; None if a learner's tagged image is among them."""
        order: list[str] = []
        for child in children.get(image_id, []):
            below = subtree(child)
            if below is None:
                return None
            order += below
        if image_id not in ours and listed_tags(listing[image_id]):
            return None
        return [*order, image_id]

    done: list[str] = []
    gone: set[str] = set()
    for image_id in sorted(ours):
        if image_id in gone:
            continue
        name = ", ".join(listed_tags(listing[image_id])) or _short(image_id)
        order = subtree(image_id)
        if order is None:
            done.append(f"{name} (kept: a learner's own image is built on it)")
            continue
        try:
            for step in order:
                if step not in gone:
                    try:
                        cli.api.remove_image(step, force=True, noprune=False)
                    except docker.errors.NotFound:  # went with an earlier one (a parent, or another name of it)
                        pass
                    gone.add(step)
                    if step in ours:
                        done.append(", ".join(listed_tags(listing[step])) or _short(step))
        except docker.errors.APIError as exc:  # a container still uses it: say so, go on
            done.append(f"{name} (kept: {engine_detail(exc)})")
    return sorted(done)


def prune_build_cache() -> int:
    """Empty the engine's build cache (all of it: the engine does not label cache records). Returns bytes freed.

    BuildKit's cache records, and the legacy builder's cache: its untagged, unused step images.
    """
    cli = client()
    try:
        answer = cli.api.prune_builds()
        legacy = cli.api.prune_images(filters={"dangling": True})
    except docker.errors.APIError as exc:
        raise engine_error(exc, "Pruning", "the build cache", instead={"other": EngineError(
            f"The engine refused to prune its build cache: {engine_detail(exc)}", status=exc.status_code,
            hint="Run `docker builder prune --all --force` and `docker image prune --force` "
                 "yourself, then try again.")}) from None
    return int((answer or {}).get("SpaceReclaimed") or 0) + int((legacy or {}).get("SpaceReclaimed") or 0)

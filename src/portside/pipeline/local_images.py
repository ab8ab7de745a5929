"""The local images the pipeline builds and names, and the ones its names move off (removed, not left dangling).

A rebuild under the same name, or a tag moved to the new build, leaves the previous build without a
name; on the containerd image store it would stay behind, untagged, until someone prunes. The build
and tag steps note which pipeline-built image each name pointed at first, and remove those that no
name points at afterwards — only images the pipeline built (its ``pipeline-image`` label), never
anyone else's.
"""

from __future__ import annotations

from collections.abc import Iterable

import docker.errors

from portside.base.labels import KIND
from portside.engine.daemon import client, listed_tags

__all__ = ["KIND_IMAGE", "drop_unnamed", "owned_ids"]

#: the ``org.portside.kind`` of an image the pipeline built
KIND_IMAGE = "pipeline-image"


def owned_ids(names: Iterable[str]) -> set[str]:
    """The ids of the pipeline-built images ``names`` point at now."""
    found = set()
    for name in names:
        try:
            image = client().images.get(name)
        except docker.errors.ImageNotFound:
            continue
        if (image.labels or {}).get(KIND) == KIND_IMAGE:
            found.add(str(image.id))
    return found


def drop_unnamed(image_ids: Iterable[str], *, keep: str | None = None) -> None:
    """Remove each of ``image_ids`` (but ``keep``) that no name points at any more."""
    for image_id in image_ids:
        if image_id == keep:
            continue
        try:
            if not listed_tags(client().api.inspect_image(image_id)):
                client().images.remove(image_id, noprune=False)
        except docker.errors.APIError:  # gone already, or a container uses it: leave it
            pass

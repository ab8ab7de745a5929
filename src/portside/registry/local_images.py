"""The local image names that point at a registry the course ran: removed when it goes."""

from __future__ import annotations

import docker.errors

from portside import engine

__all__ = ["remove_local_names"]


def remove_local_names(port: int, *, namespace: str | None = None, host: str | None = None) -> None:
    """Remove the local image names (tags and digest names) that point at ``localhost:PORT``/``127.0.0.1:PORT``.

    ``namespace``: only the names under ``…:PORT/NAMESPACE/`` (a learner's part of a shared room registry);
    ``host``: a registry on another address than loopback. Removal is by name, so an image that also has
    other names stays; an image in use by a running container is left alone (it is not ours to stop).
    """
    hosts = (host,) if host and host not in ("localhost", "127.0.0.1") else ("localhost", "127.0.0.1")
    below = f"{namespace}/" if namespace else ""
    prefixes = tuple(f"{h}:{port}/{below}" for h in hosts)
    images = engine.client().images
    for image in engine.daemon.list_images():  # one listing: no per-image inspect to race with removals
        names = [t for t in image.get("RepoTags") or [] if t.startswith(prefixes)]
        digests = [d for d in image.get("RepoDigests") or [] if d.startswith(prefixes)]
        for name in names + digests:
            try:
                images.remove(name, noprune=False)
            except docker.errors.APIError:  # gone meanwhile (NotFound), or in use by a container: not ours
                pass

"""Layer 4, the engine: find or start a Docker engine; move images (tag, push, pull), read their layers,
networks, the build cache.

``from portside import engine; engine.client()`` is the way in: the names below come from
:mod:`portside.engine.daemon`.
"""

from .daemon import (
    EngineInfo,
    candidate_hosts,
    client,
    ensure_engine,
    image_names,
    image_store,
    info,
    is_local,
    list_images,
    listed_tags,
    start_system_engine,
    uses_containerd_store,
)

__all__ = ["EngineInfo", "candidate_hosts", "client", "ensure_engine", "image_names", "image_store", "info", "is_local",
           "list_images", "listed_tags", "start_system_engine", "uses_containerd_store"]

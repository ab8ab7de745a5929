"""Is a local image the one a registry holds? The answer depends on the engine's image store.

An image has two digests a learner meets: its **config digest** (the hash of the JSON that describes it)
and its **manifest digest** (the hash of the manifest that lists the config and the layers; what a registry
answers for a tag). The engine's image ID is one of the two:

* the **classic store** (Engine 20.10–28 by default, where Docker keeps its own images): ID = config digest;
* the **containerd image store** (fresh Engine 29 installs, Docker Desktop): ID = manifest (or index) digest.

So "same image" is checked against both, and the config digest of a local image is read from the image
itself when the store does not make it the ID.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Mapping
from typing import Any

from portside.engine.daemon import client, uses_containerd_store
from portside.errors import EngineError

__all__ = ["config_digest", "manifest_digests", "same_image"]


def manifest_digests(image: Any) -> set[str]:
    """The manifest digests the engine knows for a local image (its ``RepoDigests``, and on the containerd
    store its ID)."""
    attrs: Mapping[str, Any] = image.attrs
    found = {str(entry).split("@", 1)[1] for entry in attrs.get("RepoDigests") or [] if "@" in str(entry)}
    if uses_containerd_store():
        found.add(str(image.id))
    return found


def config_digest(image: Any) -> str:
    """The config digest of a local image: its ID on the classic store; read from ``docker save`` otherwise.

    Image inspect has no config digest on the containerd store (checked on Engine 28.5), but ``docker save``
    writes ``manifest.json`` (Engine 25 and later write it beside the OCI layout) whose ``Config`` is the
    config blob of the engine's own platform; older layouts are walked from ``index.json``.
    """
    if not uses_containerd_store():
        return str(image.id)
    data = b"".join(client().api.get_image(image.id))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = set(tar.getnames())

        def read(name: str) -> Any:
            member = tar.extractfile(name) if name in names else None
            if member is None:
                raise EngineError(f"`docker save` of {image.id} has no {name}: the engine wrote an archive the "
                                  "course cannot read.", hint="Tell the course's maintainers which engine this is.")
            return json.load(member)

        if "manifest.json" in names:
            config = str(read("manifest.json")[0]["Config"])
            return config if config.startswith("sha256:") else "sha256:" + config.rsplit("/", 1)[-1]
        document = read("index.json")
        while "manifests" in document:  # an index: the first platform manifest that was saved
            entries = [m for m in document["manifests"]
                       if (m.get("platform") or {}).get("os") != "unknown"
                       and f"blobs/sha256/{m['digest'].split(':', 1)[1]}" in names]
            if not entries:
                raise EngineError(f"`docker save` of {image.id} holds no platform manifest.")
            document = read(f"blobs/sha256/{entries[0]['digest'].split(':', 1)[1]}")
        return str(document["config"]["digest"])


def same_image(image: Any, *, manifest_digest: str | None, config: str | None) -> bool:
    """True when the local ``image`` is what a registry holds under ``manifest_digest`` (with ``config``).

    Holds on both stores: the config digest is the classic store's ID, the manifest digest the containerd
    store's; a pushed or pulled image also lists the registry's manifest digest in ``RepoDigests``.
    """
    if config is not None and config == str(image.id):
        return True
    return manifest_digest is not None and manifest_digest in manifest_digests(image)

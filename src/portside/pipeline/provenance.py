"""BuildKit's provenance attestation, read back from the registry: how an image was built, and from what.

When BuildKit pushes an image with provenance (on by default for ``docker buildx build``; the
pipeline's ``[build] provenance``), the tag names an OCI index whose extra ``unknown/unknown``
entries are attestation manifests: one per platform image, pointing back at it with the
annotation ``vnd.docker.reference.digest``, holding an in-toto statement with a SLSA provenance
predicate. Its ``materials`` list every base image the build pulled, and a ``FROM`` pinned by
digest shows as ``pkg:docker/NAME@TAG?digest=sha256:…`` (one named by tag only has no digest).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from portside.oci.registry_client import RegistryClient

__all__ = ["ATTESTATION", "Provenance", "read_provenance"]

ATTESTATION = "attestation-manifest"


@dataclass(frozen=True)
class Provenance:
    """The provenance predicate of one platform image of an index, and the base images in its materials."""

    image_digest: str
    predicate: dict[str, Any]

    def base_images(self) -> list[tuple[str, str | None]]:
        """``(NAME:TAG as written, pinned digest or None)`` for each ``pkg:docker/`` material."""
        found = []
        for material in self.predicate.get("materials") or []:
            uri = str(material.get("uri", ""))
            if not uri.startswith("pkg:docker/"):
                continue
            parts = urlsplit(uri)
            name = unquote(parts.path.removeprefix("docker/")).replace("@", ":", 1)
            found.append((name, parse_qs(parts.query).get("digest", [None])[0]))
        return found

    @property
    def all_pinned(self) -> bool:
        bases = self.base_images()
        return bool(bases) and all(digest for _, digest in bases)


def read_provenance(client: RegistryClient, repository: str, digest: str) -> Provenance | None:
    """The provenance of the first platform image of ``repository@digest`` (an index), or ``None`` if it has none."""
    document = client.manifest(repository, digest).json()
    entries = list(document.get("manifests") or [])
    images = [m for m in entries if (m.get("annotations") or {}).get("vnd.docker.reference.type") != ATTESTATION]
    if not images:
        return None
    image = str(images[0]["digest"])
    attestation = next((m for m in entries
                        if (m.get("annotations") or {}).get("vnd.docker.reference.type") == ATTESTATION
                        and m["annotations"].get("vnd.docker.reference.digest") == image), None)
    if attestation is None:
        return None
    for layer in client.manifest(repository, str(attestation["digest"])).json().get("layers") or []:
        if "provenance" in (layer.get("annotations") or {}).get("in-toto.io/predicate-type", ""):
            statement = json.loads(client.blob(repository, str(layer["digest"])))
            predicate = statement.get("predicate")
            if isinstance(predicate, dict):
                return Provenance(image, predicate)
    return None

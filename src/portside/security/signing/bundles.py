"""cosign 3's bundles, read through the registry API: the referrers tag, its index, one manifest per bundle.

On a registry without the OCI 1.1 referrers API (``registry:2``), cosign 3 keeps the list of
an image's referrers under the tag ``sha256-<hex>`` of its digest: an OCI image index with
one entry per signature or attestation. Each entry is an artifact manifest with

* ``artifactType`` ``application/vnd.dev.sigstore.bundle.v0.3+json`` (cosign 3.1 writes the
  empty-config type ``application/vnd.oci.empty.v1+json`` into the *index* entries, so the
  manifest itself is what to read),
* ``subject``: the image it belongs to,
* the annotation ``dev.sigstore.bundle.predicateType``: a label saying whether it is a
  signature (``https://sigstore.dev/cosign/sign/v1``) or which attestation,
* one layer: the bundle, a JSON document with the DSSE envelope and a hint at the key.

:func:`read_referrers` returns that index and every bundle found through it, as
:class:`~portside.security.signing.dsse.Attestation` values.
"""

from __future__ import annotations

import json
from typing import Any

from portside.errors import RegistryError
from portside.oci.registry_client import Manifest, RegistryClient
from portside.security.signing.dsse import Attestation
from portside.security.signing.names import BUNDLE_PREDICATE_ANNOTATION, SIGSTORE_BUNDLE, referrers_tag

__all__ = ["read_referrers", "referrers_index"]


def referrers_index(client: RegistryClient, repository: str, digest: str) -> Manifest | None:
    """The index under ``repository:sha256-<hex>`` (the referrers tag of ``digest``), or ``None`` if there is none."""
    try:
        return client.manifest(repository, referrers_tag(digest))
    except RegistryError as err:
        if err.status == 404:
            return None
        raise


def _bundle_layer(manifest: dict[str, Any]) -> dict[str, Any] | None:
    for layer in manifest.get("layers") or []:
        if isinstance(layer, dict) and layer.get("mediaType") == SIGSTORE_BUNDLE:
            return layer
    return None


def read_referrers(client: RegistryClient, repository: str, digest: str) -> tuple[Manifest | None, list[Attestation]]:
    """The referrers index of ``repository@digest`` and every Sigstore bundle (with a DSSE envelope) it lists.

    ``(None, [])`` when the image has no referrers tag. Entries that are not bundles (another
    tool's artifacts) are skipped; nothing is verified here, only read.
    """
    index = referrers_index(client, repository, digest)
    if index is None:
        return None, []
    found = []
    for entry in index.json().get("manifests") or []:
        if not isinstance(entry, dict) or not str(entry.get("digest", "")).startswith("sha256:"):
            continue
        manifest = client.manifest(repository, str(entry["digest"]))
        body = manifest.json()
        layer = _bundle_layer(body)
        if layer is None:
            continue
        bundle = json.loads(client.blob(repository, str(layer["digest"])))
        envelope = bundle.get("dsseEnvelope") if isinstance(bundle, dict) else None
        if not isinstance(envelope, dict):
            continue  # a bundle with a bare message signature: not something cosign sign/attest write for images
        label = str((body.get("annotations") or {}).get(BUNDLE_PREDICATE_ANNOTATION, ""))
        found.append(Attestation(str(layer["digest"]), label, envelope, bundle=bundle, manifest_digest=manifest.digest))
    return index, found

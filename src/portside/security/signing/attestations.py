"""Attestations, read through the registry API: signed in-toto statements about an image.

An attestation is a DSSE envelope (:mod:`.dsse`): an in-toto statement (subject = the
image digest, predicate = e.g. a CycloneDX SBOM) and a signature over the envelope's
*pre-authentication encoding* (:func:`pae`). cosign 3 stores it as a Sigstore bundle in an
OCI referrer of the image (:mod:`.bundles`), like its signatures; cosign 2 stored it as a
layer of the ``sha256-<hex>.att`` manifest (:func:`fetch_legacy_attestations`).
"""

from __future__ import annotations

import json

from portside.errors import RegistryError
from portside.oci.registry_client import RegistryClient
from portside.security.signing.bundles import read_referrers
from portside.security.signing.dsse import Attestation, pae
from portside.security.signing.names import ATTESTATION_ANNOTATION, DSSE_ENVELOPE, attestation_tag

__all__ = ["Attestation", "fetch_attestations", "fetch_legacy_attestations", "pae"]


def fetch_legacy_attestations(client: RegistryClient, repository: str, digest: str) -> list[Attestation]:
    """Every attestation cosign 2 stored for ``repository@digest`` (``[]`` if there is no ``.att`` tag)."""
    tag = attestation_tag(digest)
    try:
        manifest = client.manifest(repository, tag)
    except RegistryError as err:
        if err.status == 404:
            return []
        raise
    found = []
    for layer in manifest.json().get("layers") or []:
        if layer.get("mediaType") != DSSE_ENVELOPE:
            continue
        envelope = json.loads(client.blob(repository, str(layer["digest"])))
        found.append(Attestation(str(layer["digest"]),
                                 str((layer.get("annotations") or {}).get(ATTESTATION_ANNOTATION, "")), envelope,
                                 manifest_digest=manifest.digest))
    return found


def fetch_attestations(client: RegistryClient, repository: str, digest: str) -> list[Attestation]:
    """Every attestation stored for ``repository@digest``, read as cosign 3 reads them (``[]`` if none).

    The bundles under the image's referrers tag that are not signatures; only when the
    image has no referrers at all, cosign 2's ``.att`` layers.
    """
    index, bundles = read_referrers(client, repository, digest)
    if index is None:
        return fetch_legacy_attestations(client, repository, digest)
    return [b for b in bundles if not b.is_signature]

"""Signatures, read through the registry API: cosign 3's bundles, and cosign 2's ``.sig`` layers.

A cosign 3 signature is a Sigstore bundle in an OCI referrer of the image (:mod:`.bundles`):
a DSSE envelope whose in-toto statement has the image digest as its subject and the
predicate type ``https://sigstore.dev/cosign/sign/v1``. :func:`fetch_signatures` reads those.

cosign 2 wrote the ``sha256-<hex>.sig`` manifest instead (:func:`fetch_legacy_signatures`): a
signature layer is a small JSON document, the *simple-signing payload*, which names the
digest that was signed (``critical.image.docker-manifest-digest``). The signature itself, an
ECDSA P-256 signature over the SHA-256 of those payload bytes (DER, then base64), sits in the
layer's annotation ``dev.cosignproject.cosign/signature``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from portside.errors import RegistryError
from portside.oci.registry_client import Manifest, RegistryClient
from portside.security.signing.bundles import read_referrers
from portside.security.signing.dsse import Attestation
from portside.security.signing.names import SIGNATURE_ANNOTATION, SIMPLE_SIGNING, referrers_tag, signature_tag

__all__ = ["SignatureLayer", "fetch_legacy_signatures", "fetch_signatures"]


@dataclass(frozen=True)
class SignatureLayer:
    """One signature in a cosign 2 ``.sig`` manifest: the simple-signing payload and its ECDSA signature."""

    layer_digest: str
    payload: bytes  #: the exact bytes that were signed
    signature_b64: str  #: the annotation's value
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def claims(self) -> dict[str, Any]:
        """The payload as JSON: ``critical.image.docker-manifest-digest``, ``critical.identity``, ``optional``."""
        return cast("dict[str, Any]", json.loads(self.payload))

    @property
    def signed_digest(self) -> str | None:
        """The image digest this signature speaks about (from the payload, not from the tag)."""
        found = (self.claims.get("critical") or {}).get("image", {}).get("docker-manifest-digest")
        return str(found) if found is not None else None

    @property
    def signature(self) -> bytes:
        """The DER-encoded ECDSA signature (empty if the annotation is not base64)."""
        try:
            return base64.b64decode(self.signature_b64, validate=True)
        except (binascii.Error, ValueError):
            return b""


def fetch_signatures(client: RegistryClient, repository: str, digest: str) -> tuple[Manifest, list[Attestation]]:
    """cosign 3's signatures of ``repository@digest``: its referrers index and the bundles labelled as signatures.

    Raises :class:`RegistryError` (status 404) when the image has no referrers tag.
    """
    index, bundles = read_referrers(client, repository, digest)
    if index is None:
        tag = referrers_tag(digest)
        raise RegistryError(f"{repository}@{digest[:19]}… has no signature: there is no referrers tag {tag[:20]}….",
                            status=404, hint="Sign it by digest with cosign sign --key … REPO@sha256:….")
    return index, [b for b in bundles if b.is_signature]


def fetch_legacy_signatures(client: RegistryClient, repository: str, digest: str
                            ) -> tuple[Manifest, list[SignatureLayer]]:
    """The ``.sig`` manifest cosign 2 wrote for ``repository@digest``, and its signature layers.

    Raises :class:`RegistryError` (status 404) when there is no ``.sig`` tag.
    """
    tag = signature_tag(digest)
    try:
        manifest = client.manifest(repository, tag)
    except RegistryError as err:
        if err.status == 404:
            raise RegistryError(f"{repository}@{digest[:19]}… has no cosign 2 signature: there is no tag "
                                f"{tag[:20]}….sig.", status=404,
                                hint="cosign 3 stores bundles under the referrers tag instead: fetch_signatures.") \
                from None
        raise
    layers = []
    for layer in manifest.json().get("layers") or []:
        if layer.get("mediaType") != SIMPLE_SIGNING:
            continue
        annotations = dict(layer.get("annotations") or {})
        layers.append(SignatureLayer(str(layer["digest"]), client.blob(repository, str(layer["digest"])),
                                     annotations.get(SIGNATURE_ANNOTATION, ""), annotations))
    return manifest, layers

"""Attestations, read through the registry API: DSSE envelopes holding in-toto statements.

An attestation layer is a DSSE envelope: an in-toto statement (subject = the image
digest, predicate = e.g. a CycloneDX SBOM) and a signature over the envelope's
*pre-authentication encoding* (:func:`pae`).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric import ec

from portside.errors import RegistryError
from portside.oci.registry_client import RegistryClient
from portside.security.signing.ecdsa import ecdsa_valid
from portside.security.signing.names import ATTESTATION_ANNOTATION, DSSE_ENVELOPE, attestation_tag

__all__ = ["Attestation", "fetch_attestations", "pae"]


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what an attestation's signature really covers."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True)
class Attestation:
    """One DSSE envelope from a ``.att`` manifest, with its decoded in-toto statement."""

    layer_digest: str
    predicate_type: str
    envelope: Mapping[str, Any]

    @property
    def payload(self) -> bytes:
        return base64.b64decode(str(self.envelope.get("payload", "")))

    @property
    def statement(self) -> dict[str, Any]:
        """``{"_type", "predicateType", "subject": [{"name", "digest"}], "predicate": …}``."""
        return cast("dict[str, Any]", json.loads(self.payload))

    @property
    def subject_digests(self) -> list[str]:
        return [f"sha256:{s['digest']['sha256']}" for s in self.statement.get("subject") or []
                if isinstance(s, dict) and "sha256" in (s.get("digest") or {})]

    def signature_valid(self, public_key: ec.EllipticCurvePublicKey) -> bool:
        """Whether any of the envelope's signatures verifies over ``pae(payloadType, payload)``."""
        message = pae(str(self.envelope.get("payloadType", "")), self.payload)
        for entry in self.envelope.get("signatures") or []:
            try:
                signature = base64.b64decode(str(entry.get("sig", "")), validate=True)
            except (binascii.Error, ValueError):
                continue
            if ecdsa_valid(public_key, message, signature):
                return True
        return False


def fetch_attestations(client: RegistryClient, repository: str, digest: str) -> list[Attestation]:
    """Every attestation stored for ``repository@digest`` (``[]`` if there is no ``.att`` tag)."""
    try:
        manifest = client.manifest(repository, attestation_tag(digest))
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
                                 str((layer.get("annotations") or {}).get(ATTESTATION_ANNOTATION, "")), envelope))
    return found

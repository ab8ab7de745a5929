"""A DSSE envelope holding an in-toto statement: what a cosign 3 signature and every attestation are.

The envelope carries the statement (subject = the image digest, predicate = e.g. a
CycloneDX SBOM, or nothing for a cosign 3 signature) and a signature over its
*pre-authentication encoding* (:func:`pae`). cosign 3 wraps it in a Sigstore bundle
(:mod:`.bundles`); cosign 2 stored it as a layer of the ``.att`` manifest.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric import ec

from portside.security.signing.ecdsa import ecdsa_valid
from portside.security.signing.names import SIGN_PREDICATE

__all__ = ["Attestation", "pae"]


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what an attestation's signature really covers."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True)
class Attestation:
    """One signed in-toto statement in a DSSE envelope, with its decoded statement.

    From cosign 3: one Sigstore bundle (``bundle``) of an OCI referrer manifest
    (``manifest_digest``), a signature or an attestation. From cosign 2: one layer of the
    ``.att`` manifest (``bundle`` is ``None``).
    """

    layer_digest: str
    #: the predicate type the manifest (or layer) is *labelled* with; unsigned: :attr:`signed_predicate_type` counts
    predicate_type: str
    envelope: Mapping[str, Any]
    bundle: Mapping[str, Any] | None = None
    manifest_digest: str = ""

    @property
    def payload(self) -> bytes:
        return base64.b64decode(str(self.envelope.get("payload", "")))

    @property
    def statement(self) -> dict[str, Any]:
        """``{"_type", "predicateType", "subject": [{"name", "digest"}], "predicate": …}``."""
        return cast("dict[str, Any]", json.loads(self.payload))

    @property
    def signed_predicate_type(self) -> str:
        """The predicate type inside the signed statement (the label above can be changed without breaking it)."""
        return str(self.statement.get("predicateType", ""))

    @property
    def is_signature(self) -> bool:
        """A cosign 3 signature (as labelled): the statement "this key signs that digest"."""
        return self.predicate_type == SIGN_PREDICATE

    @property
    def subject_digests(self) -> list[str]:
        return [f"sha256:{s['digest']['sha256']}" for s in self.statement.get("subject") or []
                if isinstance(s, dict) and "sha256" in (s.get("digest") or {})]

    @property
    def signed_digest(self) -> str | None:
        """The (first) image digest the signed statement is about."""
        digests = self.subject_digests
        return digests[0] if digests else None

    @property
    def key_hint(self) -> str | None:
        """The bundle's hint at the public key that verifies it: base64 of the SHA-256 of the key (DER)."""
        if self.bundle is None:
            return None
        found = ((self.bundle.get("verificationMaterial") or {}).get("publicKey") or {}).get("hint")
        return str(found) if found else None

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

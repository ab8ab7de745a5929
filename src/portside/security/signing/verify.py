"""A signature checked by hand, in Python: what ``cosign verify --key`` does offline, step by step.

:func:`verify_signature` reads what cosign stored through the registry API and checks each
signature with ``cryptography``, so a lesson can show that cosign does nothing magic: its
answer agrees with ``cosign verify``. Like cosign 3, it reads the bundles under the image's
referrers tag when there are any, and cosign 2's ``.sig`` tag only when there are none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from portside.errors import RegistryError
from portside.oci.reference import Reference
from portside.oci.registry_client import RegistryClient
from portside.security.signing.bundles import read_referrers
from portside.security.signing.dsse import Attestation
from portside.security.signing.ecdsa import ecdsa_valid
from portside.security.signing.keys import load_public_key
from portside.security.signing.location import RegistryLike, client_for, endpoint_of
from portside.security.signing.names import IN_TOTO, SIGN_PREDICATE, SIGNATURE_TYPE, pinned
from portside.security.signing.signatures import SignatureLayer, fetch_legacy_signatures

__all__ = ["PythonVerification", "bundle_problem", "legacy_problem", "verify_signature"]

#: the problem of a signature that does verify, but for another image
OTHER_DIGEST = "the payload was signed for a different image digest"
BAD_SIGNATURE = "the ECDSA signature does not verify with this public key"


@dataclass(frozen=True)
class PythonVerification:
    """The result of checking an image's signatures by hand (what ``cosign verify --key`` does offline)."""

    reference: str
    digest: str
    found: int  #: signatures found
    valid: tuple[Attestation | SignatureLayer, ...]  #: those whose signature verifies AND that name ``digest``
    problems: tuple[str, ...]  #: why each other one was rejected
    #: what was read: ``"bundle"`` (cosign 3, the referrers tag), ``"legacy"`` (cosign 2, ``.sig``), ``""`` (nothing)
    layout: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.valid)

    def __str__(self) -> str:
        verdict = "verified" if self.passed else "NOT verified"
        lines = [f"{verdict}: {len(self.valid)} of {self.found} signature(s) valid for this digest"]
        lines += [f"  rejected: {p}" for p in self.problems]
        return "\n".join(lines)


def bundle_problem(item: Attestation, key: ec.EllipticCurvePublicKey, digest: str) -> str | None:
    """Why a cosign 3 signature bundle does not count for ``digest`` with ``key`` (``None``: it counts).

    Three checks, as cosign makes them: the DSSE signature over the envelope's
    pre-authentication encoding verifies with the key; the *signed* statement is a cosign
    signature (the manifest's label is not signed); its subject is this digest.
    """
    if not item.signature_valid(key):
        return BAD_SIGNATURE
    if item.envelope.get("payloadType") != IN_TOTO or item.signed_predicate_type != SIGN_PREDICATE:
        return f"the signed statement is not a cosign signature (predicate {item.signed_predicate_type or 'none'})"
    if digest not in item.subject_digests:
        return OTHER_DIGEST
    return None


def legacy_problem(layer: SignatureLayer, key: ec.EllipticCurvePublicKey, digest: str) -> str | None:
    """Why a cosign 2 ``.sig`` layer does not count for ``digest`` with ``key`` (``None``: it counts)."""
    if not ecdsa_valid(key, layer.payload, layer.signature):
        return BAD_SIGNATURE
    if layer.claims.get("critical", {}).get("type") != SIGNATURE_TYPE:
        return "the payload is not a cosign container image signature"
    if layer.signed_digest != digest:
        return OTHER_DIGEST
    return None


def verify_signature(ref_with_digest: str | Reference, public_key: str | Path | bytes, *,
                     client: RegistryClient | None = None,
                     registry: RegistryLike | None = None) -> PythonVerification:
    """Verify an image's cosign signatures in Python: fetch them, check ECDSA and the signed digest.

    A signature counts only if (1) its ECDSA signature verifies with ``public_key`` and
    (2) what was signed names *this* digest as the image — a valid signature copied from
    another image must not count. cosign 3's bundles (under the referrers tag ``sha256-<hex>``)
    are read when the image has any, else cosign 2's ``.sig`` layers. No signature at all
    gives ``found == 0`` (not an exception): "unsigned" is an answer too.

    The registry is asked through ``client`` when given, else through ``registry`` (an
    ``Endpoint``, or anything with ``.endpoint``: its URL, TLS setting and login), else
    through a client guessed from the reference's host name (:func:`client_for`).
    """
    ref = pinned(ref_with_digest)
    digest = ref.digest or ""  # never empty: pinned() refused a tag alone
    key = load_public_key(public_key)
    api = client or (endpoint_of(registry).client() if registry is not None else client_for(ref))
    index, bundles = read_referrers(api, ref.path, digest)
    if index is not None:
        signatures = [b for b in bundles if b.is_signature]
        if not signatures:
            kinds = ", ".join(sorted({b.predicate_type for b in bundles})) or "none"
            return PythonVerification(ref.original, digest, 0, (),
                                      (f"no signature among this digest's referrers (only: {kinds})",), "bundle")
        judged = [(b, bundle_problem(b, key, digest)) for b in signatures]
        return _result(ref.original, digest, judged, "bundle")
    try:
        _, layers = fetch_legacy_signatures(api, ref.path, digest)
    except RegistryError as err:
        if err.status == 404:
            return PythonVerification(ref.original, digest, 0, (),
                                      ("no signature for this digest: neither a referrers tag nor a .sig tag",))
        raise
    return _result(ref.original, digest, [(layer, legacy_problem(layer, key, digest)) for layer in layers], "legacy")


def _result(reference: str, digest: str, judged: list[tuple[Attestation, str | None]] |
            list[tuple[SignatureLayer, str | None]], layout: str) -> PythonVerification:
    valid = tuple(item for item, problem in judged if problem is None)
    problems = tuple(problem for _, problem in judged if problem is not None)
    return PythonVerification(reference, digest, len(judged), valid, problems, layout)

"""A signature checked by hand, in Python: what ``cosign verify --key`` does offline, step by step.

:func:`verify_signature` fetches the ``.sig`` manifest through the registry API and
checks each layer with ``cryptography``, so a lesson can show that cosign does nothing
magic: its answer agrees with ``cosign verify``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from portside.errors import RegistryError
from portside.oci.reference import Reference
from portside.oci.registry_client import RegistryClient
from portside.security.signing.ecdsa import ecdsa_valid
from portside.security.signing.keys import load_public_key
from portside.security.signing.location import RegistryLike, client_for, endpoint_of
from portside.security.signing.names import SIGNATURE_TYPE, pinned
from portside.security.signing.signatures import SignatureLayer, fetch_signatures

__all__ = ["PythonVerification", "verify_signature"]


@dataclass(frozen=True)
class PythonVerification:
    """The result of checking an image's signatures by hand (what ``cosign verify --key`` does offline)."""

    reference: str
    digest: str
    found: int  #: signature layers found
    valid: tuple[SignatureLayer, ...]  #: those whose ECDSA signature verifies AND whose payload names ``digest``
    problems: tuple[str, ...]  #: why each other layer was rejected

    @property
    def passed(self) -> bool:
        return bool(self.valid)

    def __str__(self) -> str:
        verdict = "verified" if self.passed else "NOT verified"
        lines = [f"{verdict}: {len(self.valid)} of {self.found} signature(s) valid for this digest"]
        lines += [f"  rejected: {p}" for p in self.problems]
        return "\n".join(lines)


def verify_signature(ref_with_digest: str | Reference, public_key: str | Path | bytes, *,
                     client: RegistryClient | None = None,
                     registry: RegistryLike | None = None) -> PythonVerification:
    """Verify an image's cosign signatures in Python: fetch ``.sig``, check ECDSA and the signed digest.

    A layer counts only if (1) its ECDSA signature over the payload bytes verifies with
    ``public_key`` and (2) the payload names *this* digest as the signed image — a valid
    signature copied from another image must not count. No signature at all gives
    ``found == 0`` (not an exception): "unsigned" is an answer too.

    The registry is asked through ``client`` when given, else through ``registry`` (an
    ``Endpoint``, or anything with ``.endpoint``: its URL, TLS setting and login), else
    through a client guessed from the reference's host name (:func:`client_for`).
    """
    ref = pinned(ref_with_digest)
    digest = ref.digest or ""  # never empty: pinned() refused a tag alone
    key = load_public_key(public_key)
    api = client or (endpoint_of(registry).client() if registry is not None else client_for(ref))
    try:
        _, layers = fetch_signatures(api, ref.path, digest)
    except RegistryError as err:
        if err.status == 404:
            return PythonVerification(ref.original, digest, 0, (), ("no .sig tag for this digest",))
        raise
    valid, problems = [], []
    for layer in layers:
        if not ecdsa_valid(key, layer.payload, layer.signature):
            problems.append("the ECDSA signature does not verify with this public key")
        elif layer.claims.get("critical", {}).get("type") != SIGNATURE_TYPE:
            problems.append("the payload is not a cosign container image signature")
        elif layer.signed_digest != digest:
            problems.append("the payload was signed for a different image digest")
        else:
            valid.append(layer)
    return PythonVerification(ref.original, digest, len(layers), tuple(valid), tuple(problems))

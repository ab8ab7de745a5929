"""The one cryptographic check under every signature here: ECDSA P-256 over SHA-256, with ``cryptography``."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["ecdsa_valid"]


def ecdsa_valid(public_key: ec.EllipticCurvePublicKey, data: bytes, signature: bytes) -> bool:
    """True if ``signature`` (DER) is an ECDSA-SHA256 signature of ``data`` by ``public_key``'s private key."""
    try:
        public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True

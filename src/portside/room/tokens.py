"""The room's signing key and the registry tokens it signs (JWT, ES256), as the registry's token spec asks.

A registry in token mode (``auth: token``) never sees a password. It trusts a *certificate bundle*
(``rootcertbundle``) and accepts a request that carries a JSON Web Token whose signature chains up to
it, whose issuer and audience are the ones it was configured with, and whose ``access`` claim grants the
action on the repository. The token service (:mod:`portside.room.service`) checks the password and
signs such tokens; this module owns the key that signs them:

* :func:`create_signing_key` writes a small CA (``token-ca.pem``, the registry's root bundle) and a signing
  certificate it issued (``token-signer.pem`` + ``token-signer.key``, mode 0600). EC P-256, like the
  course's TLS certificates (:mod:`portside.oci.tls`).
* :meth:`SigningKey.issue` signs a token with PyJWT. Its header carries ``x5c`` (the signing certificate,
  base64 DER: the registry verifies it against the root bundle) and ``kid`` (libtrust's key id of the same
  key, which older and newer registries can also match).
* :func:`verify` is the registry's check done in Python (chain, signature, issuer, audience, expiry), so
  a lesson can show what the registry does with a token.

Distribution 2.8 wants ``aud`` as one string and allows 60 s of clock skew on ``exp`` and ``nbf``
(``registry/auth/token/token.go``, ``Leeway``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from portside.errors import RegistryAuthError, RoomError

__all__ = ["ALGORITHM", "LEEWAY_SECONDS", "SigningKey", "create_signing_key", "libtrust_key_id", "load_signing_key",
           "verify"]

ALGORITHM = "ES256"
#: the clock skew registry:2 forgives on ``exp`` and ``nbf`` (distribution's ``token.Leeway``)
LEEWAY_SECONDS = 60

CA_FILE, CERT_FILE, KEY_FILE = "token-ca.pem", "token-signer.pem", "token-signer.key"


def libtrust_key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """libtrust's key id: the SHA-256 of the DER public key, first 240 bits, base32, in 12 groups of 4."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i:i + 4] for i in range(0, len(encoded), 4))


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Portside workshop"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def create_signing_key(folder: Path, *, days: int = 2) -> SigningKey:
    """A new token CA and signing certificate in ``folder`` (replacing any there: old tokens stop verifying)."""
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (x509.CertificateBuilder().subject_name(_name("Portside room token CA"))
               .issuer_name(_name("Portside room token CA")).public_key(ca_key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False, key_agreement=False,
                                            key_cert_sign=True, crl_sign=True, encipher_only=False,
                                            decipher_only=False), critical=True)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("Portside room token signer"))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         key_cert_sign=False, crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(ca_key, hashes.SHA256()))
    (folder / CA_FILE).write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (folder / CERT_FILE).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_private(folder / KEY_FILE, key.private_bytes(serialization.Encoding.PEM,
                                                        serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    return SigningKey(folder, key, cert)


def load_signing_key(folder: Path) -> SigningKey:
    """The signing key :func:`create_signing_key` wrote into ``folder``."""
    try:
        key = serialization.load_pem_private_key((folder / KEY_FILE).read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate((folder / CERT_FILE).read_bytes())
    except (OSError, ValueError) as err:
        raise RoomError(f"The room's token signing key in {folder} cannot be read ({err}).",
                        hint="Start the room again: `portside workshop down`, then `portside workshop up`.") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise RoomError(f"The room's token signing key in {folder} is not an EC key.")
    return SigningKey(folder, key, cert)


@dataclass(frozen=True)
class SigningKey:
    """The key that signs the room's tokens, with its certificate and the CA the registry trusts."""

    folder: Path
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def ca_file(self) -> Path:
        """The PEM bundle to give the registry as ``REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE``."""
        return self.folder / CA_FILE

    @property
    def key_id(self) -> str:
        return libtrust_key_id(self.key.public_key())

    def header(self) -> dict[str, Any]:
        """The JWT header fields that tell the registry which key signed: ``x5c`` and ``kid``."""
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return {"typ": "JWT", "kid": self.key_id, "x5c": [base64.b64encode(der).decode()]}

    def issue(self, *, subject: str, access: Sequence[Mapping[str, Any]], service: str, issuer: str,
              ttl: int, now: float | None = None) -> tuple[str, dict[str, Any]]:
        """A signed token and its claims; ``now`` (epoch seconds) backdates it, e.g. to show an expired one."""
        issued = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "iss": issuer, "sub": subject, "aud": service, "iat": issued, "nbf": issued, "exp": issued + ttl,
            "jti": secrets.token_hex(12), "access": [dict(item) for item in access],
        }
        return jwt.encode(claims, self.key, algorithm=ALGORITHM, headers=self.header()), claims


def verify(token: str, ca_file: Path, *, service: str, issuer: str, leeway: int = LEEWAY_SECONDS) -> dict[str, Any]:
    """The claims of ``token`` once it passes the registry's checks, else :class:`RegistryAuthError` saying which.

    The signing certificate comes from the token's own ``x5c`` header and must be issued by the CA in
    ``ca_file``; then PyJWT checks the signature, ``aud``, ``iss``, ``exp`` and ``nbf``.
    """
    try:
        header = jwt.get_unverified_header(token)
        chain = header.get("x5c") or []
        if not chain:
            raise RegistryAuthError("The token names no signing certificate (no x5c header).")
        leaf = x509.load_der_x509_certificate(base64.b64decode(chain[0]))
        ca = x509.load_pem_x509_certificate(ca_file.read_bytes())
        try:
            leaf.verify_directly_issued_by(ca)
        except (InvalidSignature, ValueError, TypeError):
            raise RegistryAuthError("The token's signing certificate was not issued by the room's CA.",
                                    hint="Fetch a new token from this room's token service.") from None
        public_key = leaf.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey):
            raise RegistryAuthError("The token's signing certificate does not hold an EC key.")
        claims: dict[str, Any] = jwt.decode(token, public_key, algorithms=[ALGORITHM], audience=service,
                                            issuer=issuer, leeway=leeway)
        return claims
    except jwt.ExpiredSignatureError:
        raise RegistryAuthError("The token has expired.", hint="Fetch a new one: the client does this itself "
                                "when it still has your password (docker login once).") from None
    except jwt.InvalidAudienceError:
        raise RegistryAuthError(f"The token was issued for another service, not {service!r}.") from None
    except jwt.InvalidIssuerError:
        raise RegistryAuthError(f"The token was issued by someone other than {issuer!r}.") from None
    except jwt.PyJWTError as err:
        raise RegistryAuthError(f"The token is not valid: {err}.") from None

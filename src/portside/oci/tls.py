"""A throwaway certificate authority and a server certificate for a local registry.

Real registries speak HTTPS with a certificate that clients trust. On a laptop we
make our own tiny CA, sign one server certificate for ``localhost`` /
``127.0.0.1`` / ``::1`` with it, and hand clients the CA file:

* ``requests`` / ``curl`` take it directly (``verify=ca_file``, ``--cacert``);
* Go tools (cosign, syft, crane) read ``SSL_CERT_FILE``, which *replaces* the system
  trust store, so :func:`bundle` writes the system CAs plus the course CA into one file.

Keys are EC P-256 and certificates live a few days: they are for one session, and
the folder they are written to is removed when the registry stops.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from portside.base.paths import state_dir

__all__ = ["DEFAULT_NAMES", "CertificateSet", "bundle", "make_certificates", "system_ca_file"]

#: the names every server certificate covers
DEFAULT_NAMES: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")

_SYSTEM_BUNDLES = (
    Path("/etc/ssl/certs/ca-certificates.crt"),  # Debian, Ubuntu, Alpine
    Path("/etc/pki/tls/certs/ca-bundle.crt"),  # Fedora, RHEL
    Path("/etc/ssl/cert.pem"),  # macOS, Alpine
)


@dataclass(frozen=True)
class CertificateSet:
    """Where the PEM files of one CA + server certificate pair were written."""

    folder: Path
    ca_file: Path  # the CA certificate: what clients must trust
    cert_file: Path  # the server certificate (leaf), for REGISTRY_HTTP_TLS_CERTIFICATE
    key_file: Path  # the server's private key, for REGISTRY_HTTP_TLS_KEY (mode 0600)
    names: tuple[str, ...]


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Portside course"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _subject_alt_names(names: Sequence[str]) -> list[x509.GeneralName]:
    result: list[x509.GeneralName] = []
    for name in names:
        try:
            result.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            result.append(x509.DNSName(name))
    return result


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_certificates(folder: Path | None = None, *, extra_names: Sequence[str] = (),
                      days: int = 7) -> CertificateSet:
    """Create a CA and a server certificate it signed; write them as PEM files into ``folder``.

    ``folder`` defaults to a new temporary folder under the course state folder
    (``.portside/tls/``). The CA's private key is never written: nothing else will
    ever be signed with it.
    """
    names = tuple(dict.fromkeys((*DEFAULT_NAMES, *extra_names)))
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="certs-", dir=state_dir("tls")))
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    not_before, not_after = now - dt.timedelta(minutes=5), now + dt.timedelta(days=days)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Portside throwaway CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0])).issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(_subject_alt_names(names)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    ca_file, cert_file, key_file = folder / "ca.crt", folder / "server.crt", folder / "server.key"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.touch(mode=0o600)
    key_file.write_bytes(_pem_key(key))
    return CertificateSet(folder=folder, ca_file=ca_file, cert_file=cert_file, key_file=key_file, names=names)


def system_ca_file() -> Path | None:
    """The operating system's CA bundle, else certifi's, else ``None``."""
    for path in _SYSTEM_BUNDLES:
        if path.is_file():
            return path
    try:
        import certifi
    except ImportError:  # pragma: no cover - requests depends on certifi
        return None
    return Path(certifi.where())


def bundle(ca_file: Path, dest: Path | None = None) -> Path:
    """Write the system CAs followed by ``ca_file`` into one PEM bundle and return its path.

    Point ``SSL_CERT_FILE`` at it for Go tools: they then trust the public CAs *and*
    the course CA. ``dest`` defaults to ``bundle.pem`` next to ``ca_file``.
    """
    dest = dest or ca_file.with_name("bundle.pem")
    system = system_ca_file()
    parts = [system.read_bytes().rstrip(b"\n") + b"\n"] if system else []
    parts.append(ca_file.read_bytes())
    dest.write_bytes(b"".join(parts))
    return dest

"""portside.security.signing without a registry: a signature checked by hand both ways, and where it is asked for.

The key pair is made here with ``cryptography`` and the ``.sig`` layers are built in
memory; only the fetch is replaced, so the check itself is the real one.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from portside.errors import InvalidReference, SigningError, UsageError
from portside.oci.endpoint import Endpoint
from portside.oci.reference import parse
from portside.oci.registry_client import RegistryClient
from portside.security import signing
from portside.security.signing import SignatureLayer, client_for, verify_signature
from portside.security.signing import verify as verify_module
from portside.security.signing.location import endpoint_of
from portside.security.signing.names import pinned

DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32
REF = f"localhost:5000/team/app@{DIGEST}"


@pytest.fixture(scope="module")
def private() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def public_pem(private: ec.EllipticCurvePrivateKey) -> bytes:
    return private.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)


def _layer(private: ec.EllipticCurvePrivateKey, digest: str) -> SignatureLayer:
    payload = json.dumps({"critical": {"type": "cosign container image signature",
                                       "image": {"docker-manifest-digest": digest},
                                       "identity": {"docker-reference": "localhost:5000/team/app"}}}).encode()
    signature = base64.b64encode(private.sign(payload, ec.ECDSA(hashes.SHA256()))).decode()
    return SignatureLayer("sha256:" + "00" * 32, payload, signature)


class FakeFetch:
    """Stands in for ``fetch_signatures``: records (client URL, repository, digest), serves ``layers``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.layers: list[SignatureLayer] = []

    def __call__(self, client: RegistryClient, repository: str, digest: str) -> tuple[Any, list[SignatureLayer]]:
        self.calls.append((client.url, repository, digest))
        return None, list(self.layers)


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> FakeFetch:
    fetch = FakeFetch()
    monkeypatch.setattr(verify_module, "fetch_signatures", fetch)
    return fetch


def test_a_valid_signature_passes_and_one_for_another_digest_does_not(
        private: ec.EllipticCurvePrivateKey, public_pem: bytes, asked: FakeFetch) -> None:
    asked.layers.append(_layer(private, DIGEST))
    assert verify_signature(REF, public_pem).passed
    asked.layers[:] = [_layer(private, OTHER)]
    copied = verify_signature(parse(REF), public_pem)
    assert not copied.passed and copied.problems == ("the payload was signed for a different image digest",)
    assert copied.reference == REF and copied.digest == DIGEST


def test_another_key_does_not_verify(private: ec.EllipticCurvePrivateKey, asked: FakeFetch) -> None:
    other = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    asked.layers.append(_layer(private, DIGEST))
    result = verify_signature(REF, other)
    assert not result.passed and result.problems == ("the ECDSA signature does not verify with this public key",)


@dataclass(frozen=True)
class Lab:
    """Anything with an ``.endpoint``, like a Registry or a LabContext."""

    endpoint: Endpoint


def test_the_registry_is_asked_where_the_caller_says(public_pem: bytes, asked: FakeFetch) -> None:
    """An endpoint (or anything with one) gives the URL and TLS setting; a bare reference has them guessed."""
    verify_signature(REF, public_pem)
    tls = Endpoint("localhost", 5000, tls=True)
    verify_signature(REF, public_pem, registry=tls)
    verify_signature(REF, public_pem, registry=Lab(tls))
    verify_signature(REF, public_pem, client=RegistryClient("http://127.0.0.1:5000"))
    assert [url for url, _, _ in asked.calls] == ["http://localhost:5000", "https://localhost:5000",
                                            "https://localhost:5000", "http://127.0.0.1:5000"]
    assert {(repository, digest) for _, repository, digest in asked.calls} == {("team/app", DIGEST)}
    assert endpoint_of(Lab(tls)) is tls and endpoint_of(tls) is tls


def test_a_reference_is_pinned_by_digest_once() -> None:
    ref = parse(REF)
    assert pinned(ref) is ref
    with pytest.raises(InvalidReference, match="names a tag"):
        pinned("localhost:5000/team/app:1.0")
    assert client_for(ref).url == "http://localhost:5000"
    assert client_for("registry.example.com/a/b:1").url == "https://registry.example.com"


def test_failures_come_by_kind(private: ec.EllipticCurvePrivateKey, monkeypatch: pytest.MonkeyPatch) -> None:
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    with pytest.raises(SigningError, match="That is a private key"):
        signing.load_public_key(private_pem)
    with pytest.raises(SigningError, match="not a PEM public key"):
        signing.load_public_key(b"hello")
    monkeypatch.delenv(signing.KEYLESS_VARIABLE, raising=False)
    with pytest.raises(SigningError, match="Keyless signing"):
        signing.sign_keyless(REF)
    with pytest.raises(UsageError, match="Unknown severity"):
        signing.scan_gate(fail_on="nope")({})

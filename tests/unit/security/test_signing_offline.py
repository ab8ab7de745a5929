"""portside.security.signing without a registry: signatures checked by hand both ways, names, and where to ask.

A real cosign 3.1.1 bundle (made on 2026-12-01 with ``cosign sign --key … --signing-config …``, the
signing config and trusted root naming no services) is checked with its real public key; other
bundles and cosign 2's ``.sig`` layers are built here with ``cryptography``. Only the registry
read is replaced where a test asks which registry is read; the checks themselves are the real ones.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from portside.errors import InvalidReference, SigningError, UsageError
from portside.oci.endpoint import Endpoint
from portside.oci.reference import parse
from portside.oci.registry_client import Manifest, RegistryClient
from portside.security import signing
from portside.security.signing import (
    SIGN_PREDICATE,
    Attestation,
    SignatureLayer,
    client_for,
    key_hint,
    pae,
    verify_signature,
)
from portside.security.signing import verify as verify_module
from portside.security.signing.location import endpoint_of
from portside.security.signing.names import pinned
from portside.security.signing.verify import bundle_problem, legacy_problem

DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32
REF = f"localhost:5000/team/app@{DIGEST}"

# -- what cosign 3.1.1 wrote (2026-12-01): its public key, and the bundle of `cosign sign` for REAL_DIGEST -------
REAL_PUBLIC = b"""-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEPvrDTfUDc1ObjUc+bs4wSsGnEbHk
ja4oD2/EzOXXSgvSrQPTo9Bmgmup4ZQTZFv8F9e4ZrnMke7CnzVCSL0PJA==
-----END PUBLIC KEY-----
"""
REAL_DIGEST = "sha256:04c98885378470b2402425957dd20f728570b65ae86b7e98a27502f62a8dc988"
REAL_BUNDLE = json.loads(
    '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":'
    '"ebX+4KL8YYpyT9XXa/4tZDs0051Tn4nAwkUsT3onne4="}},"dsseEnvelope":{"payload":"eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90'
    'by5pby9TdGF0ZW1lbnQvdjEiLCJzdWJqZWN0IjpbeyJkaWdlc3QiOnsic2hhMjU2IjoiMDRjOTg4ODUzNzg0NzBiMjQwMjQyNTk1N2RkMjBm'
    'NzI4NTcwYjY1YWU4NmI3ZTk4YTI3NTAyZjYyYThkYzk4OCJ9LCJhbm5vdGF0aW9ucyI6e319XSwicHJlZGljYXRlVHlwZSI6Imh0dHBzOi8v'
    'c2lnc3RvcmUuZGV2L2Nvc2lnbi9zaWduL3YxIiwicHJlZGljYXRlIjp7fX0=","payloadType":"application/vnd.in-toto+json",'
    '"signatures":[{"sig":"MEYCIQDsPMtJAv3aV9irh4HLJQQ6BZ/MTMOqSm9zWKnZXJuEGgIhAMOIjSQk5HRc/4G4lzSy+3YIIh4o9YtD+I'
    'bNLQWMZ/G6"}]}}')


def _real() -> Attestation:
    return Attestation("sha256:" + "11" * 32, SIGN_PREDICATE, REAL_BUNDLE["dsseEnvelope"], bundle=REAL_BUNDLE)


@pytest.fixture(scope="module")
def private() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def public_pem(private: ec.EllipticCurvePrivateKey) -> bytes:
    return private.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)


def _bundle(private: ec.EllipticCurvePrivateKey, digest: str, predicate_type: str = SIGN_PREDICATE,
            label: str | None = None) -> Attestation:
    """A bundle as cosign 3 writes it: an in-toto statement about ``digest`` in a DSSE envelope, signed over PAE."""
    statement = {"_type": "https://in-toto.io/Statement/v1", "predicateType": predicate_type, "predicate": {},
                 "subject": [{"digest": {"sha256": digest.removeprefix("sha256:")}, "annotations": {}}]}
    payload = json.dumps(statement).encode()
    kind = "application/vnd.in-toto+json"
    sig = base64.b64encode(private.sign(pae(kind, payload), ec.ECDSA(hashes.SHA256()))).decode()
    envelope = {"payload": base64.b64encode(payload).decode(), "payloadType": kind, "signatures": [{"sig": sig}]}
    bundle = {"mediaType": signing.SIGSTORE_BUNDLE, "dsseEnvelope": envelope,
              "verificationMaterial": {"publicKey": {"hint": key_hint(private.public_key())}}}
    return Attestation("sha256:" + "00" * 32, label or predicate_type, envelope, bundle=bundle)


def _layer(private: ec.EllipticCurvePrivateKey, digest: str) -> SignatureLayer:
    """A cosign 2 ``.sig`` layer: the simple-signing payload, signed as it is."""
    payload = json.dumps({"critical": {"type": "cosign container image signature",
                                       "image": {"docker-manifest-digest": digest},
                                       "identity": {"docker-reference": "localhost:5000/team/app"}}}).encode()
    signature = base64.b64encode(private.sign(payload, ec.ECDSA(hashes.SHA256()))).decode()
    return SignatureLayer("sha256:" + "00" * 32, payload, signature)


# -- names --------------------------------------------------------------------------------------------------------
def test_tags_are_derived_from_the_digest() -> None:
    """cosign 3 lists referrers under sha256-<hex>; cosign 2 used sha256-<hex>.sig and .att."""
    assert signing.referrers_tag(DIGEST) == f"sha256-{'ab' * 32}"
    assert signing.signature_tag(DIGEST) == f"sha256-{'ab' * 32}.sig"
    assert signing.attestation_tag(DIGEST) == f"sha256-{'ab' * 32}.att"
    for bad in ("latest", "sha256:abc", "sha512:" + "ab" * 32):
        with pytest.raises(InvalidReference):
            signing.referrers_tag(bad)


def test_the_digest_a_cosign_tag_is_about() -> None:
    assert signing.subject_of_tag(f"sha256-{'ab' * 32}") == (DIGEST, "referrers")
    assert signing.subject_of_tag(f"sha256-{'ab' * 32}.sig") == (DIGEST, "sig")
    assert signing.subject_of_tag(f"sha256-{'ab' * 32}.att") == (DIGEST, "att")
    for other in ("1.0", "latest", f"sha256-{'ab' * 31}", f"sha256-{'ab' * 32}.txt", f"x-sha256-{'ab' * 32}"):
        assert signing.subject_of_tag(other) is None


# -- a real cosign 3 bundle, checked in Python ----------------------------------------------------------------
def test_the_bundle_cosign_wrote_verifies_in_python() -> None:
    """DSSE over PAE with the real key, the signed statement a cosign signature, the subject the signed digest."""
    real = _real()
    key = signing.load_public_key(REAL_PUBLIC)
    assert real.signed_predicate_type == SIGN_PREDICATE and real.is_signature
    assert real.statement["_type"] == "https://in-toto.io/Statement/v1" and real.statement["predicate"] == {}
    assert real.signed_digest == REAL_DIGEST and real.subject_digests == [REAL_DIGEST]
    assert bundle_problem(real, key, REAL_DIGEST) is None
    assert bundle_problem(real, key, OTHER) == "the payload was signed for a different image digest"


def test_the_bundle_names_its_key_by_hint() -> None:
    """The bundle does not carry the key, only base64(SHA-256(DER of the public key)), as cosign computed it."""
    assert key_hint(REAL_PUBLIC) == _real().key_hint == "ebX+4KL8YYpyT9XXa/4tZDs0051Tn4nAwkUsT3onne4="
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    assert key_hint(other) != _real().key_hint


def test_a_changed_bundle_or_another_key_does_not_verify(private: ec.EllipticCurvePrivateKey) -> None:
    real = _real()
    key = signing.load_public_key(REAL_PUBLIC)
    forged_payload = real.payload.replace(REAL_DIGEST.removeprefix("sha256:").encode(), b"cd" * 32)
    forged = replace(real, envelope={**real.envelope, "payload": base64.b64encode(forged_payload).decode()})
    assert forged.signed_digest == OTHER
    assert bundle_problem(forged, key, OTHER) == "the ECDSA signature does not verify with this public key"
    retyped = replace(real, envelope={**real.envelope, "payloadType": "text/plain"})  # PAE covers the type too
    assert not retyped.signature_valid(key)
    assert bundle_problem(real, private.public_key(), REAL_DIGEST) == \
        "the ECDSA signature does not verify with this public key"


def test_an_attestation_labelled_as_a_signature_is_not_one(private: ec.EllipticCurvePrivateKey) -> None:
    """The manifest's predicateType annotation is not signed: the signed statement decides."""
    relabelled = _bundle(private, DIGEST, predicate_type=signing.CYCLONEDX_PREDICATE, label=SIGN_PREDICATE)
    assert relabelled.is_signature and relabelled.signature_valid(private.public_key())
    assert bundle_problem(relabelled, private.public_key(), DIGEST) == \
        "the signed statement is not a cosign signature (predicate https://cyclonedx.org/bom)"


def test_a_legacy_sig_layer_is_checked_as_cosign_2_did(private: ec.EllipticCurvePrivateKey) -> None:
    key = private.public_key()
    assert legacy_problem(_layer(private, DIGEST), key, DIGEST) is None
    assert legacy_problem(_layer(private, OTHER), key, DIGEST) == "the payload was signed for a different image digest"
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    assert legacy_problem(_layer(private, DIGEST), other, DIGEST) == \
        "the ECDSA signature does not verify with this public key"


# -- verify_signature: which layout it reads, and which registry it asks -------------------------------------------
class Stored:
    """Stands in for the registry reads (``read_referrers``, ``fetch_legacy_signatures``): records who was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, str]] = []
        self.bundles: list[Attestation] | None = None  # None: the image has no referrers tag
        self.layers: list[SignatureLayer] | None = None  # None: no .sig tag

    def referrers(self, client: RegistryClient, repository: str, digest: str) -> tuple[Any, list[Attestation]]:
        self.calls.append(("referrers", client.url, repository, digest))
        if self.bundles is None:
            return None, []
        return Manifest("application/vnd.oci.image.index.v1+json", "sha256:" + "ee" * 32, b"{}"), list(self.bundles)

    def legacy(self, client: RegistryClient, repository: str, digest: str) -> tuple[Any, list[SignatureLayer]]:
        from portside.errors import RegistryError

        self.calls.append(("sig", client.url, repository, digest))
        if self.layers is None:
            raise RegistryError("no .sig", status=404)
        return None, list(self.layers)


@pytest.fixture
def stored(monkeypatch: pytest.MonkeyPatch) -> Stored:
    found = Stored()
    monkeypatch.setattr(verify_module, "read_referrers", found.referrers)
    monkeypatch.setattr(verify_module, "fetch_legacy_signatures", found.legacy)
    return found


def test_bundles_are_read_first_and_judged_alone(private: ec.EllipticCurvePrivateKey, public_pem: bytes,
                                                stored: Stored) -> None:
    """As cosign 3 does: an image with referrers is judged by its bundles; the .sig tag is not even read."""
    stored.bundles = [_bundle(private, DIGEST), _bundle(private, DIGEST, signing.CYCLONEDX_PREDICATE)]
    stored.layers = [_layer(private, DIGEST)]
    result = verify_signature(REF, public_pem)
    assert (result.passed, result.found, result.layout, result.problems) == (True, 1, "bundle", ())
    assert [kind for kind, *_ in stored.calls] == ["referrers"]
    stored.bundles = [_bundle(private, OTHER)]  # a signature copied from another image
    copied = verify_signature(parse(REF), public_pem)
    assert not copied.passed and copied.problems == ("the payload was signed for a different image digest",)
    assert copied.reference == REF and copied.digest == DIGEST
    assert str(copied).startswith("NOT verified: 0 of 1 signature(s)")


def test_only_an_attestation_is_no_signature(private: ec.EllipticCurvePrivateKey, public_pem: bytes,
                                            stored: Stored) -> None:
    stored.bundles = [_bundle(private, DIGEST, signing.CYCLONEDX_PREDICATE)]
    result = verify_signature(REF, public_pem)
    assert (result.passed, result.found) == (False, 0)
    assert result.problems == ("no signature among this digest's referrers (only: https://cyclonedx.org/bom)",)


def test_without_referrers_the_legacy_sig_is_read(private: ec.EllipticCurvePrivateKey, public_pem: bytes,
                                                 stored: Stored) -> None:
    stored.layers = [_layer(private, DIGEST)]
    result = verify_signature(REF, public_pem)
    assert (result.passed, result.found, result.layout) == (True, 1, "legacy")
    assert [kind for kind, *_ in stored.calls] == ["referrers", "sig"]
    stored.layers = None
    unsigned = verify_signature(REF, public_pem)
    assert (unsigned.passed, unsigned.found, unsigned.layout) == (False, 0, "")
    assert unsigned.problems == ("no signature for this digest: neither a referrers tag nor a .sig tag",)


def test_another_key_does_not_verify(private: ec.EllipticCurvePrivateKey, stored: Stored) -> None:
    other = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    stored.bundles = [_bundle(private, DIGEST)]
    result = verify_signature(REF, other)
    assert not result.passed and result.problems == ("the ECDSA signature does not verify with this public key",)


@dataclass(frozen=True)
class Lab:
    """Anything with an ``.endpoint``, like a Registry or a LabContext."""

    endpoint: Endpoint


def test_the_registry_is_asked_where_the_caller_says(public_pem: bytes, stored: Stored) -> None:
    """An endpoint (or anything with one) gives the URL and TLS setting; a bare reference has them guessed."""
    stored.bundles = []
    verify_signature(REF, public_pem)
    tls = Endpoint("localhost", 5000, tls=True)
    verify_signature(REF, public_pem, registry=tls)
    verify_signature(REF, public_pem, registry=Lab(tls))
    verify_signature(REF, public_pem, client=RegistryClient("http://127.0.0.1:5000"))
    assert [url for _, url, _, _ in stored.calls] == ["http://localhost:5000", "https://localhost:5000",
                                                      "https://localhost:5000", "http://127.0.0.1:5000"]
    assert {(repository, digest) for _, _, repository, digest in stored.calls} == {("team/app", DIGEST)}
    assert endpoint_of(Lab(tls)) is tls and endpoint_of(tls) is tls


def test_a_reference_is_pinned_by_digest_once() -> None:
    ref = parse(REF)
    assert pinned(ref) is ref
    with pytest.raises(InvalidReference, match="names a tag"):
        pinned("localhost:5000/team/app:1.0")
    assert client_for(ref).url == "http://localhost:5000"
    assert client_for("registry.example.com/a/b:1").url == "https://registry.example.com"


# -- cosign tree, tidied ----------------------------------------------------------------------------------------
COSIGN3_TREE = """📦 Supply Chain Security Related artifacts for an image: localhost:5000/team/app@sha256:{d}
└── 🔗 https://sigstore.dev/cosign/sign/v1 artifacts via OCI referrer: localhost:5000/team/app@sha256:{s}
   └── 🍒 sha256:{sb}
└── 🔗 https://cyclonedx.org/bom artifacts via OCI referrer: localhost:5000/team/app@sha256:{a}
   └── 🍒 sha256:{ab}
""".format(d="0" * 64, s="1" * 64, sb="2" * 64, a="3" * 64, ab="4" * 64)


def test_tidy_tree_drops_the_marks_and_sorts_the_referrers() -> None:
    """cosign 3.1.1's tree lists one section per referrer, in the registry's order: sorted, runs compare."""
    tidy = signing.tidy_tree(COSIGN3_TREE)
    assert not any(mark in tidy for mark in ("📦", "🔗", "🍒"))
    assert [line.split(" artifacts")[0] for line in tidy.splitlines() if line.startswith("└──")] == [
        "└── https://cyclonedx.org/bom", "└── https://sigstore.dev/cosign/sign/v1"]
    assert tidy.splitlines()[2] == "   └── sha256:" + "4" * 64  # each layer stays under its referrer
    assert signing.tidy_tree("x\n└── b\n   └── 2\n└── a\n   └── 1\n") == "x\n└── a\n   └── 1\n└── b\n   └── 2"


# -- failures by kind ---------------------------------------------------------------------------------------------
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

"""portside.security.signing against a real registry:2 and the real cosign and syft — valid and tampered, both ways.

Every image here is built on the spot (busybox plus a layer of random bytes), pushed
into a registry container on 127.0.0.1, and removed again; keys live in temporary
folders that are deleted at the end.
"""

from __future__ import annotations

import base64
import gc
import json
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from portside.base.labels import session_id
from portside.base.paths import project_root
from portside.engine import transfer
from portside.errors import InvalidReference, PortsideError, RegistryError
from portside.lessons.sample_images import build_image, remove_images
from portside.oci.reference import parse
from portside.oci.registry_client import Manifest, RegistryClient
from portside.registry.container import Registry
from portside.security import signing
from portside.security.signing import (
    SIMPLE_SIGNING,
    TemporaryKeys,
    attestation_tag,
    client_for,
    cosign_reason,
    ecdsa_valid,
    fetch_attestations,
    fetch_signatures,
    load_public_key,
    pae,
    signature_tag,
    verify_before_deploy,
    verify_signature,
)
from portside.tools import cosign, syft

LOCAL = [f"portside-test-signing/app:{n}-{session_id()}" for n in ("1", "2", "3", "4", "5")]  # this run's own
REPO = "team/app"


@pytest.fixture(scope="module")
def registry() -> Iterator[Registry]:
    with Registry() as reg:
        yield reg


@pytest.fixture(scope="module")
def images(registry: Registry) -> Iterator[dict[str, str]]:
    """Pushed images ``signed`` (signed and attested below), ``unsigned``, ``other``, ``old`` and ``new``."""
    digests = {}
    try:
        for name, local in zip(("signed", "unsigned", "other", "old", "new"), LOCAL, strict=True):
            build_image(local, size=4096)
            target = registry.endpoint.reference(REPO, name)  # parsed once, then passed on
            transfer.tag(local, target)
            digests[name] = transfer.push(target, progress=False).digest
        yield digests
    finally:
        remove_images(LOCAL)


@pytest.fixture(scope="module")
def keys() -> Iterator[TemporaryKeys]:
    with TemporaryKeys() as pair:
        yield pair


@pytest.fixture(scope="module")
def other_keys() -> Iterator[TemporaryKeys]:
    with TemporaryKeys(prefix="other") as pair:
        yield pair


@pytest.fixture(scope="module")
def signed(registry: Registry, images: dict[str, str], keys: TemporaryKeys, tmp_path_factory: pytest.TempPathFactory
           ) -> str:
    """``team/app@<signed digest>``, signed by ``keys`` and with a CycloneDX SBOM attested."""
    ref = registry.ref(REPO, digest=images["signed"])
    cosign.sign(ref, keys.private, keys.password)
    sbom = syft.write_sbom(f"registry:{ref}", tmp_path_factory.mktemp("sbom") / "sbom.json")
    cosign.attest(ref, sbom, "cyclonedx", keys.private, keys.password)
    return ref


# -- names and keys -------------------------------------------------------------------------------------------
def test_tags_are_derived_from_the_digest() -> None:
    digest = "sha256:" + "ab" * 32
    assert signature_tag(digest) == f"sha256-{'ab' * 32}.sig"
    assert attestation_tag(digest) == f"sha256-{'ab' * 32}.att"
    with pytest.raises(InvalidReference):
        signature_tag("latest")


def test_temporary_keys_stay_private_and_go_away() -> None:
    keys = TemporaryKeys()
    folder = keys.folder
    root = project_root()
    try:
        assert root is None or root not in folder.parents
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert b"ENCRYPTED" in keys.private.read_bytes()  # cosign encrypts the private key with the password
        assert keys.password not in repr(keys) and "***" in repr(keys)
        load_public_key(keys.public)
    finally:
        keys.close()
    assert not folder.exists() and keys.password == ""
    keys.close()  # twice is harmless
    dropped = TemporaryKeys()
    folder = dropped.folder
    del dropped
    gc.collect()
    assert not folder.exists()


def test_a_private_key_is_refused_as_public_key(keys: TemporaryKeys) -> None:
    with pytest.raises(PortsideError, match="private key"):
        load_public_key(keys.private)
    with pytest.raises(PortsideError, match="not a PEM public key"):
        load_public_key(b"hello")


def test_client_for_picks_http_on_loopback() -> None:
    assert client_for("localhost:5000/a/b@sha256:" + "0" * 64).url == "http://localhost:5000"
    assert client_for("registry.example.com/a/b:1").url == "https://registry.example.com"


# -- signatures by hand agree with cosign ------------------------------------------------------------------
def test_unsigned_image_is_not_verified_either_way(registry: Registry, images: dict[str, str],
                                                   keys: TemporaryKeys) -> None:
    ref = registry.ref(REPO, digest=images["unsigned"])
    result = verify_signature(ref, keys.public)
    assert (result.passed, result.found, result.problems) == (False, 0, ("no .sig tag for this digest",))
    with pytest.raises(cosign.VerificationFailed) as failed:
        cosign.verify(ref, keys.public)
    assert cosign_reason(failed.value) == "no signatures found"


def test_signature_is_found_through_the_api_and_verifies_in_python(registry: Registry, images: dict[str, str],
                                                                   keys: TemporaryKeys, signed: str) -> None:
    api = registry.client()
    assert signature_tag(images["signed"]) in api.tags(REPO)
    manifest, layers = fetch_signatures(api, REPO, images["signed"])
    assert manifest.json()["layers"][0]["mediaType"] == SIMPLE_SIGNING
    assert len(layers) == 1 and layers[0].signed_digest == images["signed"]
    assert layers[0].claims["critical"]["identity"]["docker-reference"] == f"{registry.address}/{REPO}"
    ours = verify_signature(signed, keys.public, client=api)
    assert ours.passed and ours.found == 1 and not ours.problems
    theirs = cosign.verify(signed, keys.public)
    assert [p["critical"]["image"]["docker-manifest-digest"] for p in theirs] == [images["signed"]]
    assert str(ours).startswith("verified: 1 of 1")


def test_wrong_key_is_rejected_by_both(signed: str, other_keys: TemporaryKeys) -> None:
    ours = verify_signature(signed, other_keys.public)
    assert not ours.passed and ours.problems == ("the ECDSA signature does not verify with this public key",)
    with pytest.raises(cosign.VerificationFailed) as failed:
        cosign.verify(signed, other_keys.public)
    assert "no matching signatures" in cosign_reason(failed.value)


def test_one_changed_byte_breaks_the_signature(registry: Registry, images: dict[str, str], keys: TemporaryKeys,
                                               signed: str) -> None:
    _, (layer,) = fetch_signatures(registry.client(), REPO, images["signed"])
    key = load_public_key(keys.public)
    assert ecdsa_valid(key, layer.payload, layer.signature)
    forged = layer.payload.replace(images["signed"].encode(), images["other"].encode())
    assert not ecdsa_valid(key, forged, layer.signature)
    broken = replace(layer, signature_b64="not base64!")
    assert broken.signature == b"" and not ecdsa_valid(key, layer.payload, broken.signature)


def test_a_signature_copied_to_another_image_does_not_count(registry: Registry, images: dict[str, str],
                                                            keys: TemporaryKeys, signed: str) -> None:
    """The .sig of one image put under another image's .sig tag: ECDSA is valid, the digest is not."""
    api = registry.client()
    manifest, _ = fetch_signatures(api, REPO, images["signed"])
    api.put_manifest(REPO, signature_tag(images["other"]), Manifest(manifest.media_type, manifest.digest,
                                                                   manifest.raw))
    try:
        ref = registry.ref(REPO, digest=images["other"])
        ours = verify_signature(ref, keys.public)
        assert not ours.passed and ours.problems == ("the payload was signed for a different image digest",)
        with pytest.raises(cosign.VerificationFailed):
            cosign.verify(ref, keys.public)
    finally:
        api.delete_manifest(REPO, manifest.digest)  # the shared .sig manifest: signed's copy goes too
        cosign.sign(signed, keys.private, keys.password)  # so sign again for the other tests
    assert verify_signature(signed, keys.public).passed


def test_a_moved_tag_fails_verification_but_the_digest_still_passes(registry: Registry, images: dict[str, str],
                                                                    keys: TemporaryKeys) -> None:
    """Sign 'release' by digest, then push a different image under the same tag."""
    tag_ref = registry.ref(REPO, "release")
    transfer.tag(LOCAL[3], tag_ref)
    first = transfer.push(tag_ref, progress=False).digest
    assert first == images["old"]
    cosign.sign(registry.ref(REPO, digest=first), keys.private, keys.password)
    cosign.verify(tag_ref, keys.public)  # still the signed image
    transfer.tag(LOCAL[4], tag_ref)
    assert transfer.push(tag_ref, progress=False).digest == images["new"]
    with pytest.raises(cosign.VerificationFailed):
        cosign.verify(tag_ref, keys.public)
    assert cosign.verify(registry.ref(REPO, digest=first), keys.public)
    assert verify_signature(registry.ref(REPO, digest=first), keys.public).passed
    with pytest.raises(InvalidReference, match="names a tag"):
        verify_signature(tag_ref, keys.public)


# -- attestations -------------------------------------------------------------------------------------------
def test_attestation_is_a_signed_statement_about_the_digest(registry: Registry, images: dict[str, str],
                                                            keys: TemporaryKeys, other_keys: TemporaryKeys,
                                                            signed: str) -> None:
    (found,) = fetch_attestations(registry.client(), REPO, images["signed"])
    assert found.predicate_type == "https://cyclonedx.org/bom"
    assert found.subject_digests == [images["signed"]]
    assert found.statement["predicate"]["bomFormat"] == "CycloneDX"
    assert found.signature_valid(load_public_key(keys.public))
    assert not found.signature_valid(load_public_key(other_keys.public))
    assert fetch_attestations(registry.client(), REPO, images["unsigned"]) == []
    assert pae("t", b"xy") == b"DSSEv1 1 t 2 xy"
    envelope = dict(found.envelope)
    envelope["payload"] = base64.b64encode(found.payload.replace(b"CycloneDX", b"CycloneDy")).decode()
    assert not replace(found, envelope=envelope).signature_valid(load_public_key(keys.public))
    (statement,) = cosign.verify_attestation(signed, keys.public, "cyclonedx")
    assert statement["predicate"] == found.statement["predicate"]


# -- verify before deploy ----------------------------------------------------------------------------------------
def test_deploy_needs_a_digest(registry: Registry) -> None:
    decision = verify_before_deploy(registry.ref(REPO, "signed"), Path("/nonexistent.pub"), policy=lambda s: True)
    assert not decision and [c.name for c in decision.checks] == ["pinned by digest"]
    assert str(decision).startswith("REFUSE")


def test_deploy_allows_a_signed_attested_image_that_passes_the_policy(signed: str, keys: TemporaryKeys) -> None:
    seen: list[int] = []

    def policy(sbom: object) -> bool:
        assert isinstance(sbom, dict) and sbom["bomFormat"] == "CycloneDX"
        seen.append(len(sbom["components"]))
        return True

    decision = verify_before_deploy(signed, keys.public, policy=policy)
    assert decision.allowed, str(decision)
    assert [c.name for c in decision.checks] == ["pinned by digest", "signature", "SBOM attestation", "scan gate"]
    assert seen and decision.sbom is not None and len(decision.sbom["components"]) == seen[0]
    assert str(decision).startswith("DEPLOY")


def test_deploy_refuses_when_the_policy_fails(signed: str, keys: TemporaryKeys) -> None:
    class Gate:
        passed = False

        def __str__(self) -> str:
            return "1 CRITICAL finding blocks the image"

    decision = verify_before_deploy(signed, keys.public, policy=lambda sbom: Gate())
    assert not decision.allowed
    last = decision.checks[-1]
    assert (last.name, last.passed, last.detail) == ("scan gate", False, "1 CRITICAL finding blocks the image")


def test_deploy_refuses_wrong_key_and_unsigned(registry: Registry, images: dict[str, str], signed: str,
                                               other_keys: TemporaryKeys, keys: TemporaryKeys) -> None:
    wrong = verify_before_deploy(signed, other_keys.public, policy=lambda s: True)
    assert [c.passed for c in wrong.checks] == [True, False, False, False]
    unsigned = verify_before_deploy(registry.ref(REPO, digest=images["unsigned"]), keys.public,
                                    policy=lambda s: True)
    assert [(c.name, c.passed) for c in unsigned.checks][1:] == [("signature", False), ("SBOM attestation", False),
                                                                 ("scan gate", False)]
    assert unsigned.checks[1].detail == "no signatures found"


def test_signed_but_not_attested_is_refused(registry: Registry, images: dict[str, str], keys: TemporaryKeys) -> None:
    ref = registry.ref(REPO, digest=images["other"])
    cosign.sign(ref, keys.private, keys.password)
    decision = verify_before_deploy(ref, keys.public, policy=lambda s: True)
    assert [c.passed for c in decision.checks] == [True, True, False, False]
    assert json.dumps(decision.checks[2].detail).startswith('"no matching attestations')


def test_tree_shows_both_artifacts_in_a_stable_order(signed: str) -> None:
    text = signing.tidy_tree(cosign.tree(signed))
    lines = text.splitlines()
    assert lines[0].startswith("Supply Chain Security Related artifacts for an image:")
    assert [line.split(":")[0] for line in lines[1:] if line.startswith("└──")] == [
        "└── Attestations for an image tag", "└── Signatures for an image tag"]
    assert signing.tidy_tree("x\n└── b\n   └── 2\n└── a\n   └── 1\n") == "x\n└── a\n   └── 1\n└── b\n   └── 2"


def test_registry_client_is_reused(registry: Registry, signed: str, keys: TemporaryKeys) -> None:
    api = RegistryClient(registry.url)
    assert verify_signature(signed, keys.public, client=api).passed


def test_the_callers_registry_is_asked_not_a_guess(registry: Registry, signed: str, keys: TemporaryKeys) -> None:
    """A Registry, its Endpoint or a parsed Reference go in as they are, for the Python check and for the deploy."""
    assert verify_signature(parse(signed), keys.public, registry=registry).passed
    assert verify_signature(signed, keys.public, registry=registry.endpoint).passed
    decision = verify_before_deploy(parse(signed), keys.public, policy=lambda s: True, registry=registry)
    assert decision.allowed and decision.reference == signed


def test_a_tls_registry_on_loopback_is_reached_through_its_endpoint(images: dict[str, str],
                                                                    keys: TemporaryKeys) -> None:
    """Guessed from the host name, localhost means plain HTTP; the Registry knows it speaks HTTPS with its own CA."""
    with Registry(tls=True) as secure:
        target = secure.endpoint.reference(REPO, "tls")
        transfer.tag(LOCAL[0], target)
        try:
            ref = secure.ref(REPO, digest=transfer.push(target, progress=False).digest)
        finally:
            remove_images([target.original])
        cosign.sign(ref, keys.private, keys.password, env=secure.tool_env())
        with pytest.raises(RegistryError):
            verify_signature(ref, keys.public)  # http://localhost:PORT: the registry answers TLS only
        result = verify_signature(ref, keys.public, registry=secure)
        assert result.passed and result.found == 1


# -- the default policy and the online part -----------------------------------------------------------------------
def test_default_policy_is_the_scan_gate_on_the_attested_sbom() -> None:
    """The course's demo app: the fixed build passes the gate, the vulnerable one is blocked (from its SBOM alone)."""
    from portside.lessons import sample_app

    names = {variant: f"portside-test-signing/pyapp:{variant}-{session_id()}" for variant in ("fixed", "vulnerable")}
    try:
        sboms = {}
        for variant, name in names.items():
            sample_app.build(variant, name)  # type: ignore[arg-type]
            sboms[variant] = syft.sbom(f"docker:{name}")
    finally:
        for name in names.values():
            sample_app.remove(name)
    gate = signing.scan_gate()
    assert gate(sboms["fixed"]).passed
    blocked = gate(sboms["vulnerable"])
    assert not blocked.passed and str(blocked).startswith("BLOCKED")
    with pytest.raises(PortsideError, match="Unknown severity"):
        signing.scan_gate(fail_on="nope")(sboms["fixed"])


def test_keyless_signing_is_off_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(signing.KEYLESS_VARIABLE, raising=False)
    assert not signing.keyless_enabled()
    with pytest.raises(PortsideError, match="Keyless signing"):
        signing.sign_keyless("localhost:5000/team/app@sha256:" + "0" * 64)
    monkeypatch.setenv(signing.KEYLESS_VARIABLE, "yes")
    assert signing.keyless_enabled()
    with pytest.raises(InvalidReference):
        signing.sign_keyless("localhost:5000/team/app:1.0")  # never a tag, even online


def test_verify_command_exit_codes(signed: str, keys: TemporaryKeys, other_keys: TemporaryKeys,
                                   tmp_path: Path) -> None:
    """`portside verify` is a deploy step: 0 deploy, 1 refuse (with the failing check named), 2 cannot run."""
    from click.testing import CliRunner

    from portside.cli.verify import verify

    runner = CliRunner()
    allowed = runner.invoke(verify, [signed, "--key", str(keys.public)])
    assert allowed.exit_code == 0, allowed.output
    assert allowed.output.startswith("DEPLOY") and "✔ scan gate: PASSED" in allowed.output
    refused = runner.invoke(verify, [signed, "--key", str(other_keys.public)])
    assert refused.exit_code == 1 and refused.output.startswith("REFUSE") and "✘ signature" in refused.output
    missing = runner.invoke(verify, [signed, "--key", str(tmp_path / "no-such.pub")])
    assert missing.exit_code == 2 and "does not exist" in missing.output

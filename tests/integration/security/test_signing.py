"""portside.security.signing against a real registry:2 and the real cosign 3 and syft — valid and tampered, both ways.

Every image here is built on the spot (busybox plus a layer of random bytes), pushed
into a registry container on 127.0.0.1, and removed again; keys live in temporary
folders that are deleted at the end. cosign 3 signs offline with the course's signing
config and trusted root that name no services; registry:2 has no referrers API, so what
cosign stores is found under each image's referrers tag ``sha256-<hex>``. The legacy
``.sig``/``.att`` layout of cosign 2 is made with cosign 3's ``--new-bundle-format=false``.
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
from portside.oci.registry_client import OCI_INDEX, OCI_MANIFEST, Manifest, RegistryClient
from portside.registry.container import Registry
from portside.security import signing
from portside.security.signing import (
    SIGN_PREDICATE,
    SIGSTORE_BUNDLE,
    SIMPLE_SIGNING,
    TemporaryKeys,
    attestation_tag,
    client_for,
    cosign_reason,
    ecdsa_valid,
    fetch_attestations,
    fetch_legacy_attestations,
    fetch_legacy_signatures,
    fetch_signatures,
    key_hint,
    load_public_key,
    pae,
    referrers_tag,
    signature_tag,
    verify_before_deploy,
    verify_signature,
)
from portside.tools import cosign, syft

NAMES = ("signed", "unsigned", "other", "old", "new", "legacy", "attested")
LOCAL = [f"portside-test-signing/app:{n}-{session_id()}" for n in range(1, len(NAMES) + 1)]  # this run's own
REPO = "team/app"


@pytest.fixture(scope="module")
def registry() -> Iterator[Registry]:
    with Registry() as reg:
        yield reg


@pytest.fixture(scope="module")
def images(registry: Registry) -> Iterator[dict[str, str]]:
    """Pushed images ``signed`` (signed and attested below), ``unsigned``, ``other``, ``old``, ``new``, ``legacy``
    and ``attested``."""
    digests = {}
    try:
        for name, local in zip(NAMES, LOCAL, strict=True):
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


# -- the offline trust material and keys -------------------------------------------------------------------------
def test_the_offline_config_is_cosigns_own_and_names_no_services() -> None:
    """Made once by cosign signing-config create / trusted-root create, kept in the state folder, reused."""
    config = cosign.offline_config()
    for kind, file in (("signing-config", config.signing_config), ("trusted-root", config.trusted_root)):
        assert cosign.names_no_services(kind, json.loads(file.read_text()))
    again = cosign.offline_config()
    assert again == config and again.signing_config.stat().st_mtime_ns == config.signing_config.stat().st_mtime_ns


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
    assert (result.passed, result.found, result.problems) == (
        False, 0, ("no signature for this digest: neither a referrers tag nor a .sig tag",))
    with pytest.raises(cosign.VerificationFailed) as failed:
        cosign.verify(ref, keys.public)
    assert cosign_reason(failed.value) == "no signatures found"


def test_signature_is_a_bundle_under_the_referrers_tag(registry: Registry, images: dict[str, str],
                                                       keys: TemporaryKeys, signed: str) -> None:
    """cosign 3 on registry:2: an OCI index under sha256-<hex>, one artifact manifest per bundle, no .sig tag."""
    api = registry.client()
    digest = images["signed"]
    tags = api.tags(REPO)
    assert referrers_tag(digest) in tags and signature_tag(digest) not in tags and attestation_tag(digest) not in tags
    index, (found,) = fetch_signatures(api, REPO, digest)
    assert index.media_type == OCI_INDEX and len(index.json()["manifests"]) == 2  # the signature and the SBOM
    # cosign 3.1.1 labels the index entries with the empty config's type; the manifests carry the bundle type
    assert {entry["artifactType"] for entry in index.json()["manifests"]} == {signing.names.EMPTY_CONFIG}
    referrer = api.manifest(REPO, found.manifest_digest).json()
    assert (referrer["mediaType"], referrer["artifactType"]) == (OCI_MANIFEST, SIGSTORE_BUNDLE)
    assert referrer["subject"]["digest"] == digest
    assert referrer["annotations"][signing.BUNDLE_PREDICATE_ANNOTATION] == SIGN_PREDICATE
    assert [layer["mediaType"] for layer in referrer["layers"]] == [SIGSTORE_BUNDLE]
    assert found.signed_predicate_type == SIGN_PREDICATE and found.statement["predicate"] == {}
    assert found.subject_digests == [digest] and found.key_hint == key_hint(keys.public)
    ours = verify_signature(signed, keys.public, client=api)
    assert ours.passed and ours.found == 1 and not ours.problems and ours.layout == "bundle"
    theirs = cosign.verify(signed, keys.public)  # the attestation verifies too, but it is no signature
    assert [(p["critical"]["image"]["docker-manifest-digest"], p["critical"]["type"]) for p in theirs] == [
        (digest, SIGN_PREDICATE)]
    assert str(ours).startswith("verified: 1 of 1")


def test_wrong_key_is_rejected_by_both(signed: str, other_keys: TemporaryKeys) -> None:
    ours = verify_signature(signed, other_keys.public)
    assert not ours.passed and ours.problems == ("the ECDSA signature does not verify with this public key",)
    with pytest.raises(cosign.VerificationFailed) as failed:
        cosign.verify(signed, other_keys.public)
    # a cosign 3 signature is a DSSE statement, so cosign says "attestations" even for `verify`
    assert cosign_reason(failed.value).startswith("no matching attestations: failed to verify signature")


def test_one_changed_byte_breaks_the_signature(registry: Registry, images: dict[str, str], keys: TemporaryKeys,
                                               signed: str) -> None:
    _, (found,) = fetch_signatures(registry.client(), REPO, images["signed"])
    key = load_public_key(keys.public)
    assert found.signature_valid(key)
    forged = found.payload.replace(images["signed"].removeprefix("sha256:").encode(),
                                   images["other"].removeprefix("sha256:").encode())
    assert forged != found.payload
    changed = replace(found, envelope={**found.envelope, "payload": base64.b64encode(forged).decode()})
    assert changed.signed_digest == images["other"] and not changed.signature_valid(key)
    broken = replace(found, envelope={**found.envelope, "signatures": [{"sig": "not base64!"}]})
    assert not broken.signature_valid(key)


def test_a_signature_copied_to_another_image_does_not_count(registry: Registry, images: dict[str, str],
                                                            keys: TemporaryKeys, signed: str) -> None:
    """signed's referrers index put under other's referrers tag: the ECDSA signature is valid, the digest is not."""
    api = registry.client()
    index, _ = fetch_signatures(api, REPO, images["signed"])
    copy = json.loads(index.raw)
    copy["annotations"] = {"org.example.copied-from": images["signed"]}  # other bytes: deleting it spares the original
    raw = json.dumps(copy).encode()
    digest = api.put_manifest(REPO, referrers_tag(images["other"]), Manifest(index.media_type, "", raw))
    try:
        ref = registry.ref(REPO, digest=images["other"])
        ours = verify_signature(ref, keys.public)
        assert not ours.passed and ours.problems == ("the payload was signed for a different image digest",)
        with pytest.raises(cosign.VerificationFailed) as failed:
            cosign.verify(ref, keys.public)
        assert "provided artifact digest does not match any digest in statement" in cosign_reason(failed.value)
    finally:
        api.delete_manifest(REPO, digest)  # the copy (and other's referrers tag) only
    assert referrers_tag(images["other"]) not in api.tags(REPO)
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
    assert found.predicate_type == found.signed_predicate_type == "https://cyclonedx.org/bom"
    assert found.bundle is not None and found.key_hint == key_hint(keys.public)
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
    assert decision.checks[2].detail == ("none of the attestations matched the predicate type: cyclonedx, found: "
                                         "https://sigstore.dev/cosign/sign/v1")


def test_attested_but_not_signed_is_refused(registry: Registry, images: dict[str, str], keys: TemporaryKeys,
                                            tmp_path: Path) -> None:
    """cosign 3's verify accepts an SBOM attestation as a signature; the harness asks for a signature."""
    ref = registry.ref(REPO, digest=images["attested"])
    cosign.attest(ref, syft.write_sbom(f"registry:{ref}", tmp_path / "sbom.json"), "cyclonedx", keys.private,
                  keys.password)
    with pytest.raises(cosign.VerificationFailed) as failed:
        cosign.verify(ref, keys.public)
    assert cosign_reason(failed.value) == "no signature verifies, only attestations (https://cyclonedx.org/bom)"
    decision = verify_before_deploy(ref, keys.public, policy=lambda s: True)
    assert [(c.name, c.passed) for c in decision.checks] == [("pinned by digest", True), ("signature", False),
                                                              ("SBOM attestation", True), ("scan gate", True)]
    assert not decision.allowed
    ours = verify_signature(ref, keys.public)
    assert (ours.passed, ours.found) == (False, 0) and "only: https://cyclonedx.org/bom" in ours.problems[0]


def test_cosign_2s_layout_is_read_and_verified_too(registry: Registry, images: dict[str, str], keys: TemporaryKeys,
                                                  tmp_path: Path) -> None:
    """What cosign 2 wrote (.sig and .att tags) still verifies; once the image has bundles, they alone count."""
    api = registry.client()
    digest = images["legacy"]
    ref = registry.ref(REPO, digest=digest)
    sbom = syft.write_sbom(f"registry:{ref}", tmp_path / "sbom.json")
    cosign.sign(ref, keys.private, keys.password, legacy=True)
    cosign.attest(ref, sbom, "cyclonedx", keys.private, keys.password, legacy=True)
    tags = api.tags(REPO)
    assert signature_tag(digest) in tags and attestation_tag(digest) in tags and referrers_tag(digest) not in tags
    manifest, (layer,) = fetch_legacy_signatures(api, REPO, digest)
    assert manifest.json()["layers"][0]["mediaType"] == SIMPLE_SIGNING
    assert layer.signed_digest == digest
    assert layer.claims["critical"]["identity"]["docker-reference"] == f"{registry.address}/{REPO}"
    key = load_public_key(keys.public)
    assert ecdsa_valid(key, layer.payload, layer.signature)
    assert not ecdsa_valid(key, layer.payload.replace(digest.encode(), images["other"].encode()), layer.signature)
    ours = verify_signature(ref, keys.public)
    assert ours.passed and ours.layout == "legacy"
    assert [p["critical"]["type"] for p in cosign.verify(ref, keys.public)] == ["cosign container image signature"]
    (legacy_att,) = fetch_attestations(api, REPO, digest)
    assert legacy_att.bundle is None and legacy_att.signature_valid(key)
    assert legacy_att.subject_digests == [digest]
    assert cosign.verify_attestation(ref, keys.public, "cyclonedx")[0]["predicateType"] == signing.CYCLONEDX_PREDICATE
    listing = signing.tidy_tree(cosign.tree(ref))
    assert "Signatures for an image tag" in listing and "Attestations for an image tag" in listing

    cosign.sign(ref, keys.private, keys.password)  # now cosign 3's way too: the bundles alone count
    assert verify_signature(ref, keys.public).layout == "bundle"
    assert [p["critical"]["type"] for p in cosign.verify(ref, keys.public)] == [SIGN_PREDICATE]
    assert fetch_attestations(api, REPO, digest) == [] and len(fetch_legacy_attestations(api, REPO, digest)) == 1
    with pytest.raises(cosign.VerificationFailed):  # the .att is still there, but cosign 3 no longer reads it
        cosign.verify_attestation(ref, keys.public, "cyclonedx")


def test_tree_shows_both_referrers_in_a_stable_order(registry: Registry, signed: str) -> None:
    text = signing.tidy_tree(cosign.tree(signed))
    lines = text.splitlines()
    assert lines[0] == f"Supply Chain Security Related artifacts for an image: {signed}"
    sections = [line for line in lines[1:] if line.startswith("└──")]
    assert [line.split(" artifacts via OCI referrer: ")[0] for line in sections] == [
        "└── https://cyclonedx.org/bom", "└── https://sigstore.dev/cosign/sign/v1"]
    assert all(line.split(": ", 1)[1].startswith(f"{registry.address}/{REPO}@sha256:") for line in sections)
    assert text == signing.tidy_tree(cosign.tree(signed))  # the same registry, the same text


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

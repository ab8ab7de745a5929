"""portside.oci.credentials: a real `docker login` read back, masked, never revealed."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path

import pytest

from portside.errors import PortsideError
from portside.oci import credentials
from portside.registry.container import Registry, docker_login


@pytest.fixture(autouse=True)
def _own_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A private course state folder: the shared course config.json is not touched."""
    monkeypatch.setenv("PORTSIDE_HOME", str(tmp_path / "home"))


def test_a_real_login_is_found_masked_and_matched() -> None:
    password = secrets.token_urlsafe(16)
    with Registry(users={"ada": password}) as registry:
        assert credentials.saved_login(registry.address) is None
        docker_login(registry.address, "ada", password)
        login = credentials.saved_login(registry.address)
        assert login is not None and login.user == "ada" and login.masked == "ada:********"
        assert login.matches(password) and not login.matches(password + "x")
        assert password not in repr(login) + str(login)
        shown = credentials.masked_config([registry.address])
        auth = base64.b64encode(f"ada:{password}".encode()).decode()
        assert password not in shown and auth not in shown
        assert json.loads(shown) == {"auths": {registry.address: {"auth": "<base64 of 'ada:********'>"}}}
        assert credentials.storage(registry.address).startswith("config.json itself")
        assert credentials.config_file().parent.name == "docker-config"
        address = registry.address
    assert credentials.saved_login(address) is None  # stop() forgets the course's login


def test_other_registries_are_left_out_and_helpers_reported() -> None:
    config = {
        "auths": {"a.example:5000": {"auth": base64.b64encode(b"u:p4ss").decode()},
                  "b.example": {"identitytoken": "tok3n"}},
        "credsStore": "desktop",
        "credHelpers": {"c.example": "ecr-login"},
    }
    credentials.config_file().write_text(json.dumps(config), encoding="utf-8")
    only_a = json.loads(credentials.masked_config(["a.example:5000"]))
    assert only_a["auths"] == {"a.example:5000": {"auth": "<base64 of 'u:********'>"}}
    everything = credentials.masked_config()
    assert "p4ss" not in everything and "tok3n" not in everything and "credHelpers" in everything
    assert credentials.storage("c.example").startswith("credential helper docker-credential-ecr-login")
    assert credentials.storage("a.example:5000").startswith("credential store docker-credential-desktop")


def test_a_corrupt_auth_value_is_a_clear_error() -> None:
    credentials.config_file().write_text(json.dumps({"auths": {"x:1": {"auth": "%%%"}}}), encoding="utf-8")
    with pytest.raises(PortsideError, match="not valid base64"):
        credentials.saved_login("x:1")

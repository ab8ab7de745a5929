"""portside.oci.credentials, the one reader and writer of the course config.json: its rules, without an engine."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from portside.errors import SetupError
from portside.oci import credentials
from portside.oci.endpoint import Endpoint


def _auth(user: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture(autouse=True)
def _own_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A private course state folder: the shared course config.json is not touched."""
    monkeypatch.setenv("PORTSIDE_HOME", str(tmp_path / "home"))


def _write(config: dict[str, object]) -> None:
    credentials.config_file().write_text(json.dumps(config), encoding="utf-8")


def test_the_file_starts_empty_and_private() -> None:
    """docker_config_dir makes config.json with its folder: empty, readable by its owner only."""
    path = credentials.config_file()
    assert credentials.read_config() == {}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_address_forms_cover_localhost_and_schemes() -> None:
    forms = list(credentials.address_forms("localhost:5000"))
    assert forms[0] == "localhost:5000"
    assert set(forms) == {"localhost:5000", "http://localhost:5000", "https://localhost:5000",
                          "127.0.0.1:5000", "http://127.0.0.1:5000", "https://127.0.0.1:5000"}
    assert list(credentials.address_forms("127.0.0.1:5000"))[3] == "localhost:5000"


@pytest.mark.parametrize("key", ["localhost:5000", "127.0.0.1:5000", "https://localhost:5000",
                                 "http://127.0.0.1:5000"])
def test_a_login_is_found_under_any_form(key: str) -> None:
    _write({"auths": {key: _auth("ada", "s3cret")}})
    login = credentials.saved_login("localhost:5000")
    assert login is not None and login.user == "ada" and login.password == "s3cret"
    assert "s3cret" not in repr(login)


def test_the_address_as_written_wins() -> None:
    _write({"auths": {"127.0.0.1:5000": _auth("ben", "b"), "localhost:5000": _auth("ada", "a")}})
    login = credentials.saved_login("localhost:5000")
    assert login is not None and login.user == "ada"


@pytest.mark.parametrize("config", [{"credsStore": "desktop"}, {"credHelpers": {"localhost:5000": "pass"}},
                                    {"credHelpers": {"127.0.0.1:5000": "pass"}}])
def test_a_credential_helper_is_refused_not_ignored(config: dict[str, object]) -> None:
    """With a helper the secret is not in the file: asking for it says so instead of 'not logged in'."""
    _write({**config, "auths": {"localhost:5000": _auth("ada", "stale")}})
    with pytest.raises(SetupError, match="credential helper") as caught:
        credentials.saved_login("localhost:5000")
    assert "credsStore/credHelpers" in str(caught.value)


def test_another_registrys_helper_does_not_matter() -> None:
    _write({"credHelpers": {"ecr.example": "ecr-login"}, "auths": {"localhost:5000": _auth("ada", "a")}})
    assert credentials.saved_login("localhost:5000") is not None


def test_forget_drops_every_form_and_nothing_else() -> None:
    _write({"auths": {"localhost:5000": _auth("a", "1"), "127.0.0.1:5000": _auth("a", "1"),
                      "https://localhost:5000": _auth("a", "1"), "localhost:5001": _auth("b", "2")},
            "credHelpers": {"x.example": "pass"}})
    credentials.forget("localhost:5000")
    config = credentials.read_config()
    assert list(config["auths"]) == ["localhost:5001"]
    assert config["credHelpers"] == {"x.example": "pass"}
    assert stat.S_IMODE(credentials.config_file().stat().st_mode) == 0o600
    assert credentials.config_file().read_text(encoding="utf-8").startswith('{\n\t"auths"')


def test_forget_leaves_a_file_without_that_login_alone() -> None:
    credentials.config_file().write_text('{"auths": {}}', encoding="utf-8")
    credentials.forget("localhost:5000")
    assert credentials.config_file().read_text(encoding="utf-8") == '{"auths": {}}'


def test_decode_rejects_what_is_not_base64() -> None:
    assert credentials.decode(base64.b64encode(b"u:p:q").decode(), "x") == ("u", "p:q")
    with pytest.raises(SetupError, match="not valid base64"):
        credentials.decode("%%%", "x:1")


def test_the_registry_client_reads_the_login_through_credentials() -> None:
    """An anonymous client falls back to the saved login, under the 127.0.0.1 form too; a given user wins."""
    _write({"auths": {"127.0.0.1:5000": _auth("ada", "s3cret")}})
    endpoint = Endpoint("localhost", 5000)
    saved = endpoint.client()._t
    assert saved._basic == base64.b64encode(b"ada:s3cret").decode()
    given = endpoint.as_user("ben", "b").client()._t
    assert given._basic == base64.b64encode(b"ben:b").decode()
    credentials.forget("localhost:5000")
    assert endpoint.client()._t._basic is None

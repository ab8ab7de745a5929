"""The token service as a WSGI application, driven with real WSGI environments (no server, no mocks)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from portside.room.accounts import Account, Accounts
from portside.room.service import TokenService, TokenSettings
from portside.room.tokens import create_signing_key, verify

SETTINGS = TokenSettings("portside-room", "portside-room-tokens", ttl=120)


@pytest.fixture
def service(tmp_path: Path) -> TokenService:
    accounts = Accounts(tmp_path)
    accounts.save([Account("learner-01", "pw-one"), Account("learner-02", "pw-two"), Account("instructor", "pw-i")])
    return TokenService(SETTINGS, create_signing_key(tmp_path / "keys"), accounts.hashes(), tmp_path / "reports")


def call(app: TokenService, method: str, path: str, query: str = "", *, user: tuple[str, str] | None = None,
         body: bytes = b"", content_type: str = "") -> tuple[int, dict[str, str], Any]:
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
                               "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
    if content_type:
        environ["CONTENT_TYPE"] = content_type
    if user:
        environ["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
    setup_testing_defaults(environ)
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = int(status.split()[0]), dict(headers)

    data = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], json.loads(data)


def test_a_token_for_a_scope_with_basic_credentials(service: TokenService, tmp_path: Path) -> None:
    status, headers, body = call(service, "GET", "/token",
                                 "service=portside-room&scope=repository:learner-01/app:pull,push",
                                 user=("learner-01", "pw-one"))
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert body["token"] == body["access_token"] and body["expires_in"] == 120
    claims = verify(body["token"], tmp_path / "keys" / "token-ca.pem", service=SETTINGS.service,
                    issuer=SETTINGS.issuer)
    assert claims["sub"] == "learner-01"
    assert claims["access"] == [{"type": "repository", "name": "learner-01/app", "actions": ["pull", "push"]}]


def test_a_wrong_password_gets_401_and_anonymous_gets_a_token_without_rights(service: TokenService) -> None:
    status, headers, body = call(service, "GET", "/token", "scope=repository:learner-01/app:pull",
                                 user=("learner-01", "wrong"))
    assert status == 401 and headers["WWW-Authenticate"].startswith("Basic")
    assert "Wrong user name or password" in body["errors"][0]["message"]
    status, _, body = call(service, "GET", "/token", "scope=repository:learner-01/app:pull")
    assert status == 200
    assert json.loads(base64.urlsafe_b64decode(body["token"].split(".")[1] + "=="))["access"][0]["actions"] == []


def test_the_oauth2_password_grant_and_a_refused_refresh_grant(service: TokenService) -> None:
    form = b"grant_type=password&username=learner-02&password=pw-two&service=portside-room&" \
           b"scope=repository%3Alearner-02%2Fapp%3Apush&client_id=containerd"
    status, _, body = call(service, "POST", "/token", body=form, content_type="application/x-www-form-urlencoded")
    assert status == 200 and body["scope"] == "repository:learner-02/app:push"
    status, _, body = call(service, "POST", "/token", body=b"grant_type=refresh_token&refresh_token=x")
    assert status == 400 and body["error"] == "unsupported_grant_type"  # the client then falls back to GET


def test_another_service_and_a_malformed_scope_are_bad_requests(service: TokenService) -> None:
    status, _, body = call(service, "GET", "/token", "service=elsewhere&scope=repository:a/b:pull")
    assert status == 400 and "not 'elsewhere'" in body["errors"][0]["message"]
    status, _, body = call(service, "GET", "/token", "scope=nonsense")
    assert status == 400 and "is not a scope" in body["errors"][0]["message"]


def test_progress_reports_are_the_learner_s_own_and_only_the_instructor_reads_them(service: TokenService) -> None:
    report = json.dumps({"lab": "00-first-push", "tasks": [{"number": 1, "passed": True}]}).encode()
    assert call(service, "PUT", "/progress/00-first-push", user=("learner-01", "pw-one"), body=report)[0] == 200
    assert call(service, "PUT", "/progress/00-first-push", body=report)[0] == 401
    assert call(service, "PUT", "/progress/../../etc", user=("learner-01", "pw-one"), body=report)[0] == 400
    assert call(service, "GET", "/progress", user=("learner-02", "pw-two"))[0] == 403
    status, _, body = call(service, "GET", "/progress", user=("instructor", "pw-i"))
    assert status == 200 and body["learner-01"]["00-first-push"]["tasks"] == [{"number": 1, "passed": True}]
    assert "received" in body["learner-01"]["00-first-push"]


def test_health_and_an_unknown_path(service: TokenService) -> None:
    assert call(service, "GET", "/healthz")[2]["status"] == "ok"
    assert call(service, "GET", "/v2/")[0] == 404

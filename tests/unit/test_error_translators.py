"""The translators in ``portside.errors``: each foreign failure maps to its kind, with the teaching message.

Built from real docker-py and requests exception objects (no engine, no network).
"""

from __future__ import annotations

import json

import docker.errors
import pytest
import requests

from portside.base.proc import Result
from portside.errors import (
    BuildError,
    EngineError,
    ImageUnavailable,
    PortInUse,
    PortsideError,
    RegistryAuthError,
    RegistryError,
    RegistryUnreachable,
    ToolError,
    VerificationFailed,
    engine_case,
    engine_error,
    http_error,
    status_error,
)
from portside.tools._runner import tool_error


def _response(status: int, body: object = None, *, url: str = "http://localhost:5000/v2/demo/manifests/1",
              method: str = "GET", reason: str = "") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.url = url
    response.reason = reason
    response._content = json.dumps(body).encode() if body is not None else b""
    response.request = requests.Request(method, url).prepare()
    return response


def _api_error(status: int, explanation: str) -> docker.errors.APIError:
    response = _response(status, {"message": explanation}, url="http+docker://localhost/v1.43/images/create")
    return docker.errors.APIError(explanation, response, explanation=explanation)


# -- the Docker engine -----------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "status", "case", "kind"), [
    ("driver failed programming external connectivity: Bind for 127.0.0.1:5000 failed: port is already allocated",
     500, "port-in-use", PortInUse),
    ("listen tcp 127.0.0.1:5000: bind: address already in use", 500, "port-in-use", PortInUse),
    ('Conflict. The container name "/portside-registry" is already in use', 409, "conflict", EngineError),
    ("unauthorized: authentication required", 500, "unauthorized", RegistryAuthError),
    ("Get https://localhost:5000/v2/: incorrect username or password", 500, "unauthorized", RegistryAuthError),
    ("head https://x/v2/: 401", 401, "unauthorized", RegistryAuthError),
    ('Get "https://10.0.0.5:5000/v2/": http: server gave HTTP response to HTTPS client', 500, "plain-http",
     RegistryError),
    ("dial tcp 127.0.0.1:5999: connect: connection refused", 500, "unreachable", RegistryUnreachable),
    ("dial tcp: lookup nowhere.invalid: no such host", 500, "unreachable", RegistryUnreachable),
    ("An image does not exist locally with the tag: localhost:5000/demo", 404, "no-local-image", ImageUnavailable),
    ("manifest for localhost:5000/demo:9 not found: manifest unknown", 404, "not-found", RegistryError),
    ("mkdir /var/lib/docker/tmp: no space left on device", 500, "other", EngineError),
])
def test_engine_errors_by_case(text: str, status: int, case: str, kind: type[PortsideError]) -> None:
    exc = _api_error(status, text)
    assert engine_case(exc) == case
    assert engine_case(text) == case or status in (401, 409)  # the stream gives text only, no status
    error = engine_error(exc, "Push to", "localhost:5000/demo:1")
    assert type(error) is kind
    assert str(error).startswith("Push to localhost:5000/demo:1 ")


def test_engine_error_keeps_the_push_messages() -> None:
    """The wording transfer's stream errors have always had, with the engine's own words in brackets."""
    auth = engine_error("unauthorized: authentication required", "Push to", "localhost:5000/a:1",
                        registry="localhost:5000")
    assert isinstance(auth, RegistryAuthError) and auth.status == 401
    assert auth.message == ("Push to localhost:5000/a:1 refused: not logged in, or the credentials are wrong "
                            "(unauthorized: authentication required).")
    assert auth.hint == "Log in with docker_login('localhost:5000', user, password), or pass username= and password=."
    gone = engine_error("dial tcp 127.0.0.1:5: connect: connection refused", "Pull of", "localhost:5/a:1",
                        registry="localhost:5")
    assert gone.message == ("Pull of localhost:5/a:1 failed: nothing answered at localhost:5 "
                            "(dial tcp 127.0.0.1:5: connect: connection refused).")
    missing = engine_error("manifest unknown", "Pull of", "localhost:5/a:9", registry="localhost:5")
    assert isinstance(missing, RegistryError) and missing.status == 404
    local = engine_error("An image does not exist locally with the tag: localhost:5/a", "Push to", "localhost:5/a:1")
    assert local.message == "Push to localhost:5/a:1 failed: there is no local image with that name."


def test_engine_error_other_is_a_registry_error_when_a_registry_is_named() -> None:
    odd = engine_error("received unexpected HTTP status: 502 Bad Gateway", "Push to", "r/a:1", registry="r")
    assert type(odd) is RegistryError
    assert odd.message == "Push to r/a:1 failed: received unexpected HTTP status: 502 Bad Gateway"
    engine = engine_error(_api_error(500, "something broke"), "Saving", "demo:1")
    assert type(engine) is EngineError and engine.status == 500


def test_engine_error_takes_the_callers_own_wording() -> None:
    """A caller keeps its message for a case (``instead``); the other cases still get their kinds."""
    exc = _api_error(409, 'Conflict. The container name "/portside-registry" is already in use')
    own = EngineError("Could not create the registry container: …")
    assert engine_error(exc, "Creating", "the registry container", instead={"conflict": own}) is own
    build = BuildError("Building demo failed: …")
    refused = _api_error(500, "pull access denied for base, repository does not exist")
    assert isinstance(engine_error(refused, "Building", "demo", instead={"other": build}), RegistryAuthError)
    assert engine_error(_api_error(500, "no space left"), "Building", "demo", instead={"other": build}) is build


def test_engine_error_reads_docker_login_stderr() -> None:
    stderr = ("Error response from daemon: login attempt to http://localhost:5000/v2/ failed with status: "
              "401 Unauthorized\n")
    assert isinstance(engine_error(stderr, "docker login", "localhost:5000", registry="localhost:5000"),
                      RegistryAuthError)


# -- requests / oras -------------------------------------------------------------------------------
def test_http_error_ssl_gives_the_ca_hint() -> None:
    exc = requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
                                       "self-signed certificate (_ssl.c:1006)")
    error = http_error(exc, "https://localhost:5443")
    assert type(error) is RegistryError
    assert error.message == ("The TLS certificate of https://localhost:5443 could not be verified "
                             "(self-signed certificate).")
    assert "ca_file=registry.ca_file" in error.hint
    with_ca = http_error(exc, "https://localhost:5443", ca_file="/tmp/ca.pem")
    assert with_ca.hint == "The CA file /tmp/ca.pem did not vouch for this server: is it the registry's own CA?"


@pytest.mark.parametrize(("exc", "what"), [
    (requests.exceptions.ConnectionError("Max retries exceeded"), "connection refused"),
    (requests.exceptions.ConnectTimeout("timed out"), "timed out"),
    (requests.exceptions.ReadTimeout("timed out"), "timed out"),
])
def test_http_error_nothing_answered(exc: requests.RequestException, what: str) -> None:
    error = http_error(exc, "http://localhost:5999")
    assert type(error) is RegistryUnreachable
    assert error.message == f"Nothing answered at http://localhost:5999 ({what})."


def test_http_error_broken_off() -> None:
    error = http_error(requests.exceptions.ChunkedEncodingError("Connection broken"), "http://localhost:5000",
                       method="GET", path="/v2/a/blobs/sha256:00")
    assert type(error) is RegistryError
    assert error.message == "GET /v2/a/blobs/sha256:00 at http://localhost:5000 broke off: Connection broken"


def test_status_error_by_status() -> None:
    url = "http://localhost:5000"
    body = {"errors": [{"code": "DENIED", "message": "requested access to the resource is denied"}]}
    denied = status_error(_response(403, body, method="DELETE"), url)
    assert type(denied) is RegistryAuthError and denied.status == 403
    assert denied.message == ("http://localhost:5000 denied DELETE /v2/demo/manifests/1: "
                              "DENIED: requested access to the resource is denied.")
    anonymous = status_error(_response(401, reason="Unauthorized"), url)
    assert anonymous.message == ("http://localhost:5000 requires a login "
                                 "(GET /v2/demo/manifests/1 answered 401 Unauthorized).")
    refused = status_error(_response(401, reason="Unauthorized"), url, who="user 'alice'")
    assert refused.message == ("http://localhost:5000 refused the credentials of user 'alice' "
                               "(401 Unauthorized).")
    unknown = status_error(_response(404, {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}),
                           url, what="GET manifest demo:1")
    assert type(unknown) is RegistryError and unknown.status == 404
    assert unknown.message == ("GET manifest demo:1 at http://localhost:5000 failed: "
                               "404 MANIFEST_UNKNOWN: manifest unknown.")
    plain = status_error(_response(500, reason="Internal Server Error"), url)
    assert plain.message == "GET /v2/demo/manifests/1 at http://localhost:5000 failed: 500 Internal Server Error."


# -- a CLI's exit code and stderr ------------------------------------------------------------------
def test_tool_error_carries_command_and_stderr() -> None:
    result = Result(["cosign", "sign", "x"], 1, "", "Error: signing x: boom\nmain.go:74: error during command\n")
    error = tool_error(result, "cosign sign x", hint="Try again.")
    assert type(error) is ToolError and error.returncode == 1 and error.command == ["cosign", "sign", "x"]
    assert str(error).startswith("cosign sign x failed (exit 1).\n  command: cosign sign x\n  Error: signing x: boom")
    assert error.hint == "Try again."


def test_tool_error_no_matching_signatures_is_verification_failed() -> None:
    result = Result(["cosign", "verify"], 1, "", "Error: no matching signatures: invalid signature\n")
    assert type(tool_error(result, "cosign verify r", verifying=True)) is VerificationFailed
    assert type(tool_error(result, "cosign sign r")) is ToolError  # only a verifying run says "not signed"


def test_a_failed_buildkit_build_names_the_failing_step() -> None:
    """python-on-whales raises DockerException; the BuildError keeps BuildKit's ERROR lines, not the CLI's noise."""
    from portside.errors import BuildError, build_error

    class FakeWhalesError(Exception):  # the shape of python_on_whales.exceptions.DockerException
        stderr = "ERROR: failed to build: failed to solve: process \"/bin/sh -c false\" did not complete successfully"

    log = ["#5 [2/2] RUN false", "#5 ERROR: process \"/bin/sh -c false\" did not complete successfully: exit code: 1"]
    error = build_error("demo:1", FakeWhalesError(), log)
    assert isinstance(error, BuildError)
    assert "demo:1" in str(error) and "exit code: 1" in str(error) and "RUN false" not in error.message
    bare = build_error("demo:1", FakeWhalesError(), [])
    assert "failed to solve" in bare.message

"""The room's token service: a WSGI application that follows the registry token specification.

A client that gets ``401`` from the registry reads its challenge::

    WWW-Authenticate: Bearer realm="http://127.0.0.1:PORT/token",service="portside-room",scope="repository:learner-07/app:pull,push"

and asks the *realm* for a token, with its password (HTTP Basic) or none::

    GET /token?service=portside-room&scope=repository:learner-07/app:pull,push

This service checks the password (bcrypt hashes, :mod:`portside.room.accounts`), grants what the
account may do (:mod:`portside.room.policy`), and answers ``{"token": …, "access_token": …,
"expires_in": …, "issued_at": …}``. ``POST /token`` takes the OAuth2 password grant
(``grant_type=password``), as containerd's resolver sends it first; a refresh-token grant is refused
with 400, after which clients fall back to ``GET`` (no refresh tokens are handed out: a token lives
``ttl`` seconds, and the client asks again with the password it keeps).

Beside it, for the workshop board: ``PUT /progress/SLUG`` (a learner, their own last check report of a
lab) and ``GET /progress`` (the instructor: everyone's). ``GET /healthz`` answers ``ok``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from portside.errors import UsageError
from portside.room.accounts import PasswordCheck
from portside.room.policy import INSTRUCTOR, grant, parse_scopes
from portside.room.tokens import SigningKey

__all__ = ["TokenService", "TokenSettings"]

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
#: one line per token: who asked for which scopes and what they were granted (the token service's log)
log = logging.getLogger("portside.room.tokens")
_SLUG = re.compile(r"^[0-9]{2}-[a-z0-9-]+$")
_MAX_BODY = 256 * 1024


@dataclass(frozen=True)
class TokenSettings:
    """What the registry and the token service must agree on."""

    service: str  #: the registry's name in tokens (``aud``) and challenges
    issuer: str  #: the token service's name in tokens (``iss``)
    ttl: int = 300  #: seconds a token lives (Docker Hub's are 300 s too)


class TokenService:
    """The WSGI application (``service(environ, start_response)``)."""

    def __init__(self, settings: TokenSettings, key: SigningKey, hashes: Mapping[str, str], reports: Path) -> None:
        self.settings = settings
        self.key = key
        self.check = PasswordCheck(hashes)
        self.reports = reports
        self._lock = threading.Lock()
        self.issued = 0  #: tokens handed out since start

    # -- WSGI ----------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        try:
            if path == "/healthz":
                return self._reply(start_response, 200, {"status": "ok", "issued": self.issued})
            if path == "/token" and method in ("GET", "POST"):
                return self._token(environ, start_response, method)
            if path == "/progress" and method == "GET":
                return self._progress_all(environ, start_response)
            if path.startswith("/progress/") and method == "PUT":
                return self._progress_put(environ, start_response, path.removeprefix("/progress/"))
            return self._error(start_response, 404, "NOT_FOUND", f"{method} {path} is not served here.")
        except UsageError as err:
            return self._error(start_response, 400, "INVALID_REQUEST", err.message)

    # -- helpers -------------------------------------------------------------------------------------
    @staticmethod
    def _reply(start_response: StartResponse, status: int, body: Mapping[str, Any],
               headers: Iterable[tuple[str, str]] = ()) -> list[bytes]:
        data = json.dumps(body).encode()
        reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                   413: "Payload Too Large"}
        start_response(f"{status} {reasons.get(status, 'Error')}",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                        ("Cache-Control", "no-store"), *headers])
        return [data]

    def _error(self, start_response: StartResponse, status: int, code: str, message: str) -> list[bytes]:
        headers = [("WWW-Authenticate", 'Basic realm="Portside room"')] if status == 401 else []
        return self._reply(start_response, status, {"errors": [{"code": code, "message": message}],
                                                    "error": code.lower(), "error_description": message}, headers)

    @staticmethod
    def _basic(environ: Mapping[str, Any]) -> tuple[str, str] | None:
        header = str(environ.get("HTTP_AUTHORIZATION", ""))
        if not header.lower().startswith("basic "):
            return None
        try:
            name, _, pw = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise UsageError("The Authorization header is not valid Basic credentials.") from None
        return name, pw

    @staticmethod
    def _body(environ: Mapping[str, Any]) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise UsageError("Content-Length is not a number.") from None
        if length > _MAX_BODY:
            raise UsageError(f"The request body is larger than {_MAX_BODY} bytes.")
        return bytes(environ["wsgi.input"].read(length)) if length else b""

    def _login(self, environ: Mapping[str, Any], start_response: StartResponse,
               form: Mapping[str, list[str]] | None = None) -> tuple[str | None, list[bytes] | None]:
        """(account, None) when the credentials are good or absent (None: anonymous); (None, reply) when bad."""
        pair = self._basic(environ)
        if pair is None and form is not None and form.get("username"):
            pair = (form["username"][0], (form.get("password") or [""])[0])
        if pair is None:
            return None, None
        if not self.check(*pair):
            return None, self._error(start_response, 401, "UNAUTHORIZED",
                                     f"Wrong user name or password for {pair[0]!r}.")
        return pair[0], None

    # -- /token --------------------------------------------------------------------------------------
    def _token(self, environ: Mapping[str, Any], start_response: StartResponse, method: str) -> list[bytes]:
        query = parse_qs(str(environ.get("QUERY_STRING", "")))
        form: dict[str, list[str]] | None = None
        if method == "POST":
            form = parse_qs(self._body(environ).decode("utf-8", "replace"))
            grant_type = (form.get("grant_type") or [""])[0]
            if grant_type != "password":
                return self._error(start_response, 400, "UNSUPPORTED_GRANT_TYPE",
                                   f"grant_type={grant_type!r} is not supported here; use password, or GET.")
            query = {**query, **form}
        service = (query.get("service") or [""])[0]
        if service and service != self.settings.service:
            return self._error(start_response, 400, "INVALID_SERVICE",
                               f"This token service signs for {self.settings.service!r}, not {service!r}.")
        account, refusal = self._login(environ, start_response, form)
        if refusal is not None:
            return refusal
        scopes = parse_scopes(query.get("scope", []))
        access = grant(account, scopes)
        token, claims = self.key.issue(subject=account or "", access=access, service=self.settings.service,
                                       issuer=self.settings.issuer, ttl=self.settings.ttl)
        with self._lock:
            self.issued += 1
        granted = [", ".join(str(a) for a in item["actions"]) if isinstance(item["actions"], list) else ""
                   for item in access]
        log.info("token for %s: %s", account or "(anonymous)",
                 "; ".join(f"{scope} granted {got or 'nothing'}" for scope, got in zip(scopes, granted, strict=True))
                 or "no scope")
        issued_at = dt.datetime.fromtimestamp(claims["iat"], dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body: dict[str, Any] = {"token": token, "access_token": token, "expires_in": self.settings.ttl,
                                "issued_at": issued_at}
        if method == "POST":
            body["scope"] = " ".join(str(s) for s in scopes)
        return self._reply(start_response, 200, body)

    # -- /progress -----------------------------------------------------------------------------------
    def _progress_put(self, environ: Mapping[str, Any], start_response: StartResponse, slug: str) -> list[bytes]:
        account, refusal = self._login(environ, start_response)
        if refusal is not None:
            return refusal
        if account is None:
            return self._error(start_response, 401, "UNAUTHORIZED", "Send your room credentials to report.")
        if not _SLUG.match(slug):
            raise UsageError(f"{slug!r} is not a lab slug.")
        try:
            report = json.loads(self._body(environ) or b"{}")
        except ValueError:
            raise UsageError("The report is not JSON.") from None
        if not isinstance(report, dict):
            raise UsageError("The report must be a JSON object.")
        report["received"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        folder = self.reports / account
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{slug}.tmp"
        tmp.write_text(json.dumps(report, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, folder / f"{slug}.json")
        return self._reply(start_response, 200, {"stored": slug})

    def _progress_all(self, environ: Mapping[str, Any], start_response: StartResponse) -> list[bytes]:
        account, refusal = self._login(environ, start_response)
        if refusal is not None:
            return refusal
        if account != INSTRUCTOR:
            return self._error(start_response, 403, "DENIED", "Only the instructor reads everyone's progress.")
        found: dict[str, dict[str, Any]] = {}
        if self.reports.is_dir():
            for folder in sorted(p for p in self.reports.iterdir() if p.is_dir()):
                found[folder.name] = {f.stem: json.loads(f.read_text(encoding="utf-8"))
                                      for f in sorted(folder.glob("*.json"))}
        return self._reply(start_response, 200, found)

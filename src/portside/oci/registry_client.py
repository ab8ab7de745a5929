"""Talk to a registry's HTTP API (the OCI Distribution API, ``/v2/...``) directly.

``docker push`` and ``docker pull`` hide a handful of plain HTTP requests. This
client makes them visible: list repositories and tags, fetch a manifest and its
digest, retag without re-pushing, delete, check for blobs.

Built on ``oras-py``: its ``Registry`` provider brings the authentication
backends (Basic and Bearer-token, with ``Www-Authenticate`` parsing) and tag
pagination. Two things are changed for a classroom: failures are immediate (oras
retries with sleeps of 3 to 83 s) and every failure is one of Portside's errors
with a message that says what to do.

Credentials: pass ``username``/``password``, or log in with
:func:`portside.registry.docker_login` first (the client then reads the course's
own Docker config, never ``~/.docker``).
"""

from __future__ import annotations

import hashlib
import json as jsonlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import oras.auth.utils
import oras.provider
import requests

from portside.errors import RegistryAuthError, RegistryError, http_error, status_error
from portside.oci.credentials import saved_login

__all__ = ["MANIFEST_MEDIA_TYPES", "Manifest", "RegistryClient"]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
#: what we accept when fetching a manifest (single-platform and multi-platform, OCI and Docker)
MANIFEST_MEDIA_TYPES: tuple[str, ...] = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST)

DEFAULT_TIMEOUT = (3.0, 60.0)  # (connect, read) seconds


@dataclass(frozen=True)
class Manifest:
    """A manifest exactly as the registry sent it: its bytes are what the digest is computed over."""

    media_type: str
    digest: str
    raw: bytes

    def json(self) -> dict[str, Any]:
        """The manifest parsed as JSON."""
        return cast("dict[str, Any]", jsonlib.loads(self.raw))


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``: how registries name manifests and blobs."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _saved(address: str) -> tuple[str, str] | None:
    """The course's saved login for ``address`` (read by :mod:`portside.oci.credentials`, its one reader)."""
    login = saved_login(address)
    return (login.user, login.password) if login else None


class _Transport(oras.provider.Registry):  # type: ignore[misc]  # oras ships no type information
    """oras' provider with a ``do_request`` that fails fast and maps errors.

    oras decorates ``do_request`` with a retry loop (sleeps of 3, 5, 11, 29, 83 s);
    here a refused connection or a wrong password is reported at once.
    """

    def __init__(self, url: str, username: str | None, password: str | None, ca_file: Path | None,
                 timeout: float | tuple[float, float]) -> None:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RegistryError(f"{url!r} is not a registry URL.",
                                hint="Use http://HOST:PORT or https://HOST:PORT, e.g. registry.url.")
        self.url = f"{parts.scheme}://{parts.netloc}"
        super().__init__(hostname=parts.netloc, insecure=parts.scheme == "http",
                         tls_verify=str(ca_file) if ca_file else True, auth_backend="token")
        self.username = username
        self._basic: str | None = None  # base64 "user:password", sent when the registry asks for Basic
        login = (username, password or "") if username is not None else _saved(parts.netloc)
        if login is not None:
            self._basic = oras.auth.utils.get_basic_auth(*login)
            self.auth.set_basic_auth(*login)
        self._scheme: str | None = None  # "basic" or "bearer", learnt from the first challenge
        self.ca_file = ca_file
        self.timeout = timeout

    # -- sending ---------------------------------------------------------------------------------
    def _send(self, method: str, url: str, *, headers: dict[str, str], data: Any = None,
              json: Any = None, stream: bool = False) -> requests.Response:
        session: requests.Session = self.session
        try:
            return session.request(method, url, data=data, json=json, headers=headers, stream=stream,
                                   verify=self._tls_verify, timeout=self.timeout, allow_redirects=True)
        except requests.exceptions.RequestException as exc:
            raise http_error(exc, self.url, method=method, path=urlsplit(url).path, ca_file=self.ca_file) from None

    def do_request(self, url: str, method: str = "GET", data: Any = None, headers: dict[str, str] | None = None,
                   json: Any = None, stream: bool = False) -> requests.Response:
        """One request, answering an authentication challenge once; 401/403 raise RegistryAuthError."""
        headers = dict(headers or {})
        if self._scheme == "basic" and self._basic:
            headers["Authorization"] = f"Basic {self._basic}"
        elif self._scheme == "bearer" and self.auth.token:
            headers.update(self.auth.get_auth_header())
        response = self._send(method, url, headers=headers, data=data, json=json, stream=stream)
        if response.status_code == 401:
            challenge = response.headers.get("Www-Authenticate", "")
            scheme = challenge.split(" ", 1)[0].lower()
            if scheme == "basic" and self._basic and headers.get("Authorization") != f"Basic {self._basic}":
                self._scheme = "basic"
                headers["Authorization"] = f"Basic {self._basic}"
                response = self._send(method, url, headers=headers, data=data, json=json, stream=stream)
            elif scheme == "bearer":  # (a new) token for the scope the challenge names
                self._scheme = "bearer"
                headers.pop("Authorization", None)
                try:
                    new_headers, changed = self.auth.authenticate_request(response, headers, refresh=True)
                except requests.exceptions.RequestException:
                    raise RegistryAuthError(f"The registry at {self.url} answered, but the token service it sends "
                                            f"clients to did not ({challenge}).", status=401,
                                            hint="The password is not the problem. In a workshop room the token "
                                                 "service is the instructor's: tell them (`portside workshop "
                                                 "status` shows it).") from None
                if changed:
                    response = self._send(method, url, headers=new_headers, data=data, json=json, stream=stream)
        if response.status_code in (401, 403):
            raise self._auth_error(response, method, url)
        return response

    def _auth_error(self, response: requests.Response, method: str, url: str) -> RegistryError:
        who = None if self._basic is None else (f"user {self.username!r}" if self.username
                                                else "the saved course login")
        return status_error(response, self.url, who=who)

    def _check_200_response(self, response: requests.Response) -> None:
        """Used by oras' own helpers (tags pagination): non-2xx becomes RegistryError."""
        if response.status_code not in (200, 201, 202):
            raise status_error(response, self.url)


class RegistryClient:
    """A small, typed client for one registry: ``RegistryClient("http://localhost:5000")``."""

    def __init__(self, url: str, *, username: str | None = None, password: str | None = None,
                 ca_file: Path | None = None, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
                 namespace: str | None = None) -> None:
        self._t = _Transport(url, username, password, ca_file, timeout)
        self.url: str = self._t.url
        #: every repository name given to this client is put under it (``hello`` → ``learner-07/hello``),
        #: and the catalog lists only the repositories under it, without the prefix
        self.namespace = namespace

    def _r(self, repository: str) -> str:
        return f"{self.namespace}/{repository}" if self.namespace else repository

    def __repr__(self) -> str:
        return f"RegistryClient({self.url!r})"

    def _u(self, path: str) -> str:
        return f"{self.url}/v2/{path}"

    def _expect(self, response: requests.Response, what: str, *ok: int) -> requests.Response:
        if response.status_code not in (ok or (200,)):
            raise status_error(response, self.url, what=what)
        return response

    # -- discovery -------------------------------------------------------------------------------
    def ping(self) -> int:
        """``GET /v2/``: 200 if the API answers (and we may use it), 401 if it wants a login."""
        try:
            return int(self._t.do_request(self._u(""), "GET").status_code)
        except RegistryAuthError as exc:
            return exc.status or 401

    def catalog(self) -> list[str]:
        """Every repository (``GET /v2/_catalog``, following pagination)."""
        names: list[str] = []

        def collect(response: requests.Response) -> bool:
            page = response.json().get("repositories") or []
            names.extend(page)
            return bool(page)

        self._t._do_paginated_request(self._u("_catalog?n=1000"), callable=collect)
        if self.namespace:
            prefix = f"{self.namespace}/"
            return [name.removeprefix(prefix) for name in names if name.startswith(prefix)]
        return names

    def tags(self, repository: str) -> list[str]:
        """The tags of ``repository`` (``GET /v2/<repo>/tags/list``); ``[]`` if the repository is unknown."""
        repository = self._r(repository)
        try:
            return [str(t) for t in self._t.get_tags(f"{self._t.hostname}/{repository}")]
        except RegistryError as exc:
            if exc.status == 404:
                return []
            raise

    # -- manifests -------------------------------------------------------------------------------
    def manifest(self, repository: str, reference: str) -> Manifest:
        """Fetch a manifest by tag or digest; when fetched by digest, its bytes are checked against it."""
        repository = self._r(repository)
        response = self._t.do_request(self._u(f"{repository}/manifests/{reference}"), "GET",
                                      headers={"Accept": ", ".join(MANIFEST_MEDIA_TYPES)})
        if response.status_code == 404:
            raise RegistryError(f"There is no manifest {reference!r} in repository {repository!r} at {self.url}.",
                                status=404, hint="List what exists with client.tags(repository).")
        self._expect(response, f"GET manifest {repository}:{reference}")
        raw = response.content
        computed = sha256_digest(raw)
        digest = response.headers.get("Docker-Content-Digest") or computed
        if reference.startswith("sha256:") and computed != reference:
            raise RegistryError(f"The manifest {repository}@{reference} from {self.url} has digest {computed}: "
                                "its content does not match the digest it was asked by.",
                                hint="Do not trust this registry's answer.")
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if not media_type or media_type == "application/json":
            media_type = str(jsonlib.loads(raw).get("mediaType", media_type))
        return Manifest(media_type=media_type, digest=digest, raw=raw)

    def digest(self, repository: str, reference: str) -> str | None:
        """The digest of a manifest from a ``HEAD`` request (no body); ``None`` if it does not exist."""
        name, repository = repository, self._r(repository)
        response = self._t.do_request(self._u(f"{repository}/manifests/{reference}"), "HEAD",
                                      headers={"Accept": ", ".join(MANIFEST_MEDIA_TYPES)})
        if response.status_code == 404:
            return None
        self._expect(response, f"HEAD manifest {repository}:{reference}")
        found = response.headers.get("Docker-Content-Digest")
        return str(found) if found else self.manifest(name, reference).digest

    def put_manifest(self, repository: str, reference: str, manifest: Manifest) -> str:
        """Upload ``manifest`` under tag (or digest) ``reference``: a retag without re-pushing layers."""
        repository = self._r(repository)
        response = self._t.do_request(self._u(f"{repository}/manifests/{reference}"), "PUT", data=manifest.raw,
                                      headers={"Content-Type": manifest.media_type})
        if response.status_code == 400 and "BLOB_UNKNOWN" in response.text:
            raise RegistryError(f"{self.url} refused the manifest for {repository}:{reference}: it refers to "
                                f"blobs that repository {repository!r} does not have.", status=400,
                                hint="put_manifest retags within a repository; to copy across repositories "
                                     "push the image there (the engine mounts the existing layers).")
        self._expect(response, f"PUT manifest {repository}:{reference}", 200, 201)
        return str(response.headers.get("Docker-Content-Digest") or sha256_digest(manifest.raw))

    def delete_manifest(self, repository: str, digest: str) -> None:
        """Delete a manifest by digest (every tag pointing at it goes too). Blobs stay until garbage collection."""
        repository = self._r(repository)
        if not digest.startswith("sha256:"):
            raise RegistryError(f"Manifests are deleted by digest, not by tag ({digest!r}).",
                                hint="Resolve the tag first: client.delete_manifest(repo, client.digest(repo, tag)).")
        response = self._t.do_request(self._u(f"{repository}/manifests/{digest}"), "DELETE")
        if response.status_code == 405:
            raise RegistryError(f"{self.url} does not allow deleting (405 Unsupported).", status=405,
                                hint="Start the registry with deletion enabled: Registry(delete=True).")
        if response.status_code == 404:
            raise RegistryError(f"There is no manifest {digest} in repository {repository!r} at {self.url}.",
                                status=404)
        self._expect(response, f"DELETE manifest {repository}@{digest}", 200, 202)

    # -- blobs -----------------------------------------------------------------------------------
    def blob_exists(self, repository: str, digest: str) -> bool:
        """``HEAD /v2/<repo>/blobs/<digest>``: is this layer or config stored (and linked to the repo)?"""
        repository = self._r(repository)
        response = self._t.do_request(self._u(f"{repository}/blobs/{digest}"), "HEAD")
        if response.status_code == 404:
            return False
        self._expect(response, f"HEAD blob {repository}@{digest}")
        return True

    def blob(self, repository: str, digest: str) -> bytes:
        """Download a blob (a layer or a config) and check its bytes against ``digest``."""
        repository = self._r(repository)
        response = self._t.do_request(self._u(f"{repository}/blobs/{digest}"), "GET")
        if response.status_code == 404:
            raise RegistryError(f"There is no blob {digest} in repository {repository!r} at {self.url}.", status=404)
        self._expect(response, f"GET blob {repository}@{digest}")
        data = response.content
        if digest.startswith("sha256:") and sha256_digest(data) != digest:
            raise RegistryError(f"The blob {digest} from {self.url} does not match its digest.")
        return bytes(data)

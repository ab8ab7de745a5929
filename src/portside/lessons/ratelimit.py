"""A stand-in for Docker Hub's pull rate limit: a small reverse proxy that counts pulls in front of a registry:2.

Docker Hub limits *pulls*, and it counts them the way its documentation says (docs/facts.md, checked
2026-12-01): a ``GET`` of a manifest (``/v2/<name>/manifests/<reference>``) is one pull; a ``HEAD`` of the
same manifest (a "version check") and every blob download are free. Anonymous pulls are counted per
IPv4 address, or per IPv6 /64 network; a logged-in pull against the account, whatever its address.
Every counted answer carries ``ratelimit-limit: N;w=SECONDS`` and ``ratelimit-remaining: M;w=SECONDS``
(plus ``docker-ratelimit-source``, what was counted), and when the allowance is spent the manifest
``GET`` is answered ``429 Too Many Requests`` with a ``TOOMANYREQUESTS`` error ("You have reached your pull
rate limit…"), which ``docker pull`` and ``crane`` pass on. The window is a rolling one.

Like Docker Hub, the stand-in wants a token on every ``/v2/`` request: it answers ``401`` with a
``Bearer`` challenge naming its ``/token`` endpoint, which hands out an anonymous token, or, given a
user name and password (HTTP Basic), a token of that user. Clients (``docker``, ``crane``, a
``registry:2`` pull-through cache) follow that dance by themselves. An index (a multi-platform
manifest list) is not counted: Docker Hub counts one pull per platform, i.e. the platform manifest
fetched next. Only ``GET`` and ``HEAD`` are served; images are published into the registry behind it.

This one file has two halves:

* **the server** (:class:`PullCounter`, :class:`Tokens`, :func:`serve`), written against Python's
  standard library only (``http.server.ThreadingHTTPServer``, ``http.client``): the same file is
  copied into a ``python:3.11-slim-bookworm`` container, which has nothing else, and run there as
  ``python3 /srv/ratelimit.py /srv/config.json``;
* **the harness** (:class:`RateLimitedHub`), which imports the course's modules inside its methods,
  so that the file stays importable in that container. It starts, on a course network of its own, a
  ``registry:2`` holding the images (``hub-storage``), the stand-in in front of it (``hub``, published
  on ``127.0.0.1``), and on request pull-through caches whose upstream is the stand-in; it waits
  until the stand-in answers and reaches its storage, and removes all of it (everything is labelled).

>>> with RateLimitedHub(anonymous=3) as hub:               # doctest: +SKIP
...     hub.publish_sample("workshop/step-01")
...     [hub.pull("workshop/step-01", "1.0").status for _ in range(4)]
[200, 200, 200, 429]
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import http.client
import ipaddress
import json
import re
import secrets
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from portside.registry import Registry

__all__ = ["ANONYMOUS_LIMIT", "AUTHENTICATED_LIMIT", "LIMIT_MESSAGE", "WINDOW_SECONDS", "Count", "Pull",
           "PullCounter", "RateLimitedHub", "Tokens", "identity_of", "password_hash", "ratelimit_headers", "serve"]

#: Docker Hub's limits, checked 2026-12-01 (docs/facts.md): pulls per rolling window of six hours
ANONYMOUS_LIMIT = 100
AUTHENTICATED_LIMIT = 200
WINDOW_SECONDS = 6 * 3600
#: the body Docker Hub's documentation gives for a pull over the limit
LIMIT_MESSAGE = ("You have reached your pull rate limit. You may increase the limit by authenticating and "
                 "upgrading: https://www.docker.com/increase-rate-limits")
SERVICE = "hub.stand-in"
CONTAINER_PORT = 8080
TOKEN_SECONDS = 300
INDEX_TYPES = frozenset({"application/vnd.oci.image.index.v1+json",
                         "application/vnd.docker.distribution.manifest.list.v2+json"})
_MANIFEST = re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)$")
_REPOSITORY = re.compile(r"^/v2/(?P<name>.+)/(?:manifests|blobs|tags)/")
_T = TypeVar("_T")
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                         "transfer-encoding", "upgrade", "content-length"})


# == the server: standard library only ==================================================================
def identity_of(address: str) -> str:
    """What an anonymous pull from ``address`` is counted against: the IPv4 address, or the IPv6 /64 network."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


def password_hash(password: str) -> str:
    """How the stand-in's users file keeps a password: its sha256, never the password itself."""
    return hashlib.sha256(password.encode()).hexdigest()


def ratelimit_headers(limit: int, remaining: int, window: int, source: str) -> dict[str, str]:
    """The three headers Docker Hub adds to a counted manifest request."""
    return {"ratelimit-limit": f"{limit};w={window}", "ratelimit-remaining": f"{max(remaining, 0)};w={window}",
            "docker-ratelimit-source": source}


class PullCounter:
    """Pulls per identity in a rolling window, thread-safe; ``clock`` is injectable for tests."""

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._pulls: dict[str, deque[float]] = {}
        self._refused: dict[str, int] = {}
        self._lock = threading.Lock()

    def _current(self, identity: str) -> deque[float]:
        stamps = self._pulls.setdefault(identity, deque())
        oldest = self._clock() - self.window
        while stamps and stamps[0] <= oldest:
            stamps.popleft()
        return stamps

    def take(self, identity: str, limit: int) -> float | None:
        """Count one pull if the allowance has room: its time stamp (to :meth:`give_back`), else ``None``."""
        with self._lock:
            stamps = self._current(identity)
            if len(stamps) >= limit:
                self._refused[identity] = self._refused.get(identity, 0) + 1
                return None
            stamp = self._clock()
            stamps.append(stamp)
            return stamp

    def give_back(self, identity: str, stamp: float) -> None:
        """Undo a :meth:`take` whose request turned out not to be a pull (not found, or an index)."""
        with self._lock:
            stamps = self._pulls.get(identity)
            if stamps is not None and stamp in stamps:
                stamps.remove(stamp)

    def remaining(self, identity: str, limit: int) -> int:
        """Pulls ``identity`` has left in the current window."""
        with self._lock:
            return max(limit - len(self._current(identity)), 0)

    def report(self) -> dict[str, dict[str, int]]:
        """``{identity: {"pulls": counted in the window, "refused": answered 429 so far}}``."""
        with self._lock:
            names = set(self._pulls) | set(self._refused)
            return {name: {"pulls": len(self._current(name)), "refused": self._refused.get(name, 0)}
                    for name in sorted(names)}


class Tokens:
    """Bearer tokens handed out by ``/token``: random strings, each for one user (or none) and 300 s."""

    def __init__(self, lifetime: float = TOKEN_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.lifetime = lifetime
        self._clock = clock
        self._issued: dict[str, tuple[str | None, float]] = {}
        self._lock = threading.Lock()

    def issue(self, user: str | None) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            now = self._clock()
            self._issued = {t: grant for t, grant in self._issued.items() if grant[1] > now}  # forget expired ones
            self._issued[token] = (user, now + self.lifetime)
        return token

    def holder(self, token: str) -> tuple[bool, str | None]:
        """``(valid, user)``: whether ``token`` was issued here and has not expired, and whose it is."""
        with self._lock:
            grant = self._issued.get(token)
        if grant is None or grant[1] <= self._clock():
            return False, None
        return True, grant[0]


def _error_body(code: str, message: str) -> bytes:
    return json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.upstream = urlsplit(str(config["upstream"]))
        self.limits = {"anonymous": int(config["anonymous"]), "authenticated": int(config["authenticated"])}
        self.window = int(config["window"])
        self.users: dict[str, str] = dict(config.get("users") or {})
        self.counter = PullCounter(self.window)
        self.tokens = Tokens()
        super().__init__(("", int(config.get("port", CONTAINER_PORT))), _Handler)

    def check(self, user: str, password: str) -> bool:
        known = self.users.get(user)
        return known is not None and hmac.compare_digest(known, password_hash(password))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.0"  # a garbled request line still gets an "HTTP/1.1 400" status line
    timeout = 60  # seconds a connection may sit idle
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms wait for an ACK
    server: _Server

    def handle_one_request(self) -> None:
        try:
            first = self.rfile.peek(1)[:1]  # type: ignore[attr-defined]  # a BufferedReader (rbufsize -1)
        except (TimeoutError, OSError):
            self.close_connection = True
            return
        if first == b"\x16":  # a TLS handshake: the engine tries HTTPS first and falls back to HTTP on an answer
            body = b"Client sent a TLS handshake to a plain HTTP server.\n"  # that starts with "HTTP/"
            self.wfile.write(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            self.close_connection = True
            return
        super().handle_one_request()

    # -- routing -----------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._route("GET")

    def do_HEAD(self) -> None:
        self._route("HEAD")

    def _unsupported(self) -> None:
        self._send(405, _error_body("UNSUPPORTED", "The stand-in serves pulls only (GET and HEAD); publish "
                                                   "images into the registry behind it."))

    do_POST = do_PUT = do_PATCH = do_DELETE = _unsupported

    def _route(self, method: str) -> None:
        path = urlsplit(self.path).path
        if path == "/token" and method == "GET":
            self._token()
        elif path == "/_standin/pulls":
            self._send(200, json.dumps({"window": self.server.window, "limits": self.server.limits,
                                        "identities": self.server.counter.report()}).encode())
        elif path == "/_standin/ready":
            self._ready()
        elif path == "/v2" or path.startswith("/v2/"):
            self._registry(method, path)
        else:
            self._send(404, _error_body("NOT_FOUND", f"nothing at {path}"))

    # -- /token: Docker Hub's token service, played -----------------------------------------------------
    def _token(self) -> None:
        user: str | None = None
        header = self.headers.get("Authorization", "")
        if header.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, password = "", ""
            if not self.server.check(user, password):
                self._send(401, json.dumps({"details": "incorrect username or password"}).encode())
                return
        token = self.server.tokens.issue(user)
        issued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self._send(200, json.dumps({"token": token, "access_token": token, "expires_in": TOKEN_SECONDS,
                                    "issued_at": issued}).encode())

    def _challenge(self, path: str) -> None:
        realm = f"http://{self.headers.get('Host') or 'localhost'}/token"
        challenge = f'Bearer realm="{realm}",service="{SERVICE}"'
        match = _REPOSITORY.match(path)
        if match:
            challenge += f',scope="repository:{match["name"]}:pull"'
        self._send(401, _error_body("UNAUTHORIZED", "authentication required"), {"WWW-Authenticate": challenge})

    def _ready(self) -> None:
        try:
            status, _, _ = self._upstream("GET", "/v2/", read=True)
        except OSError as exc:
            self._send(503, json.dumps({"upstream": f"unreachable: {exc}"}).encode())
            return
        self._send(200 if status in (200, 401) else 503, json.dumps({"upstream": status}).encode())

    # -- the registry API ------------------------------------------------------------------------------
    def _registry(self, method: str, path: str) -> None:
        header = self.headers.get("Authorization", "")
        valid, user = self.server.tokens.holder(header[7:]) if header.lower().startswith("bearer ") else (False, None)
        if not valid:
            self._challenge(path)
            return
        if not _MANIFEST.match(path):
            self._relay(method)
            return
        source = user if user is not None else identity_of(self.client_address[0])
        limit = self.server.limits["authenticated" if user is not None else "anonymous"]
        counter, window = self.server.counter, self.server.window
        if method == "HEAD":  # a version check: answered with the counts, never counted
            self._relay(method, lambda status, content_type: ratelimit_headers(
                limit, counter.remaining(source, limit), window, source))
            return
        stamp = counter.take(source, limit)
        if stamp is None:
            self._send(429, _error_body("TOOMANYREQUESTS", LIMIT_MESSAGE), ratelimit_headers(limit, 0, window, source))
            return

        def counted(status: int, content_type: str) -> dict[str, str]:
            if status != 200 or content_type.split(";")[0].strip() in INDEX_TYPES:
                counter.give_back(source, stamp)  # not a pull: nothing found, or only the list of platforms
            return ratelimit_headers(limit, counter.remaining(source, limit), window, source)

        self._relay(method, counted)

    def _forwarded_headers(self) -> dict[str, str]:
        """What the registry behind needs of the client's request; several ``Accept`` lines become one."""
        headers = {"Accept": ", ".join(self.headers.get_all("Accept") or ["*/*"])}
        for name in ("Host", "Range", "If-None-Match", "User-Agent"):
            value = self.headers.get(name)
            if value:
                headers[name] = value
        return headers

    def _upstream(self, method: str, target: str, *, read: bool) -> tuple[int, http.client.HTTPMessage, bytes]:
        connection = http.client.HTTPConnection(self.server.upstream.hostname or "localhost",
                                                self.server.upstream.port or 80, timeout=30)
        try:
            connection.request(method, target, headers=self._forwarded_headers())
            response = connection.getresponse()
            return response.status, response.headers, response.read() if read else b""
        finally:
            connection.close()

    def _relay(self, method: str, extra: Callable[[int, str], dict[str, str]] | None = None) -> None:
        """Forward the request to the registry behind the stand-in and send its answer on, with ``extra`` headers."""
        connection = http.client.HTTPConnection(self.server.upstream.hostname or "localhost",
                                                self.server.upstream.port or 80, timeout=60)
        try:
            headers = self._forwarded_headers()
            try:
                connection.request(method, self.path, headers=headers)
                response = connection.getresponse()
            except OSError as exc:
                self._send(502, _error_body("UNAVAILABLE", f"the registry behind the stand-in did not answer: {exc}"))
                return
            added = extra(response.status, response.headers.get("Content-Type", "")) if extra else {}
            self.send_response(response.status)
            for name, value in response.headers.items():
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, value)
            for name, value in added.items():
                self.send_header(name, value)
            length = response.headers.get("Content-Length")
            if method == "HEAD":
                self.send_header("Content-Length", length or "0")
                self.end_headers()
                return
            if length is None:  # chunked: read it whole, then send it with a length
                body = response.read()
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_header("Content-Length", length)
            self.end_headers()
            left = int(length)
            while left > 0:
                chunk = response.read(min(left, 1 << 16))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)
        finally:
            connection.close()

    def _send(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        """An answer of the stand-in's own (JSON), not relayed from the registry behind it."""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def serve(config: Mapping[str, Any]) -> None:
    """Run the stand-in until it is killed: ``config`` names ``upstream``, the limits, ``window`` and ``users``."""
    server = _Server(config)
    print(f"stand-in listening on :{server.server_address[1]}, upstream {config['upstream']}, "
          f"limits {server.limits} per {server.window} s", flush=True)
    server.serve_forever()


# == the harness: starts and removes the containers (imports the course's modules inside its methods) ====
@dataclass(frozen=True)
class Pull:
    """What one pull from the stand-in got: the status of its manifest ``GET``, and the limit headers."""

    status: int
    limit: str | None
    remaining: int | None
    source: str | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass(frozen=True)
class Count:
    """One identity in the stand-in's books: who it is, and its pulls in the window and refusals so far."""

    who: str
    authenticated: bool
    pulls: int
    refused: int
    limit: int


@dataclass
class _Parts:
    network: Any = None
    storage: Registry | None = None
    standin: Any = None
    caches: list[Registry] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)


def _positive(name: str, value: int) -> int:
    from portside.errors import UsageError

    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise UsageError(f"{name}={value!r}: the stand-in's limits and window are whole numbers of at least 1.",
                         hint="Docker Hub's own: anonymous=100, authenticated=200, window=21600 (six hours).")
    return value


def _layer(text: str) -> bytes:
    """A gzip'd tar holding one small file: the same bytes for the same ``text``."""
    import gzip
    import io
    import tarfile

    data = text.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime, info.mode = len(data), 1_700_000_000, 0o644
        tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue(), mtime=0)


class RateLimitedHub:
    """Docker Hub's pull limit, played locally: a ``registry:2`` behind the rate-limiting stand-in (see above).

    ``users`` are the accounts the stand-in knows (name → password or access token). Use it as a context
    manager; :meth:`stop` removes the caches it started, the stand-in, its registry and their network.
    """

    ALIAS = "hub"  #: the stand-in's name on its network: caches reach it at http://hub:8080
    STORAGE_ALIAS = "hub-storage"

    def __init__(self, *, anonymous: int = ANONYMOUS_LIMIT, authenticated: int = AUTHENTICATED_LIMIT,
                 window: int = WINDOW_SECONDS, users: Mapping[str, str] | None = None,
                 image: str = "python:3.11-slim-bookworm", startup_timeout: float = 30) -> None:
        self.anonymous = _positive("anonymous", anonymous)
        self.authenticated = _positive("authenticated", authenticated)
        self.window = _positive("window", window)
        self._users = {name: password_hash(password) for name, password in (users or {}).items()}
        self.image = image
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self._parts = _Parts()
        self._stack: Any = None
        self._session: Any = None

    # -- addresses -----------------------------------------------------------------------------------------
    @property
    def address(self) -> str:
        """``localhost:PORT``: where this machine (the learners' "room") reaches the stand-in."""
        return f"localhost:{self._running(self.port)}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def internal_url(self) -> str:
        """The URL containers on the hub's network use (a cache's upstream)."""
        return f"http://{self.ALIAS}:{CONTAINER_PORT}"

    @property
    def storage(self) -> Registry:
        """The ``registry:2`` behind the stand-in: where images are published (pushes are not limited)."""
        return self._running(self._parts.storage)

    @property
    def network(self) -> Any:
        """The course network the hub's containers share (a docker-py ``Network``)."""
        return self._parts.network

    def _http(self) -> Any:
        """One ``requests.Session`` for the harness's own requests (connections are kept open between them)."""
        if self._session is None:
            import requests

            self._session = requests.Session()
        return self._session

    def _running(self, part: _T | None) -> _T:
        """``part`` of a started hub, else a UsageError saying to start it."""
        if part is None or self.port is None:
            from portside.errors import UsageError

            raise UsageError("The hub stand-in is not running.", hint="Start it first: RateLimitedHub().start().")
        return part

    def ref(self, repository: str, tag: str) -> str:
        """``localhost:PORT/REPOSITORY:TAG``, an image reference on the stand-in."""
        return f"{self.address}/{repository}:{tag}"

    # -- life cycle ------------------------------------------------------------------------------------
    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Self:
        """Create the network, the registry behind the stand-in, then the stand-in; wait until it answers."""
        if self._stack is not None:
            return self
        from contextlib import ExitStack

        from portside.engine.networks import course_network
        from portside.registry import Registry

        self._stack = ExitStack()
        try:
            network = self._stack.enter_context(course_network("portside-hub"))
            network.reload()
            self._parts.network = network
            gateway = (network.attrs.get("IPAM", {}).get("Config") or [{}])[0].get("Gateway")
            if gateway:
                self._parts.names[gateway] = "this machine"
            storage = Registry(labels={"org.portside.role": "hub-storage"})
            storage.with_network(network).with_network_aliases(self.STORAGE_ALIAS)
            self._parts.storage = storage.start()
            self._start_standin(network)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_standin(self, network: Any) -> None:
        import io
        import tarfile

        import docker.errors

        from portside import engine
        from portside.base.labels import course_labels
        from portside.errors import EngineError, ImageUnavailable
        from portside.registry.ports import free_port

        config = {"upstream": f"http://{self.STORAGE_ALIAS}:5000", "port": CONTAINER_PORT, "anonymous": self.anonymous,
                  "authenticated": self.authenticated, "window": self.window, "users": self._users}
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w") as tar:
            for name, data in (("ratelimit.py", Path(__file__).read_bytes()),
                               ("config.json", json.dumps(config).encode())):
                info = tarfile.TarInfo(name)
                info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
                tar.addfile(info, io.BytesIO(data))
        cli = engine.client()
        self.port = free_port()
        try:
            container = cli.containers.create(
                self.image, ["python3", "-u", "/srv/ratelimit.py", "/srv/config.json"],
                labels=course_labels("hub-standin", port=str(self.port)),
                ports={f"{CONTAINER_PORT}/tcp": ("127.0.0.1", self.port)}, network=network.name,
                networking_config={network.name: cli.api.create_endpoint_config(aliases=[self.ALIAS])})
        except docker.errors.ImageNotFound:
            raise ImageUnavailable(f"The image {self.image} is not on this machine.",
                                   hint="Run `portside images ensure` (it builds a stand-in offline).") from None
        except docker.errors.APIError as exc:
            from portside.errors import engine_detail

            raise EngineError(f"The engine refused to create the hub stand-in: {engine_detail(exc)}") from None
        self._parts.standin = container
        container.put_archive("/srv", archive.getvalue())
        container.start()
        self._wait_until_ready(container)

    def _wait_until_ready(self, container: Any) -> None:
        """Poll ``/_standin/ready`` (the stand-in answers and reaches its registry) until ``startup_timeout``."""
        import requests

        from portside.errors import EngineError

        deadline = time.monotonic() + self.startup_timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            try:
                answer = requests.get(f"{self.url}/_standin/ready", timeout=2)
                if answer.status_code == 200:
                    return
                last = f"HTTP {answer.status_code}: {answer.text.strip()[:200]}"
            except requests.RequestException as exc:
                last = type(exc).__name__
            container.reload()
            if container.status in ("exited", "dead"):
                break
            time.sleep(0.1)
        container.reload()
        logs = container.logs(tail=15).decode(errors="replace").strip()
        raise EngineError(f"The hub stand-in on {self.address} did not become ready within {self.startup_timeout:g} s "
                          f"(container {container.status}; last answer: {last}). Its last log lines:\n{logs}",
                          hint="Check that the python:3.11-slim-bookworm image runs (`portside doctor`).")

    def stop(self) -> None:
        """Remove every cache it started, the stand-in, its registry and the network. Safe to call twice."""
        from concurrent.futures import ThreadPoolExecutor

        import docker.errors

        def remove_standin() -> None:
            try:
                self._parts.standin.remove(force=True)
            except docker.errors.NotFound:
                pass

        removals: list[Callable[[], None]] = [cache.stop for cache in self._parts.caches]
        if self._parts.standin is not None:
            removals.append(remove_standin)
        if self._parts.storage is not None:
            removals.append(self._parts.storage.stop)
        with ThreadPoolExecutor(max_workers=4) as pool:  # independent containers: removed side by side
            for done in [pool.submit(removal) for removal in removals]:
                done.result()
        self._parts.caches.clear()
        self._parts.standin = self._parts.storage = None
        if self._stack is not None:
            self._stack.close()
            self._stack = None
        if self._session is not None:
            self._session.close()
            self._session = None
        self._parts = _Parts()
        self.port = None

    # -- the publisher's side --------------------------------------------------------------------------
    def publish_sample(self, repository: str, tag: str = "1.0", text: str | None = None) -> str:
        """Put a tiny one-layer image (a ``hello.txt``) into the hub under ``repository:tag``; its digest.

        It goes straight into the registry behind the stand-in, as a publisher's push would: uploads are
        not what the limit is about.
        """

        from portside.errors import RegistryError
        from portside.oci.registry_client import OCI_MANIFEST, sha256_digest

        storage = self._running(self._parts.storage)
        base = f"{storage.url}/v2/{repository}"
        layer = _layer(text if text is not None else f"{repository}:{tag}\n")
        diff_id = sha256_digest(gzip.decompress(layer))
        config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                             "rootfs": {"type": "layers", "diff_ids": [diff_id]}}, sort_keys=True).encode()
        blobs = [("application/vnd.oci.image.config.v1+json", config),
                 ("application/vnd.oci.image.layer.v1.tar+gzip", layer)]
        for _, data in blobs:
            digest = sha256_digest(data)
            started = self._http().post(f"{base}/blobs/uploads/", timeout=10)
            location = started.headers.get("Location", "")
            if started.status_code != 202 or not location:
                raise RegistryError(f"The hub's registry refused an upload to {repository} ({started.status_code}).")
            target = location if "://" in location else f"{storage.url}{location}"
            done = self._http().put(target, params={"digest": digest}, data=data,
                                headers={"Content-Type": "application/octet-stream"}, timeout=10)
            if done.status_code != 201:
                raise RegistryError(f"The hub's registry did not store a blob of {repository} ({done.status_code}).")
        manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                               "config": {"mediaType": blobs[0][0], "digest": sha256_digest(config),
                                          "size": len(config)},
                               "layers": [{"mediaType": blobs[1][0], "digest": sha256_digest(layer),
                                           "size": len(layer)}]}).encode()
        put = self._http().put(f"{base}/manifests/{tag}", data=manifest, headers={"Content-Type": OCI_MANIFEST},
                           timeout=10)
        if put.status_code != 201:
            raise RegistryError(f"The hub's registry refused the manifest {repository}:{tag} ({put.status_code}).")
        return sha256_digest(manifest)

    # -- the pulling side ---------------------------------------------------------------------------------
    def token(self, username: str | None = None, password: str | None = None, *, repository: str = "") -> str:
        """A token from the stand-in's ``/token`` (anonymous, or ``username``'s): what clients fetch first."""

        from portside.errors import RegistryAuthError

        scope = {"scope": f"repository:{repository}:pull"} if repository else {}
        answer = self._http().get(f"{self.url}/token", params={"service": SERVICE, **scope}, timeout=10,
                              auth=(username, password or "") if username is not None else None)
        if answer.status_code == 401:
            raise RegistryAuthError(f"The hub stand-in refused the login of {username!r}: incorrect username or "
                                    "password.", status=401, hint="Use a user name and token given to "
                                                                  "RateLimitedHub(users=…).")
        answer.raise_for_status()
        return str(answer.json()["token"])

    def pull(self, repository: str, tag: str, *, username: str | None = None, password: str | None = None) -> Pull:
        """Pull ``repository:tag`` from the stand-in the way a client does: a token, the manifest, its blobs."""

        from portside.oci.registry_client import MANIFEST_MEDIA_TYPES

        headers = {"Authorization": f"Bearer {self.token(username, password, repository=repository)}"}
        answer = self._http().get(f"{self.url}/v2/{repository}/manifests/{tag}", timeout=10,
                              headers={**headers, "Accept": ", ".join(MANIFEST_MEDIA_TYPES)})
        remaining = answer.headers.get("ratelimit-remaining")
        result = Pull(answer.status_code, answer.headers.get("ratelimit-limit"),
                      int(remaining.split(";")[0]) if remaining else None,
                      answer.headers.get("docker-ratelimit-source"), None if answer.ok else _error_message(answer.text))
        if answer.ok:
            manifest = answer.json()
            for blob in [manifest.get("config", {}), *manifest.get("layers", [])]:
                if blob.get("digest"):
                    self._http().get(f"{self.url}/v2/{repository}/blobs/{blob['digest']}", headers=headers,
                                 timeout=30).raise_for_status()
        return result

    def counts(self) -> list[Count]:
        """The stand-in's books: pulls counted per identity in the window, and refusals, named where known."""

        report = self._http().get(f"{self.url}/_standin/pulls", timeout=10).json()
        limits = report["limits"]
        rows = []
        for identity, numbers in report["identities"].items():
            authenticated = not _is_address(identity)
            who = f"user {identity}" if authenticated else self._parts.names.get(identity, identity)
            rows.append(Count(who, authenticated, numbers["pulls"], numbers["refused"],
                              limits["authenticated" if authenticated else "anonymous"]))
        return rows

    def table(self, only: Iterable[str] | None = None) -> str:
        """:meth:`counts` as a plain-text table (``only`` the identities named so, in that order, if given)."""
        from portside.base.table import Table

        hours = self.window / 3600
        per = f"{hours:g} h" if hours >= 1 else f"{self.window} s"
        counts = {c.who: c for c in self.counts()}
        chosen = list(counts.values()) if only is None else [counts[name] for name in only if name in counts]
        return str(Table(["counted against", "pulls", "refused (429)", "allowance"],
                         [[c.who, c.pulls, c.refused, f"{c.limit} per {per}"] for c in chosen]))

    # -- caches ---------------------------------------------------------------------------------------
    def cache(self, *, username: str | None = None, password: str | None = None, name: str | None = None) -> Registry:
        """Start a pull-through cache (``registry:2``, on the hub's network) whose upstream is the stand-in.

        With ``username``/``password`` it pulls upstream as that account (``REGISTRY_PROXY_USERNAME`` /
        ``REGISTRY_PROXY_PASSWORD``). ``name`` is how :meth:`counts` calls its address. Removed by :meth:`stop`.
        """
        from portside.registry import Registry

        network = self._running(self._parts.network)
        cache = Registry(proxy=self.internal_url, proxy_username=username, proxy_password=password,
                         labels={"org.portside.role": "hub-cache"})
        cache.with_network(network)
        self._parts.caches.append(cache)
        cache.start()
        container = cache.get_wrapped_container()
        container.reload()
        ip = container.attrs["NetworkSettings"]["Networks"][network.name]["IPAddress"]
        self._parts.names[ip] = name or f"cache {len(self._parts.caches)}"
        return cache


def _error_message(text: str) -> str:
    """The first message of a registry error body (or the body itself, if it is not one)."""
    try:
        return str(json.loads(text)["errors"][0]["message"])
    except (ValueError, KeyError, IndexError, TypeError):
        return text.strip()[:200]


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


if __name__ == "__main__":  # inside the stand-in's container
    serve(json.loads(Path(sys.argv[1]).read_text()))

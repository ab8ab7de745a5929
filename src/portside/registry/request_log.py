"""The HTTP requests a registry received, read from its own access log.

``docker push`` looks like one command, but the engine talks to the registry in
plain HTTP requests: *is this blob there?* (``HEAD``), *start an upload* (``POST``),
*here are the bytes* (``PATCH``), *done, and this is its digest* (``PUT``), and at the
end *store this manifest under this tag* (``PUT .../manifests/TAG``). How many of each
depends on the engine's image store: the classic store knocks on ``/v2/`` first and
sends a blob's bytes in a ``PATCH``; the containerd store's pusher sends its first
requests without credentials (a ``401`` challenge answers them), sends a blob's bytes
with the final ``PUT`` (no ``PATCH``, a 40 MB layer included), and asks whether the tag
exists (``HEAD`` on the manifest) before storing it. A ``POST`` may ask to *mount* a
blob from another repository of the same registry (``?mount=DIGEST&from=REPO``): ``201``
means linked, no upload needed; ``202`` means not found there, so upload it.
``registry:2`` writes every request it answers to its log in the common "combined" format::

    172.17.0.1 - - [26/Nov/2026:21:49:58 +0000] "PUT /v2/ada/myapp/manifests/1.0.0 HTTP/1.1" 201 0 "" "docker/20.10…"

:func:`watch` remembers where the log stood, and afterwards lists only the requests
made since, so a lesson can show exactly what one push or pull sent:

>>> with watch(registry) as log:                 # doctest: +SKIP
...     transfer.push(registry.ref("ada/myapp", "1.0.0"))
>>> log.table(names={config_digest: "<config>"})  # doctest: +SKIP
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from portside.base.table import Table

if TYPE_CHECKING:
    from portside.registry.container import Registry

__all__ = ["Request", "RequestLog", "parse_access_log", "watch"]

_ACCESS = re.compile(r'"(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP/[\d.]+" (\d{3}) ')
_UPLOAD = re.compile(r"(/blobs/uploads/)[0-9a-f-]{36}$")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")

#: what each kind of request means, for the table's last column
_MOUNTED = "mounted from another repository: no upload needed"
_MEANING = (
    (re.compile(r"^GET /v2/$"), "API check; 401 tells the client to log in"),
    (re.compile(r"^HEAD .*/blobs/"), "is this blob stored already?"),
    (re.compile(r"^POST .*/blobs/uploads/$"), "start an upload"),
    (re.compile(r"^PATCH .*/blobs/uploads/"), "send the bytes"),
    (re.compile(r"^PUT .*/blobs/uploads/"), "finish: the registry checks the bytes against the digest"),
    (re.compile(r"^GET .*/blobs/"), "download a blob"),
    (re.compile(r"^PUT .*/manifests/"), "store the manifest under the tag"),
    (re.compile(r"^(GET|HEAD) .*/manifests/"), "fetch (or check) a manifest"),
    (re.compile(r"^DELETE "), "delete"),
)


@dataclass(frozen=True)
class Request:
    """One request as the registry logged it. ``path`` is tidied: upload ids become ``<upload>``,
    the upload's state token is dropped, and a ``digest`` query parameter is kept. A cross-repository
    mount (``POST …/blobs/uploads/?mount=DIGEST&from=REPO``) keeps the blob in ``mount`` and the
    repository in ``mount_from``, not in ``path``."""

    method: str
    path: str
    status: int
    mount: str = ""
    mount_from: str = ""

    @property
    def meaning(self) -> str:
        if self.mount and self.status == 201:
            return _MOUNTED
        line = f"{self.method} {self.path.split('?')[0]}"
        return next((text for pattern, text in _MEANING if pattern.match(line)), "")

    def named(self, names: Mapping[str, str]) -> Request:
        """The same request with digests replaced by readable names (``{digest: "<config>"}``)."""
        path = _DIGEST.sub(lambda m: names.get(m.group(0), m.group(0)), self.path)
        return Request(self.method, path, self.status, names.get(self.mount, self.mount), self.mount_from)


def _request(method: str, target: str, status: str) -> Request:
    parts = urlsplit(target)
    path = _UPLOAD.sub(r"\1<upload>", unquote(parts.path))
    query = parse_qs(parts.query)
    if query.get("digest"):
        path += f"?digest={query['digest'][0]}"
    return Request(method, path, int(status), query.get("mount", [""])[0], query.get("from", [""])[0])


def parse_access_log(text: str) -> list[Request]:
    """Every request in ``text`` (registry log output), in order; other log lines are ignored."""
    return [_request(*m.groups()) for m in _ACCESS.finditer(text)]


@dataclass
class RequestLog:
    """The requests a registry answered after a point in time (see :func:`watch`)."""

    registry: Any
    skip: int = 0
    _requests: list[Request] | None = field(default=None, repr=False)

    def _read(self) -> list[Request]:
        container = self.registry.get_wrapped_container()
        return parse_access_log(container.logs(stdout=True, stderr=True).decode(errors="replace"))

    def settle(self, timeout: float = 2.0) -> None:
        """Read the log until it stops growing (the last lines can trail the response by a moment)."""
        deadline = time.monotonic() + timeout
        seen = self._read()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            again = self._read()
            if len(again) == len(seen):
                break
            seen = again
        self._requests = seen[self.skip:]

    @property
    def requests(self) -> list[Request]:
        """The requests made since :func:`watch` began."""
        if self._requests is None:
            self.settle()
        assert self._requests is not None
        return list(self._requests)

    def table(self, names: Mapping[str, str] | None = None, *, pings: bool = False) -> Table:
        """The requests as a table. ``GET /v2/`` pings are folded into one row (or left out unless ``pings``).

        Clients knock on ``/v2/`` a varying number of times; folding them keeps the table the
        same from run to run: one row listing the distinct answers in the order they came.
        """
        rows: list[list[object]] = []
        ping_statuses: list[int] = []
        for request in self.requests:
            if request.method == "GET" and request.path == "/v2/":
                if request.status not in ping_statuses:
                    ping_statuses.append(request.status)
                continue
            shown = request.named(names or {})
            rows.append([shown.method, shown.path, shown.status, shown.meaning])
        if pings and ping_statuses:
            rows.insert(0, ["GET", "/v2/", ", ".join(map(str, ping_statuses)), Request("GET", "/v2/", 0).meaning])
        return Table(["method", "path", "status", "meaning"], rows)


@contextmanager
def watch(registry: Registry | Any) -> Iterator[RequestLog]:
    """Collect the requests ``registry`` answers inside the ``with`` block."""
    log = RequestLog(registry)
    log.skip = len(log._read())
    yield log
    log.settle()

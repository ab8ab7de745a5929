"""A room of learners at once on the workshop registry, and what a learner sees when part of the room fails.

    python benchmarks/workshop_load.py                    # 30 learners × 3 rounds, 3 docker pushes, then the faults
    python benchmarks/workshop_load.py --short            # 30 learners × 1 round of small images (the suite's form)
    python benchmarks/workshop_load.py --learners 10 --rounds 5 --no-faults --json /tmp/load.json

**Load.** Each learner is its own account and pushes into its own namespace (``learner-07/load:rN``)
an image of its own, a real one (a config and three uncompressed tar layers of random bytes, small,
medium and large), through the registry HTTP API: ``HEAD`` each blob, upload the small ones monolithically
(``POST`` + ``PUT ?digest=``) and the large one in chunks (``POST``, ``PATCH`` with ``Content-Range``,
``PUT ?digest=``), ``PUT`` the manifest under its tag; then pulls it back (the manifest by tag, every blob,
the tag list) and checks every digest. All learners start at once (a barrier) on their own threads. Each
push and each pull is a fresh client, as each ``docker push`` is: it answers the registry's challenge the
way the engine does (Basic: the password on every request from then on; Bearer: one token from the realm
for the repository with every action the client means to take, sent on every request).

The same images go, in the same round, to three registries on this machine: the room (token auth), a
plain ``Registry(users=…)`` (htpasswd, bcrypt cost 5) and an open one (no auth, the floor). The order
rotates each round. The token service's overhead is the room's wall time over the htpasswd registry's.
Note what each pays per request: registry:2 checks an htpasswd password with bcrypt on *every* request
(cost 5, ~3 ms); in the room it checks a token's ES256 signature and certificate chain, and the token
service checks the password (bcrypt cost 6) once per token, and only once per process for a good
password (``PasswordCheck`` remembers it), so the first round is the cold one.

``--engine-clients K`` adds K real ``docker push`` clients at once (busybox:1.35, each as its own learner)
to each authenticated registry, their digests checked against the registry's. The engine is one process
that serialises much of its work, so these show that real clients work under load, not the load itself.

**Faults** (``--no-faults`` skips them), each checked for a clear message and nothing half-written:
the registry restarted while a large blob upload is in flight; the token service down; a token expired
(backdated with the room's own key); a room whose storage is full (``storage_mb``).

Results: a table on stdout and JSON (``--json``; default ``.portside/benchmarks/workshop_load.json`` in
the state folder). tests/integration/room/test_room_load.py and test_room_faults.py run the short form.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import json
import os
import random
import statistics
import sys
import tarfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.utils import parse_dict_header as _parse_dict_header

from portside.base.paths import state_dir
from portside.errors import PortsideError, RegistryAuthError, RegistryError, http_error, status_error

if TYPE_CHECKING:
    from portside.room.room import Room

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
#: (connect, read) seconds: generous, a loaded 2-core machine answers slowly but must answer
TIMEOUT = (5.0, 120.0)
REPOSITORY = "load"


@dataclass(frozen=True)
class Shape:
    """What one learner's image is made of: the sizes of its layers' contents, and the chunk of a chunked upload."""

    layers: tuple[int, ...]
    chunk: int  #: the largest layer goes up in PATCHes of this size; the others monolithically


FULL = Shape(layers=(4 * 1024, 512 * 1024, 4 * 1024 * 1024), chunk=1024 * 1024)
SHORT = Shape(layers=(1024, 32 * 1024, 256 * 1024), chunk=64 * 1024)


def parse_dict_header(value: str) -> dict[str, str | None]:
    """The ``key="value",…`` parameters of a ``WWW-Authenticate`` challenge (requests' own parser)."""
    found: dict[str, str | None] = _parse_dict_header(value)  # type: ignore[no-untyped-call]
    return found


# -- images ------------------------------------------------------------------------------------------------
def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Blob:
    media_type: str
    data: bytes = field(repr=False)
    digest: str

    @classmethod
    def of(cls, media_type: str, data: bytes) -> Blob:
        return cls(media_type, data, sha256(data))

    def descriptor(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": len(self.data)}


@dataclass(frozen=True)
class Image:
    """A real single-platform OCI image: a config and layers (each a tar of one file of random bytes)."""

    config: Blob
    layers: tuple[Blob, ...]
    manifest: bytes = field(repr=False)

    @property
    def digest(self) -> str:
        return sha256(self.manifest)

    @property
    def blobs(self) -> tuple[Blob, ...]:
        return (self.config, *self.layers)

    @property
    def size(self) -> int:
        return sum(len(b.data) for b in self.blobs) + len(self.manifest)


def _layer(name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    return out.getvalue()


def make_image(owner: str, sizes: Sequence[int], seed: int) -> Image:
    """``owner``'s image: one layer per size, each holding ``owner/blob-N.bin`` of random bytes."""
    rng = random.Random(seed)
    layers = tuple(Blob.of(OCI_LAYER, _layer(f"{owner}/blob-{n}.bin", rng.randbytes(size)))
                   for n, size in enumerate(sizes))
    config = {"architecture": "amd64", "os": "linux", "config": {"Labels": {"org.portside.benchmark": "workshop"}},
              "rootfs": {"type": "layers", "diff_ids": [layer.digest for layer in layers]},
              "history": [{"created_by": f"workshop_load: {owner} layer {n}"} for n in range(len(layers))]}
    config_blob = Blob.of(OCI_CONFIG, json.dumps(config, sort_keys=True).encode())
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config_blob.descriptor(),
                "layers": [layer.descriptor() for layer in layers]}
    return Image(config_blob, layers, json.dumps(manifest, sort_keys=True).encode())


# -- measuring ---------------------------------------------------------------------------------------------
class Stats:
    """Latencies per operation, bytes moved, digests verified and errors, from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {}
        self.requests = 0
        self.tokens = 0
        self.bytes_up = 0
        self.bytes_down = 0
        self.verified = 0
        self.errors: list[str] = []

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    @contextlib.contextmanager
    def timed(self, op: str) -> Iterator[None]:
        began = time.perf_counter()
        yield  # an operation that raised is not timed (it is counted as an error by the caller)
        took = time.perf_counter() - began
        with self._lock:
            self.latencies.setdefault(op, []).append(took)

    def error(self, who: str, err: BaseException) -> None:
        kind = type(err).__name__
        with self._lock:
            self.errors.append(f"{who}: {kind}: {err}")

    def merge(self, other: Stats) -> None:
        for op, times in other.latencies.items():
            self.latencies.setdefault(op, []).extend(times)
        for name in ("requests", "tokens", "bytes_up", "bytes_down", "verified"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)


def p95(values: Sequence[float]) -> float:
    """The 95th percentile, interpolated between the nearest two (numpy's default); the value itself for one."""
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


# -- one learner's client ----------------------------------------------------------------------------------
class LoadClient:
    """One learner's registry client, as one ``docker push`` or ``docker pull`` would be.

    It answers a challenge the way the engine does. Basic: the password goes with every request from
    then on (htpasswd checks it each time). Bearer: one token from the realm for the repository, for
    every action this client means to take (``actions``), sent with every request; a token the registry
    calls ``invalid_token`` (expired) is fetched anew with the password, once. Failures are the harness'
    own kinds, through its one translator for requests (:func:`portside.errors.http_error` /
    :func:`portside.errors.status_error`).
    """

    def __init__(self, url: str, user: str | None, password: str | None, *, actions: Sequence[str],
                 stats: Stats | None = None, token: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.user, self.password = user, password
        self.actions = tuple(actions)
        self.stats = stats or Stats()
        self.session = requests.Session()
        self.token = token  #: the Bearer token held (one may be given, e.g. an expired one)
        self.scope: str | None = None  #: what it was asked for (None: not known)
        self.basic = False  #: the registry asked for Basic: send the password every time
        self.refreshed = 0  #: tokens fetched anew because the registry refused the one held
        self.last_failure: requests.Response | None = None  #: the last answer with an unexpected status

    def close(self) -> None:
        self.session.close()

    # -- sending -----------------------------------------------------------------------------------------
    def _auth(self) -> dict[str, str]:
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        if self.basic and self.user is not None:
            pair = f"{self.user}:{self.password or ''}".encode()
            return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}
        return {}

    def _send(self, method: str, url: str, data: bytes | Iterable[bytes] | None,
              headers: dict[str, str]) -> requests.Response:
        try:
            response = self.session.request(method, url, data=data, headers={**headers, **self._auth()},
                                            timeout=TIMEOUT, allow_redirects=True)
        except requests.RequestException as err:
            raise http_error(err, self.url, method=method, path=urlsplit(url).path) from None
        self.stats.add(requests=1)
        return response

    def request(self, method: str, path: str, *, what: str, ok: Sequence[int] = (200,),
                data: bytes | Iterable[bytes] | None = None, headers: dict[str, str] | None = None,
                ) -> requests.Response:
        """One request (``path`` under the registry, or a full upload URL), answering one challenge."""
        url = urljoin(self.url + "/", path)
        headers = dict(headers or {})
        response = self._send(method, url, data, headers)
        if response.status_code == 401 and self._answer(response):
            if data is not None and not isinstance(data, bytes):
                raise RegistryAuthError(f"{what}: the registry refused the credentials of a streamed upload.",
                                        status=401)
            response = self._send(method, url, data, headers)
        if response.status_code not in ok:
            self.last_failure = response
            who = f"user {self.user!r}" if self.user else ("a token" if self.token else None)
            raise status_error(response, self.url, what=what, who=who)
        return response

    def _answer(self, response: requests.Response) -> bool:
        """Act on a 401's challenge; True if the request is worth sending again."""
        scheme, _, rest = response.headers.get("WWW-Authenticate", "").partition(" ")
        if scheme.lower() == "basic":
            if self.user is None or self.basic:
                return False
            self.basic = True
            return True
        if scheme.lower() != "bearer":
            return False
        params = parse_dict_header(rest)
        if self.token:
            if params.get("error") == "invalid_token" and self.password is not None:
                self.refreshed += 1  # expired (or from another room): log in again
            elif self._scope(params) == self.scope:
                return False  # insufficient_scope for what the token covers: a new one would not help
        self._fetch_token(params)
        return True

    def _scope(self, challenge: dict[str, str | None]) -> str | None:
        """The scope to ask for: the challenge's repository with every action this client means to take."""
        scope = challenge.get("scope")
        if not scope:
            return None
        kind, _, rest = scope.partition(":")
        if kind != "repository":
            return scope
        name, _, asked = rest.rpartition(":")
        return f"{kind}:{name}:{','.join(dict.fromkeys([*self.actions, *asked.split(',')]))}"

    def _fetch_token(self, challenge: dict[str, str | None]) -> None:
        realm = challenge.get("realm") or ""
        query: dict[str, str] = {}
        if challenge.get("service"):
            query["service"] = str(challenge["service"])
        scope = self._scope(challenge)
        if scope:
            query["scope"] = scope
        auth = (self.user, self.password or "") if self.user is not None else None
        self.token = None
        with self.stats.timed("token"):
            try:
                response = self.session.get(realm, params=query, auth=auth, timeout=TIMEOUT)
            except requests.RequestException as err:
                reason = "timed out" if isinstance(err, requests.Timeout) else "connection refused"
                raise RegistryAuthError(f"{self.url} answered, but the token service it names ({realm}) did not "
                                        f"({reason}).", status=401,
                                        hint="In a workshop room, tell the instructor: `portside workshop status` "
                                             "shows the token service.") from None
        self.stats.add(requests=1, tokens=1)
        if response.status_code != 200:
            raise status_error(response, realm, what="the token request",
                               who=f"user {self.user!r}" if self.user else None)
        body = response.json()
        self.token = str(body.get("token") or body.get("access_token") or "")
        self.scope = scope

    # -- blobs -------------------------------------------------------------------------------------------
    def blob_exists(self, repository: str, digest: str) -> bool:
        response = self.request("HEAD", f"/v2/{repository}/blobs/{digest}", what=f"HEAD blob {digest[:19]}",
                                ok=(200, 404))
        return response.status_code == 200

    @staticmethod
    def _location(response: requests.Response, base: str) -> str:
        location = response.headers.get("Location")
        if not location:
            raise RegistryError(f"{base} answered an upload without a Location header.")
        return urljoin(base + "/", location)

    @staticmethod
    def _with_digest(location: str, digest: str) -> str:
        return f"{location}{'&' if '?' in location else '?'}digest={digest}"

    def start_upload(self, repository: str) -> str:
        """``POST /v2/<repo>/blobs/uploads/``: the upload's URL."""
        response = self.request("POST", f"/v2/{repository}/blobs/uploads/", what=f"start an upload to {repository}",
                                ok=(202,))
        return self._location(response, self.url)

    def cancel_upload(self, location: str) -> None:
        """``DELETE`` an unfinished upload: the registry drops what it has of it."""
        self.request("DELETE", location, what="cancel the upload", ok=(204, 404))

    def finish_upload(self, location: str, blob: Blob, body: bytes = b"") -> None:
        response = self.request("PUT", self._with_digest(location, blob.digest), data=body,
                                headers={"Content-Type": "application/octet-stream"},
                                what=f"PUT blob {blob.digest[:19]}", ok=(201,))
        stored = response.headers.get("Docker-Content-Digest", blob.digest)
        if stored != blob.digest:
            raise RegistryError(f"The registry stored blob {blob.digest} as {stored}.")

    def upload(self, repository: str, blob: Blob, chunk: int | None = None) -> None:
        """A monolithic upload (``POST`` + ``PUT`` with the bytes), or a chunked one (``PATCH`` each chunk)."""
        location = self.start_upload(repository)
        if chunk is None:
            self.finish_upload(location, blob, blob.data)
            return
        for start in range(0, len(blob.data), chunk):
            piece = blob.data[start:start + chunk]
            response = self.request("PATCH", location, data=piece, ok=(202,), what=f"PATCH blob {blob.digest[:19]}",
                                    headers={"Content-Type": "application/octet-stream",
                                             "Content-Range": f"{start}-{start + len(piece) - 1}"})
            location = self._location(response, self.url)
        self.finish_upload(location, blob)

    def upload_streamed(self, repository: str, blob: Blob, pieces: Iterable[bytes]) -> None:
        """One ``PATCH`` whose body is streamed from ``pieces`` (as the engine sends a layer), then the ``PUT``."""
        location = self.start_upload(repository)
        response = self.request("PATCH", location, data=pieces, ok=(202,), what=f"PATCH blob {blob.digest[:19]}",
                                headers={"Content-Type": "application/octet-stream"})
        self.finish_upload(self._location(response, self.url), blob)

    def blob(self, repository: str, digest: str) -> bytes:
        data = self.request("GET", f"/v2/{repository}/blobs/{digest}", what=f"GET blob {digest[:19]}").content
        if sha256(data) != digest:
            raise RegistryError(f"The blob {digest} pulled from {self.url}/{repository} does not match its digest.")
        return bytes(data)

    # -- images ------------------------------------------------------------------------------------------
    def push(self, repository: str, tag: str, image: Image, shape: Shape | None = None) -> None:
        """Push ``image`` the way the engine does: HEAD each blob, upload the missing ones, PUT the manifest."""
        largest = max(image.layers, key=lambda b: len(b.data))
        for blob in image.blobs:
            with self.stats.timed("blob HEAD"):
                exists = self.blob_exists(repository, blob.digest)
            if exists:
                continue
            chunk = shape.chunk if shape is not None and blob is largest else None
            with self.stats.timed("blob upload (chunked)" if chunk else "blob upload"):
                self.upload(repository, blob, chunk)
            self.stats.add(bytes_up=len(blob.data))
        with self.stats.timed("manifest PUT"):
            response = self.request("PUT", f"/v2/{repository}/manifests/{tag}", data=image.manifest, ok=(201,),
                                    headers={"Content-Type": OCI_MANIFEST}, what=f"PUT manifest {repository}:{tag}")
        self.stats.add(bytes_up=len(image.manifest))
        if response.headers.get("Docker-Content-Digest") != image.digest:
            raise RegistryError(f"{repository}:{tag} was stored as {response.headers.get('Docker-Content-Digest')}, "
                                f"not {image.digest}.")

    def manifest(self, repository: str, reference: str) -> requests.Response:
        return self.request("GET", f"/v2/{repository}/manifests/{reference}", headers={"Accept": OCI_MANIFEST},
                            what=f"GET manifest {repository}:{reference}")

    def tags(self, repository: str) -> list[str]:
        response = self.request("GET", f"/v2/{repository}/tags/list", what=f"GET tags of {repository}", ok=(200, 404))
        return [] if response.status_code == 404 else [str(t) for t in response.json().get("tags") or []]

    def pull(self, repository: str, tag: str, image: Image) -> int:
        """Pull ``repository:tag`` back and check every digest against ``image``; returns how many were checked."""
        with self.stats.timed("manifest GET"):
            response = self.manifest(repository, tag)
        raw = response.content
        self.stats.add(bytes_down=len(raw))
        if not (sha256(raw) == response.headers.get("Docker-Content-Digest") == image.digest):
            raise RegistryError(f"{repository}:{tag} came back as {sha256(raw)} "
                                f"(header {response.headers.get('Docker-Content-Digest')}), not {image.digest}.")
        verified = 1
        pulled = json.loads(raw)
        descriptors = [pulled["config"], *pulled["layers"]]
        if [d["digest"] for d in descriptors] != [b.digest for b in image.blobs]:
            raise RegistryError(f"{repository}:{tag} names other blobs than were pushed.")
        for descriptor in descriptors:
            with self.stats.timed("blob GET"):
                data = self.blob(repository, descriptor["digest"])
            if len(data) != descriptor["size"]:
                raise RegistryError(f"Blob {descriptor['digest']} came back with {len(data)} bytes, "
                                    f"not {descriptor['size']}.")
            self.stats.add(bytes_down=len(data))
            verified += 1
        with self.stats.timed("tags list"):
            tags = self.tags(repository)
        if tag not in tags:
            raise RegistryError(f"{repository} lists tags {tags}, without {tag!r}.")
        self.stats.add(verified=verified)
        return verified


# -- the load ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """A registry to load: its URL, and each learner's login (None: anonymous)."""

    name: str
    url: str
    logins: dict[str, tuple[str, str] | None]


@dataclass
class RoundResult:
    target: str
    round: int
    wall: float
    stats: Stats


def learner_names(count: int) -> list[str]:
    return [f"learner-{n:02d}" for n in range(1, count + 1)]


def run_round(target: Target, images: dict[str, Image], tag: str, shape: Shape, round_no: int = 0) -> RoundResult:
    """Every learner at once: push its image into ``LEARNER/load:tag``, pull it back, verify every digest."""
    stats = Stats()
    start = threading.Barrier(len(images) + 1)

    def learner(name: str) -> None:
        login = target.logins.get(name)
        user, password = login if login else (None, None)
        repository = f"{name}/{REPOSITORY}"
        start.wait()
        try:
            pusher = LoadClient(target.url, user, password, actions=("pull", "push"), stats=stats)
            with stats.timed("push (image)"):
                pusher.push(repository, tag, images[name], shape)
            pusher.close()
            puller = LoadClient(target.url, user, password, actions=("pull",), stats=stats)
            with stats.timed("pull (image)"):
                puller.pull(repository, tag, images[name])
            puller.close()
        except Exception as err:  # every failure counts, whatever its kind; the message is kept
            stats.error(name, err)

    with ThreadPoolExecutor(max_workers=len(images)) as pool:
        futures = [pool.submit(learner, name) for name in images]
        start.wait()
        began = time.perf_counter()
        for future in futures:
            future.result()
        wall = time.perf_counter() - began
    return RoundResult(target.name, round_no, wall, stats)


@dataclass
class Summary:
    """One target's rounds, summed."""

    target: str
    wall: float
    images: int  #: images pushed and pulled back
    expected_digests: int
    stats: Stats

    @property
    def errors(self) -> int:
        return len(self.stats.errors)

    def row(self) -> dict[str, Any]:
        s = self.stats
        ops = {op: {"n": len(t), "p50_ms": 1000 * statistics.median(t), "p95_ms": 1000 * p95(t)}
               for op, t in sorted(s.latencies.items())}
        return {"target": self.target, "wall_s": self.wall, "images": self.images,
                "images_per_s": 2 * self.images / self.wall if self.wall else 0.0,
                "requests": s.requests, "requests_per_s": s.requests / self.wall if self.wall else 0.0,
                "mb_per_s": (s.bytes_up + s.bytes_down) / 1e6 / self.wall if self.wall else 0.0,
                "bytes_up": s.bytes_up, "bytes_down": s.bytes_down, "tokens": s.tokens,
                "verified": s.verified, "expected_digests": self.expected_digests,
                "errors": self.errors, "error_messages": s.errors[:20], "ops": ops}


def summarise(results: Iterable[RoundResult], shape: Shape, learners: int) -> dict[str, Summary]:
    found: dict[str, Summary] = {}
    for result in results:
        summary = found.setdefault(result.target, Summary(result.target, 0.0, 0, 0, Stats()))
        summary.wall += result.wall
        summary.images += learners
        summary.expected_digests += learners * (2 + len(shape.layers))  # manifest, config, layers
        summary.stats.merge(result.stats)
    return found


def run_load(targets: Sequence[Target], learners: int, rounds: int, shape: Shape, *,
             say: Callable[[str], None] = print) -> list[RoundResult]:
    """``rounds`` rounds; each round new images, the same ones to every target, in an order that rotates."""
    results = []
    names = learner_names(learners)
    for round_no in range(rounds):
        images = {name: make_image(name, shape.layers, seed=1000 * round_no + n) for n, name in enumerate(names)}
        order = [*targets[round_no % len(targets):], *targets[:round_no % len(targets)]]
        for target in order:
            result = run_round(target, images, f"r{round_no + 1}", shape, round_no + 1)
            say(f"  round {round_no + 1} {target.name:<9} {result.wall:6.2f} s, "
                f"{len(result.stats.errors)} errors, {result.stats.verified} digests verified")
            results.append(result)
    return results


# -- real docker clients -----------------------------------------------------------------------------------
def engine_pushes(address: str, url: str, logins: dict[str, tuple[str, str]], count: int,
                  image: str = "busybox:1.35") -> dict[str, Any]:
    """``count`` real ``docker push`` clients at once, each as its own learner; digests checked with the API."""
    from portside.engine import transfer
    from portside.engine.daemon import client as docker_client
    from portside.oci.registry_client import RegistryClient

    names = list(logins)[:count]
    refs = {name: f"{address}/{name}/busybox:engine" for name in names}
    for ref in refs.values():
        transfer.tag(image, ref)

    def push(name: str) -> tuple[float, str | None]:
        """Seconds the push took, and what went wrong (None: pushed, and the registry has that digest)."""
        user, password = logins[name]
        began = time.perf_counter()
        try:
            pushed = transfer.push(refs[name], username=user, password=password, progress=False)
            took = time.perf_counter() - began
            found = RegistryClient(url, username=user, password=password).digest(f"{name}/busybox", "engine")
        except PortsideError as err:
            return time.perf_counter() - began, f"{name}: {type(err).__name__}: {err}"
        return took, None if found == pushed.digest else f"{name}: pushed {pushed.digest}, the registry has {found}"

    began = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            done = list(pool.map(push, names))
        wall = time.perf_counter() - began
    finally:
        for ref in refs.values():
            with contextlib.suppress(Exception):
                docker_client().images.remove(ref, noprune=True)
    errors = [error for _, error in done if error]
    return {"clients": len(names), "wall_s": wall, "push_s": sorted(t for t, _ in done),
            "verified": len(done) - len(errors), "errors": errors}


# -- faults ------------------------------------------------------------------------------------------------
@dataclass
class Fault:
    """What one fault did, for the report and for the tests' asserts."""

    name: str
    seen: dict[str, Any] = field(default_factory=dict)  #: what a learner (or the registry) said, by client
    facts: dict[str, Any] = field(default_factory=dict)  #: what was checked afterwards
    ok: bool = False  #: every expectation of the fault held (the tests assert each one on its own)

    def error(self, client: str, err: BaseException) -> None:
        self.seen[client] = {"kind": type(err).__name__, "message": getattr(err, "message", str(err)),
                             "hint": getattr(err, "hint", None), "status": getattr(err, "status", None)}


def login_of(room: Room, name: str) -> tuple[str, str]:
    """``name``'s user name and password in ``room``."""
    account = room.accounts.get(name)
    return account.name, account.password


def wait_for_registry(url: str, timeout: float = 20) -> None:
    """Until ``GET /v2/`` answers at all (200 or 401): after a restart."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{url}/v2/", timeout=2).status_code in (200, 401):
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RegistryError(f"{url} did not answer within {timeout:.0f} s of its restart.")
        time.sleep(0.1)


def _visible(client: LoadClient, repository: str, tag: str, image: Image) -> dict[str, Any]:
    """What a learner can see of ``repository`` after a failed push: tags, the tag's manifest, each blob."""
    try:
        manifest: str | None = client.manifest(repository, tag).headers.get("Docker-Content-Digest")
    except RegistryError as err:
        manifest = None if err.status == 404 else f"error {err.status}"
    return {"tags": client.tags(repository), "manifest": manifest,
            "complete": manifest == image.digest,
            "blobs_present": [b.digest for b in image.blobs if client.blob_exists(repository, b.digest)]}


def docker_push_fails(fault: Fault, room: Room, source: str, target: str, login: tuple[str, str]) -> bool:
    """``docker push`` of local image ``source`` as ``REPOSITORY:TAG`` in the room: True if it failed, as the
    fault expects (what the learner saw is recorded); the local tag is removed either way."""
    from portside.engine import transfer
    from portside.engine.daemon import client as docker_client

    repository, tag = target.rsplit(":", 1)
    ref = room.endpoint.ref(repository, tag)
    transfer.tag(source, ref)
    try:
        transfer.push(ref, username=login[0], password=login[1], progress=False)
        return False
    except PortsideError as err:
        fault.error("docker push", err)
        return True
    finally:
        with contextlib.suppress(Exception):
            docker_client().images.remove(ref, noprune=True)


def fault_registry_restart(room: Room, learner: str = "learner-01", size_mb: int = 16) -> Fault:
    """The registry restarted while a large blob upload is in flight: a clear failure, nothing partial, a retry works.

    The layer is streamed in one ``PATCH`` (as the engine sends one); a quarter of it goes, then the stream
    waits until the restart is done, so the restart always lands mid-upload, then it sends the rest.
    """
    fault = Fault("registry restarted mid-push")
    user, password = login_of(room, learner)
    url = room.endpoint.url
    repository = f"{learner}/big"
    image = make_image(learner, (4096, size_mb * 1024 * 1024), seed=7)
    big = image.layers[-1]
    in_flight, restarted = threading.Event(), threading.Event()
    outcome: dict[str, BaseException | None] = {}

    def pieces() -> Iterator[bytes]:
        step = 256 * 1024
        for start in range(0, len(big.data), step):
            if start >= len(big.data) // 4 and not in_flight.is_set():
                in_flight.set()
                restarted.wait(60)
            yield big.data[start:start + step]

    def push() -> None:
        client = LoadClient(url, user, password, actions=("pull", "push"))
        try:
            client.upload(repository, image.config)
            client.upload(repository, image.layers[0])
            client.upload_streamed(repository, big, pieces())
            client.push(repository, "1", image)
            outcome["error"] = None
        except BaseException as err:
            outcome["error"] = err

    worker = threading.Thread(target=push, name="push-during-restart")
    worker.start()
    if not in_flight.wait(60):
        raise RegistryError("The large upload never got going.")
    began = time.perf_counter()
    try:
        room.restart_registry()
    finally:
        restarted.set()
    worker.join(120)
    wait_for_registry(url)
    fault.facts["restart_s"] = round(time.perf_counter() - began, 2)
    err = outcome.get("error")
    fault.facts["push_failed"] = err is not None
    if err is not None:
        fault.error("push (HTTP API)", err)
    looker = LoadClient(url, user, password, actions=("pull",))
    fault.facts["after_failure"] = _visible(looker, repository, "1", image)
    fault.facts["unfinished_uploads_left"] = len(unfinished_uploads(room))  # bytes kept until the purger's 168 h
    retry = LoadClient(url, user, password, actions=("pull", "push"))
    try:
        retry.push(repository, "1", image)
        fault.facts["retry_verified"] = LoadClient(url, user, password, actions=("pull",)).pull(repository, "1", image)
        fault.facts["retry_ok"] = True
    except PortsideError as retry_err:
        fault.error("retry", retry_err)
        fault.facts["retry_ok"] = False
    after = fault.facts["after_failure"]
    fault.ok = bool(fault.facts["push_failed"] and fault.facts["retry_ok"] and not after["tags"]
                    and after["manifest"] is None and big.digest not in after["blobs_present"])
    return fault


def fault_token_service_down(room: Room, learner: str = "learner-02", with_engine: bool = True) -> Fault:
    """The token service down: what a learner sees; a token already held keeps working; back up, all works."""
    from portside.oci.registry_client import RegistryClient

    fault = Fault("token service down")
    user, password = login_of(room, learner)
    url = room.endpoint.url
    repository = f"{learner}/app"
    image = make_image(learner, (1024, 8192), seed=11)
    holder = LoadClient(url, user, password, actions=("pull", "push"))
    holder.push(repository, "1", image)  # holds a token for the repository now
    began = time.perf_counter()
    room.stop_token_service()
    fault.facts["stop_s"] = round(time.perf_counter() - began, 2)
    fault.facts["status_while_down"] = room.status().tokens
    try:
        RegistryClient(url, username=user, password=password).tags(repository)
        fault.facts["registry_client_failed"] = False
    except PortsideError as err:
        fault.error("RegistryClient.tags", err)
        fault.facts["registry_client_failed"] = True
    try:
        LoadClient(url, user, password, actions=("pull", "push")).push(repository, "2", image)
        fault.facts["new_push_failed"] = False
    except PortsideError as err:
        fault.error("push (HTTP API)", err)
        fault.facts["new_push_failed"] = True
    try:
        fault.facts["held_token_pull_verified"] = holder.pull(repository, "1", image)
    except PortsideError as err:
        fault.error("pull with a token held", err)
        fault.facts["held_token_pull_verified"] = 0
    if with_engine:
        fault.facts["docker_push_failed"] = docker_push_fails(fault, room, "busybox:1.35", f"{learner}/busybox:down",
                                                              (user, password))
    began = time.perf_counter()
    start_token_service(room)
    fault.facts["start_s"] = round(time.perf_counter() - began, 2)
    try:
        LoadClient(url, user, password, actions=("pull", "push")).push(repository, "2", image)
        fault.facts["verified_after_restart"] = LoadClient(url, user, password, actions=("pull",)).pull(
            repository, "2", image)
    except PortsideError as err:
        fault.error("push after the service is back", err)
        fault.facts["verified_after_restart"] = 0
    fault.ok = bool(fault.facts["registry_client_failed"] and fault.facts["new_push_failed"]
                    and fault.facts["held_token_pull_verified"] and fault.facts["verified_after_restart"]
                    and fault.facts.get("docker_push_failed", True))
    return fault


def start_token_service(room: Room, timeout: float = 15) -> None:
    """``room.start_token_service()`` until the service answers.

    (A ``stop_token_service()`` that had to SIGKILL returns before the process is gone, so a
    ``start_token_service()`` right after it may find it "still running" and do nothing: asked again.)
    """
    deadline = time.monotonic() + timeout
    while True:
        room.start_token_service()
        if room.status().tokens == "answering":
            return
        if time.monotonic() > deadline:
            raise RegistryError(f"The room's token service did not come back within {timeout:.0f} s.")
        time.sleep(0.2)


def fault_token_expired(room: Room, learner: str = "learner-03") -> Fault:
    """A backdated token is refused (401 ``invalid_token``); the same token fresh is accepted; re-login works."""
    from portside.oci.registry_client import RegistryClient
    from portside.room.tokens import LEEWAY_SECONDS, load_signing_key

    fault = Fault("token expired")
    user, password = login_of(room, learner)
    url = room.endpoint.url
    repository = f"{learner}/app"
    s = room.settings
    key = load_signing_key(room.folder / "keys")
    access = [{"type": "repository", "name": repository, "actions": ["pull", "push"]}]
    expired, claims = key.issue(subject=learner, access=access, service=s.service, issuer=s.issuer, ttl=s.ttl,
                                now=time.time() - s.ttl - LEEWAY_SECONDS - 60)
    fresh, _ = key.issue(subject=learner, access=access, service=s.service, issuer=s.issuer, ttl=s.ttl)
    fault.facts["expired_for_s"] = int(time.time() - claims["exp"])
    tags_url = f"{url}/v2/{repository}/tags/list"
    refused = requests.get(tags_url, headers={"Authorization": f"Bearer {expired}"}, timeout=10)
    fault.seen["registry"] = {"status": refused.status_code,
                              "www_authenticate": refused.headers.get("WWW-Authenticate", ""),
                              "body": refused.text.strip()[:300]}
    challenge = parse_dict_header(refused.headers.get("WWW-Authenticate", "").partition(" ")[2])
    fault.facts["refused_invalid_token"] = refused.status_code == 401 and challenge.get("error") == "invalid_token"
    accepted = requests.get(tags_url, headers={"Authorization": f"Bearer {fresh}"}, timeout=10)
    fault.facts["fresh_token_status"] = accepted.status_code  # 404 NAME_UNKNOWN: allowed in, nothing pushed yet
    # a client holding only the expired token (no password): the harness' words
    try:
        LoadClient(url, None, None, actions=("pull", "push"), token=expired).tags(repository)
        fault.facts["token_only_failed"] = False
    except PortsideError as err:
        fault.error("token only, no password", err)
        fault.facts["token_only_failed"] = True
    # re-login: the same client, given the password, fetches a new token and goes on
    image = make_image(learner, (1024, 4096), seed=13)
    relogin = LoadClient(url, user, password, actions=("pull", "push"), token=expired)
    relogin.push(repository, "1", image)
    fault.facts["relogin_refreshed"] = relogin.refreshed
    fault.facts["relogin_verified"] = LoadClient(url, user, password, actions=("pull",)).pull(repository, "1", image)
    fault.facts["registry_client_tags"] = RegistryClient(url, username=user, password=password).tags(repository)
    fault.ok = bool(fault.facts["refused_invalid_token"] and fault.facts["fresh_token_status"] in (200, 404)
                    and fault.facts["token_only_failed"] and fault.facts["relogin_refreshed"] == 1
                    and fault.facts["relogin_verified"] and fault.facts["registry_client_tags"] == ["1"])
    return fault


def fault_disk_full(room: Room, learner: str = "learner-01", with_engine: bool = True) -> Fault:
    """A room whose storage (``storage_mb``) a push overflows: what the registry says, nothing half-written.

    The registry keeps the bytes of the upload that failed (its session is gone, so the client cannot
    cancel it): the disk stays full for everyone until they are removed. Here they are removed the way an
    instructor can, in the registry container (``purge_uploads``), and pushing works again.
    """
    fault = Fault("disk full")
    user, password = login_of(room, learner)
    url = room.endpoint.url
    storage = _storage_mb(room) or 0
    fault.facts["storage_mb"] = storage
    small = make_image(learner, (1024, 4096), seed=17)
    LoadClient(url, user, password, actions=("pull", "push")).push(f"{learner}/small", "1", small)
    big = make_image(learner, (2048, (storage + 4) * 1024 * 1024), seed=19)
    client = LoadClient(url, user, password, actions=("pull", "push", "delete"))
    try:
        client.push(f"{learner}/big", "1", big, Shape((), chunk=4 * 1024 * 1024))
        fault.facts["overflow_failed"] = False
    except PortsideError as err:
        fault.error("push (HTTP API)", err)
        fault.facts["overflow_failed"] = True
        failed = client.last_failure
        if failed is not None:  # (a Response with an error status is falsy)
            fault.seen["registry"] = {"status": failed.status_code, "body": failed.text.strip()[:400]}
    fault.facts["used_after_failure_pct"] = _used_pct(room)
    looker = LoadClient(url, user, password, actions=("pull",))
    fault.facts["after_failure"] = _visible(looker, f"{learner}/big", "1", big)
    again = make_image(learner, (1024, 64 * 1024), seed=23)
    try:  # everyone's push fails while the failed upload's bytes are there
        LoadClient(url, user, password, actions=("pull", "push")).push(f"{learner}/small", "2", again)
        fault.facts["small_push_while_full"] = "ok"
    except PortsideError as err:
        fault.error("small push while full", err)
        fault.facts["small_push_while_full"] = f"{type(err).__name__} {getattr(err, 'status', '')}".strip()
    fault.facts["purged"] = purge_uploads(room)
    fault.facts["used_after_purge_pct"] = _used_pct(room)
    if with_engine:
        fault.facts["docker_push_failed"] = docker_push_fails(fault, room, "debian:bookworm-slim",
                                                              f"{learner}/debian:full", (user, password))
        fault.facts["docker_push_tags"] = looker.tags(f"{learner}/debian")
        fault.facts["used_after_docker_push_pct"] = _used_pct(room)
        purge_uploads(room)
    try:
        LoadClient(url, user, password, actions=("pull", "push")).push(f"{learner}/small", "2", again)
        fault.facts["verified_after_purge"] = looker.pull(f"{learner}/small", "2", again)
    except PortsideError as err:
        fault.error("push after the purge", err)
        fault.facts["verified_after_purge"] = 0
    after = fault.facts["after_failure"]
    fault.ok = bool(fault.facts["overflow_failed"] and not after["tags"] and after["manifest"] is None
                    and big.layers[-1].digest not in after["blobs_present"] and fault.facts["verified_after_purge"]
                    and fault.facts.get("docker_push_failed", True) and not fault.facts.get("docker_push_tags"))
    return fault


def _registry_container(room: Room) -> Any:
    from portside.engine.daemon import client as docker_client

    return docker_client().containers.get(room.settings.container)


def _storage_mb(room: Room) -> int | None:
    from portside.engine.daemon import client as docker_client

    options = docker_client().volumes.get(room.settings.volume).attrs.get("Options") or {}
    for part in str(options.get("o", "")).split(","):
        if part.startswith("size=") and part.endswith("m"):
            return int(part[5:-1])
    return None


def _used_pct(room: Room) -> int:
    """How full the registry's storage is (``df`` in its container)."""
    output = _registry_container(room).exec_run(["busybox", "df", "-k", "/var/lib/registry"]).output.decode()
    return int(output.splitlines()[-1].split()[4].rstrip("%"))


def unfinished_uploads(room: Room) -> list[str]:
    """The folders of unfinished uploads in the room's registry."""
    from portside.registry import maintenance
    from portside.registry.readiness import ContainerTarget

    return maintenance.unfinished_uploads(ContainerTarget(_registry_container(room)))


def purge_uploads(room: Room) -> int:
    """Remove every unfinished upload in the room's registry (``portside workshop purge-uploads``)."""
    return room.purge_uploads()


# -- the report --------------------------------------------------------------------------------------------
def table(summaries: dict[str, Summary], baseline: str = "htpasswd", measured: str = "room") -> str:
    names = [n for n in ("open", "htpasswd", "room") if n in summaries]
    rows = {n: summaries[n].row() for n in names}
    out = [f"{'':<24}" + "".join(f"{n:>22}" for n in names)]

    def line(label: str, values: Iterable[str]) -> None:
        out.append(f"{label:<24}" + "".join(f"{v:>22}" for v in values))

    line("wall time (s)", (f"{rows[n]['wall_s']:.2f}" for n in names))
    line("images pushed+pulled/s", (f"{rows[n]['images_per_s']:.1f}" for n in names))
    line("HTTP requests/s", (f"{rows[n]['requests_per_s']:.0f}" for n in names))
    line("MB/s (up + down)", (f"{rows[n]['mb_per_s']:.1f}" for n in names))
    line("tokens fetched", (str(rows[n]["tokens"]) for n in names))
    line("errors", (str(rows[n]["errors"]) for n in names))
    line("digests verified", (f"{rows[n]['verified']}/{rows[n]['expected_digests']}" for n in names))
    out.append("latency p50 / p95 (ms)")
    ops = sorted({op for n in names for op in rows[n]["ops"]}, key=_op_order)
    for op in ops:
        line(f"  {op}", (f"{rows[n]['ops'][op]['p50_ms']:.1f} / {rows[n]['ops'][op]['p95_ms']:.1f}"
                         if op in rows[n]["ops"] else "—" for n in names))
    return "\n".join(out)


def _op_order(op: str) -> tuple[int, str]:
    order = ["push (image)", "pull (image)", "token", "blob HEAD", "blob upload", "blob upload (chunked)",
             "manifest PUT", "manifest GET", "blob GET", "tags list"]
    return (order.index(op) if op in order else len(order), op)


def overhead(summaries: dict[str, Summary], measured: str = "room", baseline: str = "htpasswd") -> float:
    """How much longer the same load took on ``measured`` than on ``baseline`` (0.1: 10 % longer)."""
    return summaries[measured].wall / summaries[baseline].wall - 1


@contextlib.contextmanager
def fresh_room(learners: int, storage_mb: int | None = None) -> Iterator[Room]:
    """A room of this namespace for the length of the block, down afterwards whatever happens."""
    from portside.room import room as rooms

    with rooms.up(learners=learners, storage_mb=storage_mb) as room:
        yield room


def measure(learners: int, rounds: int, shape: Shape, engine_clients: int, with_open: bool) -> dict[str, Any]:
    """The load on the room, a plain htpasswd registry and (``with_open``) one without auth; the report's part."""
    from portside.registry.container import Registry

    names = learner_names(learners)
    with fresh_room(learners) as room, contextlib.ExitStack() as stack:
        logins = {name: login_of(room, name) for name in names}
        plain = stack.enter_context(Registry(users=dict(logins.values())))
        targets = [Target("htpasswd", plain.url, dict(logins)), Target("room", room.endpoint.url, dict(logins))]
        if with_open:
            targets.insert(0, Target("open", stack.enter_context(Registry()).url, dict.fromkeys(names)))
        results = run_load(targets, learners, rounds, shape)
        summaries = summarise(results, shape, learners)
        ratio = overhead(summaries)
        clean = all(s.errors == 0 and s.stats.verified == s.expected_digests for s in summaries.values())
        print("\n" + table(summaries), flush=True)
        print(f"\ntoken overhead (room wall / htpasswd wall - 1): {100 * ratio:+.1f} % — targets (0 errors, every "
              f"digest verified, overhead < 20 %) {'met' if clean and ratio < 0.20 else 'NOT met'}")
        for summary in summaries.values():
            for message in summary.stats.errors[:5]:
                print(f"  {summary.target}: {message}")
        found: dict[str, Any] = {
            "targets": {n: s.row() for n, s in summaries.items()},
            "rounds_wall_s": [{"target": r.target, "round": r.round, "wall_s": r.wall} for r in results],
            "token_overhead": ratio, "targets_met": clean and ratio < 0.20}
        if engine_clients:
            found["engine_pushes"] = {}
            for name, address, url in (("htpasswd", plain.address, plain.url),
                                       ("room", room.address, room.endpoint.url)):
                pushed = engine_pushes(address, url, logins, engine_clients)
                found["engine_pushes"][name] = pushed
                print(f"{engine_clients} docker push at once to {name:<9}: {pushed['wall_s']:.2f} s, "
                      f"{pushed['verified']} digests verified, {len(pushed['errors'])} errors", flush=True)
    return found


def run_faults(say: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Each fault on a room of its own (the disk-full one with 24 MB of storage)."""
    found = []
    for run in (fault_registry_restart, fault_token_service_down, fault_token_expired):
        with fresh_room(3) as room:
            found.append(asdict(run(room)))
        _print_fault(found[-1], say)
    with fresh_room(2, storage_mb=24) as room:
        found.append(asdict(fault_disk_full(room)))
    _print_fault(found[-1], say)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=None, help="default 3 (1 with --short)")
    parser.add_argument("--short", action="store_true", help="small images, one round, no docker clients")
    parser.add_argument("--engine-clients", type=int, default=None, help="real docker pushes (default 3, 0 short)")
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--no-open", action="store_true", help="skip the registry without auth (the floor)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    shape = SHORT if args.short else FULL
    rounds = args.rounds or (1 if args.short else 3)
    engine_clients = args.engine_clients if args.engine_clients is not None else (0 if args.short else 3)
    out_file = args.json or state_dir("benchmarks") / "workshop_load.json"
    print(f"{args.learners} learners × {rounds} round(s); image: layers of "
          f"{', '.join(_size(n) for n in shape.layers)} (largest in {_size(shape.chunk)} chunks)", flush=True)
    began = time.perf_counter()
    report: dict[str, Any] = {"learners": args.learners, "rounds": rounds, "short": args.short,
                              "layers": list(shape.layers), "chunk": shape.chunk,
                              "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                              "loadavg_before": os.getloadavg()}  # others' work on the machine shows here
    report.update(measure(args.learners, rounds, shape, engine_clients, not args.no_open))
    report["load_seconds"] = time.perf_counter() - began
    if not args.no_faults:
        report["faults"] = run_faults()
    report["seconds"] = time.perf_counter() - began
    report["loadavg_after"] = os.getloadavg()
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
    print(f"\n{report['seconds']:.0f} s in all; results in {out_file}")
    return 0 if report["targets_met"] and all(f["ok"] for f in report.get("faults", [])) else 1


def _print_fault(fault: dict[str, Any], say: Callable[[str], None] = print) -> None:
    say(f"\nfault: {fault['name']} — {'as expected' if fault['ok'] else 'NOT as expected'}")
    for client, seen in fault["seen"].items():
        say(f"  {client}: {json.dumps(seen, default=str)}")
    for name, value in fault["facts"].items():
        say(f"  {name}: {json.dumps(value, default=str)}")


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 else f"{n // 1024} KiB"


if __name__ == "__main__":
    sys.exit(main())

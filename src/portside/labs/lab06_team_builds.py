"""Lab 06 — team builds: small, pinned and cached.

Scenario: the team's Python app (lesson 04's ``pyapp``) is built by a single-stage
Dockerfile: the wheels it installs from, and the copy pip made of them, ship in the
image. Its build context is in the lab's work folder (``app/``: ``Dockerfile``,
``app.py``, ``requirements.txt`` with every package pinned, ``wheels/``). The lab's
registry is open (no login).

1. **Small**: rebuild it multi-stage and push it as ``team/app:1.0``: no wheel file (nor pip's
   cache) in any of its layers, at most :data:`MAX_ADDED` bytes (compressed) on top of the course's
   base image, and it still runs (the checker runs it from the registry, by digest).
2. **Pinned**: every ``FROM`` pinned by digest, to the course's ``python:3.11-slim-bookworm``.
   The registry learns how an image was built from BuildKit's provenance attestation (on by
   default with ``docker buildx build``; ``provenance=True`` with the course's ``build``): its
   ``materials`` list each base image, and a base written ``name:tag@sha256:…`` carries
   ``digest=sha256:…`` in its ``pkg:docker/…`` URI, one written ``name:tag`` does not.
3. **Cached**: a registry build cache at ``team/app:buildcache``
   (``--cache-to type=registry,ref=…/team/app:buildcache,mode=max``): a manifest whose config is
   ``application/vnd.buildkit.cacheconfig.v0``, holding every layer ``team/app:1.0`` adds to its base,
   so a CI build with ``--cache-from`` of that ref rebuilds nothing.
4. **Cached for the room**: a pull-through cache (``registry:2`` with ``proxy.remoteurl``, or
   ``REGISTRY_PROXY_REMOTEURL``) whose upstream is the lab's registry (the team's registry, as the other
   containers reach it: :func:`upstream_url`), labelled for the lab (:func:`cache_labels`;
   :func:`cache_label_options` for ``docker run``; :func:`run_cache` is the Python way), and
   ``team/app:1.0`` pulled through it twice. The checker reads the cache's own log for its upstream
   (registry:2 logs "Registry configured as a proxy cache to URL" at start, from either setting), its disk
   (``team/app:1.0``'s manifests, config and layers stored), and the request logs of both registries: after
   two pulls or more, each blob must have been served once by the cache while the lab's registry sent it to
   the cache at no moment of that download (the requests from the cache's addresses since it started; each
   registry's ``response completed`` log line gives a request's end and duration). Counting requests alone
   cannot tell: registry:2 2.8 fetches a blob it lacks twice, once for the client and once in the
   background for its disk. A push to the cache shows in its log as uploads refused with 405 Unsupported
   (registry:2 as a proxy takes no push); the engine's HEADs before it make 2.8 fetch and store what they
   ask about (it serves a HEAD like a GET). ``docker pull`` on this machine downloads no layer through the
   cache: the engine built ``team/app:1.0`` and has every layer, so it asks only for the manifest (the
   cache then stores the index alone); a client without an image store — ``crane pull``, or
   :func:`fresh_pull` — pulls like a fresh CI runner. A pull that starts before the cache has stored what
   the previous one fetched goes to the upstream again. An upstream that does not answer stops registry:2
   2.8 at start (``panic: Get "URL/v2/"``), so a cache pointed at ``localhost`` exits at once. The cache
   carries the lab's label (so the lab's reset and close remove it) and a role label (so it is never taken
   for the lab's registry).

What was measured on Docker Engine 28.5.2 (BuildKit, containerd image store, buildx 0.29.1): the
single-stage build adds about 3.7 MB (compressed) to the base; a multi-stage build whose venv has no
pip of its own adds about 1.95 MB; one whose venv has its own pip and setuptools about 9 MB.
The lab needs the containerd image store: the engine's built-in builder exports a registry cache only there.
"""

from __future__ import annotations

import gzip
import io
import json
import platform
import re
import shutil
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import docker.errors
import requests
from packaging.utils import parse_wheel_filename

from portside import engine
from portside.base.labels import course_labels
from portside.engine.build import build
from portside.engine.transfer import push
from portside.errors import LabError, RegistryUnreachable
from portside.labs import catalog
from portside.labs.context import (
    ROLE_LABEL,
    LabContext,
    container_name,
    find_container,
    lab_containers,
    lab_labels,
    require_containerd_store,
)
from portside.labs.model import Lab, Outcome, Predicate, Requirement, Task
from portside.labs.predicates import tag_exists
from portside.lessons import sample_app
from portside.oci import credentials
from portside.oci.endpoint import Endpoint
from portside.oci.reference import parse
from portside.registry.admin import fetch_image, stored_blobs, wait_for_blobs
from portside.registry.container import Registry
from portside.registry.layout import CONTAINER_PORT
from portside.registry.local_images import remove_local_names
from portside.registry.request_log import Request, parse_access_log

if TYPE_CHECKING:
    import docker.models.containers

__all__ = ["BASE", "CACHE_TAG", "LAB", "MAX_ADDED", "REPO", "TAG", "PushedImage", "app_folder", "base_digest",
           "cache_label_options", "cache_labels", "cache_name", "cache_traffic", "fresh_pull", "pushed_image",
           "run_cache", "upstream_url"]

SLUG = "06-team-builds"
REPO = "team/app"
TAG = "1.0"
CACHE_TAG = "buildcache"
BASE = sample_app.BASE
#: at most this many bytes (compressed) on top of the base: the multi-stage build adds ~1.95 MB, the single-stage ~3.7
MAX_ADDED = 2_500_000
CACHE_CONFIG = "application/vnd.buildkit.cacheconfig.v0"
ATTESTATION = "attestation-manifest"
_APP_OUTPUT = "pyapp: GitPython"
_RUN_TIMEOUT = 60

#: the single-stage Dockerfile the team starts from
SINGLE_STAGE = """\
# The team's app, built in one stage: everything the build needed ships in the image.
FROM python:3.11-slim-bookworm
COPY wheels/ /wheels/
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-index --find-links /wheels --disable-pip-version-check -r /tmp/requirements.txt
COPY app.py /app/app.py
ENV GIT_PYTHON_REFRESH=quiet
WORKDIR /app
CMD ["python", "/app/app.py"]
"""

#: the solution's Dockerfile; ``{digest}`` is the course base image's digest
MULTI_STAGE = "# The team's app, built in two stages from a base pinned by digest.\n" + sample_app.MULTI_STAGE_PINNED

#: what was found in a layer, by layer digest (a layer's content never changes)
_LEFTOVERS: dict[str, list[str]] = {}
#: app runs by manifest digest: the same pushed image is run once
_RUNS: dict[str, str] = {}


# -- the learner's tools -------------------------------------------------------------------------------------
def _context(lab: Any) -> LabContext:
    if isinstance(lab, LabContext):
        return lab
    return LabContext.discover(catalog.lab_of(lab, SLUG))


def app_folder(lab: Any) -> Path:
    """The app's build context in the lab's work folder: ``Dockerfile``, ``app.py``, ``requirements.txt``, wheels."""
    return _context(lab).workdir / "app"


def base_digest() -> str:
    """The digest of the course's ``python:3.11-slim-bookworm`` on this engine (what ``FROM …@`` must name)."""
    try:
        image = engine.client().images.get(BASE)
    except docker.errors.ImageNotFound:
        raise LabError(f"{BASE} is not on this engine.", hint="Run `portside images ensure`.") from None
    return str(image.id)


def _base_layers() -> list[str]:
    image = engine.client().images.get(BASE)
    return [str(layer) for layer in (image.attrs.get("RootFS") or {}).get("Layers") or []]


@dataclass(frozen=True)
class PushedImage:
    """One pushed image as the registry holds it: its manifest, config and provenance (if any)."""

    digest: str            #: what the tag points at (an index when BuildKit added an attestation)
    manifest: dict[str, Any]
    config: dict[str, Any]
    provenance: dict[str, Any] | None
    image_digest: str = ""  #: the platform image's own manifest (``digest`` itself when the tag names no index)

    @property
    def layers(self) -> list[dict[str, Any]]:
        return list(self.manifest.get("layers") or [])

    def added_layers(self) -> list[dict[str, Any]]:
        """The layers on top of the course's base image; raises if the image is not built on it."""
        base = _base_layers()
        diff_ids = list((self.config.get("rootfs") or {}).get("diff_ids") or [])
        if diff_ids[:len(base)] != base:
            raise LabError(f"This image is not built on the course's {BASE}: its first layers are not the base's.",
                           hint=f"Start every stage FROM {BASE} (pinned by digest in task 2).")
        return self.layers[len(base):]

    def added_size(self) -> int:
        """Compressed bytes the image adds to its base (what a pull of a new release really downloads)."""
        return sum(int(layer["size"]) for layer in self.added_layers())

    def size(self) -> int:
        """The whole image's compressed size: every layer plus the config."""
        return sum(int(layer["size"]) for layer in self.layers) + int(self.manifest["config"]["size"])


def pushed_image(ctx: Any, tag: str = TAG) -> PushedImage | None:
    """``team/app:TAG`` as it is in the lab's registry now (``None`` if absent): manifest, config, provenance."""
    ctx = _context(ctx)
    if ctx.digest(REPO, tag) is None:
        return None
    top = ctx.manifest(REPO, tag)
    document = top.json()
    provenance = None
    if "manifests" in document:  # an index: the image for the engine's platform, and its attestation
        entries = list(document["manifests"])
        images = [m for m in entries if (m.get("annotations") or {}).get("vnd.docker.reference.type") != ATTESTATION]
        if not images:
            raise LabError(f"{REPO}:{tag} is an index without an image in it.")
        image = images[0]
        manifest = ctx.manifest(REPO, image["digest"]).json()
        attestation = next((m for m in entries
                            if (m.get("annotations") or {}).get("vnd.docker.reference.type") == ATTESTATION
                            and m["annotations"].get("vnd.docker.reference.digest") == image["digest"]), None)
        if attestation is not None:
            provenance = _provenance(ctx, attestation["digest"])
        image_digest = str(image["digest"])
    else:
        manifest = document
        image_digest = top.digest
    config = json.loads(ctx.client().blob(REPO, manifest["config"]["digest"]))
    return PushedImage(digest=top.digest, manifest=manifest, config=config, provenance=provenance,
                       image_digest=image_digest)


def _provenance(ctx: LabContext, digest: str) -> dict[str, Any] | None:
    """The SLSA provenance predicate in attestation manifest ``digest`` (``None`` if it holds none)."""
    for layer in ctx.manifest(REPO, digest).json().get("layers") or []:
        if "provenance" in (layer.get("annotations") or {}).get("in-toto.io/predicate-type", ""):
            statement = json.loads(ctx.client().blob(REPO, layer["digest"]))
            predicate = statement.get("predicate")
            return predicate if isinstance(predicate, dict) else None
    return None


def _leftovers(ctx: LabContext, layer: dict[str, Any]) -> list[str]:
    """The build leftovers in one layer: wheel files and pip's cache."""
    digest = str(layer["digest"])
    if digest not in _LEFTOVERS:
        data = ctx.client().blob(REPO, digest)
        media_type = str(layer.get("mediaType", ""))
        if "zstd" in media_type:
            raise LabError(f"A layer of {REPO}:{TAG} is compressed with zstd, which this checker cannot read.",
                           hint="Build with the default (gzip) compression.")
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            names = tar.getnames()
        _LEFTOVERS[digest] = sorted(n for n in names if n.endswith(".whl") or "/.cache/pip/" in f"/{n}/")
    return _LEFTOVERS[digest]


# -- the start state ---------------------------------------------------------------------------------------------
def _write_build_context(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "wheels").mkdir(parents=True)
    shutil.copyfile(sample_app.app_dir() / "app.py", folder / "app.py")
    requirements = sample_app.requirements_file("fixed")
    shutil.copyfile(requirements, folder / "requirements.txt")
    wheels = sample_app.ensure_wheels(requirements)
    wanted = {pin.key for pin in sample_app.pins(requirements)}
    for wheel in wheels.glob("*.whl"):
        name, version, _, _ = parse_wheel_filename(wheel.name)
        if (str(name), str(version)) in wanted:
            shutil.copyfile(wheel, folder / "wheels" / wheel.name)
    (folder / "Dockerfile").write_text(SINGLE_STAGE, encoding="utf-8")


def _setup(ctx: LabContext) -> None:
    require_containerd_store("Lab 06", "only with it can the engine's built-in BuildKit push a build cache to a "
                                       "registry.")
    _write_build_context(app_folder(ctx))


# -- predicates -----------------------------------------------------------------------------------------------
def _of_pushed(judge: Callable[[LabContext, PushedImage], Outcome]) -> Predicate:
    """A check of team/app:1.0 as the registry holds it; fails first when it is not there at all."""

    def check(ctx: LabContext) -> Outcome:
        image = pushed_image(ctx)
        if image is None:
            return Outcome.fail(f"{REPO}:{TAG} is not in the registry yet")
        return judge(ctx, image)

    return check


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.2f} MB"


def no_leftovers() -> Predicate:
    """No layer of team/app:1.0 that it adds to the base holds a wheel file or pip's cache."""

    def check(ctx: LabContext, image: PushedImage) -> Outcome:
        found = sorted({name for layer in image.added_layers() for name in _leftovers(ctx, layer)})
        if found:
            shown = ", ".join(found[:2]) + (f" and {len(found) - 2} more" if len(found) > 2 else "")
            return Outcome.fail(f"{len(found)} build leftover(s) ship in the layers of {REPO}:{TAG}: {shown}")
        return Outcome.ok()

    return _of_pushed(check)


def small() -> Predicate:
    """team/app:1.0 adds at most MAX_ADDED bytes (compressed) to the course's base image."""

    def check(ctx: LabContext, image: PushedImage) -> Outcome:
        added = image.added_size()
        if added > MAX_ADDED:
            return Outcome.fail(f"{REPO}:{TAG} adds {_mb(added)} to its base in {len(image.added_layers())} "
                                f"layer(s), more than {_mb(MAX_ADDED)}")
        return Outcome.ok()

    return _of_pushed(check)


def _run_once(ctx: LabContext, ref: str) -> tuple[int | None, str]:
    """Pull ``ref`` (by digest) and run it once without network: (exit status or None on timeout, its output)."""
    ctx.docker.images.pull(ref)
    container = ctx.docker.containers.run(ref, detach=True, network_disabled=True, labels=course_labels("lab-run"))
    try:
        try:
            status: int | None = int(container.wait(timeout=_RUN_TIMEOUT)["StatusCode"])
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):  # docker-py's wait timeout
            status = None
        output = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
    finally:
        container.remove(force=True)
    return status, output


def runs() -> Predicate:
    """team/app:1.0, pulled from the registry by digest, runs and prints the app's report."""

    def check(ctx: LabContext) -> Outcome:
        digest = ctx.digest(REPO, TAG)
        if digest is None:
            return Outcome.fail(f"{REPO}:{TAG} is not in the registry yet")
        if digest not in _RUNS:
            status, output = _run_once(ctx, ctx.ref(REPO, digest=digest))
            if status is None:
                return Outcome.fail(f"{REPO}:{TAG} was still running after {_RUN_TIMEOUT} s: the app prints its "
                                    "report and exits")
            if status != 0:
                last = output.strip().splitlines()
                return Outcome.fail(f"{REPO}:{TAG} exits with status {status}: " + (last[-1] if last else "no output"))
            _RUNS[digest] = output
        if not _RUNS[digest].startswith(_APP_OUTPUT):
            return Outcome.fail(f"{REPO}:{TAG} runs but does not print the app's report")
        return Outcome.ok()

    return check


def _docker_materials(image: PushedImage) -> list[tuple[str, str | None]]:
    """Each base image of the build from its provenance: (name:tag as written, pinned digest or None)."""
    found = []
    for material in (image.provenance or {}).get("materials") or []:
        uri = str(material.get("uri", ""))
        if not uri.startswith("pkg:docker/"):
            continue
        parts = urlsplit(uri)
        name = unquote(parts.path.removeprefix("docker/")).replace("@", ":", 1)
        pinned = parse_qs(parts.query).get("digest", [None])[0]
        found.append((name, pinned))
    return found


def has_provenance() -> Predicate:
    def check(ctx: LabContext, image: PushedImage) -> Outcome:
        if image.provenance is None:
            return Outcome.fail(f"{REPO}:{TAG} carries no provenance attestation: the registry cannot tell what "
                                "it was built from")
        return Outcome.ok()

    return _of_pushed(check)


def from_pinned() -> Predicate:
    """Every base image in the provenance is pinned by digest, and each pin is the course's base image."""

    def check(ctx: LabContext) -> Outcome:
        image = pushed_image(ctx)
        if image is None or image.provenance is None:
            return Outcome.fail(f"no provenance of {REPO}:{TAG} to read its FROM lines from")
        materials = _docker_materials(image)
        if not materials:
            return Outcome.fail(f"the provenance of {REPO}:{TAG} lists no base image")
        by_tag = sorted({name for name, pinned in materials if pinned is None})
        if by_tag:
            return Outcome.fail(f"FROM names {', '.join(by_tag)} by tag only: a tag can move, and the build with it "
                                f"— pin it by digest, {by_tag[0]}@sha256:…")
        wrong = sorted({name for name, pinned in materials if pinned != base_digest()})
        if wrong:
            return Outcome.fail(f"FROM pins {', '.join(wrong)} to a digest that is not the course's {BASE}")
        return Outcome.ok()

    return check


def _is_cache(ctx: LabContext, repo: str, tag: str) -> bool:
    """``repo:tag`` is a BuildKit registry cache: a manifest with a cache config, or an index listing one."""
    document = ctx.manifest(repo, tag).json()
    if (document.get("config") or {}).get("mediaType") == CACHE_CONFIG:
        return True
    return any(m.get("mediaType") == CACHE_CONFIG for m in document.get("manifests") or [])


def _cache_layers(ctx: LabContext) -> set[str]:
    document = ctx.manifest(REPO, CACHE_TAG).json()
    layers = {str(layer["digest"]) for layer in document.get("layers") or []}
    layers |= {str(m["digest"]) for m in document.get("manifests") or [] if m.get("mediaType") != CACHE_CONFIG}
    return layers


def cache_present() -> Predicate:
    def check(ctx: LabContext) -> Outcome:
        if ctx.digest(REPO, CACHE_TAG) is not None:
            if _is_cache(ctx, REPO, CACHE_TAG):
                return Outcome.ok()
            return Outcome.fail(f"{REPO}:{CACHE_TAG} is an image, not a build cache")
        elsewhere = sorted(f"{repo}:{tag}" for repo in ctx.catalog() for tag in ctx.tags(repo)
                           if _is_cache(ctx, repo, tag))
        if elsewhere:
            return Outcome.fail(f"no build cache at {REPO}:{CACHE_TAG}; there is one at {', '.join(elsewhere)}")
        return Outcome.fail(f"no build cache at {REPO}:{CACHE_TAG} (nor anywhere else in the registry)")

    return check


def cache_covers_release() -> Predicate:
    """The cache holds every layer team/app:1.0 adds to its base: a --cache-from build rebuilds nothing."""

    def check(ctx: LabContext, image: PushedImage) -> Outcome:
        if ctx.digest(REPO, CACHE_TAG) is None or not _is_cache(ctx, REPO, CACHE_TAG):
            return Outcome.fail(f"no build cache at {REPO}:{CACHE_TAG} yet")
        missing = [layer for layer in image.added_layers() if layer["digest"] not in _cache_layers(ctx)]
        if missing:
            return Outcome.fail(f"{len(missing)} of the {len(image.added_layers())} layers {REPO}:{TAG} adds to its "
                                f"base are not in the cache: it was exported by another build")
        return Outcome.ok()

    return _of_pushed(check)


# -- task 4: a pull-through cache for the room ---------------------------------------------------------------
CACHE_KIND = "registry-cache"
#: the ROLE_LABEL value of the lab's cache: the lab's reset and close remove it, and it is never the lab's registry
CACHE_ROLE = "pull-through-cache"
#: what registry:2 logs once at start when it runs as a cache, whichever setting made it one
_PROXY_LINE = re.compile(r"Registry configured as a proxy cache to ([^\"\s]+)")
#: what registry:2 2.8 ends its log with when its upstream does not answer at start ("panic: Get …/v2/": …)
_UNREACHABLE = re.compile(r'panic: Get "(\S+?)/v2/"')
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})
#: the requests a push starts with; a cache answers them 405 Unsupported
_PUSHING = frozenset({"POST", "PUT", "PATCH"})
#: seconds a check waits for a cache to finish storing what it served (it writes a blob once it has served it)
_STORING = 5.0
#: seconds fresh_pull waits for the cache to store what it fetched, so that the next pull finds it on disk
_STORED = 15.0
#: a logrus field of a registry:2 log line (``key=value`` or ``key="quoted value"``), and a Go duration's parts
_FIELD = re.compile(r'([\w.]+)=("(?:[^"\\]|\\.)*"|\S+)')
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|µs|us|ns|h|m|s)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "ns": 1e-9}


def cache_name(lab: Any) -> str:
    """The container name for the lab's pull-through cache (``docker run --name …``)."""
    return container_name(f"{catalog.lab_of(lab, SLUG).slug}-cache")


def cache_labels(lab: Any) -> dict[str, str]:
    """The labels by which the lab finds a container as its pull-through cache (and its reset and close remove it)."""
    slug = catalog.lab_of(lab, SLUG).slug
    return {**course_labels(CACHE_KIND), **lab_labels(slug), ROLE_LABEL: CACHE_ROLE}


def cache_label_options(lab: Any) -> str:
    """:func:`cache_labels` as ``docker run`` options: ``--label KEY=VALUE …``."""
    return " ".join(f"--label {key}={value}" for key, value in cache_labels(lab).items())


def _lab_registry(ctx: LabContext) -> docker.models.containers.Container:
    container = find_container(ctx.lab.slug)
    if container is None or container.status != "running":
        raise RegistryUnreachable(f"The lab registry is not running (nothing answers at {ctx.address}).",
                                  hint="Run lab.reset() to start it again.")
    return container


def _networks(container: docker.models.containers.Container) -> list[dict[str, Any]]:
    return list(((container.attrs.get("NetworkSettings") or {}).get("Networks") or {}).values())


def _ips(container: docker.models.containers.Container) -> set[str]:
    """The container's addresses on its networks (where the other containers' requests come from)."""
    found = {str(network.get("IPAddress") or "") for network in _networks(container)}
    found.add(str((container.attrs.get("NetworkSettings") or {}).get("IPAddress") or ""))
    return found - {""}


def _names(container: docker.models.containers.Container) -> set[str]:
    """Every name and address other containers may reach ``container`` at."""
    found = _ips(container) | {container.name, container.id, container.id[:12]}
    for network in _networks(container):
        found.update(network.get("Aliases") or [])
        found.update(network.get("DNSNames") or [])
    found.add(str((container.attrs.get("Config") or {}).get("Hostname") or ""))
    return found - {""}


def upstream_url(lab: Any) -> str:
    """The lab's registry as other containers reach it (``http://IP:5000``): what the cache's upstream must be.

    ``localhost:PORT`` is the lab's registry for this machine only: it publishes its port on
    127.0.0.1, and inside a container ``localhost`` is that container itself. The same address:
    ``docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' REGISTRY``.
    """
    ctx = _context(lab)
    container = _lab_registry(ctx)
    ip = next((str(n["IPAddress"]) for n in _networks(container) if n.get("IPAddress")), None)
    if ip is None:
        raise LabError("The lab's registry has no address on a container network, so no cache can reach it.",
                       hint="Run lab.reset() to start it again.")
    return f"{'https' if ctx.tls else 'http'}://{ip}:{CONTAINER_PORT}"


def _caches(slug: str) -> list[docker.models.containers.Container]:
    """The lab's cache containers, newest first."""
    found = [c for c in lab_containers(slug) if (c.labels or {}).get(ROLE_LABEL) == CACHE_ROLE]
    return sorted(found, key=lambda c: str(c.attrs.get("Created", "")), reverse=True)


def _cache(slug: str) -> docker.models.containers.Container | None:
    """The lab's running cache (the newest, if several run), or ``None``."""
    return next((c for c in _caches(slug) if c.status == "running"), None)


def _cache_port(container: docker.models.containers.Container) -> int | None:
    ports = (container.attrs.get("NetworkSettings") or {}).get("Ports") or {}
    return next((int(b["HostPort"]) for b in ports.get(f"{CONTAINER_PORT}/tcp") or [] if b.get("HostPort")), None)


def _remove_caches(slug: str) -> None:
    """Remove the lab's caches, their data, and the local names and logins of their ports (as a reset would)."""
    for container in _caches(slug):
        port = _cache_port(container)
        try:
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
        if port is not None:
            remove_local_names(port)
            credentials.forget(f"localhost:{port}")


def run_cache(lab: Any, upstream: str | None = None) -> Registry:
    """Start the lab's pull-through cache: ``registry:2`` with ``REGISTRY_PROXY_REMOTEURL`` and the lab's labels.

    The Python way of ``docker run -d --name NAME LABELS -e REGISTRY_PROXY_REMOTEURL=URL
    -p 127.0.0.1:PORT:5000 registry:2``: ``upstream`` defaults to :func:`upstream_url`, the lab's
    registry. A cache the lab already has is removed first. Returns the running registry
    (``cache.ref("team/app", "1.0")`` is the name to pull through it).
    """
    the_lab = catalog.lab_of(lab, SLUG)
    remote = upstream or upstream_url(LabContext.discover(the_lab))
    _remove_caches(the_lab.slug)
    cache = Registry(proxy=remote, delete=False, name=cache_name(the_lab), labels=cache_labels(the_lab)).start()
    source = "the lab's registry" if upstream is None else remote
    print(f"A pull-through cache of {source} runs at {cache.address}.")
    return cache


def _image_entry(index: dict[str, Any]) -> dict[str, Any]:
    """The entry of an index a pull on this machine picks: its OS and CPU, else the first that is no attestation."""
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    images = [m for m in index.get("manifests") or []
              if (m.get("annotations") or {}).get("vnd.docker.reference.type") != ATTESTATION]
    if not images:
        raise LabError("The index names no image to pull.")
    return next((m for m in images if (m.get("platform") or {}).get("os") == "linux"
                 and (m.get("platform") or {}).get("architecture") == machine), images[0])


def fresh_pull(ref: str) -> None:
    """Pull ``ref`` (``localhost:PORT/REPO:TAG``) as a fresh CI runner does, and keep nothing.

    The HTTP part of a pull — the manifest (for an index, also this machine's image in it), then the
    config and every layer — with no local image store to skip layers from: what ``crane pull REF FILE``
    does. (``docker pull`` on this machine downloads no layer of an image the engine built: it has them
    all.) Pulling through the lab's cache, it then waits until the cache has stored what it fetched
    (the cache writes to its disk once it has served a blob), so the next pull finds everything there.
    """
    reference = parse(ref)
    host, _, port = reference.domain.partition(":")
    if host not in ("localhost", "127.0.0.1") or not port:
        raise LabError(f"{ref} is not on a course registry.", hint="Pull localhost:PORT/… names (cache.ref(…)).")
    client = Endpoint(host, int(port)).client()
    top = client.manifest(reference.path, reference.tag_or_digest)
    pulled, image = [top.digest], top.digest
    if "manifests" in top.json():
        image = str(_image_entry(top.json())["digest"])
        pulled.append(image)
    pulled += fetch_image(client, reference.path, image)
    cache = next((c for c in _caches(SLUG) if c.status == "running" and _cache_port(c) == int(port)), None)
    if cache is not None:
        wait_for_blobs(cache, pulled, timeout=_STORED)
    print(f"pulled {ref}: its manifest, config and every layer")


# -- what the cache and the lab's registry logged
def _log(container: docker.models.containers.Container, since: int | None = None) -> str:
    return bytes(container.logs(stdout=True, stderr=True, since=since)).decode("utf-8", "replace")


def _proxy_url(container: docker.models.containers.Container) -> str | None:
    """The upstream a running registry:2 uses as a pull-through cache (from its start-up log), or ``None``."""
    found = _PROXY_LINE.search(_log(container))
    return found.group(1) if found else None


def _upstream(container: docker.models.containers.Container) -> str | None:
    """The upstream a cache container was given, running or not: from its log, else its environment, else the
    URL its start failed on (registry:2 2.8 stops at once when its upstream does not answer)."""
    found = _proxy_url(container)
    if found is None:
        env = dict(item.split("=", 1) for item in (container.attrs.get("Config") or {}).get("Env") or [] if "=" in item)
        found = env.get("REGISTRY_PROXY_REMOTEURL")
    if found is None:
        failed = _UNREACHABLE.search(_log(container))
        found = failed.group(1) if failed else None
    return found


def _requests(container: docker.models.containers.Container) -> list[Request]:
    """Every request in the container's access log (registry:2 writes one line per request it answered)."""
    return parse_access_log(_log(container))


def _started(container: docker.models.containers.Container) -> int:
    """When the container last started (UNIX seconds, rounded down, less one: ``since`` takes whole seconds)."""
    text = str((container.attrs.get("State") or {}).get("StartedAt") or "")[:19]
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()) - 1


@dataclass(frozen=True)
class _Response:
    """One request a registry answered, from its ``response completed`` log line: when it ran, what, for whom."""

    start: float
    end: float
    method: str
    path: str
    status: int
    client: str

    def overlaps(self, other: _Response) -> bool:
        return self.start <= other.end and other.start <= self.end


def _seconds(duration: str) -> float:
    """A Go duration (``14.6ms``, ``850µs``, ``1m2.5s``) in seconds."""
    parts = _DURATION.findall(duration)
    if not parts:
        raise ValueError(duration)
    return sum(float(number) * _UNIT[unit] for number, unit in parts)


def _responses(container: docker.models.containers.Container, since: int | None = None) -> list[_Response]:
    """Every request the registry in ``container`` logged as completed (registry:2 logs each at level info)."""
    found = []
    for line in _log(container, since).splitlines():
        if 'msg="response completed"' not in line:
            continue
        fields = {key: value.strip('"') for key, value in _FIELD.findall(line)}
        try:
            end = datetime.fromisoformat(fields["time"][:26].rstrip("Z") + "+00:00").timestamp()
            duration = _seconds(fields["http.response.duration"])
            found.append(_Response(end - duration, end, fields["http.request.method"],
                                   urlsplit(fields["http.request.uri"]).path, int(fields["http.response.status"]),
                                   fields.get("http.request.remoteaddr", "").rsplit(":", 1)[0].strip("[]")))
        except (KeyError, ValueError):
            continue
    return found


def _blob_gets(responses: list[_Response], blob: str) -> list[_Response]:
    """The downloads of ``blob`` of team/app among ``responses`` (``GET …/blobs/DIGEST`` answered 200)."""
    return [r for r in responses if r.method == "GET" and r.status == 200 and r.path == f"/v2/{REPO}/blobs/{blob}"]


@dataclass(frozen=True)
class _Release:
    """What a pull of team/app:1.0 fetches: its manifests (the index and this machine's image), config and layers."""

    manifests: list[str]
    blobs: list[str]


def _release(ctx: LabContext) -> _Release | None:
    image = pushed_image(ctx)
    if image is None:
        return None
    manifests = [image.digest] + ([image.image_digest] if image.image_digest not in ("", image.digest) else [])
    blobs = [str(image.manifest["config"]["digest"]), *(str(layer["digest"]) for layer in image.layers)]
    return _Release(manifests, blobs)


@dataclass(frozen=True)
class _Traffic:
    """One blob of the release: how often the cache served it, how often from its own disk, how often it was fetched."""

    served: int
    local: int
    fetched: int


def _traffic(ctx: LabContext, cache: docker.models.containers.Container, release: _Release) -> dict[str, _Traffic]:
    """For each blob of the release, what the cache's and the lab registry's logs say about it.

    A download the cache served is *local* when the lab's registry sent that blob to the cache at no
    moment of it: on a miss the cache fetches the blob while it serves it (registry:2 2.8 even fetches
    it twice: once for the client, once to store), so the upstream's request overlaps the cache's;
    once the blob is stored, none does. (Counting requests alone cannot tell a miss fetched twice from
    two misses.)
    """
    served = _responses(cache)
    clients = _ips(cache)
    upstream = [r for r in _responses(_lab_registry(ctx), since=_started(cache)) if r.client in clients]
    traffic = {}
    for blob in release.blobs:
        mine, sent = _blob_gets(served, blob), _blob_gets(upstream, blob)
        local = [r for r in mine if not any(r.overlaps(fetch) for fetch in sent)]
        traffic[blob] = _Traffic(len(mine), len(local), len(sent))
    return traffic


def _count(counts: list[int]) -> str:
    """``2``, or ``1–2`` when the blobs differ."""
    low, high = min(counts), max(counts)
    return str(low) if low == high else f"{low}–{high}"


def _times(counts: list[int]) -> str:
    return f"{_count(counts)} time{'' if max(counts) == 1 else 's'}"


def cache_traffic(lab: Any) -> str:
    """What the checker of task 4 reads from both registries' logs about team/app:1.0's blobs."""
    ctx = _context(lab)
    cache = _cache(ctx.lab.slug)
    release = _release(ctx)
    if cache is None or release is None:
        return f"no cache runs, or {REPO}:{TAG} is not in the lab's registry: no traffic to show"
    traffic = list(_traffic(ctx, cache, release).values())
    return (f"each blob of {REPO}:{TAG}: served by the cache {_times([t.served for t in traffic])}, "
            f"{_count([t.local for t in traffic])} of them from its own disk; sent to the cache by the lab's registry "
            f"{_times([t.fetched for t in traffic])}")


def _unlabelled_cache(ctx: LabContext) -> docker.models.containers.Container | None:
    """A running registry container whose upstream is the lab's registry but which lacks the lab's cache labels."""
    here = _names(_lab_registry(ctx))
    for sparse in ctx.docker.containers.list(sparse=True):
        if "registry" not in str(sparse.attrs.get("Image", "")) or (sparse.attrs.get("Labels") or {}).get(ROLE_LABEL):
            continue
        try:
            container = ctx.docker.containers.get(sparse.id)
        except docker.errors.NotFound:  # removed meanwhile
            continue
        env = dict(item.split("=", 1) for item in (container.attrs.get("Config") or {}).get("Env") or []
                   if "=" in item)
        remote = env.get("REGISTRY_PROXY_REMOTEURL")
        if remote and urlsplit(remote).hostname in here:
            return container
    return None


def cache_runs() -> Predicate:
    """A container with the lab's cache labels runs, and registry:2 in it runs as a pull-through cache."""

    def check(ctx: LabContext) -> Outcome:
        found = _caches(ctx.lab.slug)
        if not found:
            stray = _unlabelled_cache(ctx)
            if stray is not None:
                return Outcome.fail(f"a cache of the lab's registry runs as {stray.name}, but without the lab's "
                                    f"labels: the lab cannot find it, nor remove it on reset (`docker rm -f -v "
                                    f"{stray.name}`, then start it again with cache_label_options(lab))")
            return Outcome.fail("no container carries the lab's cache labels: no pull-through cache runs for it")
        cache = _cache(ctx.lab.slug)
        if cache is None:
            lines = _log(found[0]).strip().splitlines()
            panic = next((line for line in lines if line.startswith("panic: ")), None)
            if panic is not None:
                ending = f"; it stopped with {panic[:200]}"
                if _UNREACHABLE.search(panic):
                    ending += " (registry:2 stops at once when its upstream does not answer)"
            else:
                ending = f"; its log ends: {lines[-1][-200:]}" if lines else ""
            return Outcome.fail(f"the cache container {found[0].name} is not running ({found[0].status}){ending}")
        if _proxy_url(cache) is None:
            return Outcome.fail(f"{cache.name} runs as a plain registry, not a cache: its configuration names no "
                                "upstream (proxy.remoteurl in config.yml, or REGISTRY_PROXY_REMOTEURL)")
        return Outcome.ok()

    return check


def _of_cache(judge: Callable[[LabContext, docker.models.containers.Container], Outcome]) -> Predicate:
    """A check of the lab's running cache; fails first when none runs."""

    def check(ctx: LabContext) -> Outcome:
        cache = _cache(ctx.lab.slug)
        if cache is None:
            return Outcome.fail("no pull-through cache of the lab runs yet")
        return judge(ctx, cache)

    return check


def cache_upstream() -> Predicate:
    """The cache's upstream (``proxy.remoteurl``) is the lab's registry, as other containers reach it."""

    def check(ctx: LabContext) -> Outcome:
        found = _caches(ctx.lab.slug)
        cache = _cache(ctx.lab.slug) or (found[0] if found else None)
        if cache is None:
            return Outcome.fail("no pull-through cache of the lab runs yet")
        remote = _upstream(cache)
        if remote is None:
            return Outcome.fail(f"{cache.name} is no cache, so it has no upstream")
        registry = _lab_registry(ctx)
        parts = urlsplit(remote)
        host = parts.hostname or ""
        try:
            port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        except ValueError:
            port = None
        speaks = "https" if ctx.tls else "http"
        here = host in _names(registry)
        if here and port == CONTAINER_PORT and parts.scheme == speaks:
            return Outcome.ok()
        gateways = {str(n.get("Gateway") or "") for n in _networks(registry)} - {""}
        if host in _LOOPBACK:
            why = "inside the cache's container, localhost is the cache itself"
        elif here and parts.scheme != speaks:
            why = f"the lab's registry speaks {'HTTPS' if ctx.tls else 'plain HTTP'}"
        elif here:
            why = f"the lab's registry listens on port {CONTAINER_PORT} inside its container"
        elif host in gateways or host == "host.docker.internal":
            why = ("that is this machine, where the lab's registry publishes its port on 127.0.0.1 only: no "
                   "container reaches it there")
        else:
            why = "that is not the lab's registry"
        return Outcome.fail(f"the cache's upstream is {remote}: {why}; the lab's registry is at {upstream_url(ctx)}")

    return check


def cache_holds_release() -> Predicate:
    """team/app:1.0's manifests, config and layers are stored on the cache's disk (they were pulled through it)."""

    def check(ctx: LabContext, cache: docker.models.containers.Container) -> Outcome:
        release = _release(ctx)
        if release is None:
            return Outcome.fail(f"{REPO}:{TAG} is not in the lab's registry yet (task 1 pushes it)")
        wanted = release.manifests + release.blobs
        requests = _requests(cache)
        missing = [d for d in wanted if d not in stored_blobs(cache)]
        # what was asked for (GET or HEAD: registry:2 2.8 stores a blob it lacks on either) may be being written
        asked = {r.path.rsplit("/", 1)[-1] for r in requests if r.method in ("GET", "HEAD") and r.status == 200}
        pending = [d for d in missing if d in asked or (d == release.manifests[0] and TAG in asked)]
        if pending:
            wait_for_blobs(cache, pending, timeout=_STORING)
            missing = [d for d in wanted if d not in stored_blobs(cache)]
        if not missing:
            return Outcome.ok()
        if len(missing) == len(wanted):
            detail = f"the cache holds nothing of {REPO}:{TAG}: it was never pulled through it"
        elif set(release.blobs) <= set(missing):
            detail = (f"the cache holds {REPO}:{TAG}'s manifest but none of its layers: no pull through it downloaded "
                      f"them — the engine on this machine built {REPO}:{TAG} and has every layer, so `docker pull` "
                      "only asks for the manifest")
        else:
            detail = (f"{len(missing)} of the {len(wanted)} manifests and blobs of {REPO}:{TAG} "
                      f"{'is' if len(missing) == 1 else 'are'} not in the cache")
        refused = sum(1 for r in requests if r.method in _PUSHING and r.status == 405)
        if refused:
            detail += (f"; it refused {refused} push request(s) with 405 Unsupported: a pull-through cache fills "
                       "itself from its upstream on a pull, and takes no push")
        return Outcome.fail(detail)

    return _of_cache(check)


def served_from_cache() -> Predicate:
    """team/app:1.0 was pulled through the cache twice or more, and each blob was served at least once without the
    lab's registry sending it to the cache meanwhile (from the cache's disk)."""

    def check(ctx: LabContext, cache: docker.models.containers.Container) -> Outcome:
        release = _release(ctx)
        if release is None:
            return Outcome.fail(f"{REPO}:{TAG} is not in the lab's registry yet (task 1 pushes it)")
        traffic = _traffic(ctx, cache, release)
        pulls = min(t.served for t in traffic.values())
        if pulls == 0:
            return Outcome.fail(f"no pull through the cache has downloaded every blob of {REPO}:{TAG} yet")
        elsewhere = [blob for blob, t in traffic.items() if t.fetched == 0]
        if elsewhere:
            return Outcome.fail(f"the lab's registry never sent {len(elsewhere)} of the {len(traffic)} blobs of "
                                f"{REPO}:{TAG} to the cache: it got them from another upstream")
        if pulls == 1:
            return Outcome.fail(f"{REPO}:{TAG} was pulled through the cache once: that pull filled the cache from the "
                                "upstream; the next one is the pull it serves from its own disk")
        again = sum(1 for t in traffic.values() if not t.local)
        if not again:
            return Outcome.ok()
        return Outcome.fail(f"{again} of the {len(traffic)} blobs of {REPO}:{TAG} were fetched from the upstream on "
                            f"each of the {pulls} pulls: the later pulls began before the cache had stored what the "
                            "first one fetched")

    return _of_cache(check)


# -- requirements ------------------------------------------------------------------------------------------------
PUSHED = Requirement(
    f"{REPO}:{TAG} is in the registry",
    tag_exists(REPO, TAG),
    hints=[
        f"The checker reads the registry: build the app from app/ and push it as {REPO}:{TAG}.",
        f"name = lab.ref('{REPO}', '{TAG}'); `docker buildx build --network none -t NAME app/` then "
        "`docker push NAME` (or build(app, tag=name, network='none') and push(name) in Python).",
        "Idea: build the work folder's app/ under the lab's name for team/app:1.0, then push that name.",
    ],
)

NO_LEFTOVERS = Requirement(
    f"no wheel file or pip cache in any layer of {REPO}:{TAG}",
    no_leftovers(),
    hints=[
        "Every layer ships, even one whose files a later step deletes: `RUN rm` only hides them.",
        "Install in a first stage (`FROM … AS build`), and start the final stage again FROM the base: copy "
        "only the installed packages across with `COPY --from=build`.",
        "Idea: the wheels and pip's work stay in the build stage; the final stage gets the installed venv and "
        "app.py only.",
    ],
)

SMALL = Requirement(
    f"{REPO}:{TAG} adds at most {_mb(MAX_ADDED)} (compressed) to its base image",
    small(),
    hints=[
        "Look at what each layer adds: the image's history (`docker history NAME`) next to its layer sizes.",
        "A venv made with `python3 -m venv` gets its own pip and setuptools — build tools the app never uses. "
        "`--without-pip`, with the base image's pip installing into it (`pip --python /opt/venv/bin/python`), "
        "keeps them out.",
        "Idea: the final stage adds just the app's packages and app.py on top of the base.",
    ],
)

RUNS = Requirement(
    f"{REPO}:{TAG} still runs, pulled from the registry by digest",
    runs(),
    hints=[
        "A smaller image that does not start is no release: run it (`docker run --rm NAME`) and read the error.",
        "The final stage must have what the app needs at run time: the venv's packages on PATH "
        "(`ENV PATH=/opt/venv/bin:$PATH`) and GIT_PYTHON_REFRESH=quiet (there is no git in the image).",
        "Idea: copy the venv and app.py into the final stage and set the same ENV and CMD as before.",
    ],
)

HAS_PROVENANCE = Requirement(
    f"{REPO}:{TAG} carries BuildKit's provenance (how it was built)",
    has_provenance(),
    hints=[
        "The registry only knows how an image was built if the build attached a provenance attestation.",
        "`docker buildx build` attaches one by default; `--provenance=false` drops it. In Python, "
        "build(…, provenance=True).",
        "Idea: rebuild with provenance on and push again.",
    ],
)

PINNED = Requirement(
    f"every FROM of {REPO}:{TAG} is pinned by digest to the course's {BASE}",
    from_pinned(),
    hints=[
        "A tag is a pointer someone else can move; a digest names exactly one image. The provenance's materials "
        "show which base each FROM named, and whether it was pinned.",
        f"Write each FROM as `{BASE}@sha256:…` — every stage, the build stage too. base_digest() gives the "
        f"digest of the course's {BASE} on this engine (`docker image inspect --format '{{{{.Id}}}}' {BASE}`).",
        f"Idea: both FROM lines name {BASE}@ + base_digest(); rebuild and push.",
    ],
)

CACHE_PRESENT = Requirement(
    f"a BuildKit build cache is at {REPO}:{CACHE_TAG}",
    cache_present(),
    hints=[
        "CI runners start with an empty build cache; a registry cache lets the next runner reuse this one's work.",
        f"Export it with the build: `--cache-to type=registry,ref=NAME,mode=max` where NAME is "
        f"lab.ref('{REPO}', '{CACHE_TAG}') — the ref the team's CI reads with --cache-from.",
        f"Idea: rebuild with --cache-to pointing at exactly {REPO}:{CACHE_TAG}.",
    ],
)

CACHE_COVERS = Requirement(
    f"the cache at {REPO}:{CACHE_TAG} holds every layer {REPO}:{TAG} adds to its base",
    cache_covers_release(),
    hints=[
        f"A cache helps only if it is the cache of the build that made {REPO}:{TAG}.",
        "Export the cache in the same build that produces the image you push (or rebuild and push both again).",
        f"Idea: one build with -t for {REPO}:{TAG} and --cache-to for {REPO}:{CACHE_TAG}, then push the image.",
    ],
)

CACHE_RUNS = Requirement(
    "a pull-through cache runs for the room (registry:2 with an upstream), with the lab's cache labels",
    cache_runs(),
    hints=[
        "A pull-through cache is a second registry:2 whose configuration names an upstream (proxy.remoteurl, or "
        "REGISTRY_PROXY_REMOTEURL): it fills itself from there on the first pull of each blob.",
        "Start it with the lab's labels, so the lab finds it and its reset removes it: `docker run -d --name "
        "NAME LABELS -e REGISTRY_PROXY_REMOTEURL=URL -p 127.0.0.1:PORT:5000 registry:2` with NAME = "
        "cache_name(lab) and LABELS = cache_label_options(lab) — or run_cache(lab) in Python.",
        "Idea: run_cache(lab): registry:2 with REGISTRY_PROXY_REMOTEURL=upstream_url(lab) and cache_labels(lab).",
    ],
)

CACHE_UPSTREAM = Requirement(
    "the cache's upstream is the lab's registry",
    cache_upstream(),
    hints=[
        "A registry:2 cache mirrors exactly one upstream, the one its proxy.remoteurl names: everything it serves "
        "comes from there.",
        "The cache reaches the lab's registry at its address on the container network: not localhost:PORT (inside "
        "a container, localhost is that container; the registry publishes its port on the machine's 127.0.0.1 "
        "only). upstream_url(lab) gives that address.",
        "Idea: remove the cache (`docker rm -f -v NAME`) and start it again with "
        "REGISTRY_PROXY_REMOTEURL=upstream_url(lab) (run_cache(lab) does both).",
    ],
)

CACHE_HOLDS = Requirement(
    f"{REPO}:{TAG}'s manifest and layers are stored in the cache",
    cache_holds_release(),
    hints=[
        "A cache stores what is pulled through it, and nothing else: it takes no push (registry:2 as a cache answers "
        "405 Unsupported to an upload); it fetches from its upstream on a pull.",
        f"Pull by the cache's address, localhost:CACHEPORT/{REPO}:{TAG}. `docker pull` on this machine downloads no "
        f"layer — the engine built {REPO}:{TAG} and has them all — so pull as a fresh CI runner does: `crane pull "
        "NAME FILE`, or fresh_pull(NAME).",
        f"Idea: fresh_pull(cache.ref('{REPO}', '{TAG}')), or crane pull of that name into a file.",
    ],
)

SERVED = Requirement(
    f"a second pull of {REPO}:{TAG} was served from the cache's disk, not fetched from the upstream again",
    served_from_cache(),
    hints=[
        "The first pull of each blob goes on to the upstream; the point of a cache is every pull after it, served "
        "from its own disk. cache_traffic(lab) shows what both registries logged.",
        f"Pull {REPO}:{TAG} through the cache a second time, after the first has finished: the cache writes a blob "
        "to its disk once it has served it, and a pull that comes before that is fetched from the upstream again.",
        f"Idea: fresh_pull (or crane pull) the cache's {REPO}:{TAG} once more.",
    ],
)


# -- solutions ----------------------------------------------------------------------------------------------------
def _build_release(ctx: LabContext, *, cache: bool) -> None:
    app = app_folder(ctx)
    (app / "Dockerfile").write_text(MULTI_STAGE.format(digest=base_digest()), encoding="utf-8")
    name = ctx.ref(REPO, TAG)
    cache_to = f"type=registry,ref={ctx.ref(REPO, CACHE_TAG)},mode=max" if cache else None
    build(app, tag=name, network="none", provenance=True, cache_to=cache_to,
          labels=course_labels("lab-image", variant="learner"))
    push(name, progress=False)


def _solve_small(ctx: LabContext) -> None:
    _build_release(ctx, cache=False)


def _solve_cached(ctx: LabContext) -> None:
    _build_release(ctx, cache=True)


def _solve_pull_through(ctx: LabContext) -> None:
    cache = _cache(ctx.lab.slug)
    port = _cache_port(cache) if cache is not None and _proxy_url(cache) == upstream_url(ctx) else None
    if port is None:
        port = run_cache(ctx.lab).port
    for _ in range(2):
        fresh_pull(f"localhost:{port}/{REPO}:{TAG}")


LAB = Lab(
    slug=SLUG,
    title="Team builds: small, pinned and cached",
    images=[BASE],
    users=(),
    setup=_setup,
    tasks=[
        Task(1, f"Make {REPO}:{TAG} small: a multi-stage build", [PUSHED, NO_LEFTOVERS, SMALL, RUNS], _solve_small),
        Task(2, "Pin its base image by digest", [HAS_PROVENANCE, PINNED], _solve_small),
        Task(3, f"Publish its build cache to {REPO}:{CACHE_TAG}", [CACHE_PRESENT, CACHE_COVERS], _solve_cached),
        Task(4, "Cache it for the room: a pull-through cache of the team's registry",
             [CACHE_RUNS, CACHE_UPSTREAM, CACHE_HOLDS, SERVED], _solve_pull_through),
    ],
)

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

What was measured on Docker Engine 28.5.2 (BuildKit, containerd image store, buildx 0.29.1): the
single-stage build adds about 3.7 MB (compressed) to the base; a multi-stage build whose venv has no
pip of its own adds about 1.95 MB; one whose venv has its own pip and setuptools about 9 MB.
The lab needs the containerd image store: the engine's built-in builder exports a registry cache only there.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import docker.errors
import requests
from packaging.utils import parse_wheel_filename

from portside import engine
from portside.base.labels import course_labels
from portside.engine.build import build
from portside.engine.daemon import uses_containerd_store
from portside.engine.transfer import push
from portside.errors import LabError
from portside.labs import catalog
from portside.labs.context import LabContext
from portside.labs.model import Lab, Outcome, Predicate, Requirement, Task
from portside.labs.predicates import tag_exists
from portside.lessons import sample_app

__all__ = ["BASE", "CACHE_TAG", "LAB", "MAX_ADDED", "REPO", "TAG", "PushedImage", "app_folder", "base_digest",
           "pushed_image"]

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
MULTI_STAGE = """\
# The team's app, built in two stages from a base pinned by digest.
FROM python:3.11-slim-bookworm@{digest} AS build
COPY wheels/ /wheels/
COPY requirements.txt /tmp/requirements.txt
# a venv without pip of its own: the base image's pip installs into it
RUN python3 -m venv --without-pip /opt/venv \\
 && pip --python /opt/venv/bin/python install --no-index --find-links /wheels \\
        --no-cache-dir --disable-pip-version-check -r /tmp/requirements.txt

FROM python:3.11-slim-bookworm@{digest}
COPY --from=build /opt/venv /opt/venv
COPY app.py /app/app.py
ENV PATH=/opt/venv/bin:$PATH GIT_PYTHON_REFRESH=quiet
WORKDIR /app
CMD ["python", "/app/app.py"]
"""

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
    else:
        manifest = document
    config = json.loads(ctx.client().blob(REPO, manifest["config"]["digest"]))
    return PushedImage(digest=top.digest, manifest=manifest, config=config, provenance=provenance)


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
    if not uses_containerd_store():
        raise LabError("Lab 06 needs the engine's containerd image store: only with it can the engine's built-in "
                       "BuildKit push a build cache to a registry.",
                       hint="Use the course's engine (`make setup`), or Docker Engine 29+ / Docker Desktop, where "
                            "the containerd image store is the default.")
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
            return Outcome.fail(f"FROM names {', '.join(by_tag)} by tag only: a tag can move, the build with it")
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
    ],
)

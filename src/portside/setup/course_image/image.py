"""Build the course image with BuildKit (no network inside the build), and remove it.

:func:`build` reads the base the Dockerfile pins (``ARG BASE=name@sha256:…``), checks that this engine holds
that very image (:func:`portside.engine.identity.manifest_digests`: the image ID on the containerd store, a
pulled image's ``RepoDigests`` on either store), gathers the build context (:mod:`.context`, :mod:`.wheels`,
:mod:`.debs`) in the state folder and runs ``docker buildx build --network none`` on it. The image carries
the course labels (kind ``course-image``), so ``portside cleanup --images`` removes it.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import docker.errors

from portside.base.labels import COURSE, STANDIN, course_labels
from portside.base.labels import KIND as LABEL_KIND
from portside.base.paths import project_root, run_dir, state_dir
from portside.base.proc import run
from portside.engine.build import build as buildkit_build
from portside.engine.daemon import client, listed_tags
from portside.engine.identity import manifest_digests
from portside.errors import ImageUnavailable, PortsideError, SetupError, UsageError
from portside.oci.reference import parse as parse_reference
from portside.setup.course_image import context, debs, wheels
from portside.setup.images import offline_from_env

__all__ = ["KIND", "TAG", "Built", "build", "dockerfile", "pinned_base", "prepare", "python_version", "remove"]

#: the kind label of the image, and of nothing else
KIND = "course-image"
#: the image's name: ``portside-course:<the harness's version>``
TAG = f"portside-course:{version('portside')}"
#: the Dockerfile, in the checkout
DOCKERFILE = Path("images") / "course" / "Dockerfile"

Say = Callable[[str], object]
_PIN = re.compile(r"^ARG BASE=(?P<name>[^@\s]+)@(?P<digest>sha256:[0-9a-f]{64})\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Built:
    """A finished build: the image, the base it was built on, how long it took and which steps were cached."""

    tag: str
    id: str
    base: str
    seconds: float
    size: int
    steps: list[tuple[str, str, bool]] = field(default_factory=list)

    @property
    def cached(self) -> int:
        """How many of the Dockerfile's steps came from BuildKit's cache."""
        return sum(1 for _, _, hit in self.steps if hit)


def _checkout() -> Path:
    root = project_root()
    if root is None or not (root / DOCKERFILE).is_file():
        raise SetupError("The course image is built from the course's checkout, and none was found "
                         f"(with {DOCKERFILE.as_posix()}).",
                         hint="Run this from an editable install of Portside in its checkout (`make setup`).")
    return root


def dockerfile() -> Path:
    """The course image's Dockerfile (``images/course/Dockerfile`` of the checkout)."""
    return _checkout() / DOCKERFILE


def pinned_base(text: str | None = None) -> tuple[str, str]:
    """``(name, digest)`` of the base the Dockerfile pins (``ARG BASE=name@sha256:…``)."""
    found = _PIN.search(text if text is not None else dockerfile().read_text(encoding="utf-8"))
    if found is None:
        raise SetupError(f"{DOCKERFILE.as_posix()} pins no base by digest (no `ARG BASE=name@sha256:…` line).",
                         hint="Restore that line: the image must name exactly one base image.")
    return found["name"], found["digest"]


def _base(repin: bool) -> str:
    """The base to build on: the pinned one, or with ``repin`` this engine's image of that name, by its digest."""
    name, digest = pinned_base()
    try:
        image = client().images.get(name)
    except docker.errors.ImageNotFound:
        raise ImageUnavailable(f"{name}, the base of the course image, is not on this machine.",
                               hint="Run `portside images ensure` (offline it builds the stand-in).") from None
    have = manifest_digests(image)
    if digest in have:
        return f"{name}@{digest}"
    if not have:
        raise SetupError(f"The course image pins its base by manifest digest; this engine's {name} has none (a "
                         "local image on the classic image store keeps no manifest digest).",
                         hint="Build on the course's own engine (`make setup` as root), or on Docker Engine 29+ / "
                              "Docker Desktop, whose containerd image store keeps it.")
    local = sorted(have)[0]
    if not repin:
        raise ImageUnavailable(
            f"The Dockerfile pins {name}@{digest}, but this engine's {name} is {local}: another build of it (the "
            "official image, or a stand-in built from a newer Debian snapshot).",
            hint="Build on this engine's own by its digest with course_image.build(repin=True) (the image records "
                 "the base it used), or update the pin in images/course/Dockerfile.")
    return f"{name}@{local}"


def python_version(image: str) -> str:
    """The Python version of a python image (``3.11.2``), from its ``PYTHON_VERSION`` (official image and stand-in)."""
    env = (client().api.inspect_image(image).get("Config") or {}).get("Env") or []
    found = next((item.partition("=")[2] for item in env if item.startswith("PYTHON_VERSION=")), "")
    if not re.fullmatch(r"\d+\.\d+\.\d+", found):
        raise SetupError(f"{image} does not say which Python it has (no PYTHON_VERSION in its environment).",
                         hint="Use a python image (the official one or the course's stand-in) as the base.")
    return found


def _labels(root: Path, base: str) -> dict[str, str]:
    """The course labels, and the OCI annotations only the build knows: the base it used and where the source is."""
    ref = parse_reference(base)
    labels = {**course_labels(KIND), STANDIN: "false",
              # fully qualified, by tag (OCI image-spec, annotations.md); the digest beside it
              "org.opencontainers.image.base.name": f"{ref.domain}/{ref.path}:{ref.tag or 'latest'}",
              "org.opencontainers.image.base.digest": ref.digest or ""}
    remote = _git(root, "remote", "get-url", "origin")
    if remote.startswith(("https://", "http://")):  # a URL to the source (an ssh remote would not be one)
        labels["org.opencontainers.image.source"] = remote
    return labels


def _git(root: Path, *args: str) -> str:
    """``git ARGS`` in the checkout, or "" when there is no git (or no repository)."""
    try:
        done = run(["git", "-C", str(root), *args], timeout=30, check=False)
    except PortsideError:
        return ""
    return done.stdout.strip() if done.ok else ""


def prepare(folder: Path, *, base: str, offline: bool, say: Say = print) -> dict[str, Any]:
    """Gather the build context into ``folder`` (see :mod:`.context`); return its provenance record."""
    root = _checkout()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / DOCKERFILE, folder / "Dockerfile")
    say(f"course: {context.course_files(root, folder / 'course')} files from {root}")
    lock = wheels.wheelhouse(root, folder / "wheels", python=python_version(base), offline=offline, say=say)
    say(f"wheels: {len(list((folder / 'wheels').glob('*.whl')))} (locked by hash in {lock.name})")
    packages = debs.fetch(base, folder / "debs", say=say)
    tools = context.tools(folder / "tools", say=say)
    cli = context.docker_cli(folder / "docker")
    pyapp = folder / "pyapp-wheels"
    if pyapp.exists():
        shutil.rmtree(pyapp)
    pyapp.mkdir()
    for wheel in sorted(state_dir("wheels", "pyapp").glob("*.whl")):
        shutil.copy2(wheel, pyapp / wheel.name)
    if not any(pyapp.iterdir()):
        say("pyapp: no demo app wheels in the state folder (run `portside setup` online once): lessons 04-07 "
            "will download them")
    record = {
        "base": base,
        "tools": tools,
        "docker": cli,
        "debian": [{"package": d.package, "version": d.version, "file": d.path.name, "sha256": d.sha256}
                   for d in packages],
        "wheels": (folder / "wheels" / wheels.LOCK).read_text(encoding="utf-8").splitlines()[2:],
    }
    (folder / context.PROVENANCE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def _course_image(tag: str) -> Any | None:
    try:
        image = client().images.get(tag)
    except docker.errors.ImageNotFound:
        return None
    return image if (image.labels or {}).get(COURSE) == "true" else None


def build(*, tag: str = TAG, offline: bool | None = None, repin: bool = False, say: Say = print) -> Built:
    """Build the course image as ``tag`` (see the module docstring); return what was built.

    ``offline`` (default: ``PORTSIDE_OFFLINE``) gathers the wheels from the state folder's cache only.
    ``repin`` builds on this engine's base image by its own digest when it is not the pinned one.
    """
    offline = offline_from_env() if offline is None else offline
    start = time.monotonic()
    base = _base(repin)
    folder = run_dir("build", "course-image")  # this run's: two runs may build at once (the cache is shared)
    prepare(folder, base=base, offline=offline, say=say)
    root = _checkout()
    before = _course_image(tag)
    say(f"build: docker buildx build --network none -t {tag} (base {base})…")
    result = buildkit_build(folder, tag=tag, network="none", labels=_labels(root, base),
                            build_args={"BASE": base, "REVISION": _git(root, "rev-parse", "HEAD"),
                                        "CREATED": _git(root, "log", "-1", "--format=%cI"),
                                        "VERSION": version("portside")})
    if before is not None and before.id != result.id:
        _drop_untagged(before.id)
    size = int(client().api.inspect_image(result.id).get("Size") or 0)
    built = Built(tag, result.id, base, time.monotonic() - start, size, result.steps())
    say(f"build: {tag} {result.id[:19]} in {built.seconds:.0f} s ({built.cached}/{len(built.steps)} steps cached, "
        f"{size / 1e6:.0f} MB)")
    return built


def _drop_untagged(image_id: str) -> None:
    """Remove an earlier build whose tag moved to the new one, unless something still names or uses it."""
    cli = client()
    try:
        if not listed_tags(cli.api.inspect_image(image_id)):
            cli.api.remove_image(image_id, noprune=False)
    except docker.errors.APIError:  # gone already, or a container still uses it
        pass


def remove(tag: str = TAG) -> bool:
    """Remove the course image ``tag`` if the course built it (anything else is left alone). True if removed."""
    image = _course_image(tag)
    if image is None:
        return False
    if (image.labels or {}).get(LABEL_KIND) != KIND:
        raise UsageError(f"{tag} is a course image of another kind; course_image.remove() only removes its own.")
    try:
        client().api.remove_image(image.id, force=True, noprune=False)
    except docker.errors.NotFound:
        return False
    return True

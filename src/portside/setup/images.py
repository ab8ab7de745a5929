"""The course images: present locally, pulled when possible, else built here as stand-ins.

::

    portside images ensure [--offline]    # once, before the lessons (``make setup`` runs it)
    portside images status

The lessons use four images (:data:`CATALOGUE`). :func:`ensure` handles each in turn:

1. already on this machine → nothing to do (a warm run of all four takes well under a second);
2. else, unless offline, ``docker pull`` it (with a progress display in a terminal);
3. else — no registry reachable, or offline — build a *stand-in* under the same
   name from Debian packages (:mod:`portside.setup.standins`), which takes seconds.

A stand-in is an honest substitute, not a copy: it carries the label
``org.portside.standin=true`` and OCI labels naming the Debian packages it was built
from, and :func:`status` reports it as ``stand-in`` rather than ``pulled``.
Offline mode (``offline=True`` or ``PORTSIDE_OFFLINE=1``) never contacts a registry.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import docker
import docker.errors
import requests.exceptions

from portside.base.labels import STANDIN
from portside.base.table import Table
from portside.engine import transfer
from portside.engine.daemon import client
from portside.errors import ImageUnavailable, InvalidReference, PortsideError, engine_detail
from portside.setup.standins import Say, build_busybox, build_debian, build_python, build_registry

__all__ = [
    "CATALOGUE",
    "CourseImage",
    "ImageStatus",
    "State",
    "ensure",
    "format_table",
    "offline_from_env",
    "require_base",
    "status",
]

State = Literal["pulled", "stand-in", "missing"]

_SOURCE_LABEL = "org.opencontainers.image.source"


@dataclass(frozen=True)
class CourseImage:
    """An image the lessons use, and how to build its stand-in: ``build(name, say) -> image id``."""

    name: str
    description: str
    build: Callable[[str, Say], str]


#: the images the lessons use, in build order (the python stand-in reuses the Debian root file system)
CATALOGUE: dict[str, CourseImage] = {
    image.name: image
    for image in (
        CourseImage("registry:2", "the Distribution registry every lesson runs", build_registry),
        CourseImage("busybox:1.35", "a tiny image with a shell, to push, pull, tag and sign", build_busybox),
        CourseImage("debian:bookworm-slim", "a Debian 12 base image, for layers and scanning", build_debian),
        CourseImage("python:3.11-slim-bookworm", "Python 3.11 with pip and venv, for building images",
                    build_python),
    )
}


@dataclass(frozen=True)
class ImageStatus:
    """Whether an image is here, and where it came from.

    ``state``: ``pulled`` (a real image, from a registry), ``stand-in`` (built here
    from Debian packages) or ``missing``. ``source`` is the repository digest of a
    pulled image, or what a stand-in was built from.
    """

    name: str
    state: State
    image_id: str | None
    size: int | None
    source: str


def offline_from_env() -> bool:
    """True when ``PORTSIDE_OFFLINE`` is ``1``, ``true``, ``yes`` or ``on``."""
    return os.environ.get("PORTSIDE_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def require_base(name: str, *, for_what: str) -> None:
    """Fail clearly when the course image ``name``, the base of ``for_what``, is not on this machine."""
    try:
        client().images.get(name)
    except docker.errors.ImageNotFound:
        raise ImageUnavailable(f"{name}, the base of {for_what}, is not on this machine.",
                               hint="Run `portside images ensure` (it builds a stand-in offline).") from None


def _names(names: Iterable[str] | None) -> list[str]:
    return list(CATALOGUE) if names is None else list(names)


def _status_of(cli: docker.DockerClient, name: str) -> ImageStatus:
    try:
        attrs: dict[str, Any] = cli.api.inspect_image(name)
    except docker.errors.ImageNotFound:
        return ImageStatus(name, "missing", None, None, "")
    labels = (attrs.get("Config") or {}).get("Labels") or {}
    image_id, size = str(attrs["Id"]), int(attrs.get("Size") or 0)
    if labels.get(STANDIN) == "true":
        return ImageStatus(name, "stand-in", image_id, size, labels.get(_SOURCE_LABEL) or "Debian packages")
    digests = attrs.get("RepoDigests") or []
    return ImageStatus(name, "pulled", image_id, size, digests[0] if digests else "local image (no registry digest)")


def status(names: Iterable[str] | None = None) -> list[ImageStatus]:
    """The state of each image (default: the catalogue), without pulling or building anything."""
    cli = client()
    return [_status_of(cli, name) for name in _names(names)]


class _PullFailed(Exception):
    """``docker pull`` did not work; the message is the engine's reason."""


class _LayerBars:
    """A progress bar per layer (``NAME LAYER STATUS``), transient: what ``images ensure`` shows in a terminal."""

    def __init__(self, name: str) -> None:
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

        self._name = name
        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), transient=True)
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> _LayerBars:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def update(self, message: dict[str, Any]) -> None:
        layer, detail = message.get("id"), message.get("progressDetail") or {}
        if not layer or not detail.get("total"):
            return
        label = f"{self._name} {layer} {message.get('status', '')}"
        if layer not in self._tasks:
            self._tasks[layer] = self._bar.add_task(label, total=detail["total"])
        self._bar.update(self._tasks[layer], description=label, total=detail["total"],
                         completed=detail.get("current", 0))


def _pull(name: str, *, progress: bool) -> None:
    """``docker pull name`` (:func:`portside.engine.transfer.engine_pull`); bars per layer on a terminal."""
    display = _LayerBars(name) if progress and sys.stdout.isatty() else None
    try:
        transfer.engine_pull(name, display=display)
    except docker.errors.APIError as exc:
        raise _PullFailed(engine_detail(exc)) from exc
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise _PullFailed(str(exc)) from exc
    except InvalidReference as exc:  # the engine was not even asked
        raise _PullFailed(exc.message) from exc


def _megabytes(size: int | None) -> str:
    return f"{size / 1e6:.0f} MB" if size else "-"


def _obtain(cli: docker.DockerClient, name: str, *, offline: bool, progress: bool, say: Say) -> ImageStatus:
    """Pull ``name`` or build its stand-in (it is not present)."""
    recipe = CATALOGUE.get(name)
    known = ", ".join(CATALOGUE)
    pull_error = ""
    if offline:
        if recipe is None:
            raise ImageUnavailable(
                f"{name} is not on this machine, offline mode (--offline / PORTSIDE_OFFLINE) forbids pulling it, "
                "and Portside has no stand-in recipe for it.",
                hint=f"Pull it on a machine that reaches its registry, or use a course image: {known}.")
        say(f"{name}: not here; offline, so building the stand-in from Debian packages…")
    else:
        say(f"{name}: not here; pulling…")
        try:
            _pull(name, progress=progress)
            pulled = _status_of(cli, name)
            say(f"{name}: pulled ({_megabytes(pulled.size)})")
            return pulled
        except _PullFailed as exc:
            pull_error = str(exc).strip()
        if recipe is None:
            raise ImageUnavailable(
                f"{name} is not on this machine and `docker pull` failed ({pull_error}); Portside has no stand-in "
                "recipe for it.",
                hint=f"Check the name and that its registry is reachable (and you are logged in), or use a course "
                     f"image: {known}.")
        say(f"{name}: pull failed ({pull_error}); building the stand-in from Debian packages…")
    start = time.monotonic()
    try:
        recipe.build(name, say)
    except PortsideError as exc:
        why = f"`docker pull` failed ({pull_error})" if pull_error else "offline mode forbids pulling"
        raise ImageUnavailable(f"{name} is unavailable: {why}, and building its stand-in failed: {exc.message}",
                               hint=exc.hint or "Fix the cause above and run `portside images ensure` again.") from exc
    built = _status_of(cli, name)
    if built.state == "missing":
        raise ImageUnavailable(f"The {name} stand-in was built but the engine does not list it.",
                               hint="Run `docker images` to look, then `portside images ensure` again.")
    say(f"{name}: stand-in built in {time.monotonic() - start:.1f} s ({_megabytes(built.size)})")
    return built


def ensure(names: Iterable[str] | None = None, *, offline: bool | None = None, progress: bool = True,
           say: Say = print) -> list[ImageStatus]:
    """Make sure each image (default: the catalogue) exists locally; return their statuses.

    Present images are left alone. A missing one is pulled — unless ``offline``
    (default: ``PORTSIDE_OFFLINE``) — and, when that fails, its stand-in is built.
    Every image is tried; if any stays unavailable, :class:`ImageUnavailable` says
    which and why. ``say`` receives one line per step (``lambda _: None`` for silence).
    """
    offline = offline_from_env() if offline is None else offline
    cli = client()
    results: list[ImageStatus] = []
    failures: list[ImageUnavailable] = []
    for name in _names(names):
        current = _status_of(cli, name)
        if current.state != "missing":
            results.append(current)
            continue
        try:
            results.append(_obtain(cli, name, offline=offline, progress=progress, say=say))
        except ImageUnavailable as exc:
            failures.append(exc)
    if len(failures) == 1:
        raise failures[0]
    if failures:
        listing = "\n- ".join(failure.message for failure in failures)
        raise ImageUnavailable(f"{len(failures)} images are unavailable:\n- {listing}", hint=failures[0].hint)
    return results


def format_table(statuses: Iterable[ImageStatus]) -> str:
    """A plain-text table of statuses (what ``portside images status`` prints)."""
    rows = [(s.name, s.state, _megabytes(s.size), s.image_id.removeprefix("sha256:")[:12] if s.image_id else "-",
             s.source or "-") for s in statuses]
    return Table(["image", "state", "size", "id", "source"], rows, rule=False).text()

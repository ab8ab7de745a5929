"""Push, pull and tag images through the Docker engine, with readable results and errors.

``docker push`` is a stream of JSON messages from the engine: one line per layer
state change ("Preparing", "Pushing", "Pushed", "Layer already exists",
"Mounted from …"), then the manifest digest and size: in an ``aux`` message on the classic image
store, only in a status line (``TAG: digest: sha256:… size: N``) on the containerd image store.
:func:`push` reads that stream, shows an optional progress bar, and returns what
happened to each layer; an ``error`` line becomes one of Portside's errors.

Credentials: ``username``/``password`` are sent for this one request; otherwise the
engine gets the login saved in the course's Docker config by
:func:`portside.registry.docker_login`.

Every function takes a reference as a string or as a parsed
:class:`~portside.oci.reference.Reference` (``registry.endpoint.reference(repo, tag)``),
and parses it once. :func:`engine_pull` is the one ``docker pull`` under :func:`pull`: it
leaves docker-py's errors untranslated and takes any progress display, for a caller that
words a failure its own way (``portside images ensure``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import docker.errors

from portside import engine
from portside.errors import (
    EngineError,
    ImageUnavailable,
    PortsideError,
    RegistryError,
    engine_error,
)
from portside.oci.credentials import config_file
from portside.oci.reference import DEFAULT_TAG, Reference, parsed

__all__ = ["Display", "PushResult", "engine_pull", "pull", "push", "tag"]

#: the status line that ends a push: ``1.0: digest: sha256:<hex> size: 528`` (both stores send it)
_DIGEST_LINE = re.compile(r"digest: (?P<digest>sha256:[0-9a-f]{64}) size: (?P<size>\d+)")

_FINAL_LAYER_STATES = ("Pushed", "Layer already exists", "Mounted from", "Pull complete", "Already exists",
                       "Download complete")


@dataclass(frozen=True)
class PushResult:
    """What a push did: the manifest digest and size, and each layer's final status."""

    reference: str
    digest: str
    size: int
    layers: list[tuple[str, str]] = field(default_factory=list)  # (short layer id, final status)

    def __str__(self) -> str:
        lines = [f"{self.reference} → {self.digest} (manifest: {self.size} bytes)"]
        lines += [f"  {layer}: {status}" for layer, status in self.layers]
        return "\n".join(lines)


# -- errors ----------------------------------------------------------------------------------------------
def _stream_error(message: str, action: str, ref: Reference) -> PortsideError:
    """An engine error line of a push/pull stream, as the Portside error that says what to do."""
    return engine_error(message, action, ref.original, registry=ref.domain)


def _api_error(exc: docker.errors.APIError, action: str, ref: Reference) -> PortsideError:
    return engine_error(exc, action, ref.original, registry=ref.domain)


# -- progress --------------------------------------------------------------------------------------------
class Display(Protocol):
    """What shows a transfer's progress: entered around the stream, told each message the engine sends."""

    def __enter__(self) -> object: ...

    def __exit__(self, *exc: object) -> None: ...

    def update(self, message: dict[str, Any]) -> None: ...


class _Progress:
    """One transient rich progress bar (bytes done / bytes known so far); silent when disabled."""

    def __init__(self, enabled: bool, description: str) -> None:
        self._bar: Any = None
        self._task: Any = None
        self._done: dict[str, int] = {}
        self._total: dict[str, int] = {}
        if enabled:
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), transient=True)
            self._task = self._bar.add_task(description, total=None)

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, message: dict[str, Any]) -> None:
        if self._bar is None or "id" not in message:
            return
        detail = message.get("progressDetail") or {}
        layer = str(message["id"])
        moving = message.get("status") in ("Pushing", "Downloading")  # not "Extracting": it restarts at 0
        if moving and detail.get("total"):
            self._total[layer] = int(detail["total"])
        if moving and detail.get("current") is not None:
            self._done[layer] = int(detail["current"])
        elif str(message.get("status", "")).startswith(_FINAL_LAYER_STATES) and layer in self._total:
            self._done[layer] = self._total[layer]
        total = sum(self._total.values()) or None
        self._bar.update(self._task, total=total, completed=sum(self._done.values()))


# -- helpers ---------------------------------------------------------------------------------------------
def _auth(username: str | None, password: str | None) -> dict[str, str] | None:
    if username is None:
        engine.client().api.reload_config(str(config_file()))  # logins made since
        return None
    return {"username": username, "password": password or ""}


def _follow(stream: Iterable[dict[str, Any]], display: Display) -> Iterator[dict[str, Any]]:
    """Yield the engine's messages to ``display`` and on; an error line is raised as docker-py's ``APIError``.

    docker-py raises for a failed request but only passes an error *line* on; raised like the
    request's errors (its text as the ``explanation``), both reach the same translator.
    """
    with display:
        for message in stream:
            if "error" in message or "errorDetail" in message:
                detail = message.get("errorDetail") or {}
                reason = str(detail.get("message") or message.get("error"))
                raise docker.errors.APIError(reason, explanation=reason)
            display.update(message)
            yield message


def _layer_states(messages: Iterable[dict[str, Any]]) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """Split the stream into each layer's last status (in first-seen order) and the other messages."""
    last: dict[str, str] = {}
    rest: list[dict[str, Any]] = []
    for message in messages:
        status = str(message.get("status", ""))
        if "id" in message and status and not status.startswith("Pulling from"):
            last[str(message["id"])] = status
        else:
            rest.append(message)
    return list(last.items()), rest


# -- public ----------------------------------------------------------------------------------------------
def tag(source: str | Reference, target: str | Reference) -> None:
    """``docker tag SOURCE TARGET``: give a local image another name (no bytes are copied)."""
    target_ref = parsed(target)
    try:
        ok = engine.client().api.tag(str(source), target_ref.repository, tag=target_ref.tag or DEFAULT_TAG)
    except docker.errors.NotFound:
        raise ImageUnavailable(f"Cannot tag {str(source)!r}: there is no local image with that name.",
                               hint="List local images with `docker images`.") from None
    except docker.errors.APIError as exc:
        raise engine_error(exc, "docker tag", f"{source} {target}") from None
    if not ok:
        raise EngineError(f"docker tag {source} {target} failed.")


def push(reference: str | Reference, *, username: str | None = None, password: str | None = None,
         progress: bool = True) -> PushResult:
    """``docker push``: upload a local image to its registry; returns the digest and each layer's fate."""
    ref = parsed(reference)
    if ref.digest:
        raise RegistryError(f"Cannot push {ref.original!r}: a push names a tag, not a digest.",
                            hint="Push localhost:PORT/repo:tag; the registry answers with the digest.")
    tag_name = ref.tag or DEFAULT_TAG
    auth = _auth(username, password)
    repository = ref.repository
    try:
        stream = engine.client().api.push(repository, tag=tag_name, stream=True, decode=True, auth_config=auth)
        messages = list(_follow(stream, _Progress(progress, f"push {ref.original}")))
    except docker.errors.APIError as exc:
        raise _api_error(exc, "Push to", ref) from None
    layers, rest = _layer_states(messages)
    digest, size = _pushed_digest(rest)
    if not digest:
        raise RegistryError(f"Push {ref.original} ended without a digest from the engine.")
    return PushResult(reference=f"{repository}:{tag_name}", digest=digest, size=size, layers=layers)


def _pushed_digest(messages: Iterable[dict[str, Any]]) -> tuple[str, int]:
    """The manifest digest and size a push reports: its ``aux`` message, else its final status line."""
    digest, size = "", 0
    for message in messages:
        aux = message.get("aux")
        if isinstance(aux, dict) and aux.get("Digest"):
            return str(aux["Digest"]), int(aux.get("Size") or 0)
        found = _DIGEST_LINE.search(str(message.get("status", "")))
        if found:
            digest, size = found["digest"], int(found["size"])
    return digest, size


def engine_pull(reference: str | Reference, *, username: str | None = None, password: str | None = None,
                display: Display | None = None) -> Any:
    """The one ``docker pull``, with docker-py's errors as they are; returns the ``docker.models.images.Image``.

    An ``error`` line of the engine's stream is raised as ``docker.errors.APIError`` too, its text as the
    ``explanation``. ``display`` sees every message (none: a silent pull). :func:`pull` is the friendly form.
    """
    ref = parsed(reference)
    auth = _auth(username, password)
    repository = ref.repository
    tag_or_digest = ref.digest or ref.tag or DEFAULT_TAG
    cli = engine.client()
    stream = cli.api.pull(repository, tag=tag_or_digest, stream=True, decode=True, auth_config=auth)
    for _ in _follow(stream, display or _Progress(False, "")):
        pass
    sep = "@" if ref.digest else ":"
    return cli.images.get(f"{repository}{sep}{tag_or_digest}")


def pull(reference: str | Reference, *, username: str | None = None, password: str | None = None,
         progress: bool = True) -> Any:
    """``docker pull``: download an image into the engine; returns the ``docker.models.images.Image``."""
    ref = parsed(reference)
    try:
        return engine_pull(ref, username=username, password=password,
                           display=_Progress(progress, f"pull {ref.original}"))
    except docker.errors.ImageNotFound:
        raise RegistryError(f"Pull {ref.original} finished but the engine has no such image.") from None
    except docker.errors.APIError as exc:
        raise _api_error(exc, "Pull of", ref) from None

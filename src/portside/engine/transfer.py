"""Push, pull and tag images through the Docker engine, with readable results and errors.

``docker push`` is a stream of JSON messages from the engine: one line per layer
state change ("Preparing", "Pushing", "Pushed", "Layer already exists",
"Mounted from …"), then an ``aux`` message with the manifest digest and size.
:func:`push` reads that stream, shows an optional progress bar, and returns what
happened to each layer; an ``error`` line becomes one of Portside's errors.

Credentials: ``username``/``password`` are sent for this one request; otherwise the
engine gets the login saved in the course's Docker config by
:func:`portside.registry.docker_login`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import docker.errors

from portside import engine
from portside.base.paths import docker_config_dir
from portside.errors import ImageUnavailable, PortsideError, RegistryAuthError, RegistryError, RegistryUnreachable
from portside.oci.reference import DEFAULT_TAG, Reference
from portside.oci.reference import parse as parse_reference

__all__ = ["PushResult", "pull", "push", "tag"]

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
    """Turn an engine error line into a Portside error that says what to do."""
    lower = message.lower()
    where = ref.domain
    if any(s in lower for s in ("unauthorized", "authentication required", "no basic auth credentials",
                                "denied", "access to the resource is denied")):
        return RegistryAuthError(
            f"{action} {ref.original} refused: not logged in, or the credentials are wrong ({message}).",
            status=401,
            hint=f"Log in with docker_login({where!r}, user, password), or pass username= and password=.")
    if "server gave http response to https client" in lower:
        return RegistryError(
            f"{action} {ref.original} failed: the engine spoke HTTPS, the registry answered plain HTTP ({message}).",
            hint=("The engine only uses plain HTTP for 'insecure registries': loopback (localhost, 127.0.0.0/8) "
                  "and those listed under insecure-registries in daemon.json. Use localhost:PORT, not another "
                  "name or IP, or give the registry a TLS certificate."))
    if "connection refused" in lower or "no such host" in lower or "i/o timeout" in lower:
        return RegistryUnreachable(f"{action} {ref.original} failed: nothing answered at {where} ({message}).")
    if "does not exist locally" in lower or "no such image" in lower:
        return ImageUnavailable(f"{action} {ref.original} failed: there is no local image with that name.",
                                hint="Tag an existing image first: transfer.tag('busybox:1.35', reference).")
    if "manifest unknown" in lower or "not found" in lower:
        return RegistryError(f"{action} {ref.original} failed: the registry has no such image ({message}).",
                             status=404, hint="Check the repository and tag (client.tags(repository)).")
    return RegistryError(f"{action} {ref.original} failed: {message}")


def _api_error(exc: docker.errors.APIError, action: str, ref: Reference) -> PortsideError:
    return _stream_error(str(exc.explanation or exc), action, ref)


# -- progress --------------------------------------------------------------------------------------------
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
        engine.client().api.reload_config(str(docker_config_dir() / "config.json"))  # logins made since
        return None
    return {"username": username, "password": password or ""}


def _follow(stream: Iterable[dict[str, Any]], action: str, ref: Reference, progress: bool
            ) -> Iterator[dict[str, Any]]:
    """Yield the engine's messages, raising on an error line; drives the progress bar."""
    with _Progress(progress, f"{action.split()[0].lower()} {ref.original}") as bar:
        for message in stream:
            if "error" in message or "errorDetail" in message:
                detail = message.get("errorDetail") or {}
                raise _stream_error(str(detail.get("message") or message.get("error")), action, ref)
            bar.update(message)
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
def tag(source: str, target: str) -> None:
    """``docker tag SOURCE TARGET``: give a local image another name (no bytes are copied)."""
    target_ref = parse_reference(target)
    try:
        ok = engine.client().api.tag(source, target_ref.repository, tag=target_ref.tag or DEFAULT_TAG)
    except docker.errors.NotFound:
        raise ImageUnavailable(f"Cannot tag {source!r}: there is no local image with that name.",
                               hint="List local images with `docker images`.") from None
    except docker.errors.APIError as exc:
        raise PortsideError(f"docker tag {source} {target} failed: {exc.explanation or exc}") from None
    if not ok:
        raise PortsideError(f"docker tag {source} {target} failed.")


def push(reference: str, *, username: str | None = None, password: str | None = None,
         progress: bool = True) -> PushResult:
    """``docker push``: upload a local image to its registry; returns the digest and each layer's fate."""
    ref = parse_reference(reference)
    if ref.digest:
        raise RegistryError(f"Cannot push {reference!r}: a push names a tag, not a digest.",
                            hint="Push localhost:PORT/repo:tag; the registry answers with the digest.")
    tag_name = ref.tag or DEFAULT_TAG
    auth = _auth(username, password)
    repository = ref.repository
    try:
        stream = engine.client().api.push(repository, tag=tag_name, stream=True, decode=True, auth_config=auth)
        messages = list(_follow(stream, "Push to", ref, progress))
    except docker.errors.APIError as exc:
        raise _api_error(exc, "Push to", ref) from None
    layers, rest = _layer_states(messages)
    digest, size = "", 0
    for message in rest:
        aux = message.get("aux")
        if isinstance(aux, dict) and aux.get("Digest"):
            digest, size = str(aux["Digest"]), int(aux.get("Size") or 0)
    if not digest:
        raise RegistryError(f"Push {reference} ended without a digest from the engine.")
    return PushResult(reference=f"{repository}:{tag_name}", digest=digest, size=size, layers=layers)


def pull(reference: str, *, username: str | None = None, password: str | None = None,
         progress: bool = True) -> Any:
    """``docker pull``: download an image into the engine; returns the ``docker.models.images.Image``."""
    ref = parse_reference(reference)
    auth = _auth(username, password)
    repository = ref.repository
    tag_or_digest = ref.digest or ref.tag or DEFAULT_TAG
    cli = engine.client()
    try:
        stream = cli.api.pull(repository, tag=tag_or_digest, stream=True, decode=True, auth_config=auth)
        for _ in _follow(stream, "Pull of", ref, progress):
            pass
        sep = "@" if ref.digest else ":"
        return cli.images.get(f"{repository}{sep}{tag_or_digest}")
    except docker.errors.ImageNotFound:
        raise RegistryError(f"Pull {reference} finished but the engine has no such image.") from None
    except docker.errors.APIError as exc:
        raise _api_error(exc, "Pull of", ref) from None

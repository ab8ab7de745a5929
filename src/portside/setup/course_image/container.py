"""Run the course image against the engine outside it (Docker-outside-of-Docker), and tell whether that works.

**The engine.** The container talks to the engine that runs it, through that engine's socket mounted at
``/var/run/docker.sock`` (the image's ``DOCKER_HOST``). The learner inside is not root, so the container gets
the socket's group (``--group-add GID``, the group the socket file has on the engine's machine): access to
the engine and nothing else of the host.

**The network: the host's (``--network host``).** The course starts registries that publish on the engine
host's ``127.0.0.1`` (a registry with no password must not be reachable from the network). Two parties use
each such ``localhost:PORT``: the engine (``docker push``) and the notebook (the registry's HTTP API, cosign,
crane…). With the host's network namespace they mean the same thing, as on a learner's laptop. On a bridge
network the container's ``127.0.0.1`` is its own, so every call from the notebook to a registry fails, and
the usual Docker-outside-of-Docker remedies do not fit: testcontainers' ``TESTCONTAINERS_HOST_OVERRIDE`` or
the bridge's gateway reach only ports published on every interface, which the course refuses to do, and the
engine treats any address but loopback as a registry that must speak HTTPS. So the harness always runs the
course image with ``--network host``; JupyterLab then listens on the host's ``127.0.0.1`` too.
:func:`network_check` tells, from inside a container, whether it has that network (the doctor's line).
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.errors
import requests

from portside.base.labels import course_labels, session_id
from portside.base.paths import NAMESPACE_ENV, namespace
from portside.engine.daemon import client, is_local
from portside.errors import EngineError, SetupError, UsageError, engine_error
from portside.registry.ports import free_port, port_in_use, port_is_free
from portside.setup.course_image.image import TAG
from portside.setup.doctor import Check

__all__ = ["IN_CONTAINER_SOCKET", "EngineSocket", "Server", "engine_socket", "in_container", "network_check", "run",
           "serve"]

#: where the image expects the engine's socket (its ``DOCKER_HOST``)
IN_CONTAINER_SOCKET = "/var/run/docker.sock"
#: the kind label of a course-image container
KIND = "course-container"


@dataclass(frozen=True)
class EngineSocket:
    """The engine's API socket as its own machine sees it (what ``-v`` mounts) and the group that owns it."""

    path: Path
    gid: int


def engine_socket() -> EngineSocket:
    """The socket of the engine the course uses; refuses an engine that is not reached through a local socket."""
    client()  # picks the engine and sets DOCKER_HOST
    host = os.environ.get("DOCKER_HOST", "")
    if not host.startswith("unix://"):
        raise UsageError(f"The course image reaches its engine through the engine's socket, and this engine is at "
                         f"{host or 'an unknown address'} (not a local unix socket).",
                         hint="Run it on the machine whose engine it uses, with DOCKER_HOST=unix:///PATH.")
    path = Path(host.removeprefix("unix://"))
    try:
        return EngineSocket(path, path.stat().st_gid)
    except OSError as exc:
        raise SetupError(f"The engine's socket {path} cannot be read ({exc.strerror}).") from None


def _child_env() -> dict[str, str]:
    """The container's harness runs in a namespace and session of its own, below this run's (``NS-image``).

    So its ``leftovers()`` and doctor do not count the container they run in (it carries this run's labels),
    while everything it creates stays attributable: its session starts with this run's.
    """
    ns = namespace()
    return {NAMESPACE_ENV: f"{ns[:42]}-image" if ns else "image", "PORTSIDE_SESSION": f"{session_id()}-image"}


def run(command: Sequence[str] | None = None, *, image: str = TAG, env: Mapping[str, str] | None = None,
        volumes: Mapping[str, Mapping[str, str]] | None = None, network: str = "host", user: str | None = None,
        workdir: str | None = None, name: str | None = None) -> Any:
    """Start the course image detached (``docker run -d``) with the engine's socket, its group and the host network.

    ``command`` replaces the image's (JupyterLab); ``volumes`` are docker-py volume specs (host paths as the
    engine sees them). ``network`` other than ``host`` is for showing what breaks. Returns the docker-py
    container, labelled as the course's: remove it with ``container.remove(force=True)`` (or ``portside cleanup``).
    """
    sock = engine_socket()
    cli = client()
    mounts = {str(sock.path): {"bind": IN_CONTAINER_SOCKET, "mode": "rw"},
              **{path: dict(spec) for path, spec in (volumes or {}).items()}}
    try:
        return cli.containers.run(image, list(command) if command is not None else None, detach=True,
                                  network_mode=network, group_add=[str(sock.gid)], volumes=mounts,
                                  environment={**_child_env(), **(env or {})}, labels=course_labels(KIND),
                                  user=user, working_dir=workdir, name=name)
    except docker.errors.ImageNotFound:
        raise SetupError(f"{image} is not on this machine.",
                         hint="Build it: portside.setup.course_image.build().") from None
    except docker.errors.APIError as exc:
        raise engine_error(exc, "Starting", image) from None


@dataclass(frozen=True)
class Server:
    """JupyterLab served by a course-image container: open :attr:`url`; ``container.remove(force=True)`` ends it."""

    container: Any
    port: int
    token: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/lab?token={self.token}"


def serve(*, port: int | None = None, image: str = TAG, timeout: float = 60) -> Server:
    """Start JupyterLab in the course image on ``127.0.0.1:port`` of this machine and wait until it answers."""
    port = port or free_port()
    if not port_is_free(port):
        raise port_in_use(port)
    token = secrets.token_hex(16)
    container = run(["portside", "start", "--port", str(port)], image=image, env={"JUPYTER_TOKEN": token})
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/status", params={"token": token}, timeout=2).ok:
                return Server(container, port, token)
        except requests.RequestException:
            pass
        container.reload()
        if container.status != "running" or time.monotonic() > deadline:
            logs = container.logs(tail=15).decode("utf-8", "replace").strip()
            container.remove(force=True)
            raise EngineError(f"JupyterLab in {image} did not answer on 127.0.0.1:{port} "
                              f"({'it exited' if container.status != 'running' else f'within {timeout:.0f} s'}). "
                              f"Its last lines:\n{logs}", hint="Read its log above.")
        time.sleep(0.5)


def in_container() -> bool:
    """True when this process runs in a container (Docker writes ``/.dockerenv``, Podman ``/run/.containerenv``)."""
    return Path("/.dockerenv").exists() or Path("/run/.containerenv").exists()


def _gateway() -> str | None:
    """The address of the engine's default bridge on the engine's machine (its gateway), if it has one."""
    try:
        config = client().networks.get("bridge").attrs.get("IPAM", {}).get("Config") or []
    except docker.errors.APIError:
        return None
    return next((str(entry["Gateway"]) for entry in config if entry.get("Gateway") and ":" not in entry["Gateway"]),
                None)


def network_check() -> Check | None:
    """Inside a container: whether it shares the engine host's network (``localhost:PORT`` then reaches the
    registries the engine publishes). None outside a container, or when the engine does not tell.

    The test: the engine's bridge gateway is an address of the engine's machine; a socket can be bound to
    it only in that machine's network namespace.
    """
    if not in_container() or not is_local():
        return None
    gateway = _gateway()
    if gateway is None:
        return None
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((gateway, 0))
        except OSError:
            return Check("engine", "network", "fail",
                         "this container has a network of its own: the registries the course starts on the engine "
                         "host's 127.0.0.1 are out of its reach",
                         "Run the course image with the host's network: `docker run --network host …` (see "
                         "images/course/README.md).")
    return Check("engine", "network", "ok", "the engine host's (registries on localhost are reachable)")

"""The Docker engine: find one that answers, or (as root on Debian/Ubuntu) install and start one.

``client()`` is what every other module uses. It negotiates the API version, so
Engine 20.10 (API 1.41) up to current releases all work.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions

from portside.base.paths import isolate_docker_config, state_dir
from portside.base.proc import run
from portside.errors import EngineUnavailable

__all__ = ["EngineInfo", "candidate_hosts", "client", "ensure_engine", "image_names", "image_store", "info", "is_local",
           "list_images", "listed_tags", "start_system_engine", "uses_containerd_store"]

_DEFAULT_SOCKET = "unix:///var/run/docker.sock"


def candidate_hosts() -> list[str]:
    """Engine addresses to try, in order. ``DOCKER_HOST``, when set, is the only one."""
    if os.environ.get("DOCKER_HOST"):
        return [os.environ["DOCKER_HOST"]]
    from portside.engine.provided import SOCKET

    home = Path.home()
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    sockets = [
        Path("/var/run/docker.sock"),                 # Docker Engine, Docker Desktop (default)
        home / ".docker/run/docker.sock",             # Docker Desktop without the privileged helper
        home / ".colima/default/docker.sock",         # Colima
        Path(runtime) / "docker.sock",                # rootless Docker
        Path(runtime) / "podman/podman.sock",         # Podman (rootless)
        Path("/run/podman/podman.sock"),              # Podman (rootful)
    ]
    hosts = [f"unix://{SOCKET}"] if SOCKET.exists() else []  # the current engine the course provides, first
    hosts.append(_DEFAULT_SOCKET)
    hosts += [f"unix://{sock}" for sock in sockets[1:] if sock.exists()]
    return hosts


def _connect(base_url: str, timeout: int = 60) -> docker.DockerClient:
    isolate_docker_config()
    cli = docker.DockerClient(base_url=base_url, version="auto", timeout=timeout)
    cli.ping()
    return cli


@cache
def client() -> docker.DockerClient:
    """A docker-py client for the first engine that answers. Raises :class:`EngineUnavailable`."""
    tried: list[str] = []
    for host in candidate_hosts():
        try:
            cli = _connect(host)
        except (docker.errors.DockerException, requests.exceptions.RequestException, OSError):
            tried.append(host)
            continue
        os.environ.setdefault("DOCKER_HOST", host)  # the CLIs the course starts use the same engine
        from portside.engine.provided import link_buildx, link_cli

        link_buildx()  # `docker buildx …` under the course's DOCKER_CONFIG (see engine.provided)
        link_cli()
        return cli
    from portside.base.hosting import BINDER_HINT, on_binder

    raise EngineUnavailable(f"No Docker engine answered at {', '.join(tried)}.",
                            hint=BINDER_HINT if on_binder() else None)


def image_names() -> set[str]:
    """Every local image name (``repo:tag``), from one listing of the engine.

    docker-py's ``images.list()`` inspects each image in turn, so an image that another
    process removes meanwhile makes it raise ``ImageNotFound``; one ``GET /images/json``
    cannot fail that way.
    """
    return {tag for image in list_images() for tag in listed_tags(image)}


def list_images(*, all: bool = False, filters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """One ``GET /images/json`` listing, retried when an image vanished while the engine was listing.

    On the containerd image store the engine reads each image's content while it lists; another process
    removing an image at that moment makes the whole listing fail with 404 "content digest … not found".
    """
    for attempt in range(5):
        try:
            return list(client().api.images(all=all, filters=dict(filters) if filters else None))
        except docker.errors.NotFound:
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))
    return []  # pragma: no cover - the loop returns or raises


def listed_tags(image: Mapping[str, Any]) -> list[str]:
    """The tags of one entry of ``GET /images/json`` (an untagged image has none, not ``<none>:<none>``)."""
    return [tag for tag in image.get("RepoTags") or [] if tag != "<none>:<none>"]


def is_local(base_url: str | None = None) -> bool:
    """True when the engine runs on this machine (its published ports are on our loopback)."""
    url = base_url or client().api.base_url
    return url.startswith(("unix:", "http+unix:", "npipe:", "http+docker://localhost")) or any(
        host in url for host in ("://localhost", "://127.0.0.1", "://[::1]")
    )


@dataclass(frozen=True)
class EngineInfo:
    address: str
    server_version: str
    api_version: str
    operating_system: str
    storage_driver: str
    root_dir: str
    #: ``containerd`` (the containerd image store: image ID = manifest digest) or ``classic`` (ID = config digest)
    image_store: str = "classic"

    @property
    def containerd_store(self) -> bool:
        return self.image_store == "containerd"


def info() -> EngineInfo:
    """What the engine says about itself."""
    cli = client()
    version = cli.version()
    details = cli.info()
    return EngineInfo(
        address=os.environ.get("DOCKER_HOST") or cli.api.base_url,
        server_version=str(version.get("Version", "?")),
        api_version=str(cli.api.api_version),
        operating_system=str(details.get("OperatingSystem", "?")),
        storage_driver=str(details.get("Driver", "?")),
        root_dir=str(details.get("DockerRootDir", "?")),
        image_store=image_store(details),
    )


def image_store(details: Mapping[str, Any]) -> str:
    """``containerd`` or ``classic``, from ``GET /info`` (``DriverStatus`` names the containerd snapshotter)."""
    status = details.get("DriverStatus") or []
    if any(str(value).startswith("io.containerd.snapshotter") for _key, value in status):
        return "containerd"
    return "classic"


#: each client's image store, asked once: it belongs to the engine that client talks to, so a new client (after
#: ``client.cache_clear()``) asks again
_STORES: weakref.WeakKeyDictionary[docker.DockerClient, str] = weakref.WeakKeyDictionary()


def uses_containerd_store() -> bool:
    """True when the engine in use keeps images in containerd (local image ID = the manifest's digest)."""
    cli = client()
    if cli not in _STORES:
        _STORES[cli] = image_store(cli.info())
    return _STORES[cli] == "containerd"


def _is_debian_like() -> bool:
    return Path("/etc/debian_version").exists() and shutil.which("apt-get") is not None


def _wait_for(host: str, seconds: float, log: Path) -> docker.DockerClient:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            return _connect(host, timeout=10)
        except (docker.errors.DockerException, requests.exceptions.RequestException, OSError):
            time.sleep(0.3)
    tail = "\n  ".join(log.read_text(errors="replace").splitlines()[-10:]) if log.exists() else ""
    raise EngineUnavailable(
        f"dockerd was started but did not answer at {host} within {seconds:.0f} s. Its log ({log}) ends:\n  {tail}",
        hint="Read the log above; a common cause is another dockerd already holding /var/run/docker.pid.",
    )


def _start_dockerd(say: Callable[[str], None]) -> docker.DockerClient:
    """Debian's own docker.io (Engine 20.10 on Debian 12) on the default socket: the compatibility engine."""
    folder = state_dir("engine")
    log, pidfile = folder / "dockerd.log", folder / "dockerd.pid"
    if shutil.which("dockerd") is None:
        say("Installing Debian's docker.io package (Docker Engine)…")
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-qq"], timeout=600, env=env, what="apt-get update")
        run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "docker.io"], timeout=900, env=env,
            what="apt-get install docker.io",
            hint="Install Docker Engine yourself (`apt-get install docker.io`), start it, then run the command again.")
    say(f"Starting dockerd in the background (log: {log})…")
    with open(log, "ab") as out:
        subprocess.Popen(
            ["dockerd", "--pidfile", str(pidfile)], stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    return _wait_for(_DEFAULT_SOCKET, 60, log)


def ensure_engine(*, start: bool = True, say: Callable[[str], None] = print) -> EngineInfo:
    """Make sure an engine answers. As root on Debian/Ubuntu, install and start one if needed.

    Never installs anything when not root, and never when ``DOCKER_HOST`` names an engine.
    """
    try:
        client()
        return info()
    except EngineUnavailable as exc:
        if not start or os.environ.get("DOCKER_HOST") or os.geteuid() != 0 or not _is_debian_like():
            raise EngineUnavailable(
                exc.message,
                hint=(
                    "Start Docker Desktop (macOS/Windows), or Docker Engine / Colima / Podman's Docker socket "
                    "(Linux); if it listens somewhere unusual, set DOCKER_HOST. As root on Debian/Ubuntu, "
                    "`make setup` installs and starts Docker Engine for you."
                ),
            ) from None
    return start_system_engine(say)


def start_system_engine(say: Callable[[str], None] = print) -> EngineInfo:
    """Start (installing if needed) the system's Docker Engine from Debian's docker.io on the default socket.

    This is the old engine the compatibility run checks the course on (Engine 20.10 on Debian 12).
    """
    os.environ["DOCKER_HOST"] = _DEFAULT_SOCKET
    client.cache_clear()
    try:
        client()
    except EngineUnavailable:
        if os.geteuid() != 0 or not _is_debian_like():
            raise
        _start_dockerd(say)
        client.cache_clear()
    return info()

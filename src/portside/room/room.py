"""One room: a ``registry:2`` in token mode, the token service beside it, the accounts and the sheet.

>>> room = up(learners=3)                                   # doctest: +SKIP
>>> room.endpoint_for("learner-02").ref("learner-02/app", "1.0")   # doctest: +SKIP
'localhost:40123/learner-02/app:1.0'
>>> down()                                                  # doctest: +SKIP

Everything of a room lives in its state folder (``run_dir("workshop")``: one per namespace, so a test
run's room and an instructor's do not meet) and in two engine objects, both labelled
``org.portside.workshop=room``: the registry container and its data volume. The token service is a
process of the harness (:mod:`portside.room.server`) whose id ``room.json`` keeps. :func:`down`
removes all of it; with the signing key and the password hashes gone, no token or password of that
room is good anywhere any more.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import docker.errors
import requests

from portside.base.labels import course_labels
from portside.base.paths import namespace, run_dir
from portside.engine.daemon import client as docker_client
from portside.errors import PortInUse, RegistryError, RoomError, RoomNotRunning
from portside.oci import credentials
from portside.oci.endpoint import Endpoint
from portside.oci.tls import make_certificates
from portside.registry import maintenance
from portside.registry.container import Registry
from portside.registry.local_images import remove_local_names
from portside.registry.ports import free_port, port_is_free
from portside.registry.readiness import ContainerTarget
from portside.registry.token_auth import TokenAuth
from portside.room.accounts import Account, Accounts, make_accounts
from portside.room.settings import RoomSettings
from portside.room.tokens import create_signing_key

__all__ = ["ROOM_LABEL", "Room", "RoomStatus", "current", "down", "folder", "up"]

#: the label on the room's registry container and volume
ROOM_LABEL = "org.portside.workshop"
SERVICE, ISSUER = "portside-room", "portside-room-tokens"
_LOOPBACK = ("127.0.0.1", "localhost")


def folder() -> Path:
    """The room's state folder (this run's namespace's)."""
    return run_dir("workshop")


def _names() -> tuple[str, str]:
    ns = namespace()
    suffix = f"-{ns}" if ns else ""
    return f"portside-room{suffix}", f"portside-room-data{suffix}"


@dataclass(frozen=True)
class RoomStatus:
    """What ``portside workshop status`` prints first: is each part of the room up?"""

    registry: str  #: "running", "stopped" or "gone"
    tokens: str  #: "answering", or what went wrong
    issued: int  #: tokens the service has handed out since it started
    stored: int | None = None  #: bytes under the registry's storage (None when it is not running)
    uploads: int = 0  #: unfinished uploads (a failed push on a full disk leaves one behind)

    @property
    def healthy(self) -> bool:
        return self.registry == "running" and self.tokens == "answering"


class Room:
    """A running room, read from its ``room.json``; ``with up(N) as room:`` takes it down at the end."""

    def __init__(self, settings: RoomSettings, path: Path) -> None:
        self.settings = settings
        self.folder = path
        self.accounts = Accounts(path)

    def __enter__(self) -> Room:
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    # -- addresses ---------------------------------------------------------------------------------
    @property
    def ca_file(self) -> Path | None:
        """The course CA that signed the room's TLS certificate (a room on a LAN address), else None."""
        path = self.folder / "tls" / "ca.crt"
        return path if self.settings.tls and path.is_file() else None

    @property
    def endpoint(self) -> Endpoint:
        """The room registry, anonymous."""
        s = self.settings
        return Endpoint(s.host, s.registry_port, tls=s.tls, ca_file=self.ca_file)

    def endpoint_for(self, account: str | Account) -> Endpoint:
        """The room registry as ``account`` (``learner-07``, ``instructor``), with its password."""
        found = account if isinstance(account, Account) else self.accounts.get(account)
        return self.endpoint.as_user(found.name, found.password)

    @property
    def address(self) -> str:
        return self.settings.registry_address

    @property
    def token_url(self) -> str:
        return self.settings.realm

    # -- health --------------------------------------------------------------------------------------
    def _container(self) -> docker.models.containers.Container | None:
        try:
            return docker_client().containers.get(self.settings.container)
        except docker.errors.NotFound:
            return None

    def token_service_health(self, timeout: float = 5) -> tuple[str, int]:
        try:
            response = requests.get(f"{self.settings.token_base}/healthz", timeout=timeout,
                                    verify=str(self.ca_file) if self.ca_file else True)
            if response.status_code == 200:
                return "answering", int(response.json().get("issued", 0))
            return f"answering {response.status_code}", 0
        except requests.RequestException as err:
            return f"not answering ({type(err).__name__})", 0

    def status(self) -> RoomStatus:
        container = self._container()
        registry = "gone" if container is None else ("running" if container.status == "running" else "stopped")
        tokens, issued = self.token_service_health()
        stored, uploads = None, 0
        if container is not None and registry == "running":
            target = ContainerTarget(container)
            try:  # a status read: a registry busy rewriting its files is no reason to fail it
                stored, uploads = maintenance.disk_usage(target), len(maintenance.unfinished_uploads(target))
            except RegistryError:
                stored, uploads = None, 0
        return RoomStatus(registry, tokens, issued, stored, uploads)

    def purge_uploads(self) -> int:
        """Remove the registry's unfinished uploads (on a quiet room: one in flight goes too). Returns how many."""
        container = self._container()
        if container is None:
            raise RoomNotRunning("The room's registry container is gone.")
        return maintenance.purge_uploads(ContainerTarget(container))

    # -- the token service process -------------------------------------------------------------------
    def _start_token_service(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.folder / "token-service.log", "ab") as log:
            process = subprocess.Popen([sys.executable, "-m", "portside.room.server", str(self.folder)],
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                       start_new_session=True)
        self.settings = replace(self.settings, pid=process.pid)
        self.settings.save(self.folder)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = (self.folder / "token-service.log").read_text(errors="replace")[-600:]
                raise RoomError(f"The room's token service exited at start (code {process.returncode}):\n{tail}",
                                hint=f"Is port {self.settings.token_port} free? Try --token-port.")
            if self.token_service_health(timeout=1)[0] == "answering":
                return
            time.sleep(0.1)
        raise RoomError("The room's token service did not answer within 20 s.",
                        hint=f"See {self.folder / 'token-service.log'}.")

    def _token_service_pid(self) -> int | None:
        pid = self.settings.pid
        if not pid:
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return pid if b"portside.room.server" in cmdline and str(self.folder).encode() in cmdline else None

    def stop_token_service(self) -> None:
        """Stop the token service (``down``; also how the fault benchmark takes it away)."""
        pid = self._token_service_pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        if not self._gone(pid, within=10):
            os.kill(pid, signal.SIGKILL)
            self._gone(pid, within=5)

    def _gone(self, pid: int, *, within: float) -> bool:
        """Wait up to ``within`` seconds for the token service ``pid`` to exit (reaping it if it is our child)."""
        deadline = time.monotonic() + within
        while self._token_service_pid() is not None:
            if time.monotonic() >= deadline:
                return False
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)
        return True

    def start_token_service(self) -> None:
        """Start the token service again (after :meth:`stop_token_service`)."""
        if self._token_service_pid() is None:
            self._start_token_service()

    def restart_registry(self) -> None:
        """Restart the registry container in place (its data volume stays)."""
        container = self._container()
        if container is None:
            raise RoomNotRunning("The room's registry container is gone.")
        container.restart(timeout=2)

    # -- the end -------------------------------------------------------------------------------------
    def down(self) -> list[str]:
        """Remove the room: token service, registry, volume, local tags, saved logins, keys, accounts, sheet.

        A ``Room`` kept from before a ``down`` and a new ``up`` refuses: the room up now is another one.
        """
        try:
            now = RoomSettings.load(self.folder)
        except RoomNotRunning:
            now = self.settings
        if now.started != self.settings.started:
            raise RoomError("The room up in this namespace now is another one than this object's; nothing removed.",
                            hint="Take the current room down with portside.room.room.down() or "
                                 "`portside workshop down`.")
        removed = []
        if self._token_service_pid() is not None:
            self.stop_token_service()
            removed.append("the token service")
        client = docker_client()
        container = self._container()
        if container is not None:
            container.remove(force=True, v=True)
            removed.append(f"the registry container {self.settings.container}")
        try:
            client.volumes.get(self.settings.volume).remove(force=True)
            removed.append(f"its data volume {self.settings.volume}")
        except docker.errors.NotFound:
            pass
        remove_local_names(self.settings.registry_port)
        credentials.forget(self.address)
        shutil.rmtree(self.folder, ignore_errors=True)
        removed.append("the signing key, accounts and credentials sheet")
        return removed


def current() -> Room:
    """The room that is up in this namespace (:class:`RoomNotRunning` if none)."""
    path = folder()
    return Room(RoomSettings.load(path), path)


def _own_address(host: str) -> None:
    """Refuse a --listen address this machine does not have (binding would fail with a puzzling port error)."""
    import socket

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
    except OSError as err:
        raise RoomError(f"{host} is not an address of this machine ({err.strerror}), so the room cannot listen there.",
                        hint="Use the machine's address on the room's network (`ip -brief address` lists them), "
                             "or leave --listen out for loopback.") from None


def _port(requested: int | None, host: str, what: str) -> int:
    if requested is None:
        port = free_port()
        while not port_is_free(port, host):
            port = free_port()
        return port
    if not port_is_free(requested, host):
        option = "--port" if what == "registry" else "--token-port"
        raise PortInUse(f"Port {requested} on {host} is taken; the room's {what} cannot listen there.",
                        hint=f"Choose another {option}, or leave it out.")
    return requested


def up(learners: int, *, listen: str = "127.0.0.1", port: int | None = None, token_port: int | None = None,
       ttl: int = 300, image: str = "registry:2", storage_mb: int | None = None) -> Room:
    """Start a room for ``learners`` learners; on a non-loopback ``listen`` address it serves TLS (course CA).

    ``storage_mb`` caps the registry's storage (a tmpfs volume of that size), to see what a full disk does.
    """
    path = folder()
    if (path / "room.json").is_file():
        raise RoomError("A workshop room is already up on this machine.",
                        hint="Use it (`portside workshop status`), or take it down first: `portside workshop down`.")
    if not 30 <= ttl <= 3600:
        raise RoomError(f"A token lifetime of {ttl} s is not sensible.", hint="Use --token-ttl 30..3600 (seconds).")
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    tls = listen not in _LOOPBACK
    host = "localhost" if listen in _LOOPBACK else listen
    bind = "127.0.0.1" if listen in _LOOPBACK else listen
    _own_address(bind)
    container, volume = _names()
    settings = RoomSettings(learners=learners, listen=bind, host=host, registry_port=_port(port, bind, "registry"),
                            token_port=_port(token_port, bind, "token"), tls=tls, service=SERVICE, issuer=ISSUER,
                            ttl=ttl, container=container, volume=volume,
                            started=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    room = Room(settings, path)
    try:
        Accounts(path).save(make_accounts(learners))
        key = create_signing_key(path / "keys")
        # on a LAN address both servers speak TLS, with one certificate from a course CA kept with the room
        certs = make_certificates(path / "tls", extra_names=[host]) if tls else None
        settings.save(path)
        # the data volume is the room's (labelled as such); a size cap puts it on a tmpfs of that size
        tmpfs = {"type": "tmpfs", "device": "tmpfs", "o": f"size={storage_mb}m"} if storage_mb is not None else None
        docker_client().volumes.create(volume, driver="local", driver_opts=tmpfs,
                                       labels={**course_labels("registry-data"), ROOM_LABEL: "room"})
        room._start_token_service()
        registry = Registry(token=TokenAuth(settings.realm, SERVICE, ISSUER, key.ca_file), port=settings.registry_port,
                            name=container, volume=volume, image=image, bind=bind, certificates=certs,
                            labels={ROOM_LABEL: "room"})
        registry.start()
    except BaseException:
        room.down()
        raise
    return room


def down() -> list[str]:
    """Take this namespace's room down (nothing to do if none is up)."""
    try:
        room = current()
    except RoomNotRunning:
        return []
    return room.down()

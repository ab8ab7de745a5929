"""A real registry (``registry:2``, the CNCF Distribution registry) in a container, for one lesson.

>>> with Registry() as reg:                      # doctest: +SKIP
...     transfer.tag("busybox:1.35", reg.ref("tools/busybox", "1.35"))
...     transfer.push(reg.ref("tools/busybox", "1.35"))
...     reg.client().tags("tools/busybox")
['1.35']

It is a testcontainers ``DockerRegistryContainer`` with what a course needs on top:

* it listens on ``127.0.0.1`` only, and its address is ``localhost:PORT``: the Docker
  engine treats loopback registries as "insecure-OK", so pushing needs no daemon setup;
* optional htpasswd users (``users={"alice": "wonderland"}``), a throwaway TLS
  certificate (``tls=True``), a pull-through cache (``proxy=URL``), a named volume
  that survives :meth:`Registry.restart`;
* readiness is an explicit wait on ``GET /v2/`` (200, or 401 when it wants a login);
* :meth:`Registry.stop` removes everything it made: the container, its temporary
  certificate folder, the local image tags ``localhost:PORT/...``, the course's saved
  login for it, and a volume it created.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self, cast

import bcrypt
import docker.errors
from testcontainers.core.config import ConnectionMode, testcontainers_config
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import HttpWaitStrategy
from testcontainers.core.waiting_utils import WaitStrategy, WaitStrategyTarget

from portside import engine
from portside.base.labels import course_labels
from portside.base.paths import docker_config_dir
from portside.base.proc import run
from portside.errors import (
    ImageUnavailable,
    PortInUse,
    PortsideError,
    RegistryAuthError,
    RegistryError,
    RegistryUnreachable,
    ToolError,
)
from portside.oci.reference import join as join_reference
from portside.oci.reference import parse as parse_reference
from portside.oci.registry_client import RegistryClient
from portside.oci.tls import CertificateSet, bundle, make_certificates

with warnings.catch_warnings():  # its class body uses a decorator testcontainers itself deprecates
    warnings.simplefilter("ignore", DeprecationWarning)
    from testcontainers.community.registry import DockerRegistryContainer

__all__ = ["THROWAWAY_BCRYPT_ROUNDS", "Registry", "RegistryReady", "configure_testcontainers", "docker_login",
           "docker_logout", "htpasswd"]

CONTAINER_PORT = 5000
CONFIG_PATH = "/etc/docker/registry/config.yml"
DATA_PATH = "/var/lib/registry"
HTPASSWD_PATH = "/auth/htpasswd"
CERT_PATH, KEY_PATH = "/certs/server.crt", "/certs/server.key"
REALM = "Portside registry"


# -- testcontainers, configured in code --------------------------------------------------------------
def configure_testcontainers() -> None:
    """Make testcontainers work here without asking the learner to set variables.

    * The Ryuk reaper image cannot be pulled offline: when it is not present, Ryuk is
      disabled (cleanup is ours, by the ``org.portside.*`` labels).
    * With a local engine, containers are reached on ``localhost`` (testcontainers
      would otherwise guess the docker0 gateway when a ``/.dockerenv`` file exists, and
      the engine would then insist on HTTPS for the registry).
    * ``engine.client()`` exports ``DOCKER_HOST`` so testcontainers talks to the same engine.
    """
    cli = engine.client()
    if not testcontainers_config.ryuk_disabled:
        try:
            cli.images.get(testcontainers_config.ryuk_image)
        except docker.errors.NotFound:
            testcontainers_config.ryuk_disabled = True
    if engine.is_local() and testcontainers_config.connection_mode_override is None:
        testcontainers_config.connection_mode_override = ConnectionMode.docker_host


# -- small pieces ---------------------------------------------------------------------------------------
#: bcrypt cost of the course's own registries (lessons, labs, tests). registry:2 runs a full bcrypt
#: comparison for every request that carries a password: 50-85 ms per request at cost 10, ~3 ms at
#: cost 5 (benchmarks/registry_auth.py), and a push or a lab check makes dozens of requests. The
#: work factor is there to slow down offline guessing of *low-entropy* passwords from a stolen
#: htpasswd file, which does not apply to these users: their passwords are random (16+ characters
#: from ``secrets``, beyond guessing at any speed), they live for seconds to minutes, and the
#: registry listens on 127.0.0.1 only and is removed, file and all, when it stops. A registry
#: people really use should keep cost >= 10 (``htpasswd(users, rounds=12)``; ``htpasswd -B -C 12``).
#: registry:2 accepts any valid bcrypt hash (cost 4 to 31).
THROWAWAY_BCRYPT_ROUNDS = 5


def htpasswd(users: Mapping[str, str], *, rounds: int = THROWAWAY_BCRYPT_ROUNDS) -> bytes:
    """An htpasswd file: one ``user:bcrypt-hash`` line per user (the only hash registry:2 accepts).

    The default cost suits the course's throwaway registries only (see :data:`THROWAWAY_BCRYPT_ROUNDS`).
    """
    lines = []
    for user, password in users.items():
        if not user or any(c in user for c in ":\n\r") or not password:
            raise RegistryError(f"Invalid registry user {user!r}: names need no ':' or newline, and a password.")
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds, prefix=b"2a")).decode()
        lines.append(f"{user}:{hashed}\n")
    return "".join(lines).encode()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _port_in_use(port: int) -> PortInUse:
    return PortInUse(f"Port {port} on 127.0.0.1 is already in use, so the registry cannot listen there.")


_LOGRUS = re.compile(r'level=(\w+) msg="((?:[^"\\]|\\.)*)"')
_STACK_FRAME = re.compile(r"^(goroutine \d+|[\w./*-]+\(.*\)$|\s)")


def readable_log(text: str) -> list[str]:
    """registry:2 log lines made short: ``level: message`` for logrus lines, Go stack frames dropped."""
    lines = []
    for line in text.splitlines():
        if not line.strip() or _STACK_FRAME.match(line):
            continue
        found = _LOGRUS.search(line)
        lines.append(f"{found.group(1)}: {found.group(2)}" if found else line.strip())
    return lines


class RegistryReady(WaitStrategy):
    """Ready when ``GET /v2/`` answers 200 or 401; fails at once if the container stops.

    Wraps testcontainers' ``HttpWaitStrategy`` (polled every ``poll`` seconds) in
    one-second rounds; between rounds it checks the container is still running, so a
    registry that crashes on a bad setting is reported in about a second, not at the timeout.
    """

    def __init__(self, *, tls: bool = False, timeout: float = 30, poll: float = 0.05) -> None:
        super().__init__()
        self._startup_timeout = timeout
        self._http = (HttpWaitStrategy(CONTAINER_PORT, "/v2/").for_status_code(200).for_status_code(401)
                      .with_poll_interval(poll).with_startup_timeout(1))
        if tls:
            self._http.using_tls(insecure=True)  # readiness only: clients verify with the course CA

    def wait_until_ready(self, container: WaitStrategyTarget) -> None:
        deadline = time.monotonic() + self._startup_timeout
        while True:
            try:
                self._http.wait_until_ready(container)
                return
            except TimeoutError:
                pass
            container.reload()
            if container.status not in ("created", "running", "restarting"):
                raise TimeoutError(f"the registry container stopped (status: {container.status})")
            if time.monotonic() > deadline:
                raise TimeoutError(f"GET /v2/ did not answer 200 or 401 within {self._startup_timeout:.0f} s")


# -- the registry ------------------------------------------------------------------------------------------
class Registry(DockerRegistryContainer):
    """A real registry:2 in a container, context-managed, bound to 127.0.0.1."""

    def __init__(self, *, users: Mapping[str, str] | None = None, tls: bool = False, delete: bool = True,
                 proxy: str | None = None, proxy_username: str | None = None, proxy_password: str | None = None,
                 volume: str | None = None, keep_volume: bool = False, port: int | None = None,
                 name: str | None = None, image: str = "registry:2", startup_timeout: float = 30) -> None:
        configure_testcontainers()
        super().__init__(image=image, port=CONTAINER_PORT)
        # share the engine's docker-py client (one connection pool, same DOCKER_HOST and DOCKER_CONFIG)
        tc_client = self.get_docker_client()
        tc_client.client.close()
        tc_client.client = engine.client()

        self.port: int = port if port is not None else _free_port()
        self._port_requested = port is not None
        self.users: tuple[str, ...] = tuple(users or ())
        self._htpasswd = htpasswd(users) if users else None
        self.tls = tls
        self.volume = volume
        self.keep_volume = keep_volume
        self.proxy = proxy
        self.startup_timeout = startup_timeout
        self.startup_seconds: float | None = None  #: seconds from start() to /v2/ answering
        self._certs: CertificateSet | None = None
        self._created_volume = False

        if name:
            self.with_name(name)
        self.with_env("REGISTRY_HTTP_SECRET", secrets.token_hex(16))  # else it warns on every start
        if delete:
            self.with_env("REGISTRY_STORAGE_DELETE_ENABLED", "true")
        if self._htpasswd:
            self.with_envs(REGISTRY_AUTH="htpasswd", REGISTRY_AUTH_HTPASSWD_REALM=REALM,
                           REGISTRY_AUTH_HTPASSWD_PATH=HTPASSWD_PATH)
            self.with_copy_into_container(self._htpasswd, HTPASSWD_PATH, 0o644)
        if proxy:
            self.with_env("REGISTRY_PROXY_REMOTEURL", proxy)
            if proxy_username is not None:
                self.with_envs(REGISTRY_PROXY_USERNAME=proxy_username, REGISTRY_PROXY_PASSWORD=proxy_password or "")
        if volume:
            self.with_volume_mapping(volume, DATA_PATH, "rw")
        self.waiting_for(RegistryReady(tls=tls, timeout=startup_timeout))

    # -- addresses -------------------------------------------------------------------------------------
    @property
    def address(self) -> str:
        """``localhost:PORT``: the registry part of image references (``localhost:PORT/repo:tag``)."""
        return f"localhost:{self.port}"

    @property
    def url(self) -> str:
        """The API base URL, ``http://localhost:PORT`` (``https://`` with ``tls=True``)."""
        return f"{'https' if self.tls else 'http'}://{self.address}"

    @property
    def internal_url(self) -> str:
        """The URL other containers on the default bridge network reach this registry at (e.g. a proxy)."""
        container = self.get_wrapped_container()
        container.reload()
        attrs = container.attrs
        networks = attrs["NetworkSettings"]["Networks"]
        ip = attrs["NetworkSettings"].get("IPAddress") or next(iter(networks.values()))["IPAddress"]
        return f"{'https' if self.tls else 'http'}://{ip}:{CONTAINER_PORT}"

    @property
    def ca_file(self) -> Path | None:
        """PEM file of the throwaway CA that signed the registry's certificate (``tls=True``)."""
        return self._certs.ca_file if self._certs else None

    def get_registry(self) -> str:
        """testcontainers' name for :attr:`address`."""
        return self.address

    def ref(self, repository: str, tag: str | None = None, digest: str | None = None) -> str:
        """An image reference in this registry: ``localhost:PORT/repository[:tag][@digest]``."""
        return parse_reference(join_reference(self.address, repository, tag, digest)).original

    def client(self, username: str | None = None, password: str | None = None) -> RegistryClient:
        """A :class:`RegistryClient` for this registry (anonymous, or the course login, unless given a user)."""
        return RegistryClient(self.url, username=username, password=password, ca_file=self.ca_file)

    def tool_env(self) -> dict[str, str]:
        """Environment for CLIs (cosign, syft, curl, crane): course Docker config, engine, trusted CA bundle."""
        env = {"DOCKER_CONFIG": str(docker_config_dir())}
        if os.environ.get("DOCKER_HOST"):
            env["DOCKER_HOST"] = os.environ["DOCKER_HOST"]
        if self.ca_file:
            env["SSL_CERT_FILE"] = str(bundle(self.ca_file))
        return env

    # -- life cycle ------------------------------------------------------------------------------------
    def _claim_port(self) -> None:
        """Check the host port; a port we picked ourselves that got taken meanwhile is replaced."""
        if not _port_is_free(self.port):
            if self._port_requested:
                raise _port_in_use(self.port)
            self.port = _free_port()
        self.with_kwargs(labels=course_labels("registry", port=str(self.port)))
        # docker-py form for "publish on 127.0.0.1 only" (testcontainers' with_bind_ports has no host IP)
        cast("dict[str, Any]", self.ports)[str(CONTAINER_PORT)] = ("127.0.0.1", self.port)

    def _prepare(self) -> None:
        self._claim_port()
        if self.tls and self._certs is None:
            self._certs = make_certificates()
            self.with_copy_into_container(self._certs.cert_file.read_bytes(), CERT_PATH, 0o644)
            self.with_copy_into_container(self._certs.key_file.read_bytes(), KEY_PATH, 0o644)
            self.with_envs(REGISTRY_HTTP_TLS_CERTIFICATE=CERT_PATH, REGISTRY_HTTP_TLS_KEY=KEY_PATH)
        if self.volume:
            volumes = engine.client().volumes
            try:
                volumes.get(self.volume)
            except docker.errors.NotFound:
                volumes.create(self.volume, labels=course_labels("registry-data"))
                self._created_volume = True

    def start(self) -> Self:
        """Create and start the container, then wait until ``/v2/`` answers (times :attr:`startup_seconds`)."""
        if self._container is not None:
            return self
        began = time.monotonic()
        try:
            self._prepare()
            DockerContainer.start(self)  # create, copy files in, start, then RegistryReady
        except (TimeoutError, ConnectionError) as exc:  # ConnectionError: it exited before its port was published
            error = self._not_ready(str(exc))
            self._remove_container()
            raise error from None
        except docker.errors.ImageNotFound:
            self._remove_container()
            raise ImageUnavailable(f"The image {self.image} is not on this machine and could not be pulled.",
                                   hint="Run `portside images ensure` (it builds a stand-in offline).") from None
        except docker.errors.APIError as exc:
            self._remove_container()
            raise self._api_error(exc) from None
        except BaseException:
            self._remove_container()
            raise
        self.startup_seconds = time.monotonic() - began
        self._port_requested = True  # from now on the port is this registry's: restart() keeps it
        return self

    def _api_error(self, exc: docker.errors.APIError) -> PortsideError:
        text = str(exc.explanation or exc)
        if "address already in use" in text or "port is already allocated" in text:
            return _port_in_use(self.port)
        if exc.status_code == 409:
            return PortsideError(f"Could not create the registry container: {text}",
                                 hint="Choose another name, or remove the old one (`portside cleanup`).")
        if self._container is None:  # failed before a container existed: looking up or pulling the image
            return ImageUnavailable(f"The image {self.image} is not on this machine and could not be pulled "
                                    f"({text}).", hint="Run `portside images ensure` (it builds a stand-in offline).")
        return PortsideError(f"The engine refused to start the registry: {text}")

    def _not_ready(self, why: str) -> RegistryError:
        status, logs = "unknown", ""
        if self._container is not None:
            try:
                self._container.reload()
                status = self._container.status
                logs = self._container.logs(tail=80).decode(errors="replace")
            except docker.errors.APIError:
                pass
        tail = "\n  ".join(readable_log(logs)[-8:]) or "(no log lines)"
        return RegistryError(f"The registry at {self.address} did not become ready: {why}. "
                             f"Container status: {status}. Its last log lines:\n  {tail}",
                             hint="Read the log lines above; a wrong setting makes registry:2 exit at once.")

    def _remove_container(self) -> None:
        if self._container is not None:
            try:
                self._container.remove(force=True, v=True)  # v: its anonymous volume, never a named one
            except docker.errors.NotFound:
                pass
            self._container = None
            self._cached_container_info = None

    def restart(self) -> Self:
        """Replace the container with a new one on the same port, volume, users and certificate."""
        self._remove_container()
        return self.start()

    def stop(self, force: bool = True, delete_volume: bool = True) -> None:
        """Remove the container and everything this registry made (see the module docstring)."""
        self._remove_container()
        self._remove_local_tags()
        _forget_login(self.address)
        if self._created_volume and not self.keep_volume and self.volume:
            try:
                engine.client().volumes.get(self.volume).remove(force=True)
            except docker.errors.NotFound:
                pass
            self._created_volume = False
        if self._certs is not None:
            shutil.rmtree(self._certs.folder, ignore_errors=True)
            self._certs = None
            self._transferable_specs = [s for s in self._transferable_specs if s[1] not in (CERT_PATH, KEY_PATH)]

    def _remove_local_tags(self) -> None:
        """Untag local images ``localhost:PORT/...`` / ``127.0.0.1:PORT/...`` (by name: other tags stay)."""
        remove_local_names(self.port)

    # -- maintenance -----------------------------------------------------------------------------------
    def _exec(self, command: list[str], what: str) -> str:
        result = self.get_wrapped_container().exec_run(command)
        output = bytes(result.output or b"").decode(errors="replace")
        if result.exit_code != 0:
            tail = "\n  ".join(output.strip().splitlines()[-8:])
            raise RegistryError(f"{what} failed in the registry container (exit {result.exit_code}):\n  {tail}")
        return output

    def garbage_collect(self, *, dry_run: bool = False, delete_untagged: bool = False) -> str:
        """Run ``registry garbage-collect``: delete blobs no manifest refers to. Returns its report.

        A deleted manifest only unlinks; the bytes go when garbage collection runs.
        ``delete_untagged`` also deletes manifests no tag points at. Real registries
        run this in read-only mode; here the registry is then restarted in place, so
        its in-memory blob cache forgets the deleted blobs.
        """
        command = ["registry", "garbage-collect"]
        if dry_run:
            command.append("--dry-run")
        if delete_untagged:
            command.append("--delete-untagged")
        result = self.get_wrapped_container().exec_run([*command, CONFIG_PATH])
        output = bytes(result.output or b"").decode(errors="replace")
        if result.exit_code != 0 and "Path not found" in output and "/repositories" in output:
            return "Nothing to collect: the registry has not stored any repository yet.\n"
        if result.exit_code != 0:
            tail = "\n  ".join(readable_log(output)[-8:])
            raise RegistryError(f"registry garbage-collect failed (exit {result.exit_code}):\n  {tail}")
        if not dry_run:
            container = self.get_wrapped_container()
            container.restart(timeout=2)
            assert self._wait_strategy is not None
            try:
                self._wait_strategy.wait_until_ready(self)
            except TimeoutError as exc:
                raise self._not_ready(str(exc)) from None
        return output

    def disk_usage(self) -> int:
        """Bytes stored under ``/var/lib/registry`` (apparent size, measured with ``du`` in the container)."""
        output = self._exec(["busybox", "du", "-s", "-b", DATA_PATH], "du")
        return int(output.split()[0])


# -- logging in ------------------------------------------------------------------------------------------
def remove_local_names(port: int) -> None:
    """Remove the local image names (tags and digest names) that point at ``localhost:PORT``/``127.0.0.1:PORT``.

    Removal is by name, so an image that also has other names stays; an image in use by a running
    container is left alone (it is not ours to stop).
    """
    prefixes = (f"localhost:{port}/", f"127.0.0.1:{port}/")
    images = engine.client().images
    for image in engine.client().api.images():  # one listing: no per-image inspect to race with removals
        names = [t for t in image.get("RepoTags") or [] if t.startswith(prefixes)]
        digests = [d for d in image.get("RepoDigests") or [] if d.startswith(prefixes)]
        for name in names + digests:
            try:
                images.remove(name, noprune=False)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError:
                pass


def _config_env() -> dict[str, str]:
    engine.client()  # exports DOCKER_HOST and the course DOCKER_CONFIG
    return {"DOCKER_CONFIG": str(docker_config_dir())}


def docker_login(address: str, username: str, password: str) -> None:
    """``docker login --password-stdin``: store a login in the course's Docker config (never ``~/.docker``).

    The engine checks the password against the registry first; a refusal raises
    :class:`RegistryAuthError`. The password is sent on standard input and never
    appears in a message.
    """
    try:
        run(["docker", "login", "--username", username, "--password-stdin", address], input=password,
            env=_config_env(), timeout=60, what=f"docker login {address}")
    except ToolError as exc:
        text = exc.stderr.replace(password, "***") if password else exc.stderr
        lower = text.lower()
        if "401" in text or "unauthorized" in lower or "incorrect username or password" in lower:
            raise RegistryAuthError(f"{address} refused the login of user {username!r} (401 Unauthorized).",
                                    status=401) from None
        if "connection refused" in lower or "no such host" in lower:
            raise RegistryUnreachable(f"Nothing answered at {address} when logging in.") from None
        last = text.strip().splitlines()[-1] if text.strip() else "no error text"
        raise RegistryError(f"docker login {address} failed: {last}") from None


def docker_logout(address: str) -> None:
    """``docker logout ADDRESS``: forget the course's saved login for one registry."""
    run(["docker", "logout", address], env=_config_env(), timeout=30, what=f"docker logout {address}")


def _forget_login(address: str) -> None:
    """Drop a saved login for ``address`` from the course config (the registry is gone)."""
    config = docker_config_dir() / "config.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    auths = data.get("auths") or {}
    if address in auths:
        del auths[address]
        config.write_text(json.dumps(data, indent="\t") + "\n", encoding="utf-8")


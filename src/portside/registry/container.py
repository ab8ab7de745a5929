"""A real registry (``registry:2``, the CNCF Distribution registry) in a container, for one lesson.

>>> with Registry() as reg:                      # doctest: +SKIP
...     transfer.tag("busybox:1.35", reg.ref("tools/busybox", "1.35"))
...     transfer.push(reg.ref("tools/busybox", "1.35"))
...     reg.client().tags("tools/busybox")
['1.35']

It is a testcontainers ``DockerContainer``, built the way testcontainers' own modules
are (``_configure`` just before the container is created, files copied in with
``with_copy_into_container``, an explicit wait strategy), with what a course needs on top:

* it listens on ``127.0.0.1`` only, and its address is ``localhost:PORT``: the Docker
  engine treats loopback registries as "insecure-OK", so pushing needs no daemon setup;
* optional htpasswd users (``users={"alice": "wonderland"}``), a throwaway TLS
  certificate (``tls=True``), a pull-through cache (``proxy=URL``), a named volume
  that survives :meth:`Registry.restart`;
* readiness is an explicit wait on ``GET /v2/`` (200, or 401 when it wants a login):
  :class:`~portside.registry.readiness.RegistryReady`;
* :meth:`Registry.stop` removes everything it made: the container, its temporary
  certificate folder, the local image tags ``localhost:PORT/...``, the course's saved
  login for it, and a volume it created.

Its address, URL, TLS setting and CA file are one value, :attr:`Registry.endpoint`.
The other pieces live beside it, one job each: :mod:`~portside.registry.htpasswd`
(users files), :mod:`~portside.registry.ports`, :mod:`~portside.registry.readiness`,
:mod:`~portside.registry.logs`, :mod:`~portside.registry.maintenance` (garbage
collection, disk usage), :mod:`~portside.registry.login` (``docker login``/``logout``),
:mod:`~portside.registry.local_images` and :mod:`~portside.registry.tc_adapter` (what
testcontainers' public API does not cover). Their names used to live here and can
still be imported from here.
"""

from __future__ import annotations

import secrets
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Self

import docker.errors
from testcontainers.core.container import DockerContainer

from portside import engine
from portside.base.labels import course_labels
from portside.base.paths import state_dir
from portside.errors import EngineError, ImageUnavailable, PortsideError, UsageError, engine_case, engine_detail
from portside.oci import credentials
from portside.oci.endpoint import AtEndpoint, Endpoint
from portside.oci.registry_client import RegistryClient
from portside.oci.tls import CertificateSet, make_certificates
from portside.registry import maintenance
from portside.registry.htpasswd import THROWAWAY_BCRYPT_ROUNDS, htpasswd
from portside.registry.layout import (
    CERT_PATH,
    CONFIG_PATH,
    CONTAINER_PORT,
    DATA_PATH,
    HTPASSWD_PATH,
    KEY_PATH,
    REALM,
)
from portside.registry.local_images import remove_local_names
from portside.registry.login import docker_login, docker_logout
from portside.registry.logs import readable_log
from portside.registry.ports import free_port, port_in_use, port_is_free
from portside.registry.readiness import RegistryReady, not_ready
from portside.registry.tc_adapter import (
    configure_testcontainers,
    forget_container,
    publish_on_loopback,
    share_engine_client,
    started,
)
from portside.registry.token_auth import ROOT_BUNDLE_PATH, TokenAuth

__all__ = [
    "CONFIG_PATH",
    "CONTAINER_PORT",
    "DATA_PATH",
    "HTPASSWD_PATH",
    "THROWAWAY_BCRYPT_ROUNDS",
    "Registry",
    "RegistryReady",
    "configure_testcontainers",
    "docker_login",
    "docker_logout",
    "htpasswd",
    "readable_log",
    "remove_local_names",
]


class Registry(AtEndpoint, DockerContainer):
    """A real registry:2 in a container, context-managed, bound to 127.0.0.1.

    ``labels`` are added to the course's own (``org.portside.*``), e.g. a lab's.
    """

    def __init__(self, *, users: Mapping[str, str] | None = None, tls: bool = False, delete: bool = True,
                 proxy: str | None = None, proxy_username: str | None = None, proxy_password: str | None = None,
                 volume: str | None = None, keep_volume: bool = False, port: int | None = None,
                 name: str | None = None, image: str = "registry:2", startup_timeout: float = 30,
                 labels: Mapping[str, str] | None = None, token: TokenAuth | None = None,
                 bind: str = "127.0.0.1", tls_names: Sequence[str] = (),
                 certificates: CertificateSet | None = None) -> None:
        configure_testcontainers()
        super().__init__(image=image)
        share_engine_client(self)
        self.with_exposed_ports(CONTAINER_PORT)

        if token is not None and users:
            raise UsageError("A registry checks either htpasswd users or tokens, not both.",
                             hint="Pass users= for htpasswd, or token= for a token service.")
        #: the host address its port is published on (127.0.0.1 unless a room is served on a LAN address)
        self.bind = bind
        self.host = "localhost" if bind in ("127.0.0.1", "localhost") else bind
        self.tls_names = tuple(tls_names)
        self.token = token
        self.port: int = port if port is not None else free_port()
        self._port_requested = port is not None
        self.users: tuple[str, ...] = tuple(users or ())
        self._htpasswd = htpasswd(users) if users else None
        self.tls = tls or certificates is not None
        self.volume = volume
        self.keep_volume = keep_volume
        self.proxy = proxy
        self.startup_timeout = startup_timeout
        self.startup_seconds: float | None = None  #: seconds from start() to /v2/ answering
        self._labels = dict(labels or {})
        #: a certificate made by the caller (``certificates=``: a workshop room's, which its owner removes)
        self._certs: CertificateSet | None = certificates
        # where the throwaway certificate is written at the first start (copied in from there)
        self._cert_folder: Path | None = (certificates.folder if certificates is not None
                                          else state_dir("tls") / f"certs-{secrets.token_hex(6)}" if tls else None)
        self._created_volume = False
        self._ready = RegistryReady(tls=self.tls, timeout=startup_timeout)

        if name:
            self.with_name(name)
        self.with_env("REGISTRY_HTTP_SECRET", secrets.token_hex(16))  # else it warns on every start
        if delete:
            self.with_env("REGISTRY_STORAGE_DELETE_ENABLED", "true")
        if self._htpasswd:
            self.with_envs(REGISTRY_AUTH="htpasswd", REGISTRY_AUTH_HTPASSWD_REALM=REALM,
                           REGISTRY_AUTH_HTPASSWD_PATH=HTPASSWD_PATH)
            self.with_copy_into_container(self._htpasswd, HTPASSWD_PATH, 0o644)
        if token is not None:
            self.with_envs(**token.env())
            self.with_copy_into_container(token.root_bundle, ROOT_BUNDLE_PATH, 0o644)
        if proxy:
            self.with_env("REGISTRY_PROXY_REMOTEURL", proxy)
            if proxy_username is not None:
                self.with_envs(REGISTRY_PROXY_USERNAME=proxy_username, REGISTRY_PROXY_PASSWORD=proxy_password or "")
        if volume:
            self.with_volume_mapping(volume, DATA_PATH, "rw")
        if self._cert_folder is not None:  # files, read when the container is created
            self.with_copy_into_container(self._cert_folder / "server.crt", CERT_PATH, 0o644)
            self.with_copy_into_container(self._cert_folder / "server.key", KEY_PATH, 0o644)
            self.with_envs(REGISTRY_HTTP_TLS_CERTIFICATE=CERT_PATH, REGISTRY_HTTP_TLS_KEY=KEY_PATH)
        self.waiting_for(self._ready)

    # -- addresses -------------------------------------------------------------------------------------
    @property
    def endpoint(self) -> Endpoint:
        """Where this registry answers and how to talk to it: ``localhost:PORT``, its TLS setting, its CA."""
        return Endpoint(self.host, self.port, tls=self.tls, ca_file=self.ca_file)

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

    def get_container_host_ip(self) -> str:
        """Where testcontainers (the readiness wait) reaches the published port: the bind address off loopback."""
        return self.bind if self.host != "localhost" else super().get_container_host_ip()

    def get_registry(self) -> str:
        """testcontainers' name for :attr:`address`."""
        return self.address

    def client(self, username: str | None = None, password: str | None = None) -> RegistryClient:
        """A :class:`RegistryClient` for this registry (anonymous, or the course login, unless given a user)."""
        return self.endpoint.as_user(username, password).client()

    def tool_env(self) -> dict[str, str]:
        """Environment for CLIs (cosign, syft, curl, crane): course Docker config, engine, trusted CA bundle."""
        return self.endpoint.tool_env()

    # -- life cycle ------------------------------------------------------------------------------------
    def _claim_port(self) -> None:
        """Check the host port; a port we picked ourselves that got taken meanwhile is replaced."""
        if not port_is_free(self.port, self.bind):
            if self._port_requested:
                raise port_in_use(self.port)
            self.port = free_port()
        self.with_kwargs(labels={**course_labels("registry", port=str(self.port)), **self._labels})
        publish_on_loopback(self, CONTAINER_PORT, self.port, self.bind)

    def _configure(self) -> None:
        """testcontainers' hook, run by ``start()`` just before it creates the container: port, certificate, volume."""
        self._claim_port()
        if self._cert_folder is not None and self._certs is None:
            self._cert_folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._certs = make_certificates(self._cert_folder, extra_names=self.tls_names)
        if self.volume:
            volumes = engine.client().volumes
            try:
                volumes.get(self.volume)
            except docker.errors.NotFound:
                volumes.create(self.volume, labels=course_labels("registry-data"))
                self._created_volume = True

    def start(self) -> Self:
        """Create and start the container, then wait until ``/v2/`` answers (times :attr:`startup_seconds`)."""
        if started(self) is not None:
            return self
        began = time.monotonic()
        try:
            super().start()  # _configure, create, copy files in, start, then RegistryReady
        except (TimeoutError, ConnectionError) as exc:  # ConnectionError: it exited before its port was published
            error = not_ready(started(self), self.address, str(exc))
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
        """The engine's refusal to start the registry, by kind (:func:`portside.errors.engine_case`)."""
        text = engine_detail(exc)
        case = engine_case(exc)
        if case == "port-in-use":
            return port_in_use(self.port)
        if case == "conflict":
            return EngineError(f"Could not create the registry container: {text}",
                               hint="Choose another name, or remove the old one (`portside cleanup`).")
        if started(self) is None:  # failed before a container existed: looking up or pulling the image
            return ImageUnavailable(f"The image {self.image} is not on this machine and could not be pulled "
                                    f"({text}).", hint="Run `portside images ensure` (it builds a stand-in offline).")
        return EngineError(f"The engine refused to start the registry: {text}")

    def _remove_container(self, *, force: bool = True, delete_volume: bool = True) -> None:
        """Remove the container (``delete_volume``: its anonymous volume, never a named one)."""
        container = started(self)
        if container is not None:
            try:
                if not force:
                    container.stop()
                container.remove(force=force, v=delete_volume)
            except docker.errors.NotFound:
                pass
            forget_container(self)

    def restart(self) -> Self:
        """Replace the container with a new one on the same port, volume, users and certificate."""
        self._remove_container()
        return self.start()

    def stop(self, force: bool = True, delete_volume: bool = True) -> None:
        """Remove the container and everything this registry made (see the module docstring).

        ``force=False`` stops the registry gracefully before removing it (``force``: kill it).
        ``delete_volume=False`` keeps its volumes: the anonymous one, and a named one it created.
        Unlike ``DockerContainer.stop`` this leaves the docker-py client open: it is the engine's, shared.
        """
        self._remove_container(force=force, delete_volume=delete_volume)
        remove_local_names(self.port)
        credentials.forget(self.address)
        if delete_volume and self._created_volume and not self.keep_volume and self.volume:
            try:
                engine.client().volumes.get(self.volume).remove(force=True)
            except docker.errors.NotFound:
                pass
            self._created_volume = False
        if self._certs is not None:
            shutil.rmtree(self._certs.folder, ignore_errors=True)
            self._certs = None

    # -- maintenance -----------------------------------------------------------------------------------
    def garbage_collect(self, *, dry_run: bool = False, delete_untagged: bool = False) -> str:
        """Run ``registry garbage-collect``: delete blobs no manifest refers to. Returns its report.

        A deleted manifest only unlinks; the bytes go when garbage collection runs.
        ``delete_untagged`` also deletes manifests no tag points at. Real registries
        run this in read-only mode; here the registry is then restarted in place, so
        its in-memory blob cache forgets the deleted blobs.
        """
        return maintenance.garbage_collect(self, self.address, tls=self.tls, dry_run=dry_run,
                                           delete_untagged=delete_untagged, ready=self._ready)

    def disk_usage(self) -> int:
        """Bytes stored under ``/var/lib/registry`` (apparent size, measured with ``du`` in the container)."""
        return maintenance.disk_usage(self)

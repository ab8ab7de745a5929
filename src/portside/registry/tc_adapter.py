"""The few places the course goes around testcontainers' public API, in one module, each with its reason.

:class:`~portside.registry.Registry` is a plain ``DockerContainer`` subclass that uses
testcontainers' own hooks (``_configure``, ``with_copy_into_container``, a wait
strategy). What those hooks do not cover is done here, so that a testcontainers
upgrade has one file to check:

* :func:`configure_testcontainers` sets its global configuration in code;
* :func:`share_engine_client` hands it the engine's docker-py client;
* :func:`publish_on_loopback` publishes a port on 127.0.0.1 only;
* :func:`started` and :func:`forget_container` read and reset which container it holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import docker.errors
from testcontainers.core.config import ConnectionMode, testcontainers_config
from testcontainers.core.container import DockerContainer

from portside import engine

if TYPE_CHECKING:
    import docker.models.containers

__all__ = ["configure_testcontainers", "forget_container", "publish_on_loopback", "share_engine_client", "started"]


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


def share_engine_client(container: DockerContainer) -> None:
    """Let ``container`` use the engine's docker-py client: one connection pool, same ``DOCKER_HOST`` and config.

    testcontainers opens a client of its own per container (there is no parameter for
    an existing one); it is closed and replaced. Because the client is shared, the
    container must never run ``DockerContainer.stop``, which closes it.
    """
    tc_client = container.get_docker_client()
    tc_client.client.close()
    tc_client.client = engine.client()


def publish_on_loopback(container: DockerContainer, container_port: int, host_port: int,
                        host_ip: str = "127.0.0.1") -> None:
    """Publish ``container_port`` on ``127.0.0.1:host_port`` only (or on ``host_ip``, a room's LAN address).

    ``with_bind_ports`` has no host IP; ``ports`` is handed to docker-py as it is, and
    docker-py's form for "this IP, this port" is a tuple (the attribute is typed for ints).
    """
    cast("dict[str, Any]", container.ports)[str(container_port)] = (host_ip, host_port)


def started(container: DockerContainer) -> docker.models.containers.Container | None:
    """The docker-py container testcontainers created, or ``None`` (``get_wrapped_container`` raises instead)."""
    return container._container


def forget_container(container: DockerContainer) -> None:
    """Make ``container`` hold no container, so that ``start()`` creates a new one (after a removal).

    testcontainers only ever forgets a container by being garbage-collected; its cached
    inspect result would otherwise describe the removed one.
    """
    container._container = None
    container._cached_container_info = None

"""When a registry is ready: an explicit testcontainers wait strategy, and the error that says why it is not.

:class:`RegistryReady` is what :class:`~portside.registry.Registry` waits with after a
start, and what :func:`wait_ready` waits with after a restart in place (garbage
collection). :class:`ContainerTarget` lets the same strategy wait on a registry
container found by label (a lab's), which no ``Registry`` object holds.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import docker.errors
from testcontainers.core.wait_strategies import HttpWaitStrategy
from testcontainers.core.waiting_utils import WaitStrategy, WaitStrategyTarget

from portside.errors import RegistryError, RegistryUnreachable
from portside.registry.layout import CONTAINER_PORT
from portside.registry.logs import readable_log

if TYPE_CHECKING:
    import docker.models.containers

__all__ = ["ContainerTarget", "RegistryReady", "not_ready", "wait_ready"]


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


class ContainerTarget:
    """A running registry container (docker-py), seen as testcontainers' ``WaitStrategyTarget``.

    The course publishes a registry on 127.0.0.1 with a fixed host port, so the host and
    the port are read from the container's own settings.
    """

    def __init__(self, container: docker.models.containers.Container) -> None:
        self._container = container

    def get_container_host_ip(self) -> str:
        return "127.0.0.1"

    def get_exposed_port(self, port: int) -> int:
        bindings = (self._container.attrs.get("HostConfig") or {}).get("PortBindings") or {}
        for binding in bindings.get(f"{port}/tcp") or []:
            if binding.get("HostPort"):
                return int(binding["HostPort"])
        raise ConnectionError(f"the registry container publishes no host port for {port}/tcp")

    def get_wrapped_container(self) -> docker.models.containers.Container:
        return self._container

    def get_logs(self) -> tuple[bytes, bytes]:
        return self._container.logs(stderr=False), self._container.logs(stdout=False)

    def reload(self) -> None:
        self._container.reload()

    @property
    def status(self) -> str:
        return str(self._container.status)


def not_ready(container: docker.models.containers.Container | None, address: str, why: str) -> RegistryError:
    """The error for a registry that did not answer: what was seen, the container's status, its last log lines."""
    status, logs = "unknown", ""
    if container is not None:
        try:
            container.reload()
            status = container.status
            logs = container.logs(tail=80).decode(errors="replace")
        except docker.errors.APIError:
            pass
    tail = "\n  ".join(readable_log(logs)[-8:]) or "(no log lines)"
    return RegistryUnreachable(f"The registry at {address} did not become ready: {why}. "
                               f"Container status: {status}. Its last log lines:\n  {tail}",
                               hint="Read the log lines above; a wrong setting makes registry:2 exit at once.")


def wait_ready(target: WaitStrategyTarget, address: str, *, tls: bool, strategy: WaitStrategy | None = None) -> None:
    """Wait until the registry in ``target`` answers (``strategy``: default :class:`RegistryReady`)."""
    try:
        (strategy or RegistryReady(tls=tls)).wait_until_ready(target)
    except (TimeoutError, ConnectionError) as exc:
        raise not_ready(target.get_wrapped_container(), address, str(exc)) from None

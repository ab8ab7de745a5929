"""Course-made Docker networks, to reach a registry at an address that is not loopback.

The Docker engine only speaks plain HTTP to a registry it considers *insecure*:
by default every address in ``127.0.0.0/8`` (plus anything listed under
``insecure-registries`` in ``daemon.json``). To show what happens elsewhere without
sending a packet off this machine, a lesson attaches its registry container to a
bridge network of its own and pushes to the container's address there: a private
IP that lives on this host's bridge interface.

>>> with course_network("portside-01") as net:              # doctest: +SKIP
...     address = address_on(net, registry)                 # e.g. "172.18.0.2:5000"
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import docker.errors

from portside import engine
from portside.base.labels import course_labels, session_id
from portside.errors import EngineError, engine_detail, engine_error

__all__ = ["address_on", "course_network"]

REGISTRY_PORT = 5000


@contextmanager
def course_network(prefix: str) -> Iterator[Any]:
    """A labelled bridge network ``PREFIX-SESSION`` for the ``with`` block; containers are detached at the end.

    The session id in the name lets two notebooks (or a notebook and the tests) run side by side.
    """
    cli = engine.client()
    name = f"{prefix}-{session_id()}"
    try:
        network = cli.networks.create(name, driver="bridge", labels=course_labels("network"))
    except docker.errors.APIError as exc:
        refused = EngineError(f"Could not create the network {name}: {engine_detail(exc)}", status=exc.status_code,
                              hint="A network of that name may be left over: run `portside cleanup`.")
        raise engine_error(exc, "Creating the network", name, instead={"conflict": refused, "other": refused}) \
            from None
    try:
        yield network
    finally:
        network.reload()
        for container in network.containers:
            try:
                network.disconnect(container, force=True)
            except docker.errors.APIError:
                pass
        try:
            network.remove()
        except docker.errors.NotFound:
            pass


def address_on(network: Any, registry: Any, port: int = REGISTRY_PORT) -> str:
    """Connect ``registry``'s container to ``network`` and return ``IP:PORT`` there (a private, non-loopback IP)."""
    container = registry.get_wrapped_container()
    network.connect(container)
    container.reload()
    settings = (container.attrs.get("NetworkSettings") or {}).get("Networks") or {}
    ip = (settings.get(network.name) or {}).get("IPAddress")
    if not ip:
        raise EngineError(f"The registry container got no address on the network {network.name}.")
    parsed = ipaddress.ip_address(ip)
    if parsed.is_loopback or not parsed.is_private:
        raise EngineError(f"Unexpected address {ip} on {network.name}: expected a private, non-loopback IP.")
    return f"{ip}:{port}"

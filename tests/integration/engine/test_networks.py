"""portside.engine.networks: a course network gives the registry a non-loopback address on this machine,
and the engine then refuses plain HTTP — the failure lesson 01 shows."""

from __future__ import annotations

import ipaddress
import secrets

import pytest

from portside import engine
from portside.base.labels import COURSE
from portside.engine.networks import address_on, course_network
from portside.engine.transfer import push, tag
from portside.errors import RegistryError
from portside.registry.container import Registry


def test_non_loopback_address_needs_https_and_everything_is_removed() -> None:
    password = secrets.token_urlsafe(16)
    cli = engine.client()
    with Registry(users={"ada": password}) as registry, course_network("portside-test-net") as network:
        assert network.attrs["Labels"][COURSE] == "true"
        remote = address_on(network, registry)
        ip = ipaddress.ip_address(remote.split(":")[0])
        assert ip.is_private and not ip.is_loopback and remote.endswith(":5000")
        elsewhere = f"{remote}/ada/box:1"
        tag("busybox:1.35", elsewhere)
        try:
            with pytest.raises(RegistryError, match="server gave HTTP response to HTTPS client"):
                push(elsewhere, username="ada", password=password, progress=False)
        finally:
            cli.images.remove(elsewhere)
        name = network.name
        assert registry.client("ada", password).catalog() == []  # nothing arrived
    assert not cli.networks.list(names=[name])

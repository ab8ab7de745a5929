"""The registry's pieces against the real engine: stop()'s arguments, the readiness wait and garbage
collection on a container found by label, and the one writer of htpasswd lines."""

from __future__ import annotations

import uuid

import bcrypt
import docker.errors
import pytest

from portside import engine
from portside.errors import RegistryError
from portside.registry import THROWAWAY_BCRYPT_ROUNDS, Registry, htpasswd
from portside.registry.admin import htpasswd_line
from portside.registry.maintenance import NOTHING_TO_COLLECT, garbage_collect
from portside.registry.readiness import ContainerTarget, RegistryReady, wait_ready


def test_htpasswd_files_are_made_of_htpasswd_lines() -> None:
    """htpasswd() (course registries) and htpasswd_line() (the lesson's formats) are one writer."""
    line = htpasswd_line("alice", "wonderland", rounds=THROWAWAY_BCRYPT_ROUNDS, prefix="2a")
    assert line.startswith(f"alice:$2a${THROWAWAY_BCRYPT_ROUNDS:02d}$")
    assert htpasswd_line("alice", "wonderland").startswith("alice:$2b$10$")
    both = htpasswd({"alice": "wonderland", "bob": "builder"}).decode().splitlines()
    assert [entry.split(":", 1)[0] for entry in both] == ["alice", "bob"]
    assert bcrypt.checkpw(b"builder", both[1].split(":", 1)[1].encode())
    with pytest.raises(RegistryError, match="and a password"):
        htpasswd({"alice": ""})


def test_stop_honours_force_and_delete_volume() -> None:
    """stop(force=False) stops the registry before removing it; delete_volume=False keeps its volumes."""
    name = f"portside-test-{uuid.uuid4().hex[:8]}"
    cli = engine.client()
    reg = Registry(volume=name).start()
    container = reg.get_wrapped_container()
    try:
        reg.stop(force=False, delete_volume=False)
        with pytest.raises(docker.errors.NotFound):
            cli.containers.get(container.id)
        cli.volumes.get(name)  # created by the registry, kept as asked
    finally:
        cli.volumes.get(name).remove(force=True)


def test_a_container_found_by_label_is_waited_on_and_collected() -> None:
    """ContainerTarget lets RegistryReady and garbage_collect work on a bare docker-py container."""
    with Registry(tls=True) as reg:
        found = engine.client().containers.get(reg.get_wrapped_container().id)
        target = ContainerTarget(found)
        assert target.get_exposed_port(5000) == reg.port
        wait_ready(target, reg.address, tls=True)
        assert garbage_collect(target, reg.address, tls=True) == NOTHING_TO_COLLECT
        assert reg.client().ping() == 200
        found.stop(timeout=1)
        with pytest.raises(RegistryError, match="Container status: exited"):
            wait_ready(target, reg.address, tls=True, strategy=RegistryReady(tls=True, timeout=3))

"""What a learner sees when part of the workshop room fails, and that nothing half-written is left visible.

The faults of benchmarks/workshop_load.py, each on a room of its own: the registry restarted while a
large blob upload is in flight, the token service down, a token expired, the room's storage full. Each
test checks the words a learner gets (the harness' error kind and text), that a retry or a re-login
works, and that no tag or manifest of the failed push is visible.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portside import errors
from portside.room import room as rooms

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
load: Any = importlib.import_module("workshop_load")


@pytest.fixture
def room() -> Iterator[rooms.Room]:
    with rooms.up(learners=3) as room:
        yield room


@pytest.fixture
def full_room() -> Iterator[rooms.Room]:
    with rooms.up(learners=2, storage_mb=24) as room:
        yield room


def kind(seen: dict[str, Any]) -> type[errors.PortsideError]:
    found: type[errors.PortsideError] = getattr(errors, seen["kind"])
    return found


def test_a_registry_restart_mid_push_fails_clearly_leaves_nothing_partial_and_a_retry_works(room: rooms.Room) -> None:
    fault = load.fault_registry_restart(room)
    seen = fault.seen["push (HTTP API)"]
    assert issubclass(kind(seen), errors.RegistryError)
    assert room.endpoint.url in seen["message"]
    assert "broke off: the registry closed the connection before it answered" in seen["message"]
    after = fault.facts["after_failure"]
    assert after["tags"] == []
    assert after["manifest"] is None
    assert len(after["blobs_present"]) == 2  # the config and the small layer, complete; not the large one
    assert fault.facts["retry_ok"], fault.seen.get("retry")
    assert fault.facts["retry_verified"] == 4  # manifest, config, both layers
    assert fault.ok


def test_with_the_token_service_down_a_learner_is_told_and_a_token_already_held_keeps_working(room: rooms.Room) -> None:
    token_address = room.token_url.split("//", 1)[1].removesuffix("/token")
    fault = load.fault_token_service_down(room)
    assert fault.facts["status_while_down"].startswith("not answering")
    client = fault.seen["RegistryClient.tags"]
    assert kind(client) is errors.RegistryAuthError
    assert "token service" in client["message"] and token_address in client["message"]
    assert "answered, but the token service it sends clients to did not" in client["message"]
    assert fault.facts["new_push_failed"]
    engine = fault.seen["docker push"]
    assert kind(engine) is errors.RegistryAuthError
    assert "oauth token" in engine["message"] and token_address in engine["message"]
    assert "the registry answered, but the token service it sends you to" in engine["message"]
    assert fault.facts["held_token_pull_verified"] == 4
    assert fault.facts["verified_after_restart"] == 4, fault.seen.get("push after the service is back")
    assert fault.ok


def test_an_expired_token_is_refused_as_invalid_and_logging_in_again_works(room: rooms.Room) -> None:
    fault = load.fault_token_expired(room)
    assert fault.facts["expired_for_s"] > 60  # past registry:2's clock-skew allowance
    registry = fault.seen["registry"]
    assert registry["status"] == 401 and 'error="invalid_token"' in registry["www_authenticate"]
    assert fault.facts["fresh_token_status"] == 404  # the same claims, not backdated: let in (nothing pushed yet)
    token_only = fault.seen["token only, no password"]
    assert kind(token_only) is errors.RegistryAuthError and token_only["status"] == 401
    assert fault.facts["relogin_refreshed"] == 1
    assert fault.facts["relogin_verified"] == 4
    assert fault.facts["registry_client_tags"] == ["1"]
    assert fault.ok


def test_a_full_disk_fails_the_push_the_registry_says_so_and_nothing_half_written_is_tagged(
        full_room: rooms.Room) -> None:
    fault = load.fault_disk_full(full_room)
    assert fault.facts["storage_mb"] == 24
    pushed = fault.seen["push (HTTP API)"]
    assert kind(pushed) is errors.RegistryError and pushed["status"] == 500
    assert "is out of storage space" in pushed["message"] and "no space left on device" in pushed["message"]
    assert "no space left on device" in fault.seen["registry"]["body"]
    after = fault.facts["after_failure"]
    assert after["tags"] == [] and after["manifest"] is None
    assert fault.facts["used_after_failure_pct"] == 100
    assert fault.facts["small_push_while_full"] == "RegistryError 500"  # the failed upload's bytes stay
    assert fault.facts["purged"] >= 1 and fault.facts["used_after_purge_pct"] < 50
    assert fault.facts["docker_push_failed"] and fault.facts["docker_push_tags"] == []
    assert issubclass(kind(fault.seen["docker push"]), errors.RegistryError)
    assert "the registry dropped the upload part-way" in fault.seen["docker push"]["message"]
    assert fault.facts["verified_after_purge"] == 4
    assert fault.ok

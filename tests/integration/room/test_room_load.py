"""A room's worth of learners at once on the workshop registry: the suite's short form of benchmarks/workshop_load.py.

Thirty learners, each as its own account, push an image of their own into their own namespace at the
same moment (monolithic and chunked blob uploads, a manifest PUT) and pull it back, through the registry
HTTP API, against the room (token auth) and a plain htpasswd registry with the same images. What must
hold every time is asserted: no errors, every digest checked. The numbers (throughput, latency, the token
service's overhead) are the full benchmark's to report (docs/workshop-load.md), not timed asserts here.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portside.errors import RegistryAuthError
from portside.registry.container import Registry
from portside.room import room as rooms

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
load: Any = importlib.import_module("workshop_load")

LEARNERS = 30


@pytest.fixture(scope="module")
def room() -> Iterator[rooms.Room]:
    room = rooms.up(learners=LEARNERS)
    try:
        yield room
    finally:
        room.down()


@pytest.fixture(scope="module")
def logins(room: rooms.Room) -> dict[str, tuple[str, str]]:
    return {name: load.login_of(room, name) for name in load.learner_names(LEARNERS)}


@pytest.fixture(scope="module")
def plain(logins: dict[str, tuple[str, str]]) -> Iterator[Registry]:
    with Registry(users=dict(logins.values())) as registry:
        yield registry


@pytest.fixture(scope="module")
def summaries(room: rooms.Room, plain: Registry, logins: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """One round of the short load on both registries (the same images), summed per registry."""
    targets = [load.Target("htpasswd", plain.url, dict(logins)), load.Target("room", room.endpoint.url, dict(logins))]
    results = load.run_load(targets, LEARNERS, 1, load.SHORT)
    found: dict[str, Any] = load.summarise(results, load.SHORT, LEARNERS)
    print("\n" + load.table(found) + f"\ntoken overhead {100 * load.overhead(found):+.1f} %")  # shown with -s
    return found


@pytest.mark.parametrize("target", ["room", "htpasswd"])
def test_thirty_learners_push_and_pull_at_once_without_an_error(summaries: dict[str, Any], target: str) -> None:
    summary = summaries[target]
    assert summary.stats.errors == [], f"{summary.errors} of {LEARNERS} learners failed"
    assert summary.images == LEARNERS


@pytest.mark.parametrize("target", ["room", "htpasswd"])
def test_every_pulled_digest_is_verified(summaries: dict[str, Any], target: str) -> None:
    """Each learner's manifest (by tag, its bytes and the registry's digest header), config and three layers."""
    summary = summaries[target]
    assert summary.expected_digests == LEARNERS * 5
    assert summary.stats.verified == summary.expected_digests
    assert summary.stats.bytes_down == summary.stats.bytes_up  # everything pushed came back, nothing else


def test_the_room_hands_out_one_token_per_push_and_per_pull(summaries: dict[str, Any]) -> None:
    """Clients do the token dance once and reuse the token; the htpasswd registry never sends them to a realm."""
    assert summaries["room"].stats.tokens == 2 * LEARNERS
    assert summaries["htpasswd"].stats.tokens == 0
    chunked = summaries["room"].stats.latencies["blob upload (chunked)"]
    assert len(chunked) == LEARNERS  # each learner's large layer went up in PATCHes


def test_each_learner_landed_in_its_own_namespace(room: rooms.Room, summaries: dict[str, Any]) -> None:
    catalog = room.endpoint_for("instructor").client().catalog()
    assert sorted(r for r in catalog if r.endswith(f"/{load.REPOSITORY}")) == [
        f"{name}/{load.REPOSITORY}" for name in load.learner_names(LEARNERS)]


def test_a_learner_cannot_push_into_another_learners_namespace(room: rooms.Room, summaries: dict[str, Any]) -> None:
    user, password = load.login_of(room, "learner-01")
    image = load.make_image("learner-01", (1024,), seed=99)
    intruder = load.LoadClient(room.endpoint.url, user, password, actions=("pull", "push"))
    with pytest.raises(RegistryAuthError):
        intruder.push(f"learner-02/{load.REPOSITORY}", "r1", image)
    owner = load.LoadClient(room.endpoint.url, *load.login_of(room, "learner-02"), actions=("pull",))
    assert owner.tags(f"learner-02/{load.REPOSITORY}") == ["r1"]
    assert owner.manifest(f"learner-02/{load.REPOSITORY}", "r1").headers["Docker-Content-Digest"] != image.digest

"""Everything the course creates is labelled, found by one query and removed by it."""

from __future__ import annotations

import uuid

from portside import cleanup, engine
from portside.labels import course_labels, session_id


def test_cleanup_finds_and_removes_labelled_resources() -> None:
    cli = engine.client()
    session = f"test-{uuid.uuid4().hex[:8]}"
    labels = {**course_labels("test"), "org.portside.session": session}
    volume = cli.volumes.create(name=f"portside-test-{session}", labels=labels)
    network = cli.networks.create(f"portside-test-{session}", labels=labels)
    container = cli.containers.create("busybox:1.35", ["sleep", "30"], labels=labels, name=f"portside-test-{session}")
    try:
        found = cleanup.leftovers(session)
        assert len(found.containers) == len(found.networks) == len(found.volumes) == 1
        assert "(test)" in found.containers[0]
        removed = cleanup.cleanup(session)
        assert removed.containers == found.containers
        assert not cleanup.leftovers(session)
        assert str(cleanup.leftovers(session)).startswith("Nothing left behind")
    finally:  # in case an assertion failed before cleanup ran
        for remove in (lambda: container.remove(force=True), network.remove, lambda: volume.remove(force=True)):
            try:
                remove()
            except Exception:
                pass


def test_unlabelled_resources_are_left_alone() -> None:
    cli = engine.client()
    name = f"not-portside-{uuid.uuid4().hex[:8]}"
    volume = cli.volumes.create(name=name)
    try:
        cleanup.cleanup(session_id())
        assert cli.volumes.get(name).name == name
    finally:
        volume.remove(force=True)

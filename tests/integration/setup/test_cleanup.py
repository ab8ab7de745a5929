"""Everything the course creates is labelled, found by one query and removed by it."""

from __future__ import annotations

import io
import uuid

import docker.errors
import pytest

from portside import engine
from portside.base.labels import course_labels, session_id
from portside.setup import cleanup


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


def _build(tag: str, dockerfile: str, labels: dict[str, str] | None = None) -> str:
    image, _ = engine.client().images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True,
                                            pull=False, labels=labels)
    return str(image.id)


def test_remove_images_takes_built_steps_first_and_spares_a_learners_image() -> None:
    """Children before parents (the legacy builder's untagged steps too); a learner's tagged image keeps its base."""
    cli = engine.client()
    session = f"test-{uuid.uuid4().hex[:8]}"
    labels = {**course_labels("test-image"), "org.portside.session": session}
    base = _build(f"portside-test/cleanup-base:{session}", "FROM busybox:1.35\nRUN echo base > /base\n", labels)
    # built on it (and inheriting its labels): one untagged step, then a tagged image
    child = _build(f"portside-test/cleanup-child:{session}", f"FROM {base}\nRUN echo 1 > /one\nRUN echo 2 > /two\n")
    chain = [entry["Id"] for entry in cli.api.history(child)]  # newest first, down to busybox's own layers
    steps = chain[1:chain.index(base)]  # the untagged step image(s) between base and child
    assert steps
    kept = _build(f"portside-test/cleanup-kept:{session}", "FROM busybox:1.35\nRUN echo kept > /kept\n", labels)
    learners = _build(f"portside-test/cleanup-mine:{session}", f"FROM {kept}\nLABEL org.portside.course=false\n")
    try:
        done = cleanup.remove_images(session=session)
        assert f"portside-test/cleanup-base:{session}" in done and f"portside-test/cleanup-child:{session}" in done
        assert f"portside-test/cleanup-kept:{session} (kept: a learner's own image is built on it)" in done
        for gone in (base, child, *steps):
            with pytest.raises(docker.errors.ImageNotFound):
                cli.images.get(gone)
        assert cli.images.get(kept).id == kept and cli.images.get(learners).id == learners
    finally:
        for image in (learners, kept, child, base):
            try:
                cli.api.remove_image(image, force=True)
            except docker.errors.NotFound:
                pass

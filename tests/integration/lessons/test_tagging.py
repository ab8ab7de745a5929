"""Retagging on a real registry: through the API (same digest, no engine) and the engine's pull-tag-push way.

Invalid tags, refused before any request: ``tests/unit/lessons/test_retag_validation.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portside import engine
from portside.engine.transfer import push, tag
from portside.lessons.tagging import docker_retag, retag, tag_map
from portside.registry.container import Registry

SOURCE = "busybox:1.35"


@pytest.fixture(scope="module")
def registry() -> Iterator[Registry]:
    with Registry() as reg:
        yield reg


def test_retag_through_the_api_keeps_the_digest(registry: Registry) -> None:
    """GET + PUT of the same manifest bytes: new tags, same digest, no engine involved."""
    client = registry.client()
    tag(SOURCE, registry.ref("api/app", "1.0.0"))
    pushed = push(registry.ref("api/app", "1.0.0"), progress=False)
    assert retag(client, "api/app", "1.0.0", "1.0", "1", "sha-abc1234") == pushed.digest
    assert tag_map(client, "api/app") == {t: pushed.digest for t in ("1.0.0", "1.0", "1", "sha-abc1234")}
    assert list(tag_map(client, "api/app", ["1", "nope", "1.0.0"])) == ["1.0.0", "1"]  # sorted, missing left out


def test_docker_retag_pulls_tags_and_pushes(registry: Registry) -> None:
    """The engine's way gives the same digest; with pull_first it works on a machine without the image."""
    client = registry.client()
    source = registry.ref("engine/app", "1.0.0")
    tag(SOURCE, source)
    digest = push(source, progress=False).digest
    engine.client().images.remove(source)  # busybox:1.35 keeps the image itself
    assert docker_retag(source, registry.ref("engine/app", "1.0")) == digest
    assert docker_retag(source, registry.ref("engine/app", "1"), pull_first=False) == digest
    assert set(tag_map(client, "engine/app").values()) == {digest}

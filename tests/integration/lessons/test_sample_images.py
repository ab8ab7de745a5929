"""portside.lessons.sample_images against the real engine: one layer of its own per image, cleaned up by name."""

from __future__ import annotations

from collections.abc import Iterator

import docker.errors
import pytest

from portside import engine
from portside.base.labels import session_id
from portside.errors import ImageUnavailable
from portside.lessons.sample_images import SAMPLE, MiB, build_image, remove_images

PREFIX = f"portside-test/sample-{session_id()}"  # this run's own names: runs may overlap


@pytest.fixture
def names() -> Iterator[list[str]]:
    made: list[str] = []
    try:
        yield made
    finally:
        remove_images(made)


def _layers(name: str) -> list[str]:
    return list(engine.client().images.get(name).attrs["RootFS"]["Layers"])


def test_versions_share_only_the_base_layer(names: list[str]) -> None:
    names += [f"{PREFIX}:1.0", f"{PREFIX}:2.0"]
    ids = [build_image(name, size=MiB) for name in names]
    base = _layers("busybox:1.35")
    one, two = (_layers(name) for name in names)
    assert one[: len(base)] == two[: len(base)] == base
    assert len(one) == len(two) == len(base) + 1 and one[-1] != two[-1]
    image = engine.client().images.get(names[0])
    assert image.id == ids[0]
    assert image.labels["org.opencontainers.image.version"] == "1.0" and image.labels[SAMPLE] == "true"
    assert image.attrs["Size"] - engine.client().images.get("busybox:1.35").attrs["Size"] >= MiB


def test_a_seed_makes_the_same_layer(names: list[str]) -> None:
    names += [f"{PREFIX}:seeded-a", f"{PREFIX}:seeded-b"]
    ids = [build_image(name, size=4096, seed="portside", version="1.0") for name in names]
    assert _layers(names[0])[-1] == _layers(names[1])[-1]  # same bytes, same file name and time: same layer
    assert ids[0] == ids[1]  # and BuildKit's cache gives the second build the very same image


def test_remove_images_reports_what_it_removed(names: list[str]) -> None:
    build_image(f"{PREFIX}:gone", size=1024)
    assert remove_images([f"{PREFIX}:gone", f"{PREFIX}:never-built"]) == [f"{PREFIX}:gone"]
    with pytest.raises(docker.errors.ImageNotFound):
        engine.client().images.get(f"{PREFIX}:gone")


def test_missing_base_is_a_clear_error(names: list[str]) -> None:
    with pytest.raises(ImageUnavailable, match="base image portside-test/no-such-base:1 is not on this machine"):
        build_image(f"{PREFIX}:orphan", base="portside-test/no-such-base:1", size=16)

"""portside.lessons.myapp: built for real from busybox:1.35; someone else's myapp:latest is never re-pointed."""

from __future__ import annotations

from pathlib import Path

import pytest

from portside import engine
from portside.base.labels import COURSE, session_id
from portside.engine.build import build
from portside.errors import PortsideError
from portside.lessons import myapp

NAME = f"portside-test/myapp:{session_id()}"  # a tag of this run's own: runs may overlap


def test_build_labels_and_shares_busybox_layers() -> None:
    """BuildKit's image: busybox's layer and a new config with the labels; a rebuild is the same image."""
    cli = engine.client()
    try:
        image = myapp.build(NAME)
        base = cli.images.get(myapp.BASE)
        assert image.labels["org.opencontainers.image.title"] == "myapp"
        assert image.labels[COURSE] == "true"
        assert image.attrs["RootFS"]["Layers"] == base.attrs["RootFS"]["Layers"]
        assert image.attrs["Config"]["Cmd"] == ["echo", "hello from myapp"]
        assert myapp.build(NAME).id == image.id  # rebuilding over the course's own image is fine: BuildKit's cache
    finally:
        myapp.remove(NAME)
    assert not engine.list_images(filters={"reference": NAME})


def test_a_foreign_image_with_that_name_is_left_alone(tmp_path: Path) -> None:
    cli = engine.client()
    (tmp_path / "Dockerfile").write_text("FROM busybox:1.35\nLABEL mine=yes\n")
    foreign = build(tmp_path, tag=NAME).image  # a learner's own build: no course label
    try:
        with pytest.raises(PortsideError, match="not the course's"):
            myapp.build(NAME)
        myapp.remove(NAME)  # not the course's: stays
        assert cli.images.get(NAME).id == foreign.id
    finally:
        cli.images.remove(NAME)

"""portside.lessons.myapp: built for real from busybox:1.35; someone else's myapp:latest is never re-pointed."""

from __future__ import annotations

import io

import pytest

from portside import engine
from portside.base.labels import COURSE, session_id
from portside.errors import PortsideError
from portside.lessons import myapp

NAME = f"portside-test/myapp:{session_id()}"  # a tag of this run's own: runs may overlap


def test_build_labels_and_shares_busybox_layers() -> None:
    cli = engine.client()
    try:
        image = myapp.build(NAME)
        base = cli.images.get(myapp.BASE)
        assert image.labels["org.opencontainers.image.title"] == "myapp"
        assert image.labels[COURSE] == "true"
        assert image.attrs["RootFS"]["Layers"] == base.attrs["RootFS"]["Layers"]
        assert image.attrs["Config"]["Cmd"] == ["echo", "hello from myapp"]
        myapp.build(NAME)  # rebuilding over the course's own image is fine
    finally:
        myapp.remove(NAME)
    assert not cli.images.list(name=NAME)


def test_a_foreign_image_with_that_name_is_left_alone() -> None:
    cli = engine.client()
    foreign, _ = cli.images.build(fileobj=io.BytesIO(b"FROM busybox:1.35\nLABEL mine=yes\n"), tag=NAME, rm=True)
    try:
        with pytest.raises(PortsideError, match="not the course's"):
            myapp.build(NAME)
        myapp.remove(NAME)  # not the course's: stays
        assert cli.images.get(NAME).id == foreign.id
    finally:
        cli.images.remove(NAME)

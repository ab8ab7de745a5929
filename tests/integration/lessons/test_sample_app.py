"""pyapp, the demo app: the offline wheel cache, a BuildKit build with no network, non-root, labels.

The pin sets themselves (no engine, no network): ``tests/unit/lessons/test_sample_app_pins.py``.
"""

from __future__ import annotations

import re
import tarfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docker.errors
import pytest
from packaging.utils import parse_wheel_filename

from portside import engine
from portside.base.labels import COURSE, KIND, SESSION, course_labels, session_id
from portside.errors import BuildError
from portside.lessons import sample_app
from portside.tools.verify import HashMismatch, sha256_file


def test_wheels_are_cached_and_not_downloaded_again() -> None:
    """Every pinned wheel is in the course folder; a second ensure_wheels() finds them without calling pip."""
    sample_app.ensure_wheels()
    start = time.monotonic()
    folder = sample_app.ensure_wheels()
    assert time.monotonic() - start < 1.0
    names = {p.name.lower() for p in folder.glob("*.whl")}
    assert any(n.startswith("gitpython-3.1.29-") for n in names)
    assert any(n.startswith("h11-0.16.0-") for n in names)


def test_cached_wheels_match_their_pins() -> None:
    """Every wheel in the course's cache that a pin uses is byte-for-byte the reviewed one."""
    folder = sample_app.ensure_wheels()
    hashes = sample_app.pinned_hashes()
    for wheel in folder.glob("*.whl"):
        name, version, _, _ = parse_wheel_filename(wheel.name)
        key = (str(name), str(version))
        if key in hashes:
            assert sha256_file(wheel) in hashes[key], wheel


def _tamper(wheel: Path) -> None:
    with zipfile.ZipFile(wheel, "a") as archive:
        archive.writestr("h11/_added.py", "print('not what was reviewed')\n")


def test_a_tampered_cached_wheel_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reviewed pin is downloaded in hash-checking mode; if its cached wheel changes, setup and build refuse it."""
    monkeypatch.setenv("PORTSIDE_HOME", str(tmp_path / "home"))
    req = tmp_path / "requirements.txt"
    req.write_text("h11==0.16.0\n", encoding="utf-8")
    [wheel] = sample_app.ensure_wheels(req).glob("h11-*.whl")
    [pinned] = sample_app.pinned_hashes()[("h11", "0.16.0")]
    assert sha256_file(wheel) == pinned
    with tarfile.open(fileobj=sample_app._context(req)) as tar:  # the build's requirements carry the hash too
        sent = tar.extractfile("requirements.txt")
        assert sent is not None and f"h11==0.16.0 --hash=sha256:{pinned}" in sent.read().decode()
    _tamper(wheel)
    for attempt in (lambda: sample_app.ensure_wheels(req), lambda: sample_app._context(req)):
        with pytest.raises(HashMismatch) as caught:
            attempt()
        message = str(caught.value)
        assert "h11-0.16.0-py3-none-any.whl does not match the sha256 the course pinned for h11==0.16.0" in message
        assert f"sha256:{sha256_file(wheel)}" in message and f"expected sha256:{pinned}" in message
        assert "Delete that file" in message


def test_a_pin_the_course_did_not_review_still_builds_from_its_own_file(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Your own version (not in wheels.sha256) is downloaded as usual and the build pins that exact file."""
    monkeypatch.setenv("PORTSIDE_HOME", str(tmp_path / "home"))
    req = tmp_path / "requirements.txt"
    req.write_text("h11==0.14.0\n", encoding="utf-8")
    assert ("h11", "0.14.0") not in sample_app.pinned_hashes()
    [wheel] = sample_app.ensure_wheels(req).glob("h11-*.whl")
    with tarfile.open(fileobj=sample_app._context(req)) as tar:
        sent = tar.extractfile("requirements.txt")
        assert sent is not None and f"h11==0.14.0 --hash=sha256:{sha256_file(wheel)}" in sent.read().decode()


@pytest.fixture(scope="module")
def built() -> Iterator[str]:
    tag = f"portside-test-pyapp-build:{session_id()}"
    try:
        sample_app.build("vulnerable", tag)
        yield tag
    finally:
        sample_app.remove(tag)


@pytest.mark.slow
def test_build_runs_as_non_root_with_exactly_the_pins(built: str) -> None:
    """The image runs its app as uid 10001 with no network, on exactly the pinned versions."""
    cli = engine.client()
    output = cli.containers.run(built, remove=True, network_mode="none", labels=course_labels("sample-app-test"))
    text = output.decode()
    assert text.startswith("pyapp: GitPython 3.1.29, httpx 0.22.0")
    assert "h11        0.12.0" in text
    user = cli.containers.run(built, ["id", "-u"], remove=True, network_mode="none",
                              labels=course_labels("sample-app-test"))
    assert user.decode().strip() == "10001"
    attrs = cli.images.get(built).attrs["Config"]
    assert attrs["User"] == "app:app"


@pytest.mark.slow
def test_build_labels(built: str) -> None:
    """Course labels (this session) and OCI labels of its own on the image, not the stand-in base's."""
    labels = engine.client().images.get(built).labels
    assert labels[COURSE] == "true" and labels[KIND] == "sample-app" and labels[SESSION] == session_id()
    assert labels["org.portside.variant"] == "vulnerable"
    assert labels["org.portside.standin"] == "false"  # not inherited from the stand-in base
    assert labels["org.opencontainers.image.base.name"] == sample_app.BASE


@pytest.mark.slow
def test_bumping_one_dependency_alone_fails_the_build_clearly(tmp_path: Path) -> None:
    """httpx 0.28.1 needs httpcore 1.x: with the old httpcore pinned, pip (offline) refuses and says why."""
    req = tmp_path / "requirements.txt"
    text = sample_app.requirements_file("vulnerable").read_text(encoding="utf-8")
    req.write_text(text.replace("httpx==0.22.0", "httpx==0.28.1"), encoding="utf-8")
    tag = f"portside-test-pyapp-conflict:{session_id()}"
    before = _stage_images()
    try:
        with pytest.raises(BuildError, match=r"Building .* failed") as caught:
            sample_app.build("vulnerable", tag, requirements=req)
        message = str(caught.value)
        assert "httpcore" in message and "conflicting dependencies" in message  # pip's own words
        # BuildKit's step numbers and timings are stripped from pip's lines
        assert not any(line.startswith("#") or re.fullmatch(r"[\d.]+", line) for line in message.splitlines())
        assert _stage_images() <= before  # the steps that worked (the wheels copied in) left no image
    finally:
        sample_app.remove(tag)


def _stage_images() -> set[str]:
    """Untagged images holding pyapp's build stage (its copy of the wheels).

    BuildKit never makes one (a stage lives in its build cache only); the legacy builder kept every
    step as an untagged image. Other untagged images (a tag moved elsewhere) are not the build's.
    """
    cli = engine.client()
    found = set()
    for image in engine.list_images(filters={"dangling": True}):
        try:
            history = cli.api.history(image["Id"])
        except docker.errors.NotFound:
            continue
        if any("/wheels/" in (step.get("CreatedBy") or "") for step in history):
            found.add(image["Id"])
    return found


@pytest.mark.slow
def test_build_leaves_no_stage_images_behind() -> None:
    """The build stage (wheels, pip's work) is thrown away: no untagged image of it stays on the engine."""
    before = _stage_images()
    tag = f"portside-test-pyapp-stages:{session_id()}"
    try:
        sample_app.build("fixed", tag)
        assert _stage_images() <= before
    finally:
        sample_app.remove(tag)


@pytest.mark.slow
def test_a_rebuild_under_the_same_tag_removes_the_build_it_replaces() -> None:
    """The tag moves to the new build; the old one, now untagged, does not stay behind."""
    tag = f"portside-test-pyapp-rebuild:{session_id()}"
    cli = engine.client()
    try:
        first = sample_app.build("vulnerable", tag, labels={"org.portside.test": "first"})  # an image of its own
        second = sample_app.build("fixed", tag)
        assert second != first and cli.images.get(tag).id == second
        with pytest.raises(docker.errors.ImageNotFound):
            cli.images.get(first)
    finally:
        sample_app.remove(tag)

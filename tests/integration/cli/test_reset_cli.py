"""``portside reset`` through the entry point: what the lessons and labs made goes, what set-up made stays.

The test makes course state the way a learner does (a workshop room, a lab, a lesson registry with a
saved login and a pushed tag, an image the course built, lab progress), plus things that are *not* this
namespace's course state and must survive: unlabelled objects, another namespace's labelled ones with a
local name pointing at "its" registry, the course image (set-up builds it), a learner's own tag on a
course image, a login for a registry that is not the course's in the course config, and ``~/.docker``.

It runs in a namespace of its own (``…-reset``), so that the reset it runs cannot reach what other tests
of this process made (the run's shared demo app images carry this process's namespace).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from portside import engine
from portside.base.labels import NAMESPACE, SESSION, course_labels, session_id
from portside.base.paths import namespace, run_dir, state_dir
from portside.engine import build as buildkit
from portside.engine import transfer
from portside.errors import RoomNotRunning
from portside.labs import Progress
from portside.labs import start as start_lab
from portside.labs.context import LabState, find_container
from portside.oci import credentials
from portside.registry.container import Registry
from portside.registry.login import docker_login
from portside.room import room as rooms
from portside.setup.course_image.image import KIND as COURSE_IMAGE_KIND
from portside.setup.images import CATALOGUE
from portside.setup.reset import CERT_GRACE

ENTRY_POINT = shutil.which("portside", path=str(Path(sys.executable).parent))
LAB = "00-first-push"


def portside(*args: str) -> subprocess.CompletedProcess[str]:
    assert ENTRY_POINT is not None, "the `portside` entry point is not installed next to this Python"
    return subprocess.run([ENTRY_POINT, *args], capture_output=True, text=True, timeout=300, check=False)


def _exists(get: Callable[[str], Any], name: str) -> bool:
    try:
        get(name)
    except docker.errors.NotFound:
        return False
    return True


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


@pytest.fixture
def own_namespace(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """This test's own namespace (for this process and the commands it starts); its folder goes afterwards."""
    ns = f"{namespace() or 'learner'}-reset"[:48]
    monkeypatch.setenv("PORTSIDE_NAMESPACE", ns)
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)  # the course points it at this namespace's folder
    try:
        yield ns
    finally:
        shutil.rmtree(run_dir(), ignore_errors=True)


@pytest.mark.slow
def test_reset_removes_course_state_keeps_the_rest_and_runs_twice(own_namespace: str, tmp_path: Path) -> None:
    cli = engine.client()
    tag = uuid.uuid4().hex[:8]
    other_ns = f"{own_namespace[:40]}-other"
    home_config = Path.home() / ".docker" / "config.json"
    home_before = _digest(home_config)
    course_images = {name: cli.images.get(name).id for name in CATALOGUE}
    tools_before = portside("tools", "status", "--short")

    made: dict[str, Any] = {}
    try:
        # --- course state, as lessons and labs leave it ----------------------------------------------------
        made["room"] = rooms.up(learners=1)
        lab = start_lab(LAB, fresh=True)
        lab.check(1)  # not done yet: one attempt recorded in the progress file
        registry = made["registry"] = Registry(users={"ada": "reset-test-pass"}).start()  # a kernel that died
        docker_login(registry.address, "ada", "reset-test-pass")
        pushed = registry.ref("tools/busybox", "1.35")
        transfer.tag("busybox:1.35", pushed)
        transfer.push(pushed, progress=False)
        (tmp_path / "Dockerfile").write_text("FROM busybox:1.35\nRUN echo built > /built\n", encoding="utf-8")
        built = f"portside-test/reset-built:{tag}"
        # a lesson kernel of its own (its own build session), as each notebook is
        buildkit.build(tmp_path, tag=built, labels={**course_labels("test-image"), SESSION: f"{session_id()}-reset"})
        network = made["network"] = cli.networks.create(f"portside-test-reset-{tag}", labels=course_labels("test"))
        volume = made["volume"] = cli.volumes.create(f"portside-test-reset-{tag}", labels=course_labels("test"))

        # --- not this namespace's course state -------------------------------------------------------------
        plain_volume = made["plain_volume"] = cli.volumes.create(f"not-portside-{tag}")
        plain_container = made["plain_container"] = cli.containers.create("busybox:1.35", ["true"],
                                                                          name=f"not-portside-{tag}")
        elsewhere = {**course_labels("test", port="1"), NAMESPACE: other_ns}  # "its" registry was on port 1
        made["other_container"] = cli.containers.create("busybox:1.35", ["true"], labels=elsewhere,
                                                        name=f"portside-test-reset-other-{tag}")
        made["other_volume"] = cli.volumes.create(f"portside-test-reset-other-{tag}", labels=elsewhere)
        other_built = f"portside-test/reset-other:{tag}"
        buildkit.build(tmp_path, tag=other_built, labels={**elsewhere, SESSION: f"{session_id()}-other"})
        # the course image is set-up's (`portside course-image build`), though it carries the course labels
        setup_built = f"portside-test/reset-course-image:{tag}"
        buildkit.build(tmp_path, tag=setup_built,
                       labels={**course_labels(COURSE_IMAGE_KIND), SESSION: f"{session_id()}-setup"})
        other_name = f"localhost:1/reset-test/busybox:{tag}"
        mine = f"portside-test/mine:{tag}"
        for name in (other_name, mine):
            transfer.tag("busybox:1.35", name)
        config = credentials.read_config()
        config.setdefault("auths", {})["registry.example.com"] = {"auth": base64.b64encode(b"me:mine").decode()}
        credentials.write_config(config)
        stale = Path(state_dir("tls")) / f"certs-reset-test-{tag}"  # a dead lesson registry's certificate
        stale.mkdir()
        os.utime(stale, (time.time() - CERT_GRACE - 60,) * 2)

        registry_name = registry.get_wrapped_container().name
        lab_container = find_container(LAB)
        assert lab_container is not None and LabState(LAB).folder.is_dir()
        assert credentials.saved_login(registry.address) is not None

        # --- reset ------------------------------------------------------------------------------------------
        done = portside("reset")
        assert done.returncode == 0, done.stderr
        out = done.stdout
        assert "Took the workshop room down: the token service" in out
        assert f"Closed 1 lab (registry, local tags, saved login, passwords, work folder): {LAB}." in out
        assert f"{registry_name} (registry)" in out
        assert f"{network.name} (test)" in out and f"{volume.name} (test)" in out
        assert f"Removed 1 image the lessons built: {built}." in out
        assert f"local names pointing at course registries: {pushed}, " in out
        assert f"Forgot 1 saved login for course registries: {registry.address}." in out
        assert "Kept your lab progress" in out and "Traceback" not in done.stderr

        # what the course made is gone
        with pytest.raises(RoomNotRunning):
            rooms.current()
        assert not _exists(cli.containers.get, made["room"].settings.container)
        assert not _exists(cli.containers.get, lab_container.id) and not LabState(LAB).folder.exists()
        assert not _exists(cli.containers.get, registry.get_wrapped_container().id)
        for name in (pushed, built):
            assert not _exists(cli.images.get, name), name
        assert credentials.saved_login(registry.address) is None
        assert not _exists(cli.networks.get, network.id) and not _exists(cli.volumes.get, volume.name)
        if stale.exists():  # kept only while another namespace has a course registry, and then it says so
            assert "TLS certificate folder(s): another namespace's course registry is running" in out
        else:
            assert "throwaway TLS certificate folder" in out

        # what set-up made, what is not the course's, and what is another namespace's, stays
        assert {name: cli.images.get(name).id for name in CATALOGUE} == course_images
        tools_after = portside("tools", "status", "--short")
        assert (tools_after.returncode, tools_after.stdout) == (tools_before.returncode, tools_before.stdout)
        assert _exists(cli.volumes.get, plain_volume.name) and _exists(cli.containers.get, plain_container.id)
        assert _exists(cli.containers.get, made["other_container"].id)
        assert _exists(cli.volumes.get, made["other_volume"].name)
        for name in (setup_built, other_built, other_name, mine):
            assert _exists(cli.images.get, name), name
        assert credentials.saved_login("registry.example.com") is not None
        assert _digest(home_config) == home_before
        assert Progress().task(LAB, 1).attempts == 1

        # safe to run twice
        again = portside("reset")
        assert again.returncode == 0, again.stderr
        # the throwaway certificate folder is shared by every namespace: another run's registry that stopped
        # between the two resets leaves one for the second to take, which is not this namespace's state
        ours = [line for line in again.stdout.splitlines() if "TLS certificate folder" not in line]
        assert ours[0].startswith("Nothing to reset: no workshop room, lab, course container") or \
            ours[0].startswith("Kept your lab progress"), again.stdout
        assert "Kept your lab progress" in again.stdout

        # --progress: the progress file goes too
        forgot = portside("reset", "--progress")
        assert forgot.returncode == 0, forgot.stderr
        assert f"Removed your lab progress ({Progress().path})." in forgot.stdout
        assert not Progress().path.exists() and Progress().task(LAB, 1).attempts == 0
        assert "No lab progress to remove." in portside("reset", "--progress").stdout
    finally:
        _remove(made, tag)


def _remove(made: dict[str, Any], tag: str) -> None:
    """Whatever the test made that is still there (all of it, if reset did not run)."""
    cli = engine.client()
    rooms.down()
    if "registry" in made:
        made["registry"].stop()
    try:
        from portside.labs import close

        close(LAB)
    except Exception:  # never started
        pass
    for key in ("plain_container", "other_container"):
        if key in made:
            try:
                made[key].remove(force=True)
            except docker.errors.NotFound:
                pass
    for key in ("network", "volume", "plain_volume", "other_volume"):
        if key in made:
            try:
                made[key].remove(**({"force": True} if "volume" in key else {}))
            except docker.errors.NotFound:
                pass
    for name in (f"portside-test/reset-built:{tag}", f"portside-test/reset-other:{tag}",
                 f"portside-test/reset-course-image:{tag}",
                 f"localhost:1/reset-test/busybox:{tag}", f"portside-test/mine:{tag}"):
        try:
            cli.images.remove(name)
        except docker.errors.ImageNotFound:
            pass
    shutil.rmtree(Path(state_dir("tls")) / f"certs-reset-test-{tag}", ignore_errors=True)
    config = credentials.read_config()
    if (config.get("auths") or {}).pop("registry.example.com", None) is not None:
        credentials.write_config(config)

"""The room server end to end: JupyterHub with three learners, each with a course-image server and an engine of
their own. Each logs in through the hub's login form, has the hub start their server, runs lesson 00's cells in it
through the Jupyter server API (a session's kernel over its websocket), and cannot list or remove another
learner's containers. Everything the hub started is gone afterwards: its process, the proxy, the servers'
containers, the learners' engines with their bridges and data.

Needs root and the course's Engine 28 (``portside setup``); builds the course image and the hub image if this
machine lacks them (and then removes them again).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from portside.base.paths import project_root, run_dir
from portside.engine import provided
from portside.engine.daemon import client
from portside.errors import RoomError
from portside.room.accounts import Accounts, make_accounts
from portside.setup import course_image
from portside.workshop.hub import engines, hub, image
from portside.workshop.hub.client import Learner, notebook_cells

pytestmark = pytest.mark.slow

LEARNERS = ("learner-01", "learner-02", "learner-03")
LESSON = "notebooks/00-setup.ipynb"

#: run in a learner's kernel: start a container of theirs on their engine, print its id
MINE = """
import portside
mine = portside.engine.client().containers.run("busybox:1.35", ["sleep", "600"], detach=True,
                                               labels=portside.labels.course_labels("hub-test"))
print(mine.id)
"""
#: run in a learner's kernel: the ids of every container their engine shows
LIST = """
import portside
print(sorted(c.id for c in portside.engine.client().containers.list(all=True)))
"""
#: run in a learner's kernel with OTHER set: try to remove another learner's container by its id
REMOVE = """
import docker.errors, portside
try:
    portside.engine.client().containers.get(OTHER).remove(force=True)
    print("removed")
except docker.errors.NotFound:
    print("not found")
"""


def _bridges() -> list[str]:
    return sorted(name for name in os.listdir("/sys/class/net") if name.startswith(engines.BRIDGE_PREFIX))


def _hub_processes() -> list[str]:
    found = []
    home = str(run_dir("hub"))
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if any(home in arg for arg in args) or any("portside-hub" in arg for arg in args):
            found.append(" ".join(args))
    return found


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[hub.Hub, dict[str, str]]]:
    if os.geteuid() != 0:
        pytest.skip("the learners' engines need root")
    if not (provided.engine_root() / "usr" / "sbin" / "dockerd").is_file():
        pytest.skip("the course's Engine 28 root is missing (run `portside setup` as root)")
    built: list[str] = []
    if not image.exists(course_image.TAG):
        # as in test_course_image: this engine's stand-in base by its digest, missing wheels from PyPI
        course_image.build(repin=True, offline=False, say=lambda _: None)
        built.append(course_image.TAG)
    if not image.exists():
        image.build()
        built.append(image.TAG)
    folder = tmp_path_factory.mktemp("room")
    accounts = make_accounts(len(LEARNERS))
    Accounts(folder).save(accounts)
    passwords = {a.name: a.password for a in accounts if a.name in LEARNERS}
    try:
        yield hub.up(folder), passwords
    finally:
        hub.down()
        for tag in built:
            image.remove(tag)


def test_three_learners_each_run_lesson_00_on_an_engine_of_their_own(room: tuple[hub.Hub, dict[str, str]]) -> None:
    running, passwords = room
    learners = {name: Learner(running.url, name, pw) for name, pw in passwords.items()}

    refused = Learner(running.url, "learner-01", "not-the-password")
    with pytest.raises(RoomError, match="could not log in"):
        refused.login()

    def begin(learner: Learner) -> None:
        learner.login()
        learner.start()

    started = time.monotonic()
    with ThreadPoolExecutor(len(learners)) as pool:
        list(pool.map(begin, learners.values()))
    print(f"three servers and engines ready in {time.monotonic() - started:.0f} s")

    cells = notebook_cells(json.loads((project_root() or Path.cwd()).joinpath(LESSON).read_text()))
    kernels = {name: learner.kernel(path=LESSON) for name, learner in learners.items()}
    try:
        for name, kernel in kernels.items():
            results = kernel.run(cells)
            failed = [(r.source.splitlines()[0], r.error) for r in results if r.status != "ok"]
            assert not failed, f"{name}: {failed}"
            text = "".join(r.text for r in results)
            assert "same digest as the push: True" in text, text
            assert "Nothing left behind" in text, text
        print(f"lesson 00 run by three learners after {time.monotonic() - started:.0f} s")

        def one(name: str, code: str) -> str:
            result = kernels[name].run([code])[0]
            assert result.status == "ok", result
            return result.text.strip()

        # each learner starts a container; each then sees exactly their own, and cannot remove another's
        ids = {name: one(name, MINE) for name in kernels}
        assert len(set(ids.values())) == len(LEARNERS), ids
        for name in kernels:
            assert one(name, LIST) == repr([ids[name]]), f"{name} sees other containers than its own {ids[name]}"
        assert one("learner-01", f"OTHER = {ids['learner-02']!r}\n" + REMOVE) == "not found"
        assert one("learner-02", LIST) == repr([ids["learner-02"]])

        # each learner's engine is a daemon of its own (its own ID), none of them the course's
        engine_ids = {name: one(name, "print(portside.engine.client().info()['ID'])") for name in kernels}
        assert len(set(engine_ids.values())) == len(LEARNERS), engine_ids
        assert client().info()["ID"] not in engine_ids.values()
    finally:
        for kernel in kernels.values():
            kernel.close()

    assert _bridges() == [f"{engines.BRIDGE_PREFIX}{n:02d}" for n in (1, 2, 3)]


def test_down_leaves_nothing(room: tuple[hub.Hub, dict[str, str]]) -> None:
    hub.down()
    assert _bridges() == []
    assert engines.running() == []
    assert not run_dir("hub", "engines").exists() or not any(run_dir("hub", "engines").iterdir())
    assert _hub_processes() == []
    assert hub.down() == {"hub": 0, "servers": 0, "engines": 0}  # safe twice

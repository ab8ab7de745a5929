"""The course's own engine beside the system's: restarting ours leaves the system engine's networking alone.

Runs in the compatibility run (``scripts/test-compat.sh``), where the engine in use is the system's (Debian 12's
Engine 20.10) and the course's engine runs beside it; elsewhere it is skipped. It stops and starts the
course's engine, so it never runs while the main run uses that engine.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from portside.base.labels import course_labels
from portside.engine import daemon, provided
from portside.setup import engine as current

pytestmark = pytest.mark.skipif(
    os.environ.get("DOCKER_HOST") != "unix:///var/run/docker.sock" or not provided.SOCKET.exists(),
    reason="needs the system engine in use (the compatibility run) with the course's engine running beside it")


def _link(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", name], capture_output=True, check=False).returncode == 0


def test_restarting_the_course_engine_keeps_docker0_and_the_system_engine_working() -> None:
    assert _link("docker0"), "the system engine's bridge should exist before the test"
    current.stop(say=lambda _: None)
    current.start(say=lambda _: None)
    assert _link("docker0"), "starting the course's engine removed the system engine's docker0"
    assert current.is_running()
    out = daemon.client().containers.run("busybox:1.35", ["echo", "still bridged"], remove=True,
                                         labels=course_labels("test"))  # on the system engine's default bridge
    assert out.strip() == b"still bridged"

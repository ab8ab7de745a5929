"""The course's own current engine, for real: what it is, that it keeps to itself, and that BuildKit works on it.

Runs only where the engine in use is the one the course provides (``portside setup`` as root on Debian);
on any other engine these tests are skipped, and say why.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from portside.base.labels import course_labels
from portside.engine import build, daemon, provided
from portside.setup.engine import _RULE

pytestmark = pytest.mark.skipif(not provided.SOCKET.exists(), reason="the course's own engine is not running here")


@pytest.fixture(scope="module")
def ours() -> Iterator[daemon.EngineInfo]:
    found = daemon.info()
    if str(provided.SOCKET) not in found.address:
        pytest.skip(f"the engine in use is {found.address}, not the course's own")
    yield found


def test_it_is_a_current_engine_with_the_containerd_store(ours: daemon.EngineInfo) -> None:
    assert int(ours.server_version.split(".")[0]) >= 28
    assert ours.image_store == "containerd" and ours.containerd_store
    assert provided.buildx_plugin() is not None
    version = subprocess.run([provided.docker_cli(), "buildx", "version"], capture_output=True, text=True, check=True)
    assert "buildx" in version.stdout


def test_docker_exec_runs_inside_the_container_not_on_the_host(ours: daemon.EngineInfo) -> None:
    """A plain chroot would let ``docker exec`` see the host's file system; pivot_root does not."""
    cli = daemon.client()
    marker = Path("/") / f"portside-host-only-{uuid.uuid4().hex[:8]}"
    marker.mkdir()
    try:
        container = cli.containers.run("busybox:1.35", ["sleep", "60"], detach=True, remove=True,
                                       labels=course_labels("test"))
        try:
            listing = container.exec_run(["ls", "/"]).output.decode()
        finally:
            container.kill()
    finally:
        marker.rmdir()
    assert marker.name not in listing
    assert "bin" in listing.split()


def test_containers_on_its_networks_reach_each_other(ours: daemon.EngineInfo) -> None:
    """--iptables=false, yet a registry on a user network answers another container (the one forwarding rule)."""
    cli = daemon.client()
    network = cli.networks.create(f"portside-test-{uuid.uuid4().hex[:8]}", labels=course_labels("test"))
    try:
        registry = cli.containers.run("registry:2", detach=True, remove=True, network=network.name,
                                      name=f"reg-{uuid.uuid4().hex[:8]}", labels=course_labels("test"))
        try:
            answer = cli.containers.run(
                "busybox:1.35", ["sh", "-c", f"for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O- "
                                             f"http://{registry.name}:5000/v2/ && exit 0; sleep 0.5; done; exit 1"],
                network=network.name, remove=True, labels=course_labels("test"))
        finally:
            registry.stop(timeout=2)
    finally:
        network.remove()
    assert answer.strip() == b"{}"


@pytest.mark.skipif(shutil.which("iptables") is None, reason="no iptables on this machine")
def test_the_host_firewall_holds_one_rule_of_ours_and_no_nat(ours: daemon.EngineInfo) -> None:
    filters = subprocess.run(["iptables", "-S"], capture_output=True, text=True, check=True).stdout
    nat = subprocess.run(["iptables", "-t", "nat", "-S"], capture_output=True, text=True, check=True).stdout
    ours_lines = [line for line in filters.splitlines() if provided.ROUTED_CIDR in line or provided.BRIDGE in line]
    assert len(ours_lines) == 1 and "portside engine" in ours_lines[0] and _RULE[-1] in ours_lines[0]
    assert provided.BRIDGE not in nat and "10.213." not in nat and "10.214." not in nat


def test_buildkit_passes_a_secret_that_stays_out_of_the_image(ours: daemon.EngineInfo, tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text(f"s3cr3t-{uuid.uuid4().hex}")
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text(
        "FROM busybox:1.35\nRUN --mount=type=secret,id=token wc -c < /run/secrets/token > /token-length\n")
    tag = f"portside-secret-probe:{uuid.uuid4().hex[:8]}"
    result = build.build(context, tag=tag, secrets=[f"id=token,src={secret}"], labels=course_labels("test"))
    try:
        cli = daemon.client()
        out = cli.containers.run(tag, ["cat", "/token-length"], remove=True).decode().strip()
        history = str(cli.api.history(tag))
        saved = b"".join(cli.api.get_image(tag))
    finally:
        daemon.client().images.remove(tag, force=True)
    assert out == str(len(secret.read_text()))
    assert secret.read_text() not in history and secret.read_text().encode() not in saved
    assert [step[1] for step in result.steps()][-1].startswith("RUN --mount=type=secret")


def test_a_bind_mount_names_a_path_on_the_host(ours: daemon.EngineInfo, tmp_path: Path) -> None:
    """``docker run -v HOST_PATH:…`` sees the host's file, as on any engine (the host's folders are bound in)."""
    probe = tmp_path / "probe.txt"
    probe.write_text(f"from the host {uuid.uuid4().hex}\n")
    out = daemon.client().containers.run("busybox:1.35", ["cat", "/probe.txt"], remove=True,
                                         volumes={str(probe): {"bind": "/probe.txt", "mode": "ro"}},
                                         labels=course_labels("test"))
    assert out.decode() == probe.read_text()

"""The offline kit end to end: built from this machine's course images, tools and wheels, then installed into a
fresh course folder and venv by its own ``install.sh`` with the network cut off (a fresh network namespace:
loopback only; the engine's unix socket still answers), and refused when a file of it was changed.

The kit also carries one image made here for the test and removed before the install, so the install has
to load it and the test can compare its id; the course images are already on the engine and must stay.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker.errors
import pytest

from portside.base.labels import course_labels
from portside.engine.build import build as buildkit_build
from portside.engine.daemon import client, uses_containerd_store
from portside.errors import HashMismatch
from portside.registry import Registry
from portside.setup.images import CATALOGUE
from portside.tools import TOOLS
from portside.workshop.kit import build, seed, verify
from portside.workshop.kit.build import BuildResult
from portside.workshop.kit.images import image_id
from portside.workshop.kit.seed import seeded_repository

pytestmark = pytest.mark.slow

#: run a command in a new network namespace with only loopback up (as root: the engine's socket stays reachable)
NETLESS = ["unshare", "--net", "--", "sh", "-c", '(ip link set lo up) 2>/dev/null; exec "$@"', "netless"]


def _netless_or_skip() -> None:
    if shutil.which("unshare") is None:
        pytest.skip("needs util-linux's unshare to cut the network off")
    probe = subprocess.run([*NETLESS, "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a network namespace here (root needed): {probe.stderr.strip()}")


def _learner_python() -> str:
    """The system's own Python when it is the same X.Y release as this one (Debian 12's is 3.11.2, an older
    patch release than a developer's: the harder case), else this one."""
    system = "/usr/bin/python3"
    if Path(system).is_file():
        probe = subprocess.run([system, "-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True, check=False)
        if probe.returncode == 0 and probe.stdout.strip() == f"{sys.version_info[0]}.{sys.version_info[1]}":
            return system
    return sys.executable


def _env() -> dict[str, str]:
    """The learner's environment: no course home or Python path of this checkout's; the suite's engine."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("PORTSIDE_HOME", "PYTHONPATH", "VIRTUAL_ENV", "DOCKER_CONFIG")}
    env["DOCKER_HOST"] = os.environ["DOCKER_HOST"]
    env["PYTHON"] = _learner_python()
    return env


def _netless(*command: str | Path, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*NETLESS, *map(str, command)], cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)


@dataclass(frozen=True)
class Kit:
    result: BuildResult
    extra: str            #: the image made for this test (removed from the engine after the build)
    root: Path

    @property
    def path(self) -> Path:
        return self.result.kit


def _remove(name: str) -> None:
    try:
        client().api.remove_image(name, force=True)
    except docker.errors.ImageNotFound:
        pass


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kit]:
    client()  # the engine answers, and DOCKER_HOST names it for the learner's processes
    root = tmp_path_factory.mktemp("kit")
    extra = f"portside-kit-test/extra:{uuid.uuid4().hex[:10]}"
    context = root / "context"
    context.mkdir()
    (context / "marker").write_text(f"{extra}\n", encoding="utf-8")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY marker /marker\n", encoding="utf-8")
    try:
        buildkit_build(context, tag=extra, labels=course_labels("kit-test"))
        said: list[str] = []
        # offline=False: the wheels come from PyPI into the state folder's cache when it lacks them (CI starts from
        # an empty one with PORTSIDE_OFFLINE=1, which is about images; this machine reaches PyPI, as make setup does)
        result = build(root / "portside-kit", image_names=[*CATALOGUE, extra], tar=True, offline=False,
                       say=said.append)
        _remove(extra)   # the install must bring it back
        print(f"\nkit build: {result.seconds:.1f} s ({', '.join(f'{k} {v:.1f}' for k, v in result.steps.items())});"
              f" {result.manifest.total_size / 1e6:.0f} MB: "
              + ", ".join(f"{part} {size / 1e6:.1f}" for part, size in result.manifest.sizes().items()))
        yield Kit(result, extra, root)
    finally:
        _remove(extra)
        shutil.rmtree(root, ignore_errors=True)   # the kit, its tarball, the learner's course and venv


def test_the_kit_holds_every_part(kit: Kit) -> None:
    manifest = kit.result.manifest
    assert [entry.name for entry in manifest.images] == [*CATALOGUE, kit.extra]
    for entry in manifest.images[:-1]:   # the course images, by the id they have on this engine
        assert image_id(entry.name) == entry.id
        if uses_containerd_store():
            assert entry.manifest_digest == entry.id   # the containerd store keeps the manifest: saved by digest
    assert [tool.name for tool in manifest.tools] == list(TOOLS)
    wheel_names = {rel.split("/", 1)[1].split("-", 1)[0].lower() for rel in manifest.files if rel.startswith("wheels/")}
    assert {"jupyterlab", "zizmor", "pip", "setuptools", "docker"} <= wheel_names
    assert not wheel_names & {"pytest", "nbval", "mypy", "ruff"}
    assert "course/notebooks/00-setup.ipynb" in manifest.files and "course/pyproject.toml" in manifest.files
    assert not any(rel.startswith(("course/tests/", "course/.venv/", "course/.portside/")) for rel in manifest.files)
    assert "trivy-db/db/trivy.db" in manifest.files and "install.sh" in manifest.files
    assert kit.result.tarball is not None
    with tarfile.open(kit.result.tarball) as tar:
        names = {member.name for member in tar.getmembers()}
    assert names == {f"portside-kit/{rel}" for rel in [*manifest.files, "manifest.json", "SHA256SUMS"]}


def test_install_sh_installs_everything_with_no_network_and_the_doctor_passes(kit: Kit) -> None:
    _netless_or_skip()
    reach = _netless(sys.executable, "-c", "import socket; socket.create_connection(('pypi.org', 443), timeout=5)")
    assert reach.returncode != 0, "the network namespace still reaches PyPI"
    learner = kit.root / "learner"
    started = time.monotonic()
    done = _netless("sh", kit.path / "install.sh", learner, cwd=kit.root)
    seconds = time.monotonic() - started
    print(f"\ninstall.sh with no network ({_learner_python()}): {seconds:.1f} s")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Ready for the course." in done.stdout
    assert f"image: loaded {kit.extra}" in done.stdout
    for entry in kit.result.manifest.images:   # the same ids, the extra image loaded back under its name
        assert image_id(entry.name) == entry.id
    bin_dir = learner / ".portside" / "tools" / "bin"
    for name in TOOLS:
        ran = _netless(bin_dir / name, "version")
        assert ran.returncode == 0, f"{name} version: {ran.stderr}"
    status = _netless(learner / ".venv" / "bin" / "portside", "tools", "status", "--short", cwd=learner)
    assert status.returncode == 0, status.stdout + status.stderr
    rows = {line.split()[0]: line.split()[1:3] for line in status.stdout.splitlines()[1:] if line.strip()}
    assert rows == {tool.name: [tool.version, "course"] for tool in kit.result.manifest.tools}
    assert (learner / ".portside" / "trivy-db" / "db" / "trivy.db").is_file()
    assert (learner / ".venv" / "bin" / "jupyter-lab").exists() and (learner / ".venv" / "bin" / "zizmor").exists()
    assert not (kit.path / "course" / ".portside").exists()   # nothing was written into the kit
    verify(kit.path)

    again = _netless(learner / ".venv" / "bin" / "portside", "kit", "install", kit.path, "--course", learner)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "course: 0 copied" in again.stdout and "images: 0 loaded" in again.stdout
    assert "tools: 0 installed, 5 already here" in again.stdout


def test_a_changed_file_is_refused_by_name_before_anything_is_installed(kit: Kit) -> None:
    lock = kit.path / "requirements.txt"
    original = lock.read_bytes()
    changed = original.replace(b"click==", b"clack==", 1)
    assert changed != original and len(changed) == len(original)
    elsewhere = kit.root / "not-installed"
    try:
        lock.write_bytes(changed)
        with pytest.raises(HashMismatch, match=r"does not match its manifest: requirements\.txt \(sha256:"):
            verify(kit.path)
        done = subprocess.run([sys.executable, "-m", "portside.cli", "kit", "install", str(kit.path),
                               "--course", str(elsewhere)], env=_env(), capture_output=True, text=True, timeout=300,
                              check=False)
        assert done.returncode == 2
        said = " ".join(done.stderr.split())   # the error console wraps long lines
        assert "does not match its manifest: requirements.txt (sha256:" in said
        assert not elsewhere.exists()
    finally:
        lock.write_bytes(original)
    verify(kit.path)


def test_the_tarball_unpacks_into_the_same_kit(kit: Kit) -> None:
    assert kit.result.tarball is not None
    unpacked = kit.root / "unpacked"
    try:
        with tarfile.open(kit.result.tarball) as tar:
            tar.extractall(unpacked, filter="data")
        assert verify(unpacked / "portside-kit") == kit.result.manifest
    finally:
        shutil.rmtree(unpacked, ignore_errors=True)


def test_seed_pushes_the_kits_images_under_course(kit: Kit) -> None:
    password = uuid.uuid4().hex
    with Registry(users={"teacher": password}) as registry:
        endpoint = registry.endpoint.as_user("teacher", password)
        pushed = seed(kit.path, endpoint)
        assert len(pushed) == len(kit.result.manifest.images)
        api = endpoint.client()
        for entry, ref in zip(kit.result.manifest.images, pushed, strict=True):
            repository, tag = seeded_repository(entry.name)
            assert ref.startswith(f"{registry.address}/{repository}:{tag}@sha256:")
            assert api.digest(repository, tag) == ref.rsplit("@", 1)[1]
            if uses_containerd_store() and entry.store == "containerd":
                assert ref.endswith("@" + entry.id)   # the registry holds the kit's manifest, byte for byte


def test_a_room_started_with_the_kit_holds_its_images(kit: Kit) -> None:
    """``portside workshop up --kit KIT``: the room's ``course/…`` comes from the kit, through the token service."""
    from click.testing import CliRunner

    from portside.cli.main import cli
    from portside.room import room as rooms

    runner = CliRunner()
    started = runner.invoke(cli, ["workshop", "up", "--learners", "1", "--kit", str(kit.path)])
    try:
        assert started.exit_code == 0, started.output
        assert f"Seeded {len(kit.result.manifest.images)} image(s) from the kit" in started.output
        room = rooms.current()
        learner = room.endpoint_for("learner-01").client()
        for entry in kit.result.manifest.images:
            repository, tag = seeded_repository(entry.name)
            assert learner.digest(repository, tag) is not None  # a learner pulls it from the room
    finally:
        runner.invoke(cli, ["workshop", "down"])

"""One Docker Engine per learner: the course's own Engine 28 recipe, once more for each learner of a hub.

A learner whose notebook holds the socket of a shared engine can list, stop and remove every other learner's
containers (the Docker API has no users). So each learner's server gets the socket of an engine of its own,
and nothing else:

* **the same private root** as the course's engine (Debian forky's pinned Engine 28 packages, unpacked by
  ``portside setup`` into the state folder, see :mod:`portside.setup.engine`), entered through ``pivot_root``
  in a private mount namespace; the host's folders are *not* bound in (a learner's engine has no business
  with the host's files);
* **its own data, state and socket**: ``<run>/hub/engines/<learner>/`` holds ``data/docker``,
  ``data/containerd``, ``etc/daemon.json`` and ``sock/docker.sock``; the exec root (``/run/docker``) and
  containerd's state are on a tmpfs of its own mount namespace; its containers sit in a cgroup of their own;
* **its own bridge** ``phubNN`` (``10.220.NN.1/24``) and address pool (``10.221.NN.0/24``), with
  ``--iptables=false``: the host's firewall, the system engine's ``docker0`` and the course engine's
  ``portside0`` are left alone. (Without a forwarding rule, containers on one learner's bridge cannot reach
  each other; the host reaches them, which is what published registry ports need.)

It is root's engine: a learner who holds its socket can start a privileged container and so is root on this
machine. Separate engines keep honest learners from each other's containers; they are no wall against a
hostile one (docs/hub.md says what is, on Kubernetes).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import docker

from portside.base.paths import run_dir
from portside.base.proc import terminate, which
from portside.engine import provided
from portside.errors import EngineUnavailable, SetupError, UsageError
from portside.setup.engine_root import ip, spawn

__all__ = ["LearnerEngine", "engine_for", "running", "seed", "start", "stop", "stop_all"]

#: one learner's bridge: ``phubNN`` with ``10.220.NN.1/24``; its user-defined networks from ``10.221.NN.0/24``
BRIDGE_PREFIX = "phub"
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


@dataclass(frozen=True)
class LearnerEngine:
    """A learner's engine: its folder, its socket (what the learner's server gets) and the socket's group."""

    name: str
    index: int
    home: Path

    @property
    def socket(self) -> Path:
        return self.home / "sock" / "docker.sock"

    @property
    def address(self) -> str:
        return f"unix://{self.socket}"

    @property
    def bridge(self) -> str:
        return f"{BRIDGE_PREFIX}{self.index:02d}"

    @property
    def gid(self) -> int:
        return self.socket.stat().st_gid

    @property
    def pidfile(self) -> Path:
        return self.home / "dockerd.pid"

    @property
    def log(self) -> Path:
        return self.home / "dockerd.log"

    def pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def client(self) -> docker.DockerClient:
        """A docker-py client on this engine (not the course's)."""
        return docker.DockerClient(base_url=self.address, version="auto", timeout=30)

    def answers(self) -> bool:
        if not self.socket.exists():
            return False
        api = self.client()
        try:
            api.ping()
        except Exception:
            return False
        finally:
            api.close()  # at once: a stopping dockerd waits for the connections left open
        return True


def _engines_dir() -> Path:
    return run_dir("hub", "engines")


def engine_for(name: str, index: int) -> LearnerEngine:
    """The engine of learner ``name`` (``index`` 1–99 picks its bridge and addresses)."""
    if not _NAME.match(name):
        raise UsageError(f"{name!r} is not a learner name the hub accepts (lower-case letters, digits, dashes).")
    if not 1 <= index <= 99:
        raise UsageError(f"A hub has learners 1 to 99, not {index}.")
    return LearnerEngine(name, index, _engines_dir() / name)


def _daemon_json(engine: LearnerEngine) -> str:
    return json.dumps({
        "features": {"containerd-snapshotter": True},
        "hosts": ["unix:///run/learner/docker.sock"],
        "bridge": engine.bridge,
        "iptables": False,
        "ip6tables": False,
        "default-address-pools": [{"base": f"10.221.{engine.index}.0/24", "size": 28}],
        "cgroup-parent": f"/portside-hub-{engine.name}",
        "labels": [f"org.portside.engine=hub-{engine.name}"],
    }, indent=2) + "\n"


def _root() -> Path:
    root = provided.engine_root().resolve()
    if not (root / "usr" / "sbin" / "dockerd").is_file():
        raise SetupError(f"The course's Engine 28 root is not at {root}, so the hub cannot give learners engines.",
                         hint="Run `portside setup` as root first (it unpacks the engine's root).")
    return root


def start(engine: LearnerEngine, *, timeout: float = 60) -> LearnerEngine:
    """Start the learner's engine (root only) and wait until its socket answers; a running one is kept."""
    if engine.answers():
        return engine
    if os.geteuid() != 0:
        raise EngineUnavailable("Only root can start the learners' engines.", hint="Run the hub as root.")
    for tool in ("unshare", "pivot_root", "ip"):
        if which(tool) is None:
            raise SetupError(f"A learner's engine needs `{tool}`, which is not installed.",
                             hint="Install util-linux and iproute2.")
    root = _root()
    for sub in ("data/docker", "data/containerd", "etc", "sock"):
        (engine.home / sub).mkdir(parents=True, exist_ok=True)
    (engine.home / "etc" / "daemon.json").write_text(_daemon_json(engine))
    engine.socket.unlink(missing_ok=True)
    if not ip("link", "show", engine.bridge, check=False):
        ip("link", "add", engine.bridge, "type", "bridge")
        ip("addr", "add", f"10.220.{engine.index}.1/24", "dev", engine.bridge)
    ip("link", "set", engine.bridge, "up")
    proc = spawn(root, engine.home, sockets=(engine.home / "sock", "/run/learner"), host_folders=False,
                 log=engine.log)
    engine.pidfile.write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if engine.answers():
            return engine
        time.sleep(0.3)
    tail = "\n  ".join(engine.log.read_text(errors="replace").splitlines()[-10:])
    stop(engine)
    raise EngineUnavailable(f"{engine.name}'s engine did not answer at {engine.address}. Its log ends:\n  {tail}",
                            hint="Read the log above.")


def seed(engine: LearnerEngine, images: list[str]) -> None:
    """Copy ``images`` from the course's engine into the learner's (``docker save | docker load``)."""
    if not images:
        return
    cli = provided.docker_cli()
    course_env = {**os.environ}
    learner_env = {**os.environ, "DOCKER_HOST": engine.address}
    with subprocess.Popen([cli, "save", *images], stdout=subprocess.PIPE, env=course_env) as saver:
        loaded = subprocess.run([cli, "load", "--quiet"], stdin=saver.stdout, env=learner_env,
                                capture_output=True, text=True, timeout=300, check=False)
    if saver.returncode != 0 or loaded.returncode != 0:
        raise SetupError(f"Copying {', '.join(images)} into {engine.name}'s engine failed: "
                         f"{loaded.stderr.strip() or 'docker save failed'}",
                         hint="Check that the course images are on the course's engine (`portside images ensure`).")


def stop(engine: LearnerEngine, *, remove_data: bool = True) -> bool:
    """Stop the learner's engine (its containers first), remove its bridge and, by default, its data."""
    pid = engine.pid()
    if pid is not None and engine.answers():
        api = engine.client()
        try:
            for container in api.containers.list(all=True):
                container.remove(force=True, v=True)
        except Exception:  # the engine stops anyway, and its containers with it
            pass
        finally:
            api.close()
    if pid is not None:
        terminate(pid)
    engine.pidfile.unlink(missing_ok=True)
    engine.socket.unlink(missing_ok=True)
    if which("ip") and ip("link", "show", engine.bridge, check=False):
        ip("link", "delete", engine.bridge, check=False)
    if remove_data:
        shutil.rmtree(engine.home, ignore_errors=True)
    return pid is not None


def running() -> list[LearnerEngine]:
    """The learners' engines whose folders this run's state holds."""
    found = []
    for home in sorted(_engines_dir().glob("*/etc/daemon.json")):
        config = json.loads(home.read_text())
        bridge = str(config.get("bridge", ""))
        if bridge.startswith(BRIDGE_PREFIX) and bridge[len(BRIDGE_PREFIX):].isdigit():
            found.append(LearnerEngine(home.parent.parent.name, int(bridge[len(BRIDGE_PREFIX):]), home.parent.parent))
    return found


def stop_all() -> int:
    """Stop every learner engine of this run; returns how many there were."""
    engines = running()
    for engine in engines:
        stop(engine)
    return len(engines)

"""A current Docker Engine the course can provide: Engine 28 from Debian's packages, in a private root.

Learners in 2026 run Engine 28/29 or Docker Desktop: BuildKit builds, the containerd image store. Debian 12
ships Engine 20.10. So, as root on Debian/Ubuntu and when no current engine answers, the course starts its
own from Debian forky's packages (docker.io, docker-cli, docker-buildx, containerd, runc), without touching
the system's engine:

* **a private root**: ``mmdebstrap`` unpacks those packages into ``<state>/engine/current/root``, because
  forky's runc needs a newer C library than Debian 12's. dockerd runs inside it through ``pivot_root`` in a
  private mount namespace (a plain ``chroot`` would let ``docker exec`` escape to the host's file system);
* **the host's folders where a learner expects them**: ``docker run -v /home/…:/x`` names a host path, so the
  host's top-level folders other than the system's (``/home``, ``/root``, ``/tmp``, ``/srv``, ``/opt``, a
  checkout's folder…) are bound into the private root at the same paths;
* **its own everything**: socket ``/run/portside/docker.sock``, data under ``<state>/engine/current/data``,
  its own ``daemon.json`` (containerd image store on), its own bridge ``portside0`` with its own address pool;
* **the host's networking left alone**: ``--iptables=false``, so the engine writes no NAT or filter rules.
  The one rule the harness adds (and removes on stop) lets its containers talk to each other through the
  host's ``FORWARD`` chain, whose policy another engine may have set to DROP.

The packages are pinned by version and each key ``.deb`` by sha256 (checked after apt has checked Debian's
signatures). ``ensure()`` is what ``portside setup`` calls: it uses an engine that answers if it is current
(Engine 25+ or Docker Desktop), else starts this one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from portside.base.debian import mirror_for
from portside.base.proc import run, terminate, which
from portside.engine import provided
from portside.errors import EngineUnavailable, HashMismatch, SetupError, ToolError
from portside.setup.engine_root import ip, spawn

__all__ = ["MIN_CURRENT", "PACKAGES", "EnginePin", "ensure", "is_running", "start", "stop"]

Say = Callable[[str], None]

#: an engine older than this is "old" and the course starts its own beside it (25.0: containerd store usable)
MIN_CURRENT = 25
SUITE = "forky"


@dataclass(frozen=True)
class EnginePin:
    package: str
    version: str
    #: sha256 of ``package_version_amd64.deb``: the file mmdebstrap fetched from Debian forky (apt checked it
    #: against forky's signed Packages index), then ``sha256sum``, 2026-12-01
    sha256: str


PACKAGES: tuple[EnginePin, ...] = (
    EnginePin("docker.io", "28.5.2+dfsg4-5",
              "69a59cc77a1fb8ee9ad6859abc2e6de5d76b70887405595c2b1307818fecf682"),
    EnginePin("docker-cli", "28.5.2+dfsg4-5",
              "8ea2428acdda666f41263f5a0d3a85681a696491361574eb7bd721a1194939b9"),
    EnginePin("docker-buildx", "0.29.1+ds1-4",
              "6103bcc4eab8169ae679f806d3949ffc99a1545a61fddea6124da826f115f2bf"),
    EnginePin("containerd", "2.1.9+ds1-5",
              "2dda86ce7033fd612fc50e136679d8174ccad680eb29cd4611e0d2a1b84cf591"),
    EnginePin("runc", "1.3.6+ds1-1",
              "8e95d7bdfd22242ae4d48d58e3c277ba2b69dffc4ed8e573b837e6e93925d911"),
)
#: unpinned helpers the engine needs inside its root (their versions follow the pinned packages' dependencies)
_EXTRA = ("iptables", "ca-certificates", "mount")


def _root() -> Path:
    return provided.home() / "root"


def _arch() -> str:
    return run(["dpkg", "--print-architecture"], timeout=10, what="dpkg --print-architecture").stdout.strip()


def _build_root(say: Say) -> Path:
    """Unpack the pinned packages into a fresh root (about 20 s and 460 MB); check each pinned ``.deb``."""
    from portside.setup.standins.rootfs import mmdebstrap

    root = _root()
    stamp = root / ".portside-engine"
    want = " ".join(f"{p.package}={p.version}" for p in PACKAGES)
    if stamp.is_file() and stamp.read_text() == want:
        return root
    if _arch() != "amd64":
        raise SetupError("The course can only provide its own Docker Engine on amd64 machines.",
                         hint="Install Docker Engine 25 or newer (or Docker Desktop), start it, and run again.")
    command = mmdebstrap(say)
    building = root.with_name("root.new")
    shutil.rmtree(building, ignore_errors=True)
    say(f"  unpacking Docker Engine {PACKAGES[0].version.split('+')[0]} from Debian {SUITE} into {root}…")
    include = ",".join([*(f"{p.package}={p.version}" for p in PACKAGES), *_EXTRA])
    run([command, "--variant=apt", "--quiet", "--skip=download/empty", "--skip=cleanup/apt/cache",
         # testing suites of this archive carry a Valid-Until in the past; signatures are still checked
         "--aptopt=Acquire::Check-Valid-Until \"false\"",
         f"--include={include}", SUITE, str(building), mirror_for("debian")],
        timeout=1800, what=f"mmdebstrap {SUITE} (Docker Engine root)",
        hint="mmdebstrap needs root and Debian's archive (see /etc/apt).")
    _check_debs(building / "var" / "cache" / "apt" / "archives")
    shutil.rmtree(root, ignore_errors=True)
    building.rename(root)
    stamp.write_text(want)
    return root


def _check_debs(archives: Path) -> None:
    for pin in PACKAGES:
        deb = archives / f"{pin.package}_{pin.version.replace(':', '%3a')}_amd64.deb"
        if not deb.is_file():
            raise SetupError(f"mmdebstrap did not fetch {deb.name}.", hint="Run `portside setup` again.")
        got = hashlib.sha256(deb.read_bytes()).hexdigest()
        if got != pin.sha256:
            raise HashMismatch(f"{deb.name} has sha256 {got}, but the course pinned {pin.sha256}.",
                               hint="Debian's archive served different bytes under a pinned version: do not "
                                    "use this machine's mirror until you know why.")
    for deb in archives.glob("*.deb"):
        deb.unlink()


def _daemon_json() -> str:
    import json

    return json.dumps({
        "features": {"containerd-snapshotter": True},  # the containerd image store, as fresh Engine 29 installs
        "hosts": [f"unix://{provided.SOCKET}"],
        "bridge": provided.BRIDGE,
        "iptables": False,
        "ip6tables": False,
        "default-address-pools": [{"base": provided.POOL_CIDR, "size": 24}],
        "labels": ["org.portside.engine=current"],
    }, indent=2) + "\n"


def _bridge_up() -> None:
    if not ip("link", "show", provided.BRIDGE, check=False):
        ip("link", "add", provided.BRIDGE, "type", "bridge")
        ip("addr", "add", provided.BRIDGE_CIDR, "dev", provided.BRIDGE)
    ip("link", "set", provided.BRIDGE, "up")


_RULE = ["-s", provided.ROUTED_CIDR, "-d", provided.ROUTED_CIDR, "-m", "comment", "--comment", "portside engine",
         "-j", "ACCEPT"]


def _forward_chain() -> str | None:
    """Where the forwarding rule goes: Docker's ``DOCKER-USER`` chain if another engine made one, else FORWARD."""
    iptables = which("iptables")
    if iptables is None:
        return None
    if run([iptables, "-S", "DOCKER-USER"], timeout=20, check=False).ok:
        return "DOCKER-USER"
    return "FORWARD"


def _forwarding(add: bool) -> None:
    chain = _forward_chain()
    if chain is None or os.geteuid() != 0:  # only root changes the firewall (root also started the engine)
        return
    present = run(["iptables", "-C", chain, *_RULE], timeout=20, check=False).ok
    if add and not present:
        run(["iptables", "-I", chain, "1", *_RULE], timeout=20, what=f"iptables -I {chain} (portside engine)")
    elif not add:
        for name in ("DOCKER-USER", "FORWARD"):
            while run(["iptables", "-D", name, *_RULE], timeout=20, check=False).ok:
                pass


def _pidfile() -> Path:
    return provided.home() / "dockerd.pid"


def _pid() -> int | None:
    try:
        pid = int(_pidfile().read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def is_running() -> bool:
    """True when the provided engine's socket answers."""
    import docker

    if not provided.SOCKET.exists():
        return False
    try:
        docker.DockerClient(base_url=f"unix://{provided.SOCKET}", version="auto", timeout=5).ping()
    except Exception:
        return False
    return True


def start(say: Say = print) -> str:
    """Start the provided engine (building its root first if needed); return its address. Root only."""
    address = f"unix://{provided.SOCKET}"
    if is_running():
        _forwarding(True)  # another engine may have reset FORWARD since
        return address
    if os.geteuid() != 0:
        raise EngineUnavailable("Only root can start the course's own Docker Engine.",
                                hint="Start Docker Desktop or Docker Engine 25+ yourself, or run `make setup` as root.")
    for tool in ("unshare", "pivot_root", "ip"):
        if which(tool) is None:
            raise SetupError(f"Starting the course's Docker Engine needs `{tool}`, which is not installed.",
                             hint="Install util-linux and iproute2 (`apt-get install util-linux iproute2`).")
    root = _build_root(say)
    home = provided.home()
    for sub in ("data/docker", "data/containerd", "etc"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    config = home / "etc" / "daemon.json"
    config.write_text(_daemon_json())
    # dockerd (moby's initNetworkController) deletes the host's *docker0* when it finds its own default "bridge"
    # network left in its store from a previous run while default-address-pools is set: that would take the
    # system engine's bridge away. So the engine starts with no stored networks (it makes its own afresh;
    # every network the course creates is removed after use anyway).
    (home / "data" / "docker" / "network" / "files" / "local-kv.db").unlink(missing_ok=True)
    provided.SOCKET.parent.mkdir(parents=True, exist_ok=True)
    provided.SOCKET.unlink(missing_ok=True)
    provided.ROOT_LINK.unlink(missing_ok=True)
    provided.ROOT_LINK.symlink_to(root)
    _bridge_up()
    _forwarding(True)
    log = home / "dockerd.log"
    say(f"Starting Docker Engine {PACKAGES[0].version.split('+')[0]} (containerd image store, BuildKit) "
        f"at {address} (log: {log})…")
    proc = spawn(root, home, sockets=(provided.SOCKET.parent, str(provided.SOCKET.parent)), host_folders=True,
                 log=log)
    _pidfile().write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if is_running():
            return address
        time.sleep(0.3)
    tail = "\n  ".join(log.read_text(errors="replace").splitlines()[-10:])
    raise EngineUnavailable(f"The course's Docker Engine did not answer at {address}. Its log ({log}) ends:\n  {tail}",
                            hint="Read the log above; `portside engine stop` then `portside setup` starts it afresh.")


def stop(say: Say = print) -> bool:
    """Stop the provided engine (its containers stop with it), remove its bridge and rule. False if not running."""
    pid = _pid()
    if pid is not None:
        say(f"Stopping the course's Docker Engine (pid {pid})…")
        terminate(pid)
    _pidfile().unlink(missing_ok=True)
    provided.SOCKET.unlink(missing_ok=True)
    provided.ROOT_LINK.unlink(missing_ok=True)
    if os.geteuid() == 0:
        _forwarding(False)
        if which("ip") and ip("link", "show", provided.BRIDGE, check=False):
            ip("link", "delete", provided.BRIDGE, check=False)
    return pid is not None


def _major(version: str) -> int:
    try:
        return int(version.split(".", 1)[0])
    except ValueError:
        return 0


def ensure(say: Say = print) -> str:
    """The engine the course uses: a current one that answers, else the provided one (started as root).

    An old engine (below Engine 25) that answers is used only where the course cannot start its own
    (not root, not Debian/Ubuntu): then :func:`portside.setup.doctor` warns that outputs will differ.
    """
    from portside.engine import daemon

    if os.environ.get("DOCKER_HOST"):
        daemon.ensure_engine(start=False, say=say)  # the learner named an engine: use it, whatever it is
        return os.environ["DOCKER_HOST"]
    if is_running():
        return _use(start(say))  # already running: start() only re-checks its forwarding rule
    try:
        found = daemon.info()
    except EngineUnavailable:
        found = None
    if found is not None and _major(found.server_version) >= MIN_CURRENT:
        return found.address
    can_start = os.geteuid() == 0 and Path("/etc/debian_version").exists() and which("apt-get") is not None
    if not can_start:
        if found is not None:
            say(f"Using Docker {found.server_version} at {found.address}: older than Engine {MIN_CURRENT}, so some "
                "outputs will differ from the lessons' (see `portside doctor`).")
            return found.address
        daemon.ensure_engine(start=False, say=say)  # raises EngineUnavailable with what to do
    if found is not None:
        say(f"Docker {found.server_version} answers at {found.address}; the course starts a current engine beside it.")
    try:
        address = start(say)
    except ToolError as exc:
        raise SetupError(f"Could not prepare the course's Docker Engine: {exc.message}", hint=exc.hint) from exc
    return _use(address)


def _use(address: str) -> str:
    from portside.engine import daemon

    os.environ["DOCKER_HOST"] = address
    daemon.client.cache_clear()
    daemon.client()  # which also links the course engine's CLI and buildx (engine.daemon.client)
    return address

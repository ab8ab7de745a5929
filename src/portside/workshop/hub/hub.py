"""Start and stop the room server: JupyterHub on ``127.0.0.1``, its proxy, one server and one engine per learner.

``up()`` installs the proxy (``configurable-http-proxy`` from npm, pinned by this package's ``proxy/``
lockfile, into the state folder), writes ``jupyterhub_config.py`` into this run's ``hub/`` folder and starts
``jupyterhub`` there as a process of its own; the hub starts the proxy. ``down()`` stops the hub (which stops
every learner's server and engine, then the proxy) and removes whatever a crash may have left: the servers'
containers (by label), the learners' engines, bridges and data, the proxy, the folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from portside.base.labels import KIND, course_filter
from portside.base.paths import run_dir, state_dir
from portside.base.proc import run, terminate, which
from portside.engine.daemon import client
from portside.errors import RoomError, SetupError
from portside.registry.ports import free_port
from portside.setup.images import CATALOGUE
from portside.workshop.hub import engines
from portside.workshop.hub.image import TAG as IMAGE
from portside.workshop.hub.spawner import KIND as SERVER_KIND

__all__ = ["Hub", "down", "install_proxy", "up"]

_PROXY_FILES = Path(__file__).with_name("proxy")


@dataclass(frozen=True)
class Hub:
    """A running hub: open :attr:`url`; :func:`down` ends it."""

    home: Path
    port: int
    pid: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def install_proxy() -> Path:
    """``configurable-http-proxy`` from npm, exactly as ``proxy/package-lock.json`` pins it (``npm ci``)."""
    lock = (_PROXY_FILES / "package-lock.json").read_bytes()
    folder = state_dir("hub", "proxy")
    binary = folder / "node_modules" / ".bin" / "configurable-http-proxy"
    stamp = folder / ".lock-sha256"
    digest = hashlib.sha256(lock).hexdigest()
    if binary.exists() and stamp.is_file() and stamp.read_text() == digest:
        return binary
    npm = which("npm")
    if npm is None:
        raise SetupError("The hub's proxy comes from npm, which is not installed.",
                         hint="Install Node.js and npm (`apt-get install npm`).")
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(_PROXY_FILES / name, folder / name)
    run([npm, "ci", "--no-audit", "--no-fund", "--prefix", str(folder)], timeout=600, what="npm ci (hub proxy)",
        hint="npm needs the npm registry; the lockfile pins every package by its integrity hash.")
    stamp.write_text(digest)
    return binary


def _config(*, home: Path, accounts: Path, port: int, hub_port: int, api_port: int, proxy: Path, image: str,
            seed: list[str]) -> str:
    values = {
        "JupyterHub.ip": "127.0.0.1",
        "JupyterHub.port": port,
        "JupyterHub.hub_ip": "127.0.0.1",
        "JupyterHub.hub_port": hub_port,
        "JupyterHub.db_url": f"sqlite:///{home / 'jupyterhub.sqlite'}",
        "JupyterHub.cookie_secret_file": str(home / "jupyterhub_cookie_secret"),
        "JupyterHub.pid_file": str(home / "jupyterhub.pid"),
        "JupyterHub.cleanup_servers": True,
        "JupyterHub.cleanup_proxy": True,
        "JupyterHub.authenticator_class": "portside.workshop.hub.auth.RoomAuthenticator",
        "RoomAuthenticator.accounts_folder": str(accounts),
        "ConfigurableHTTPProxy.command": [str(proxy)],
        "ConfigurableHTTPProxy.api_url": f"http://127.0.0.1:{api_port}",
        "ConfigurableHTTPProxy.pid_file": str(home / "proxy.pid"),
        "JupyterHub.spawner_class": "portside.workshop.hub.spawner.LearnerSpawner",
        "LearnerSpawner.image": image,
        "LearnerSpawner.network_name": "host",
        "LearnerSpawner.ip": "127.0.0.1",
        "LearnerSpawner.host_ip": "127.0.0.1",
        "LearnerSpawner.use_internal_ip": True,  # no port bindings (the host network has none)
        "LearnerSpawner.cmd": ["jupyterhub-singleuser"],
        "LearnerSpawner.remove": True,
        "LearnerSpawner.pull_policy": "never",
        "LearnerSpawner.name_template": "portside-hub-{raw_username}",
        "LearnerSpawner.seed_images": seed,
        "LearnerSpawner.start_timeout": 180,
        "LearnerSpawner.http_timeout": 120,
        "LearnerSpawner.default_url": "/lab/tree/notebooks/00-setup.ipynb",
    }
    lines = ["# written by portside.workshop.hub (do not edit: `portside workshop hub up` writes it anew)",
             "c = get_config()  # noqa: F821"]
    lines += [f"c.{key} = {value!r}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def up(accounts: Path, *, image: str = IMAGE, port: int | None = None, seed: list[str] | None = None,
       timeout: float = 60) -> Hub:
    """Start the hub for the accounts in ``accounts`` (a room's folder with ``accounts.json``)."""
    if not (accounts / "accounts.json").is_file():
        raise RoomError(f"{accounts} holds no accounts.json.", hint="Create a room first: `portside workshop up`.")
    home = run_dir("hub", "server")
    pidfile = home / "hub.pid"
    if pidfile.is_file():
        raise RoomError(f"A hub of this run already runs (pid file {pidfile}).",
                        hint="Stop it first: `portside workshop hub down`.")
    proxy = install_proxy()
    port = port or free_port()
    config = home / "jupyterhub_config.py"
    config.write_text(_config(home=home, accounts=accounts, port=port, hub_port=free_port(), api_port=free_port(),
                              proxy=proxy, image=image, seed=list(CATALOGUE) if seed is None else seed))
    log = home / "jupyterhub.log"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    jupyterhub = Path(sys.executable).with_name("jupyterhub")
    with open(log, "ab") as out:
        proc = subprocess.Popen([str(jupyterhub), "-f", str(config)], cwd=home, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, env=env)
    pidfile.write_text(f"{proc.pid}\n")
    hub = Hub(home, port, proc.pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if requests.get(f"{hub.url}/hub/api/", timeout=2).ok:
                return hub
        except requests.RequestException:
            pass
        time.sleep(0.3)
    tail = "\n  ".join(log.read_text(errors="replace").splitlines()[-15:])
    down()
    raise RoomError(f"JupyterHub did not answer at {hub.url}. Its log ({log}) ends:\n  {tail}",
                    hint="Read the log above.")


def _kill(pidfile: Path, timeout: float = 30) -> None:
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    terminate(pid, timeout=timeout)
    pidfile.unlink(missing_ok=True)


def down() -> dict[str, int]:
    """Stop this run's hub and remove everything it started; safe to run twice. Returns what it removed."""
    home = run_dir("hub", "server")
    hub_running = (home / "hub.pid").is_file()
    _kill(home / "hub.pid", timeout=60)  # the hub stops the servers, their engines (spawner) and the proxy
    _kill(home / "proxy.pid")
    removed = 0
    filters = course_filter()
    filters["label"].append(f"{KIND}={SERVER_KIND}")
    for container in client().containers.list(all=True, filters=filters):
        container.remove(force=True)
        removed += 1
    stopped = engines.stop_all()
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(run_dir("hub", "image"), ignore_errors=True)
    return {"hub": int(hub_running), "servers": removed, "engines": stopped}


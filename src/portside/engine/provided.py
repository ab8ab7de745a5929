"""Where the engine the course provides listens, and how to talk to it (no starting here: see ``setup.engine``).

On a Debian/Ubuntu machine with no current engine, ``portside setup`` (as root) starts Docker Engine 28 from
Debian's packages in a private root file system. This module is what the layers above need to know about it
without importing the set-up code: its socket, its bridge's addresses, and the docker CLI and buildx plugin that
came with it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from portside.base.paths import docker_config_dir, state_dir

__all__ = [
    "BRIDGE",
    "BRIDGE_CIDR",
    "POOL_CIDR",
    "ROUTED_CIDR",
    "SOCKET",
    "buildx_plugin",
    "docker_cli",
    "home",
    "link_buildx",
]

#: the provided engine's API socket: one per machine, so every checkout finds the engine another one started
SOCKET = Path("/run/portside/docker.sock")
#: a link to the running engine's root file system (its docker CLI and buildx plugin), beside the socket, so
#: that every checkout and course home on the machine finds them
ROOT_LINK = SOCKET.parent / "root"
#: its default bridge (created by the harness, never docker0) and its address
BRIDGE = "portside0"
BRIDGE_CIDR = "10.213.0.1/24"
#: the pool its user-defined networks are carved from (away from the 172.17–31 and 192.168 pools of other engines)
POOL_CIDR = "10.214.0.0/16"
#: one range holding both, for the single forwarding rule the engine needs (see ``setup.engine``)
ROUTED_CIDR = "10.212.0.0/14"

_PLUGIN_DIRS = (Path("/usr/local/lib/docker/cli-plugins"), Path("/usr/local/libexec/docker/cli-plugins"),
                Path("/usr/lib/docker/cli-plugins"), Path("/usr/libexec/docker/cli-plugins"),
                Path.home() / ".docker" / "cli-plugins")


def home() -> Path:
    """The provided engine's folder in the state folder: ``root/`` (its file system), ``data/``, ``etc/``, log, pid."""
    return state_dir("engine", "current")


def engine_root() -> Path:
    """The provided engine's root file system: the running one's (see :data:`ROOT_LINK`), else this state folder's."""
    return ROOT_LINK if ROOT_LINK.is_dir() else home() / "root"


def docker_cli() -> str:
    """The docker CLI the course runs: the provided engine's (28.x) when it is there, else ``docker`` on PATH."""
    ours = engine_root() / "usr" / "bin" / "docker"
    if ours.is_file() and os.access(ours, os.X_OK):
        return str(ours.resolve())  # the real path: ROOT_LINK is gone while the engine restarts
    found = shutil.which("docker")
    if found and Path(found).resolve() != ours.resolve():
        return found
    return "docker"


def buildx_plugin() -> Path | None:
    """A docker-buildx plugin: the provided engine's, else one the machine has in a standard plugin folder."""
    for folder in (engine_root() / "usr" / "libexec" / "docker" / "cli-plugins", *_PLUGIN_DIRS):
        candidate = folder / "docker-buildx"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            # the real path, not through ROOT_LINK: a link to it must not dangle while the engine restarts
            return candidate.resolve()
    return None


def link_buildx() -> Path | None:
    """Make buildx visible to the CLI under the course's own ``DOCKER_CONFIG`` (which hides ``~/.docker``).

    The docker CLI looks for plugins in ``$DOCKER_CONFIG/cli-plugins`` before the system folders; the
    course points ``DOCKER_CONFIG`` at its own folder, so a plugin a learner keeps in ``~/.docker/cli-plugins``
    (Docker Desktop's habit) would be lost without this link. Returns the link, or None when no buildx exists.
    """
    plugin = buildx_plugin()
    if plugin is None:
        return None
    folder = docker_config_dir() / "cli-plugins"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "docker-buildx"
    if link.is_symlink() and Path(os.readlink(link)) == plugin:
        return link
    tmp = folder / f".docker-buildx.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(plugin)
    tmp.replace(link)
    return link


def link_cli() -> Path | None:
    """Link the course engine's docker CLI into the course's tools folder (first on a notebook's PATH)."""
    ours = engine_root() / "usr" / "bin" / "docker"
    if not ours.is_file():
        return None
    ours = ours.resolve()  # the real path, not through ROOT_LINK (which is gone while the engine restarts)
    link = state_dir("tools", "bin") / "docker"
    if not (link.is_symlink() and Path(os.readlink(link)) == ours):
        link.unlink(missing_ok=True)
        link.symlink_to(ours)
    return link

"""Run ``dockerd`` inside the course's private Engine 28 root: one launcher for every engine the course starts.

The course's own engine (:mod:`portside.setup.engine`) and each learner's engine of a hub
(:mod:`portside.workshop.hub.engines`) run the same unpacked root (Debian forky's pinned packages), entered
through ``pivot_root`` in a private mount namespace; a plain ``chroot`` would let ``docker exec`` escape to the
host's file system. They differ only in what is bound in:

* ``home``: the engine's ``data/docker``, ``data/containerd`` and ``etc`` (its ``daemon.json``);
* ``sockets``: the host folder that receives the engine's socket, and where it appears inside the root;
* ``host_folders``: the course's engine shows the host's top-level folders at the same paths (a learner's
  ``docker run -v /home/…:/x`` names a host path); a learner's engine of a hub sees none of them.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from portside.base.proc import run

__all__ = ["ip", "spawn"]

#: $1 root, $2 engine home, $3 host socket folder, $4 its path inside the root, $5 "1" to bind the host's
#: top-level folders; then the command to run inside the root
_LAUNCH = r"""
set -eu
R=$1; H=$2; S=$3; T=$4; HOST_FOLDERS=$5; shift 5
mount --make-rprivate /
mount --bind "$R" "$R"
mount --rbind /proc "$R/proc"
mount --rbind /sys "$R/sys"
mount --rbind /dev "$R/dev"
mount -t tmpfs -o mode=755 tmpfs "$R/run"
mkdir -p "$R$T" "$R/var/lib/docker" "$R/var/lib/containerd" "$R/etc/docker" "$R/.oldroot"
mount --bind "$H/data/docker" "$R/var/lib/docker"
mount --bind "$H/data/containerd" "$R/var/lib/containerd"
mount --bind "$H/etc" "$R/etc/docker"
mount --bind "$S" "$R$T"
if [ "$HOST_FOLDERS" = 1 ]; then
    # every top-level folder but the system's, which the engine's root brings itself
    for d in /*/; do
        d=${d%/}
        case "$d" in
            /bin|/boot|/dev|/etc|/lib|/lib32|/lib64|/libx32|/lost+found|/proc|/run|/sbin|/sys|/usr|/var|/.oldroot) ;;
            *) [ -L "$d" ] || { mkdir -p "$R$d" && mount --rbind "$d" "$R$d"; } ;;
        esac
    done
fi
cd "$R"
pivot_root . .oldroot
exec /usr/sbin/chroot . /bin/sh -c 'umount -l /.oldroot && exec "$@"' sh "$@"
"""

_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def spawn(root: Path, home: Path, *, sockets: tuple[Path, str], host_folders: bool,
          log: Path) -> subprocess.Popen[bytes]:
    """Start ``dockerd --config-file /etc/docker/daemon.json`` in ``root`` (root only); its output goes to ``log``.

    ``sockets`` is ``(host folder, path inside the root)``: the engine's ``daemon.json`` names its socket under
    the inside path. The process leads a session of its own, so stopping it never signals the caller.
    """
    env = {**os.environ, "PATH": _PATH}
    env.pop("DOCKER_HOST", None)
    folder, inside = sockets
    with open(log, "ab") as out:
        return subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", _LAUNCH, "sh", str(root), str(home),
             str(folder), inside, "1" if host_folders else "0", "dockerd", "--config-file", "/etc/docker/daemon.json"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, env=env)


def ip(*args: str, check: bool = True) -> bool:
    """``ip ARGS`` (iproute2): True if it succeeded; with ``check``, a failure raises ``ToolError``."""
    return run(["ip", *args], timeout=20, check=check, what=f"ip {' '.join(args)}").ok

"""The ``busybox:1.35`` stand-in: Debian 12's static busybox in a ``FROM scratch`` image.

Debian's ``busybox-static`` package is BusyBox 1.35.0 linked statically, so the
image needs nothing else: ``/bin/busybox`` plus one symlink per applet (``sh``,
``ls``, ``wget``, …), the same layout ``busybox --install -s /bin`` makes. The
symlinks are made here on the host, so the build runs no container.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from portside.base import debian
from portside.base.proc import run
from portside.setup.standins.base import Say, asset, build_dir, deb_version, docker_build, fetch, standin_labels

__all__ = ["build", "install_busybox"]

_PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
_GROUP = "root:x:0:\nnogroup:x:65534:\n"


def install_busybox(deb: Path, rootfs: Path, work: Path) -> list[str]:
    """Put the static busybox from ``deb`` at ``rootfs/bin/busybox`` with all its applets; return them."""
    unpacked = debian.extract(deb, work / "busybox-static")
    binary = next(p for p in (unpacked / "bin" / "busybox", unpacked / "usr" / "bin" / "busybox") if p.is_file())
    bin_dir = rootfs / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(binary, bin_dir / "busybox")
    # the static binary runs on the host too: ask it which applets it has
    applets = run([str(binary), "--list"], timeout=30, what="busybox --list").stdout.split()
    for applet in applets:
        if applet != "busybox" and not (bin_dir / applet).exists():
            os.symlink("busybox", bin_dir / applet)
    return applets


def build(image: str, say: Say) -> str:
    """Build the busybox stand-in as ``image``; return the image id."""
    debs = fetch(["busybox-static"])
    work = build_dir(image)  # unpacked packages here, the build context (Dockerfile + rootfs/) in context/
    context = work / "context"
    rootfs = context / "rootfs"
    applets = install_busybox(debs["busybox-static"], rootfs, work)
    for folder in ("etc", "root", "home", "usr/bin", "usr/sbin", "var/spool/mail", "var/www"):
        (rootfs / folder).mkdir(parents=True, exist_ok=True)
    (rootfs / "tmp").mkdir(mode=0o1777)
    (rootfs / "tmp").chmod(0o1777)
    (rootfs / "root").chmod(0o700)
    (rootfs / "etc" / "passwd").write_text(_PASSWD)
    (rootfs / "etc" / "group").write_text(_GROUP)
    shutil.copy2(asset("busybox.Dockerfile"), context / "Dockerfile")
    versions = {"busybox-static": deb_version(debs["busybox-static"])}
    say(f"  building {image} from busybox-static {versions['busybox-static']} ({len(applets)} applets)…")
    image_id = docker_build(context, image, dockerfile="Dockerfile",
                            labels=standin_labels(image, main="busybox-static", versions=versions,
                                                  what="static BusyBox with an applet symlink each in /bin"))
    shutil.rmtree(work, ignore_errors=True)
    return image_id

"""The ``registry:2`` stand-in: Debian 12's ``docker-registry`` (distribution 2.8.2) in a ``FROM scratch`` image.

Debian's package ships the same Go program as the official image, built as
``/usr/bin/docker-registry`` and linked only against libc. The image holds:

* ``/bin/registry`` — that binary;
* ``libc.so.6`` and the dynamic loader — unpacked from Debian's ``libc6`` package
  of the same release (not copied from this machine);
* ``/bin/sh`` and friends (``du``, ``ls``, ``cat``, ``rm``, …) — a static busybox,
  so the entrypoint script and ``docker exec … registry garbage-collect`` work;
* ``/etc/ssl/certs/ca-certificates.crt`` — Mozilla's CA bundle from Debian's
  ``ca-certificates`` (needed when the registry proxies a TLS upstream);
* ``/etc/docker/registry/config.yml`` and ``/entrypoint.sh`` — as in the official
  image: storage in ``/var/lib/registry``, HTTP on ``:5000``, no auth, no deletes.

Everything the official image can be told through ``REGISTRY_*`` variables
(htpasswd auth, ``REGISTRY_STORAGE_DELETE_ENABLED``, TLS, proxy) works the same.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from portside.base import debian
from portside.setup.standins.base import Say, asset, build_dir, deb_version, docker_build, fetch, standin_labels
from portside.setup.standins.busybox import install_busybox

__all__ = ["PACKAGES", "build"]

#: the Debian packages the image is made of
PACKAGES = ("docker-registry", "libc6", "busybox-static", "ca-certificates")


def _copy_libc(unpacked: Path, rootfs: Path) -> None:
    """Copy ``libc.so.6`` and the loader (``ld-linux*``), with their symlinks, at the paths libc6 uses."""
    for path in sorted(unpacked.rglob("*")):
        if path.name == "libc.so.6" or path.name.startswith("ld-linux"):
            target = rootfs / path.relative_to(unpacked)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target, follow_symlinks=False)


def _ca_bundle(unpacked: Path, target: Path) -> int:
    """Concatenate the certificates of ``ca-certificates`` into one bundle, as update-ca-certificates does."""
    certificates = sorted((unpacked / "usr" / "share" / "ca-certificates").rglob("*.crt"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(c.read_text().rstrip("\n") + "\n" for c in certificates))
    return len(certificates)


def build(image: str, say: Say) -> str:
    """Build the registry stand-in as ``image``; return the image id."""
    debs = fetch(PACKAGES)
    versions = {name: deb_version(deb) for name, deb in debs.items()}
    work = build_dir(image)  # unpacked packages here, the build context (Dockerfile + rootfs/) in context/
    context = work / "context"
    rootfs = context / "rootfs"
    say(f"  building {image} from docker-registry {versions['docker-registry']}…")

    unpacked = debian.extract(debs["docker-registry"], work / "docker-registry")
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy2(unpacked / "usr" / "bin" / "docker-registry", rootfs / "bin" / "registry")
    _copy_libc(debian.extract(debs["libc6"], work / "libc6"), rootfs)
    install_busybox(debs["busybox-static"], rootfs, work)
    _ca_bundle(debian.extract(debs["ca-certificates"], work / "ca-certificates"),
               rootfs / "etc" / "ssl" / "certs" / "ca-certificates.crt")

    config = rootfs / "etc" / "docker" / "registry" / "config.yml"
    config.parent.mkdir(parents=True)
    shutil.copy2(asset("registry-config.yml"), config)
    shutil.copy2(asset("registry-entrypoint.sh"), rootfs / "entrypoint.sh")
    (rootfs / "entrypoint.sh").chmod(0o755)
    (rootfs / "var" / "lib" / "registry").mkdir(parents=True)
    (rootfs / "tmp").mkdir(mode=0o1777)
    (rootfs / "tmp").chmod(0o1777)
    shutil.copy2(asset("registry.Dockerfile"), context / "Dockerfile")

    labels = standin_labels(image, main="docker-registry", versions=versions,
                            what="distribution registry with libc, a static busybox and Mozilla's CA bundle")
    image_id = docker_build(context, image, dockerfile="Dockerfile", labels=labels)
    shutil.rmtree(work, ignore_errors=True)
    return image_id

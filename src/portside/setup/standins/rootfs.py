"""The ``debian:bookworm-slim`` and ``python:3.11-slim-bookworm`` stand-ins, made with mmdebstrap.

``mmdebstrap --variant=minbase`` installs Debian's essential packages plus apt
into an empty folder and packs it as a tarball; ``docker import`` turns that into
a one-layer image. That is, in essence, how the official Debian images are made.

Three things keep it quick and small:

* a shared apt cache (``.portside/debs/bookworm/archives``) is copied in before
  and out after each run, so a package is downloaded once, ever;
* the python image is built *on top of* the Debian root file system (the
  ``--variant=custom`` recipe from mmdebstrap's manual), so the essential packages
  are unpacked and configured once for both images;
* like the official slim images, dpkg is told to skip documentation, manual pages
  and translations (``/etc/dpkg/dpkg.cfg.d/portside-slim``).

The package set is the recipe, not a side effect: ``files/debian-bookworm-slim.packages``
and ``files/python-3.11-slim-bookworm.packages`` name every package, mmdebstrap installs
exactly those (``--variant=custom``, no Recommends) with merged ``/usr`` from its own
``merged-usr`` hook, and the result is compared with the lists. So two Debian 12
machines build the same package set on the same day; only the versions move, with
Debian's point releases and security updates. (Before the lists, a machine whose
mmdebstrap was installed *during* the build skipped the hook and got ``usrmerge`` and
Perl: 8 packages more than everyone else.)

Building needs root (mmdebstrap's ``root`` mode) and a Debian archive in the
machine's apt sources; the archive address is read from ``/etc/apt``.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import time
from functools import cache
from pathlib import Path

from portside.base import debian
from portside.base.paths import state_dir
from portside.base.proc import run, which
from portside.errors import ImageUnavailable, ToolError
from portside.setup.standins.base import SUITE, Say, asset, build_dir, docker_import, label_changes, standin_labels

__all__ = ["PYTHON_PACKAGES", "base_rootfs", "build_debian", "build_python", "debian_packages", "mmdebstrap",
           "python_packages"]

#: what the python image is for (its package list adds these and their dependencies to the Debian one)
PYTHON_PACKAGES = ("python3", "python3-pip", "python3-venv")

_BASE_MAX_AGE = 24 * 3600  # reuse a Debian root file system this young (like debian.py's apt lists)
#: mmdebstrap's default, said out loud: the lists name every package, so nothing may come in as a Recommends
_NO_RECOMMENDS = '--aptopt=Apt::Install-Recommends "false"'
_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_PYTHON_PATH = "/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"  # /usr/local/bin/python first
_HINT = ("mmdebstrap needs root and this machine's Debian archive (see /etc/apt); its last lines are "
         "above. Where Docker Hub is reachable, `docker pull` the official image instead.")


def mmdebstrap(say: Say) -> str:
    """The ``mmdebstrap`` command; installed from Debian with apt-get when missing (root only)."""
    found = which("mmdebstrap")
    if found:
        return found
    if os.geteuid() != 0 or which("apt-get") is None:
        raise ImageUnavailable(
            "Building the Debian-based stand-in images needs mmdebstrap, which is not installed.",
            hint="As root on Debian/Ubuntu run `apt-get install mmdebstrap` (or `make setup`), then run the "
                 "command again; or pull the official images where Docker Hub is reachable.")
    say("  installing Debian's mmdebstrap package (apt-get)…")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "mmdebstrap"]  # with Recommends (gpg, mount, …), as verified
    try:
        run(install, env=env, timeout=900, what="apt-get install mmdebstrap")
    except ToolError:  # stale package lists are the usual cause: refresh once and retry
        run(["apt-get", "update", "-qq"], env=env, timeout=600, what="apt-get update")
        run(install, env=env, timeout=900, what="apt-get install mmdebstrap")
    return which("mmdebstrap") or "mmdebstrap"


def _package_list(name: str) -> tuple[str, ...]:
    lines = asset(name).read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))


@cache
def debian_packages() -> tuple[str, ...]:
    """Every package of the ``debian:bookworm-slim`` stand-in (``files/debian-bookworm-slim.packages``)."""
    return _package_list("debian-bookworm-slim.packages")


@cache
def python_packages() -> tuple[str, ...]:
    """What the ``python:3.11-slim-bookworm`` stand-in adds to :func:`debian_packages`."""
    return _package_list("python-3.11-slim-bookworm.packages")


def _merged_usr_hook(command: str) -> Path:
    """mmdebstrap's ``merged-usr`` hook folder (``/usr/share/mmdebstrap/hooks/merged-usr``), required.

    Without it mmdebstrap merges ``/usr`` by installing ``usrmerge``, which pulls in Perl:
    a different image. So a missing hook is an error, never a silent change of recipe.
    """
    binary = Path(command).resolve()
    for share in (binary.parent.parent / "share", Path("/usr/share")):
        hook = share / "mmdebstrap" / "hooks" / "merged-usr"
        if hook.is_dir():
            return hook
    raise ImageUnavailable(
        f"The mmdebstrap at {command} has no merged-usr hook, so it cannot build the course's Debian images "
        "exactly as the recipe says.",
        hint="Install mmdebstrap 1.0 or newer (Debian 12's package is 1.3.5: `apt-get install mmdebstrap`), "
             "then run `portside images ensure` again.")


def _recipe_digest(args: list[str]) -> str:
    """A digest of everything that decides a root file system: arguments, package lists and hook files."""
    digest = hashlib.sha256("\0".join(args).encode())
    for name in ("dpkg-slim.cfg", "slim-rootfs.sh", "python-rootfs.sh"):
        digest.update(asset(name).read_bytes())
    return digest.hexdigest()


def _fast_tmpdir() -> str | None:
    """``/dev/shm`` when it is a roomy tmpfs that allows devices and executables (3x faster unpacking)."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
        stats = os.statvfs("/dev/shm")
    except OSError:
        return None
    for line in mounts:
        fields = line.split()
        if len(fields) >= 4 and fields[1] == "/dev/shm" and fields[2] == "tmpfs":
            options = fields[3].split(",")
            roomy = stats.f_bavail * stats.f_frsize >= 2 * 1024**3
            if roomy and "noexec" not in options and "nodev" not in options and os.access("/dev/shm", os.W_OK):
                return "/dev/shm"
    return None


def _run_mmdebstrap(args: list[str], *, out: Path, work: Path, say: Say,
                    expected: frozenset[str]) -> dict[str, str]:
    """Run mmdebstrap with the shared cache and slimming hooks; return the installed package versions.

    ``expected`` is the package set the recipe names; a difference (the archive changed a
    dependency) is reported, and the image is still built.
    """
    command = _require_mmdebstrap(say)
    cache = state_dir("debs", SUITE, "archives")
    sources = work / "debian.list"
    sources.write_text(debian.suite_sources_line(SUITE))
    versions = work / "packages.tsv"
    q = shlex.quote
    archives = '"$1/var/cache/apt/archives"'
    hooks = [
        f"--setup-hook=mkdir -p {archives} && cp -a {q(str(cache))}/. {archives}/",
        f"--customize-hook=find {archives} -maxdepth 1 -name '*.deb' -exec cp -an -t {q(str(cache))} {{}} +",
        f'--customize-hook=sh {q(str(asset("slim-rootfs.sh")))} "$1"',
        f"--customize-hook=chroot \"$1\" dpkg-query -W -f='${{Package}}\\t${{Version}}\\n' > {q(str(versions))}"
        f' && cp "$1/etc/debian_version" {q(str(work / "debian_version"))}',
    ]
    partial = out.with_name(out.name + ".part")
    env = {"TMPDIR": tmp} if (tmp := _fast_tmpdir()) else {}
    try:
        run([command, "--mode=root", "--format=tar", "--skip=essential/unlink", "--dpkgopt=force-unsafe-io",
             '--aptopt=Acquire::Languages "none"', _NO_RECOMMENDS, *args, *hooks, SUITE, str(partial),
             str(sources)],
            env=env, timeout=1200, what="mmdebstrap", hint=_HINT)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    installed = _read_versions(versions)
    _compare(installed, expected, say)
    return installed


def _read_versions(path: Path) -> dict[str, str]:
    """The ``package<TAB>version`` lines dpkg-query wrote in the customize hook."""
    return dict(line.split("\t", 1) for line in path.read_text().splitlines() if "\t" in line)


def _require_mmdebstrap(say: Say) -> str:
    if os.geteuid() != 0:
        raise ImageUnavailable("Building the Debian-based stand-in images needs root (mmdebstrap's root mode).",
                               hint="Run `sudo portside images ensure`, or pull the official images.")
    return mmdebstrap(say)


def _compare(installed: dict[str, str], expected: frozenset[str], say: Say) -> None:
    extra, missing = sorted(set(installed) - expected), sorted(expected - set(installed))
    if extra or missing:
        say(f"  note: Debian's archive resolved the recipe differently today: {len(extra)} package(s) more "
            f"({', '.join(extra) or '-'}), {len(missing)} fewer ({', '.join(missing) or '-'}). The image is built "
            "anyway; the package lists in portside/standins/files need updating.")


def base_rootfs(say: Say, *, reuse: bool = True) -> tuple[Path, dict[str, str], str]:
    """A slim Debian root file system tarball, its package versions and its ``/etc/debian_version``.

    Made with ``mmdebstrap --variant=custom`` from :func:`debian_packages`; a tarball made
    by the same recipe less than a day ago is reused (the python stand-in is built on top of it).
    """
    command = _require_mmdebstrap(say)  # before anything is decided: the hooks come with the package
    work = state_dir("build", "debian-rootfs")
    tarball, versions_file, release = work / "rootfs.tar", work / "packages.tsv", work / "debian_version"
    slim_cfg, target = shlex.quote(str(asset("dpkg-slim.cfg"))), '"$1/etc/dpkg/dpkg.cfg.d"'
    args = ["--variant=custom", f"--include={','.join(debian_packages())}",
            f"--hook-dir={_merged_usr_hook(command)}",  # /usr merged by symlinks, without usrmerge (and Perl)
            f"--setup-hook=mkdir -p {target} && cp {slim_cfg} {target}/portside-slim"]
    recipe, stamp = _recipe_digest(args), work / "recipe.sha256"
    fresh = tarball.is_file() and time.time() - tarball.stat().st_mtime < _BASE_MAX_AGE
    same = stamp.is_file() and stamp.read_text().strip() == recipe
    if not (reuse and fresh and same and versions_file.is_file() and release.is_file()):
        say(f"  mmdebstrap {SUITE}: {len(debian_packages())} packages (Debian's minbase set, merged /usr)…")
        stamp.unlink(missing_ok=True)
        _run_mmdebstrap(args, out=tarball, work=work, say=say, expected=frozenset(debian_packages()))
        stamp.write_text(recipe + "\n")
    return tarball, _read_versions(versions_file), release.read_text().strip()


def _pick(versions: dict[str, str], names: tuple[str, ...]) -> dict[str, str]:
    return {name: versions[name] for name in names if name in versions}


def build_debian(image: str, say: Say) -> str:
    """Build the ``debian:bookworm-slim`` stand-in as ``image``; return the image id."""
    tarball, versions, release = base_rootfs(say)
    say(f"  docker import {tarball.name} as {image}…")
    labels = standin_labels(image, main="base-files",
                            versions=_pick(versions, ("base-files", "libc6", "dpkg", "apt", "bash")),
                            what=f"Debian {release} minbase, {len(versions)} packages")
    changes = [*label_changes(labels), f"ENV PATH={_DEFAULT_PATH}", 'CMD ["bash"]']
    return docker_import(tarball, image, changes=changes)


def build_python(image: str, say: Say) -> str:
    """Build the ``python:3.11-slim-bookworm`` stand-in as ``image`` (Debian's Python 3.11); return the id."""
    base, _, release = base_rootfs(say)
    work = build_dir(image)
    tarball = work / "rootfs.tar"
    say(f"  mmdebstrap on top of it: {', '.join(PYTHON_PACKAGES)} ({len(python_packages())} packages)…")
    q = shlex.quote
    versions = _run_mmdebstrap(
        ["--variant=custom", f"--include={','.join(python_packages())}",
         f'--setup-hook=tar -C "$1" --exclude=./dev -xf {q(str(base))}',
         f'--customize-hook=sh {q(str(asset("python-rootfs.sh")))} "$1"'],
        out=tarball, work=work, say=say, expected=frozenset(debian_packages() + python_packages()))
    python = versions.get("python3.11", "")
    upstream = python.split("-", 1)[0]  # 3.11.2-6+deb12u6 -> 3.11.2
    labels = standin_labels(
        image, main="python3.11",
        versions=_pick(versions, ("python3.11", "python3-pip", "python3-venv", "python3-setuptools", "base-files")),
        what=f"Python {upstream} on Debian {release} minbase, {len(versions)} packages")
    env = {"PATH": _PYTHON_PATH, "LANG": "C.UTF-8", "PYTHON_VERSION": upstream}
    changes = [*label_changes(labels), *(f"ENV {key}={value}" for key, value in env.items()), 'CMD ["python3"]']
    say(f"  docker import {tarball.name} as {image}…")
    image_id = docker_import(tarball, image, changes=changes)
    tarball.unlink(missing_ok=True)
    return image_id

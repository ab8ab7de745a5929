"""What every stand-in builder shares: Debian packages in, a labelled local image out.

A stand-in is an image built on this machine, under the official image's name,
from packages of Debian's archive. Its labels say so, so nobody mistakes it for
the image Docker Hub serves::

    org.portside.standin=true
    org.opencontainers.image.description="Stand-in for registry:2, built from Debian archive by Portside: …"
    org.opencontainers.image.version=2.8.2+ds1-1
    org.opencontainers.image.source=Debian 12 (bookworm) package docker-registry 2.8.2+ds1-1

Two ways to make the image, both plain Docker:

* :func:`docker_build` — a ``FROM scratch`` Dockerfile that copies a folder of
  files unpacked from ``.deb`` packages (registry, busybox);
* :func:`docker_import` — ``docker import`` of a root file system tarball that
  ``mmdebstrap`` made (debian, python), with ``--change`` for labels, ENV and CMD.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import docker.errors
import requests.exceptions

from portside.base import debian
from portside.base.labels import STANDIN
from portside.base.paths import state_dir
from portside.base.proc import run
from portside.engine.daemon import client
from portside.errors import ImageUnavailable, engine_error

__all__ = [
    "SUITE",
    "Say",
    "asset",
    "build_dir",
    "deb_version",
    "docker_build",
    "docker_import",
    "fetch",
    "label_changes",
    "standin_labels",
]

#: the Debian release every stand-in comes from
SUITE = "bookworm"
SUITE_TITLE = "Debian 12 (bookworm)"

#: how builders report progress: one line at a time (``print``, or ``lambda _: None``)
Say = Callable[[str], object]


def asset(name: str) -> Path:
    """A file shipped in ``portside/standins/files`` (Dockerfiles, config, hook scripts)."""
    path = Path(str(resources.files("portside.setup.standins") / "files" / name))
    if not path.is_file():
        raise ImageUnavailable(f"The Portside installation lacks its stand-in file {name}.",
                               hint="Reinstall Portside (`pip install -e .` in the checkout).")
    return path


def build_dir(image: str, *, clean: bool = True) -> Path:
    """The working folder for building ``image`` (``…/.portside/build/registry-2``), emptied first."""
    slug = image.replace("/", "-").replace(":", "-")
    path = state_dir("build", slug)
    if clean:
        shutil.rmtree(path)
        path.mkdir(parents=True)
    return path


def fetch(packages: Iterable[str]) -> dict[str, Path]:
    """Download ``.deb`` files of ``packages`` from Debian :data:`SUITE` (cached), by package name."""
    names = list(packages)
    debs = debian.download(names, suite=SUITE, dest=state_dir("debs", SUITE))
    return dict(zip(names, debs, strict=True))


def deb_version(deb: Path) -> str:
    """The Debian version of a ``.deb`` file, as dpkg reports it (``2.8.2+ds1-1``)."""
    return run(["dpkg-deb", "--field", str(deb), "Version"], timeout=60).stdout.strip()


def standin_labels(image: str, *, main: str, versions: Mapping[str, str], what: str = "") -> dict[str, str]:
    """The labels that mark ``image`` as a stand-in and say what it was built from.

    ``main`` names the package whose version becomes the image version;
    ``versions`` lists the packages worth naming (package → Debian version).
    """
    packages = ", ".join(f"{name} {version}" for name, version in versions.items())
    detail = f"{what}; " if what else ""
    return {
        STANDIN: "true",
        "org.portside.standin.packages": " ".join(f"{n}={v}" for n, v in versions.items()),
        "org.opencontainers.image.title": f"{image} (Portside stand-in)",
        "org.opencontainers.image.description": (
            f"Stand-in for {image}, built from Debian archive by Portside: {detail}{packages}"
        ),
        "org.opencontainers.image.version": versions[main],
        "org.opencontainers.image.source": f"{SUITE_TITLE} package {main} {versions[main]}",
        "org.opencontainers.image.vendor": "Portside (from Debian packages)",
        "org.opencontainers.image.created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def label_changes(labels: Mapping[str, str]) -> list[str]:
    """``LABEL`` lines for ``docker import --change`` (values quoted as Dockerfile strings)."""
    return [f"LABEL {key}={json.dumps(value)}" for key, value in labels.items()]


def _split(image: str) -> tuple[str, str]:
    repository, _, tag = image.rpartition(":")
    if not repository or "/" in tag:
        return image, "latest"
    return repository, tag


def docker_build(context: Path, image: str, *, dockerfile: str, labels: Mapping[str, str]) -> str:
    """Build ``context`` (its Dockerfile named ``dockerfile``) as ``image``; return the image id."""
    try:
        built, _logs = client().images.build(
            path=str(context), dockerfile=dockerfile, tag=image, labels=dict(labels), rm=True, forcerm=True,
            pull=False,
        )
    except docker.errors.BuildError as exc:
        tail = "\n  ".join(str(line.get("stream", line.get("error", ""))).rstrip()
                           for line in list(exc.build_log)[-6:])
        raise ImageUnavailable(f"docker build of the {image} stand-in failed: {exc.msg}\n  {tail}",
                               hint=f"The build folder is {context}; fix the cause above and run again.") from exc
    except (docker.errors.APIError, requests.exceptions.RequestException) as exc:
        raise engine_error(exc, "Building the stand-in", image, instead={"other": ImageUnavailable(
            f"The Docker engine refused to build the {image} stand-in: {exc}",
            hint="Check `docker info`, then run `portside images ensure` again.")}) from exc
    return str(built.id)


def docker_import(tarball: Path, image: str, *, changes: Iterable[str]) -> str:
    """``docker import`` a root file system tarball as ``image`` with ``--change`` lines; return the id."""
    repository, tag = _split(image)
    answer = ""
    try:
        answer = str(client().api.import_image_from_file(str(tarball), repository=repository, tag=tag,
                                                         changes=list(changes)))
        return str(client().images.get(image).id)
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise ImageUnavailable(f"docker import of {tarball.name} as {image} failed: {answer.strip() or exc}",
                               hint="Check `docker info` and free disk space, then run the command again.") from exc

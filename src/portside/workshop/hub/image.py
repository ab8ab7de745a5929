"""The learners' server image: the course image plus JupyterHub's single-user server, built with BuildKit.

JupyterHub talks to each learner's Jupyter server through ``jupyterhub-singleuser`` (the hub's OAuth login,
activity reports), which lives in the ``jupyterhub`` package: the same version as the hub's, installed into
the course image's venv from wheels fetched here (``pip download``, PyPI), with no network inside the build.
"""

from __future__ import annotations

import shutil
import sys
from importlib.metadata import version
from pathlib import Path

import docker.errors

from portside.base.labels import course_labels
from portside.base.paths import run_dir
from portside.base.proc import run
from portside.engine.build import build as buildkit_build
from portside.engine.daemon import client
from portside.setup.course_image.image import TAG as COURSE_TAG

__all__ = ["KIND", "TAG", "build", "exists", "remove"]

KIND = "hub-image"
TAG = f"portside-hub-server:{version('portside')}"

_DOCKERFILE = """\
ARG COURSE
FROM ${COURSE}
USER root
RUN --mount=type=bind,source=wheels,target=/wheels \\
    /opt/portside/venv/bin/python -m pip install --no-index --find-links /wheels --no-cache-dir \\
        --disable-pip-version-check --quiet "jupyterhub==%(jupyterhub)s"
USER 1000:1000
"""


def exists(tag: str = TAG) -> bool:
    try:
        client().images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def _wheels(folder: Path, jupyterhub: str) -> None:
    """JupyterHub and its dependencies as wheels for the image's Python (3.11, glibc x86-64)."""
    run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--only-binary=:all:",
         "--python-version", "3.11", "--implementation", "cp", "--platform", "manylinux_2_28_x86_64",
         "--platform", "manylinux_2_17_x86_64", "--platform", "manylinux2014_x86_64", "-d", str(folder),
         f"jupyterhub=={jupyterhub}"], timeout=600, what="pip download jupyterhub",
        hint="The hub image needs JupyterHub's wheels from PyPI once.")


def build(*, course: str = COURSE_TAG, tag: str = TAG) -> str:
    """Build ``tag`` on top of the course image ``course`` (which must exist: ``course_image.build()``)."""
    jupyterhub = version("jupyterhub")
    context = run_dir("hub", "image")
    shutil.rmtree(context, ignore_errors=True)
    (context / "wheels").mkdir(parents=True)
    _wheels(context / "wheels", jupyterhub)
    (context / "Dockerfile").write_text(_DOCKERFILE % {"jupyterhub": jupyterhub})
    buildkit_build(context, tag=tag, build_args={"COURSE": course}, labels=course_labels(KIND), network="none")
    return tag


def remove(tag: str = TAG) -> None:
    try:
        client().images.remove(tag, force=True)
    except docker.errors.ImageNotFound:
        pass

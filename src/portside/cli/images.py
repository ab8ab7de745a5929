"""``portside images``: the course images, pulled or built offline as stand-ins."""

from __future__ import annotations

import sys

import click

from portside.cli.common import say

__all__ = ["images"]


@click.group()
def images() -> None:
    """The course images (pulled, or built offline as stand-ins)."""


@images.command("ensure")
@click.option("--offline", is_flag=True, default=None, help="Never try to pull; build stand-ins instead.")
@click.option("--no-progress", is_flag=True, help="No progress bars.")
def images_ensure(offline: bool | None, no_progress: bool) -> None:
    """Make every course image present: pull it, or build a stand-in from Debian packages."""
    from portside.setup.images import ensure, format_table

    click.echo(format_table(ensure(offline=offline, progress=not no_progress, say=say)))


@images.command("status")
def images_status() -> None:
    """Show which course images are present and how they were made (exit 1 if one is missing)."""
    from portside.setup.images import format_table, status

    found = status()
    click.echo(format_table(found))
    sys.exit(1 if any(image.state == "missing" for image in found) else 0)


@images.command("course")
@click.option("--offline", is_flag=True, default=None,
              help="Take the Python wheels from the state folder's cache only.")
@click.option("--repin", is_flag=True,
              help="Build on this engine's base image by its own digest if it is not the pinned one.")
def images_course(offline: bool | None, repin: bool) -> None:
    """Build the course image: JupyterLab, the course and its tools, for a Docker engine outside the container."""
    from portside.setup.course_image import build, engine_socket

    built = build(offline=offline, repin=repin, say=say)
    sock = engine_socket()
    say(f"Run it: docker run --rm --network host -v {sock.path}:/var/run/docker.sock --group-add {sock.gid} "
        f"{built.tag}")

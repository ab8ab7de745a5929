"""``portside kit``: the offline kit an instructor builds once and every learner machine installs from.

::

    portside kit build OUT [--tar] [--offline] [--wheels DIR]     # everything, in one folder (+ one tar)
    portside kit install KIT [--course DIR] [--venv PATH]         # no network: verify, install, doctor
    portside kit seed KIT HOST:PORT --username U --password-stdin  # the kit's images into a registry
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from portside.errors import UsageError

if TYPE_CHECKING:
    from portside.oci.endpoint import Endpoint

__all__ = ["kit"]


@click.group()
def kit() -> None:
    """Build the offline kit (instructor) or install from it (learner, no network)."""


@kit.command("build")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--tar", "as_tar", is_flag=True, help="Also write OUT.tar: the whole kit as one file.")
@click.option("--offline", is_flag=True, default=None,
              help="Download nothing: the wheels come from the state folder's cache (or --wheels).")
@click.option("--wheels", "wheel_source", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="Take the Python wheels from this folder instead of PyPI (no network).")
@click.option("--course", "course_root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=None, help="The course checkout to pack (default: the one Portside runs from).")
@click.option("--image", "extra_images", multiple=True, metavar="NAME",
              help="Carry this local image too, beside the course images (repeatable).")
def kit_build(out: Path, as_tar: bool, offline: bool | None, wheel_source: Path | None, course_root: Path | None,
              extra_images: tuple[str, ...]) -> None:
    """Build the kit in the folder OUT: course, wheels, images, tools, Trivy's database, manifest."""
    from portside.base.table import Table
    from portside.setup.images import CATALOGUE
    from portside.workshop.kit.build import build

    result = build(out, course_root=course_root, image_names=[*CATALOGUE, *extra_images], wheel_source=wheel_source,
                   offline=offline, tar=as_tar, say=click.echo)
    manifest = result.manifest
    counts = {part: sum(1 for rel in manifest.files if rel == part or rel.startswith(part + "/"))
              for part in manifest.sizes()}
    counts["other"] = len(manifest.files) - sum(count for part, count in counts.items() if part != "other")
    rows = [(part, f"{size / 1e6:.1f}", counts[part]) for part, size in manifest.sizes().items()]
    rows.append(("total", f"{manifest.total_size / 1e6:.1f}", len(manifest.files)))
    click.echo(Table(["part", "MB", "files"], rows, rule=False).text())
    click.echo(f"Built {result.kit} in {result.seconds:.0f} s"
               + (f"; one file: {result.tarball}" if result.tarball else "") + ".")
    click.echo(f"A learner with {manifest.python.describe()} and Docker runs:  sh {result.kit.name}/install.sh")


@kit.command("install")
@click.argument("kit_dir", metavar="KIT", type=click.Path(exists=True, path_type=Path))
@click.option("--course", "course_dir", type=click.Path(path_type=Path), default=Path("portside"),
              show_default=True, help="Where the course goes (its notebooks, labs, and its state folder).")
@click.option("--venv", type=click.Path(path_type=Path), default=None,
              help="The virtual environment to install into, created if missing (default: COURSE/.venv).")
@click.option("--current-env", is_flag=True,
              help="Install into the Python environment running this command instead of a venv.")
def kit_install(kit_dir: Path, course_dir: Path, venv: Path | None, current_env: bool) -> None:
    """Install the course from the kit KIT with no network; ends with `portside doctor` (exit 1 if it fails)."""
    from portside.workshop.kit.install import install

    if current_env and venv is not None:
        raise UsageError("Give --venv PATH or --current-env, not both.")
    target = None if current_env else (venv or course_dir / ".venv")
    done = install(kit_dir, course_dir=course_dir, venv=target, say=click.echo)
    click.echo(done.doctor)
    click.echo(done.summary())
    sys.exit(0 if done.doctor_ok else 1)


def _endpoint(address: str, username: str | None, password: str | None, ca_file: Path | None) -> Endpoint:
    from portside.oci.endpoint import Endpoint

    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"{address!r} is not HOST:PORT.", hint="For example: localhost:5000")
    return Endpoint(host.strip("[]"), int(port), tls=ca_file is not None, ca_file=ca_file, username=username,
                    password=password)


@kit.command("seed")
@click.argument("kit_dir", metavar="KIT", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("address", metavar="HOST:PORT")
@click.option("--username", default=None, help="The account to push as (the room's instructor).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The registry speaks TLS with a certificate from this CA.")
def kit_seed(kit_dir: Path, address: str, username: str | None, password_stdin: bool, ca_file: Path | None) -> None:
    """Push the kit's images into the registry at HOST:PORT as course/NAME:TAG."""
    from portside.workshop.kit.seed import seed

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    if password_stdin and not username:
        raise UsageError("--password-stdin needs --username.")
    for ref in seed(kit_dir, _endpoint(address, username, password, ca_file), say=click.echo):
        click.echo(ref)

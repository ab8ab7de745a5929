"""The ``portside advisories`` group: the course's OSV snapshot, today's data from OSV, and Trivy's
database built from either (``trivy-db`` and ``publish``, from :mod:`portside.cli.trivydb`)."""

from __future__ import annotations

from pathlib import Path

import click

from portside.cli.common import advisories_option, fail
from portside.cli.trivydb import publish_command, trivy_db_command
from portside.errors import PortsideError

__all__ = ["advisories"]


@click.group("advisories")
def advisories() -> None:
    """Security advisories (OSV): the course's snapshot, or today's data from OSV."""


@advisories.command("download")
@click.argument("ecosystems", nargs=-1)
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the zip files (default: <state>/advisories/osv).")
def advisories_download(ecosystems: tuple[str, ...], dest: Path | None) -> None:
    """Download OSV's all.zip for each ECOSYSTEM (default: PyPI Debian:12). Needs the internet."""
    from portside.base.paths import state_dir
    from portside.security.advisories import download

    target = dest or state_dir("advisories", "osv")
    try:
        folder = download(list(ecosystems) or ["PyPI", "Debian:12"], target)
    except PortsideError as exc:
        fail(exc)
    click.echo(f"Saved to {folder}. Scan with it: portside scan IMAGE --advisories {folder}")


@advisories.command("list")
@advisories_option()
def advisories_list(advisories_path: Path | None) -> None:
    """List the advisories of the snapshot (or of --advisories): id, severity, package, aliases."""
    from portside.base.table import Table
    from portside.security.advisories import load

    try:
        records = load(advisories_path)
    except PortsideError as exc:
        fail(exc)
    rows = [[a.id, a.severity.name, ", ".join(sorted({f"{x.ecosystem} {x.name}" for x in a.affected})),
             " ".join(a.aliases)] for a in sorted(records, key=lambda a: (-int(a.severity), a.id))]
    click.echo(Table(["id", "severity", "package", "aliases"], rows).text())


advisories.add_command(trivy_db_command)
advisories.add_command(publish_command)

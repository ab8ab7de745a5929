"""``portside advisories trivy-db`` and ``portside advisories publish``: Trivy's database, built and mirrored.

Registered under the ``advisories`` group of :mod:`portside.cli.advisories`::

    portside advisories trivy-db trivy-cache            # then: trivy image --cache-dir trivy-cache --skip-db-update …
    portside advisories publish localhost:5000/trivy-db:2
    # then: trivy image --db-repository localhost:5000/trivy-db:2 …
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from portside.cli.common import advisories_option

__all__ = ["publish_command", "trivy_db_command"]

_ADVISORIES = advisories_option(
    "source", text="A folder of OSV records or an OSV all.zip export (default: the course's snapshot).")


@click.command("trivy-db")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@_ADVISORIES
def trivy_db_command(out: Path, source: Path | None) -> None:
    """Build Trivy's vulnerability database (OUT/db/trivy.db + metadata.json) from OSV advisories."""
    from portside.security.advisories import load_raw
    from portside.security.trivydb.database import build_records

    built = build_records(out, load_raw(source))
    click.echo(str(built))
    click.echo(f"Scan with it:  trivy image --cache-dir {out} --skip-db-update --scanners vuln IMAGE")


@click.command("publish")
@click.argument("ref")
@_ADVISORIES
@click.option("--db", "db_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Publish a database already built with `trivy-db` instead of building one.")
def publish_command(ref: str, source: Path | None, db_dir: Path | None) -> None:
    """Push a Trivy database to a registry as REF (e.g. localhost:5000/trivy-db:2), the way Trivy pulls it."""
    from portside.security.advisories import load_raw
    from portside.security.trivydb.artifact import publish
    from portside.security.trivydb.database import build_records

    if db_dir is not None and source is not None:
        raise click.UsageError("Give --db (a built database) or --advisories (build one), not both.")
    if db_dir is not None:
        digest = publish(ref, db_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="portside-trivy-db-") as tmp:
            built = build_records(Path(tmp), load_raw(source))
            click.echo(str(built).replace(str(built.db_dir), "a temporary folder"))
            digest = publish(ref, built.db_dir)
    click.echo(f"Pushed {ref} ({digest}).")
    click.echo(f"Scan with it:  trivy image --db-repository {ref} --scanners vuln IMAGE")

"""``portside tools``: cosign, syft and trivy, found or installed, with where each came from."""

from __future__ import annotations

import sys

import click

from portside.cli.common import say

__all__ = ["tools"]


@click.group()
def tools() -> None:
    """The command-line tools: cosign, syft, trivy."""


@tools.command("ensure")
@click.argument("names", nargs=-1)
def tools_ensure(names: tuple[str, ...]) -> None:
    """Find or install cosign, syft and trivy (into the course tools folder); exit 1 if one is missing."""
    from portside.tools import ensure, format_table

    found = ensure(list(names) or None, say=say)
    click.echo(format_table(found))
    sys.exit(0 if all(tool.ok for tool in found) else 1)


@tools.command("status")
@click.option("--short", is_flag=True, help="Only the table of versions and paths (no hashes, no origins).")
def tools_status(short: bool) -> None:
    """Show each tool's version, where it came from and the sha256 of what runs (exit 1 if one is missing)."""
    from portside.tools import format_table, provenance, status

    if short:
        found = status()
        click.echo(format_table(found))
        sys.exit(0 if all(tool.ok for tool in found) else 1)
    report = provenance.report()
    click.echo(provenance.format_report(report))
    sys.exit(0 if all(item.ok for item in report) else 1)

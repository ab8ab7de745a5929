"""The ``portside scan`` command and the ``portside advisories`` group (registered in :mod:`portside.cli`).

``portside scan IMAGE`` is a CI step: it prints the findings and the gate's verdict,
optionally writes a report file, and exits **0** when the gate passes, **1** when it
blocks, **2** when the scan itself could not run (a usage error, a missing tool, an
image that is not there).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from portside.errors import PortsideError

__all__ = ["advisories", "scan"]

_LEVELS = ("critical", "high", "medium", "low")


def _fail(exc: PortsideError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


@click.command("scan")
@click.argument("image")
@click.option("--from-registry", is_flag=True, help="Read IMAGE straight from its registry (no engine needed).")
@click.option("--advisories", "advisories_path", type=click.Path(exists=True, path_type=Path), default=None,
              help="A folder of OSV records or an OSV all.zip (default: the course's snapshot).")
@click.option("--fail-on", type=click.Choice(_LEVELS, case_sensitive=False), default="critical", show_default=True,
              help="Block on findings of this severity or worse.")
@click.option("--allow", "allow_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="An allow-list TOML file ([[allow]] id, reason, expires, package).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a report file for CI.")
@click.option("--format", "fmt", type=click.Choice(["json", "cyclonedx"]), default="json", show_default=True,
              help="Format of --report: plain JSON, or the CycloneDX SBOM with a vulnerabilities section.")
@click.option("--sort", type=click.Choice(["severity", "package", "id", "fixed"]), default="severity",
              show_default=True, help="Order of the findings table.")
@click.option("--chart", "chart_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the severity chart as SVG.")
def scan(image: str, from_registry: bool, advisories_path: Path | None, fail_on: str, allow_path: Path | None,
         report_path: Path | None, fmt: str, sort: str, chart_path: Path | None) -> None:
    """Scan IMAGE for known vulnerabilities and apply the gate (exit 0 pass, 1 blocked, 2 error)."""
    from portside.security.advisories import Severity
    from portside.security.scan import gate, load_allowlist
    from portside.security.scan import scan as run_scan

    try:
        allow = load_allowlist(allow_path) if allow_path else []
        report = run_scan(image, advisories=advisories_path, from_registry=from_registry)
        result = gate(report, fail_on=Severity[fail_on.upper()], allow=allow)
        click.echo(report.table(sort=sort).text())  # type: ignore[arg-type]
        if report_path:
            report.write(report_path, fmt)  # type: ignore[arg-type]
            click.echo(f"report: {report_path} ({fmt})")
        if chart_path:
            chart_path.parent.mkdir(parents=True, exist_ok=True)
            chart_path.write_text(report.chart(), encoding="utf-8")
            click.echo(f"chart: {chart_path}")
    except PortsideError as exc:
        _fail(exc)
        return
    click.echo(str(result))
    sys.exit(0 if result.passed else 1)


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
        _fail(exc)
        return
    click.echo(f"Saved to {folder}. Scan with it: portside scan IMAGE --advisories {folder}")


@advisories.command("list")
@click.option("--advisories", "advisories_path", type=click.Path(exists=True, path_type=Path), default=None,
              help="A folder of OSV records or an OSV all.zip (default: the course's snapshot).")
def advisories_list(advisories_path: Path | None) -> None:
    """List the advisories of the snapshot (or of --advisories): id, severity, package, aliases."""
    from portside.base.table import Table
    from portside.security.advisories import load

    try:
        records = load(advisories_path)
    except PortsideError as exc:
        _fail(exc)
        return
    rows = [[a.id, a.severity.name, ", ".join(sorted({f"{x.ecosystem} {x.name}" for x in a.affected})),
             " ".join(a.aliases)] for a in sorted(records, key=lambda a: (-int(a.severity), a.id))]
    click.echo(Table(["id", "severity", "package", "aliases"], rows).text())

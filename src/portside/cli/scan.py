"""The ``portside scan`` command (registered in :mod:`portside.cli.main`).

``portside scan IMAGE`` is a CI step: it prints the findings and the gate's verdict,
optionally writes a report file, and exits **0** when the gate passes, **1** when it
blocks, **2** when the scan itself could not run (a usage error, a missing tool, an
image that is not there).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from portside.cli.common import advisories_option, fail, fail_on_option
from portside.errors import PortsideError

__all__ = ["scan"]


@click.command("scan")
@click.argument("image")
@click.option("--from-registry", is_flag=True, help="Read IMAGE straight from its registry (no engine needed).")
@advisories_option()
@fail_on_option("Block on findings of this severity or worse.")
@click.option("--fail-on-unrated", "fail_on_unrated", is_flag=True,
              help="Also block on findings no loaded advisory rates (UNKNOWN severity).")
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
def scan(image: str, from_registry: bool, advisories_path: Path | None, fail_on: str, fail_on_unrated: bool,
         allow_path: Path | None, report_path: Path | None, fmt: str, sort: str, chart_path: Path | None) -> None:
    """Scan IMAGE for known vulnerabilities and apply the gate (exit 0 pass, 1 blocked, 2 error)."""
    from portside.security.advisories import Severity
    from portside.security.scan import gate, load_allowlist
    from portside.security.scan import scan as run_scan

    try:
        allow = load_allowlist(allow_path) if allow_path else []
        report = run_scan(image, advisories=advisories_path, from_registry=from_registry)
        result = gate(report, fail_on=Severity[fail_on.upper()], allow=allow, block_unrated=fail_on_unrated)
        click.echo(report.table(sort=sort).text())  # type: ignore[arg-type]
        if report_path:
            report.write(report_path, fmt)  # type: ignore[arg-type]
            click.echo(f"report: {report_path} ({fmt})")
        if chart_path:
            chart_path.parent.mkdir(parents=True, exist_ok=True)
            chart_path.write_text(report.chart(), encoding="utf-8")
            click.echo(f"chart: {chart_path}")
    except PortsideError as exc:  # any kind: a scan that could not run is exit 2
        fail(exc)
    click.echo(str(result))
    sys.exit(0 if result.passed else 1)

"""The scanner end to end: real syft on real images built here, the gate, the CLI's exit codes, a registry scan.

Both pyapp variants are built once for the module (offline: wheels from the course folder,
``--network none``) and removed at the end.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from portside import engine
from portside.base.labels import session_id
from portside.cli.scan import scan as scan_command
from portside.engine import transfer
from portside.lessons import sample_app
from portside.registry.container import Registry
from portside.security.advisories import Severity
from portside.security.scan import ScanReport, gate, scan

pytestmark = pytest.mark.slow

#: every GitHub advisory of the snapshot that affects a pin of requirements-vulnerable.txt
VULNERABLE_PYPI = {
    ("gitpython", "GHSA-pr76-5cm5-w9cj"), ("gitpython", "GHSA-hcpj-qp55-gfph"), ("gitpython", "GHSA-wfm5-v35h-vwf4"),
    ("gitpython", "GHSA-cwvm-v4w8-q58c"), ("gitpython", "GHSA-2mqj-m65w-jghx"), ("httpx", "GHSA-h8pj-cxx2-jfg2"),
    ("h11", "GHSA-vqfr-h8mv-ghfj"), ("certifi", "GHSA-xqr8-7jwr-rhp7"), ("certifi", "GHSA-248v-346w-9cwc"),
    ("idna", "GHSA-jjg7-2v4v-x38h"),
}
CRITICALS = {"GHSA-pr76-5cm5-w9cj", "GHSA-vqfr-h8mv-ghfj", "GHSA-h8pj-cxx2-jfg2"}


def _pypi(findings: object) -> set[tuple[str, str]]:
    return {(f.package.lower(), f.id) for f in findings if f.ecosystem == "PyPI"}  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def images(pyapp_images: dict[str, str]) -> dict[str, str]:
    return pyapp_images


@pytest.fixture(scope="module")
def reports(images: dict[str, str]) -> dict[str, ScanReport]:
    found = {}
    for variant, tag in images.items():
        start = time.monotonic()
        found[variant] = scan(tag)
        print(f"scan of the {variant} app: {time.monotonic() - start:.1f} s, "
              f"{len(found[variant].inventory.packages)} packages")
    return found


def test_vulnerable_app_has_the_expected_findings_and_is_blocked(reports: dict[str, ScanReport]) -> None:
    """Exactly the snapshot's advisories for the pinned versions; three CRITICALs in three packages block."""
    report = reports["vulnerable"]
    assert _pypi(report.findings) == VULNERABLE_PYPI
    result = gate(report)
    assert not result.passed
    assert {f.id for f in result.blocking} == CRITICALS
    assert {f.package.lower() for f in result.blocking} == {"gitpython", "h11", "httpx"}
    # the base image's Debian packages are in the inventory too, and none of them is CRITICAL
    assert report.inventory.by_ecosystem()["Debian"] > 50
    assert all(f.severity < Severity.CRITICAL for f in report.findings if f.ecosystem == "Debian")


def test_fixed_app_has_no_python_finding_and_passes(reports: dict[str, ScanReport]) -> None:
    """The fixed pins: no PyPI finding at all, zero CRITICAL, the gate passes (not at LOW: the base has LOWs)."""
    report = reports["fixed"]
    assert _pypi(report.findings) == set()
    assert report.counts()[Severity.CRITICAL] == 0
    result = gate(report)
    assert result.passed, str(result)
    assert not gate(report, fail_on=Severity.LOW).passed  # the base image's unfixed Debian LOWs
    versions = {p.name.lower(): p.version for p in report.inventory.packages if p.ecosystem == "PyPI"}
    assert versions["gitpython"] == "3.1.45" and versions["h11"] == "0.16.0" and versions["httpx"] == "0.28.1"


def test_app_packages_and_base_packages_live_in_different_layers(reports: dict[str, ScanReport]) -> None:
    """The pins are in the app's own layer; Debian's packages in the base image's layer (rebuild to refresh it)."""
    report = reports["fixed"]
    base_layers = set(engine.client().images.get(sample_app.BASE).attrs["RootFS"]["Layers"])
    coreutils = report.inventory.find("coreutils")[0]
    httpx = report.inventory.find("httpx")[0]
    assert coreutils.layer in base_layers
    assert httpx.layer not in base_layers
    assert httpx.path and httpx.path.startswith("/opt/venv/")
    groups = report.inventory.by_layer()
    assert {p.ecosystem for p in groups[httpx.layer or ""]} == {"PyPI"}
    assert "coreutils" in {p.name for p in groups[coreutils.layer or ""]}


def test_cli_exit_codes_and_report_files(images: dict[str, str], tmp_path: Path) -> None:
    """`portside scan`: 1 when blocked, 0 when passing, 2 for an image that is not there; report and chart written."""
    runner = CliRunner()
    report_file, chart = tmp_path / "scan.cdx.json", tmp_path / "chart.svg"
    blocked = runner.invoke(scan_command, [images["vulnerable"], "--report", str(report_file), "--format",
                                           "cyclonedx", "--chart", str(chart)])
    assert blocked.exit_code == 1, blocked.output
    assert "BLOCKED:" in blocked.output and "GHSA-vqfr-h8mv-ghfj" in blocked.output
    bom = json.loads(report_file.read_text())
    assert CRITICALS <= {v["id"] for v in bom["vulnerabilities"]}
    assert chart.read_text().startswith("<svg")
    passed = runner.invoke(scan_command, [images["fixed"], "--report", str(tmp_path / "scan.json")])
    assert passed.exit_code == 0, passed.output
    assert "PASSED:" in passed.output
    assert json.loads((tmp_path / "scan.json").read_text())["counts"]["CRITICAL"] == 0
    missing = runner.invoke(scan_command, [f"portside-test-no-such-image:{session_id()}"])
    assert missing.exit_code == 2
    assert "no image" in missing.output


def test_cli_allow_list_with_an_expired_entry(images: dict[str, str], tmp_path: Path) -> None:
    """Allow-listing all three CRITICALs passes; with one entry expired, the gate blocks and says why."""
    future = dt.date.today() + dt.timedelta(days=30)
    past = dt.date.today() - dt.timedelta(days=1)
    entries = [f'[[allow]]\nid = "{i}"\nreason = "test"\nexpires = {future}\n' for i in sorted(CRITICALS)]
    allow = tmp_path / "allow.toml"
    allow.write_text("\n".join(entries), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(scan_command, [images["vulnerable"], "--allow", str(allow)])
    assert result.exit_code == 0, result.output
    assert result.output.count("allowed: ") == 3
    allow.write_text("\n".join(entries).replace(f"expires = {future}", f"expires = {past}", 1), encoding="utf-8")
    result = runner.invoke(scan_command, [images["vulnerable"], "--allow", str(allow)])
    assert result.exit_code == 1
    assert "expired on" in result.output and "was ignored" in result.output


def test_scan_straight_from_a_registry(images: dict[str, str]) -> None:
    """syft reads the pushed image from the registry (no engine involved) and finds the same thing."""
    with Registry() as registry:
        ref = registry.ref("course/pyapp", "vulnerable")
        engine.client().images.get(images["vulnerable"]).tag(ref)
        transfer.push(ref, progress=False)
        start = time.monotonic()
        report = scan(ref, from_registry=True, env=registry.tool_env())
        print(f"scan from the registry: {time.monotonic() - start:.1f} s")
    assert _pypi(report.findings) == VULNERABLE_PYPI
    assert not gate(report).passed

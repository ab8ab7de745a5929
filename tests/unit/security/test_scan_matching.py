"""Matching, alias merging, the gate and the report formats — on a small CycloneDX inventory written here.

The image-level proof (real syft, real engine, real built images) is in test_scan_images.py.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from portside.errors import PortsideError
from portside.security.advisories import Severity, load
from portside.security.scan import (
    AllowEntry,
    ScanReport,
    gate,
    inventory,
    load_allowlist,
    match,
    packages_of,
    parse_allowlist,
)
from portside.security.scan.inventory import parse_purl, source_for

TODAY = dt.date(2026, 11, 26)


def _component(purl: str, name: str, version: str) -> dict[str, Any]:
    return {"bom-ref": f"{purl}&package-id=x", "type": "library", "name": name, "version": version, "purl": purl,
            "properties": [{"name": "syft:location:0:layerID", "value": "sha256:layer"}]}


#: the shape syft 1.18 writes: the Debian source package in the purl's `upstream` qualifier when it differs
SBOM: dict[str, Any] = {
    "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
    "components": [
        _component("pkg:pypi/gitpython@3.1.29", "GitPython", "3.1.29"),
        _component("pkg:pypi/httpx@0.22.0", "httpx", "0.22.0"),
        _component("pkg:pypi/h11@0.12.0", "h11", "0.12.0"),
        _component("pkg:pypi/certifi@2022.12.7", "certifi", "2022.12.7"),
        _component("pkg:pypi/idna@3.4", "idna", "3.4"),
        _component("pkg:deb/debian/libc6@2.36-9%2Bdeb12u2?arch=amd64&distro=debian-12&upstream=glibc",
                   "libc6", "2.36-9+deb12u2"),
        _component("pkg:deb/debian/libc-bin@2.36-9%2Bdeb12u10?arch=amd64&distro=debian-12&upstream=glibc",
                   "libc-bin", "2.36-9+deb12u10"),
        _component("pkg:deb/debian/coreutils@9.1-1?arch=amd64&distro=debian-12", "coreutils", "9.1-1"),
        {"type": "operating-system", "name": "debian", "version": "12"},
    ],
}


@pytest.fixture(scope="module")
def report() -> ScanReport:
    found = inventory("demo:1", sbom=SBOM)
    return ScanReport(image="demo:1", inventory=found, findings=match(found, load()), advisories_count=len(load()))


def test_purls_and_debian_source_names() -> None:
    """The purl gives ecosystem, name, version (percent-decoded) and the Debian source from `upstream`."""
    kind, name, version, qualifiers = parse_purl(
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u2?arch=amd64&distro=debian-12&upstream=glibc")
    assert (kind, name, version, qualifiers["distro"]) == ("deb", "libc6", "2.36-9+deb12u2", "debian-12")
    assert source_for("pkg:deb/debian/python3-pip@23.0.1?upstream=python-pip%4023.0.1%2Bdfsg-1") == "python-pip"
    assert source_for("pkg:deb/debian/coreutils@9.1-1?distro=debian-12") is None
    packages = {p.name: p for p in packages_of(SBOM)}
    assert len(packages) == 8  # the operating-system component has no purl
    assert packages["libc6"].source_name == "glibc"
    assert packages["libc6"].distro_release == "12"
    assert packages["coreutils"].source_name == "coreutils"  # no upstream: source = binary name
    assert packages["GitPython"].ecosystem == "PyPI" and packages["GitPython"].source_name is None


def test_the_expected_findings(report: ScanReport) -> None:
    """Exactly the flaws the snapshot says affect these versions, one finding each, main id = GHSA."""
    assert {(f.package, f.id) for f in report.findings} >= {
        ("GitPython", "GHSA-pr76-5cm5-w9cj"), ("GitPython", "GHSA-hcpj-qp55-gfph"),
        ("GitPython", "GHSA-wfm5-v35h-vwf4"), ("GitPython", "GHSA-cwvm-v4w8-q58c"),
        ("GitPython", "GHSA-2mqj-m65w-jghx"), ("httpx", "GHSA-h8pj-cxx2-jfg2"), ("h11", "GHSA-vqfr-h8mv-ghfj"),
        ("certifi", "GHSA-xqr8-7jwr-rhp7"), ("certifi", "GHSA-248v-346w-9cwc"), ("idna", "GHSA-jjg7-2v4v-x38h"),
    }
    assert [f.id for f in report.of(Severity.CRITICAL)] == [
        "GHSA-pr76-5cm5-w9cj", "GHSA-vqfr-h8mv-ghfj", "GHSA-h8pj-cxx2-jfg2"]
    # certifi 2022.12.7 *is* the fix of CVE-2022-23491 (written 2022.12.07 by GitHub)
    assert not any(f.matches("CVE-2022-23491") for f in report.findings)


def test_aliases_merge_into_one_finding(report: ScanReport) -> None:
    """GHSA + PYSEC + CVE of one flaw are one finding listing every id; linked through the CVE when needed."""
    gitpython = [f for f in report.findings if f.package == "GitPython"]
    assert len(gitpython) == 5  # five flaws, ten records
    first = next(f for f in gitpython if f.id == "GHSA-pr76-5cm5-w9cj")
    assert first.ids == ("GHSA-pr76-5cm5-w9cj", "CVE-2023-40267", "PYSEC-2023-137")
    # PYSEC-2022-42992 names only the CVE, not the GHSA: merged through CVE-2022-24439
    clone = next(f for f in gitpython if f.id == "GHSA-hcpj-qp55-gfph")
    assert set(clone.ids) == {"GHSA-hcpj-qp55-gfph", "CVE-2022-24439", "PYSEC-2022-42992"}
    assert clone.cve == "CVE-2022-24439"


def test_records_that_disagree(report: ScanReport) -> None:
    """httpx: PyPA says fixed 0.20.0 (so 0.22.0 is not affected by its record), GitHub 0.23.0 — GitHub matches.

    GitPython CVE-2023-41040: PyPA 3.1.35, GitHub 3.1.37 — the finding names the fix for both (3.1.37).
    idna: GitHub's MODERATE wins over PyPA's network vector (HIGH).
    """
    httpx = next(f for f in report.findings if f.package == "httpx")
    assert (httpx.id, httpx.fixed, httpx.related) == ("GHSA-h8pj-cxx2-jfg2", "0.23.0", ())
    lfi = next(f for f in report.findings if f.id == "GHSA-cwvm-v4w8-q58c")
    assert lfi.fixed == "3.1.37"
    assert [a.id for a in lfi.related] == ["PYSEC-2023-165"]
    idna = next(f for f in report.findings if f.package == "idna")
    assert idna.severity is Severity.MEDIUM


def test_debian_matches_on_source_package_and_dpkg_order(report: ScanReport) -> None:
    """glibc's record hits libc6 deb12u2 (before the fix deb12u3) but not libc-bin deb12u10; unfixed coreutils."""
    glibc = [f for f in report.findings if f.source_name == "glibc"]
    assert [(f.package, f.id, f.fixed) for f in glibc] == [("libc6", "DEBIAN-CVE-2023-4911", "2.36-9+deb12u3")]
    coreutils = {f.id for f in report.findings if f.package == "coreutils"}
    assert "DEBIAN-CVE-2016-2781" in coreutils
    assert all(f.fixed is None for f in report.findings if f.package == "coreutils")


def test_gate_blocks_criticals_and_threshold_is_configurable(report: ScanReport) -> None:
    """Default: CRITICAL blocks. fail_on=HIGH blocks more; UNKNOWN never blocks."""
    result = gate(report)
    assert not result.passed
    assert {f.id for f in result.blocking} == {"GHSA-pr76-5cm5-w9cj", "GHSA-vqfr-h8mv-ghfj", "GHSA-h8pj-cxx2-jfg2"}
    assert str(result).startswith("BLOCKED: demo:1 has 3 finding(s) at or above CRITICAL")
    assert repr(result) == str(result) and not result
    high = gate(report, fail_on=Severity.HIGH)
    assert len(high.blocking) > 3
    assert all(f.severity >= Severity.HIGH for f in high.blocking)


def test_allow_list_with_reason_expiry_and_package(report: ScanReport, tmp_path: Path) -> None:
    """Live entries allow (by any id of the flaw); an expired one is ignored and reported; package narrows."""
    allow = tmp_path / "allow.toml"
    allow.write_text(
        '[[allow]]\nid = "CVE-2023-40267"\nreason = "clone is never called"\nexpires = 2026-12-31\n\n'
        '[[allow]]\nid = "GHSA-vqfr-h8mv-ghfj"\nreason = "not behind a proxy"\nexpires = 2026-11-01\n\n'
        '[[allow]]\nid = "GHSA-h8pj-cxx2-jfg2"\npackage = "requests"\nreason = "wrong package"\n'
        'expires = 2027-01-01\n', encoding="utf-8")
    entries = load_allowlist(allow)
    assert len(entries) == 3
    result = gate(report, allow=entries, today=TODAY)
    assert not result.passed
    assert [f.id for f in result.allowed] == ["GHSA-pr76-5cm5-w9cj"]
    assert {f.id for f in result.blocking} == {"GHSA-vqfr-h8mv-ghfj", "GHSA-h8pj-cxx2-jfg2"}
    assert [e.id for e in result.expired] == ["GHSA-vqfr-h8mv-ghfj"]
    text = str(result)
    assert "allowed: GHSA-pr76-5cm5-w9cj in GitPython until 2026-12-31 — clone is never called" in text
    assert "warning: allow-list entry GHSA-vqfr-h8mv-ghfj expired on 2026-11-01 and was ignored" in text
    everything = [AllowEntry(f.id, "accepted for the test", dt.date(2026, 12, 1)) for f in result.blocking]
    passed = gate(report, allow=[*entries, *everything], today=TODAY)
    assert passed.passed and str(passed).startswith("PASSED: demo:1")
    assert not gate(report, allow=everything, today=dt.date(2026, 12, 2)).passed  # the day after: expired


@pytest.mark.parametrize(("text", "message"), [
    ('[[allow]]\nid = "X"\nexpires = 2026-01-01\n', "has no reason"),
    ('[[allow]]\nid = "X"\nreason = "r"\n', "has no expires"),
    ('[[allow]]\nid = "X"\nreason = "r"\nexpires = "soon"\n', "is not a date"),
    ('[[allow]]\nid = "X"\nreason = "r"\nexpires = 2026-01-01\ncve = "Y"\n', "unknown keys: cve"),
    ("[[allow]\n", "not valid TOML"),
])
def test_bad_allow_lists_are_refused(text: str, message: str) -> None:
    """Every entry needs id, reason and a date; typos are errors, not silently ignored."""
    with pytest.raises(PortsideError, match=message):
        parse_allowlist(text)


def test_table_sorts_and_chart(report: ScanReport) -> None:
    """The table is most severe first (or by package); the chart is SVG with one bar per severity."""
    rows = report.table().rows
    assert [r[0] for r in rows] == sorted((r[0] for r in rows), key=lambda s: -int(Severity[str(s)]))
    assert rows[0][:5] == ("CRITICAL", "GitPython", "3.1.29", "3.1.32", "GHSA-pr76-5cm5-w9cj")
    by_package = [str(r[1]) for r in report.table(sort="package").rows]
    assert by_package == sorted(by_package, key=str.lower)
    assert len(report.table(limit=2).rows) == 2
    assert "<table" in report._repr_html_() and repr(report).startswith("demo:1: 8 packages")
    with pytest.raises(PortsideError):
        report.table(sort="colour")  # type: ignore[arg-type]
    svg = report.chart()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    for severity in ("CRITICAL", "HIGH", "MEDIUM", "LOW"):
        assert f">{severity}</text>" in svg
    assert f">{report.counts()[Severity.CRITICAL]}</text>" in svg


def test_json_and_cyclonedx_reports(report: ScanReport, tmp_path: Path) -> None:
    """JSON lists every finding with all ids; CycloneDX adds vulnerabilities pointing at component bom-refs."""
    plain = json.loads(report.write(tmp_path / "r.json", "json").read_text())
    assert plain["counts"]["CRITICAL"] == 3
    h11 = next(f for f in plain["findings"] if f["id"] == "GHSA-vqfr-h8mv-ghfj")
    assert h11["ids"] == ["GHSA-vqfr-h8mv-ghfj", "CVE-2025-43859"] and h11["fixed"] == "0.16.0"
    bom = json.loads(report.write(tmp_path / "r.cdx.json", "cyclonedx").read_text())
    assert bom["bomFormat"] == "CycloneDX"
    refs = {c.get("bom-ref") for c in bom["components"]}
    vulns = {v["id"]: v for v in bom["vulnerabilities"]}
    assert len(vulns) == len(report.findings)
    v = vulns["GHSA-pr76-5cm5-w9cj"]
    assert v["ratings"][0] == {"severity": "critical", "source": {"name": "GitHub Advisory Database"}, "score": 9.8,
                               "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "method": "CVSSv31"}
    assert {r["id"] for r in v["references"]} == {"CVE-2023-40267", "PYSEC-2023-137"}
    assert v["affects"][0]["ref"] in refs
    assert v["recommendation"] == "Upgrade GitPython to 3.1.32 or later."
    assert "vulnerabilities" not in report.inventory.sbom  # the inventory itself is left untouched
    with pytest.raises(PortsideError):
        report.write(tmp_path / "r.xml", "xml")  # type: ignore[arg-type]

"""The release gate's rules on real data shapes: Trivy's JSON report (with VEX suppressions) and an SBOM."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from portside.pipeline.config import ScanConfig
from portside.pipeline.gates import gate_sbom, trivy_verdict
from portside.security.advisories import Severity
from portside.security.scan import AllowEntry

TODAY = dt.date(2026, 12, 1)


def _vuln(vid: str, package: str, installed: str, fixed: str | None, severity: str) -> dict[str, Any]:
    return {"VulnerabilityID": vid, "PkgName": package, "InstalledVersion": installed, "FixedVersion": fixed,
            "Severity": severity}


#: the shape of `trivy image --format json --show-suppressed` (fields the gate reads)
REPORT = {"Results": [
    {"Target": "app (debian 12.15)", "Type": "debian",
     "Vulnerabilities": [_vuln("CVE-2011-3374", "apt", "2.6.2", None, "LOW")]},
    {"Target": "Python", "Type": "python-pkg",
     "Vulnerabilities": [_vuln("GHSA-vqfr-h8mv-ghfj", "h11", "0.12.0", "0.16.0", "CRITICAL"),
                         _vuln("GHSA-h8pj-cxx2-jfg2", "httpx", "0.22.0", "0.23.0", "CRITICAL"),
                         _vuln("GHSA-xxxx-unrated", "smmap", "5.0.0", None, "UNKNOWN")],
     "ExperimentalModifiedFindings": [{"Type": "vulnerability", "Status": "not_affected",
                                       "Statement": "vulnerable_code_not_in_execute_path",
                                       "Source": "/work/app.openvex.json",
                                       "Finding": _vuln("GHSA-pr76-5cm5-w9cj", "GitPython", "3.1.29", "3.1.32",
                                                        "CRITICAL")}]},
]}


def test_blocks_at_the_threshold_and_names_vex_suppressions() -> None:
    verdict = trivy_verdict(REPORT, ScanConfig(scanner="trivy"), subject="team/app:1.1.0", today=TODAY)
    assert not verdict.passed and verdict.summary() == "2 CRITICAL"
    assert [f["id"] for f in verdict.blocking] == ["GHSA-vqfr-h8mv-ghfj", "GHSA-h8pj-cxx2-jfg2"]
    assert verdict.text.splitlines()[0].startswith(
        "BLOCKED: trivy: team/app:1.1.0 has 2 finding(s) at or above CRITICAL: GHSA-vqfr-h8mv-ghfj (CRITICAL, "
        "h11 0.12.0 → fix 0.16.0)")
    assert ("not affected (VEX, app.openvex.json): GHSA-pr76-5cm5-w9cj in GitPython 3.1.29 — "
            "vulnerable_code_not_in_execute_path") in verdict.text
    assert dict(verdict.counts) == {"LOW": 1, "CRITICAL": 2, "UNKNOWN": 1}


def test_allow_list_entries_and_their_expiry() -> None:
    live = AllowEntry("GHSA-vqfr-h8mv-ghfj", "only our own server talks to it", dt.date(2027, 1, 31), package="h11")
    expired = AllowEntry("GHSA-h8pj-cxx2-jfg2", "accepted last spring", dt.date(2026, 6, 30))
    verdict = trivy_verdict(REPORT, ScanConfig(scanner="trivy", allow=(live, expired)), today=TODAY)
    assert [f["id"] for f in verdict.blocking] == ["GHSA-h8pj-cxx2-jfg2"]
    assert [f["id"] for f in verdict.allowed] == ["GHSA-vqfr-h8mv-ghfj"]
    assert "allowed: GHSA-vqfr-h8mv-ghfj in h11 until 2027-01-31 — only our own server talks to it" in verdict.text
    assert ("warning: allow-list entry GHSA-h8pj-cxx2-jfg2 expired on 2026-06-30 and was ignored "
            "(reason was: accepted last spring).") in verdict.text
    wrong_package = AllowEntry("GHSA-vqfr-h8mv-ghfj", "reason", dt.date(2027, 1, 31), package="httpx")
    assert len(trivy_verdict(REPORT, ScanConfig(allow=(wrong_package,)), today=TODAY).blocking) == 2


def test_unrated_and_thresholds() -> None:
    assert len(trivy_verdict(REPORT, ScanConfig(block_unrated=True), today=TODAY).blocking) == 3
    low = trivy_verdict(REPORT, ScanConfig(fail_on=Severity.LOW), today=TODAY)
    assert {f["package"] for f in low.blocking} == {"apt", "h11", "httpx"}


def test_gate_off_says_so() -> None:
    verdict = trivy_verdict(REPORT, ScanConfig(fail_on=None), today=TODAY)
    assert verdict.passed and verdict.summary() == "gate off"
    assert verdict.text.startswith("OFF: fail_on = none, so none of trivy's 4 finding(s) could block.")


def test_the_course_matcher_on_an_sbom(tmp_path: Path) -> None:
    """The deploy gate on a signed SBOM: its packages against the course's advisories, no image needed."""
    sbom = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
        {"bom-ref": "a", "type": "library", "name": "GitPython", "version": "3.1.29",
         "purl": "pkg:pypi/gitpython@3.1.29"},
        {"bom-ref": "b", "type": "library", "name": "httpx", "version": "0.28.1", "purl": "pkg:pypi/httpx@0.28.1"}]}
    (verdict,) = gate_sbom(sbom, ScanConfig(), name="the signed SBOM", today=TODAY)
    assert not verdict.passed and {f["package"] for f in verdict.blocking} == {"GitPython"}
    assert verdict.text.startswith("BLOCKED: the signed SBOM has 1 finding(s) at or above CRITICAL: ")
    fixed = {**sbom, "components": [{**sbom["components"][0], "version": "3.1.45",  # type: ignore[dict-item]
                                     "purl": "pkg:pypi/gitpython@3.1.45"}]}
    assert gate_sbom(fixed, ScanConfig(), today=TODAY)[0].passed

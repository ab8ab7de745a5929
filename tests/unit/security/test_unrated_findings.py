"""Findings no record rates: counted in the verdict, blockable, and rated through an alias when the data allows.

PyPA's PYSEC records carry no severity. Scanned against them alone, a vulnerable image used to
PASS with nothing said; the verdict now says how many findings it could not rate.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from portside.security.advisories import Severity, load
from portside.security.scan import ScanReport, gate, inventory, match

SBOM: dict[str, Any] = {
    "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
    "components": [
        {"bom-ref": "pkg:pypi/httpx@0.22.0?x", "type": "library", "name": "httpx", "version": "0.22.0",
         "purl": "pkg:pypi/httpx@0.22.0"},
        {"bom-ref": "pkg:pypi/gitpython@3.1.29?x", "type": "library", "name": "GitPython", "version": "3.1.29",
         "purl": "pkg:pypi/gitpython@3.1.29"},
    ],
}


def _report(records: list[Any]) -> ScanReport:
    found = inventory("demo:1", sbom=SBOM)
    return ScanReport(image="demo:1", inventory=found, findings=match(found, records), advisories_count=len(records))


def pypa_only() -> list[Any]:
    return [a for a in load() if a.id.startswith("PYSEC-")]


def _unknown(report: ScanReport) -> list[Any]:
    return [f for f in report.findings if f.severity is Severity.UNKNOWN]


def test_pypa_records_alone_leave_findings_unrated() -> None:
    """Some PYSEC records that match the demo pins carry no rating (the case the gate must not pass silently)."""
    report = _report(pypa_only())
    assert _unknown(report), "the snapshot's PYSEC records should leave a GitPython 3.1.29 finding unrated"


def test_the_verdict_counts_what_it_could_not_rate() -> None:
    """PASSED still, by default, but the verdict names how many findings had no rating, and why."""
    report = _report(pypa_only())
    result = gate(report)
    assert result.passed
    assert result.unrated == _unknown(report)
    text = str(result)
    assert f"warning: {len(result.unrated)} finding(s) could not be rated" in text
    assert "--fail-on-unrated" in text
    assert all(f.id in text for f in result.unrated)


def test_block_unrated_blocks_them() -> None:
    """``block_unrated=True`` (``--fail-on-unrated``) turns the same scan into BLOCKED."""
    report = _report(pypa_only())
    result = gate(report, block_unrated=True)
    assert not result.passed
    assert {f.id for f in _unknown(report)} <= {f.id for f in result.blocking}
    assert str(result).startswith("BLOCKED: demo:1 has")
    assert "at or above CRITICAL or unrated" in str(result)
    assert not result.unrated


def test_a_rated_alias_in_the_loaded_data_gives_its_rating() -> None:
    """A GHSA record that shares an id rates the finding even when only the PYSEC record matched the package."""
    records = pypa_only()
    unrated = _unknown(_report(records))
    alias_ids = {name for f in unrated for name in f.ids}
    ghsa = [a for a in load() if a.id.startswith("GHSA-") and a.severity is not Severity.UNKNOWN
            and set(a.ids) & alias_ids]
    assert ghsa, "the snapshot should hold GHSA records for the same flaws"
    stripped = [type(a)(**{**a.__dict__, "affected": ()}) for a in ghsa]  # rated, but matching no package
    rated = _report(records + stripped).findings
    borrowed = [f for f in rated if f.rated_by]
    assert {f.id for f in borrowed} == {f.id for f in unrated}
    assert all(f.severity is not Severity.UNKNOWN for f in borrowed)
    assert all(f.rated_by and f.rated_by.startswith("GHSA-") for f in borrowed)


def test_nothing_changes_when_every_finding_is_rated() -> None:
    """With the full snapshot the verdict has no unrated warning (what the lessons' stored outputs show)."""
    result = gate(_report(load()))
    assert not result.unrated
    assert "could not be rated" not in str(result)


def test_the_deploy_gate_offers_the_same_switch(tmp_path: Path) -> None:
    """``portside verify --fail-on-unrated`` (``scan_gate(block_unrated=True)``) refuses what the default passes."""
    from portside.security.advisories.store import snapshot_dir
    from portside.security.signing import scan_gate

    folder = tmp_path / "pypa"
    folder.mkdir()
    for record in (snapshot_dir() / "pypi").glob("PYSEC-*.json"):
        shutil.copy(record, folder)
    assert scan_gate(advisories=folder)(SBOM).passed
    assert not scan_gate(advisories=folder, block_unrated=True)(SBOM).passed

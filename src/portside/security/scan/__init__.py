"""Scan an image for known vulnerabilities: an inventory, plus advisories, plus a policy.

::

    from portside import scan
    report = scan.scan("pyapp:vulnerable")        # syft inventory × the course's advisory snapshot
    report.table()                                 # findings, most severe first
    result = scan.gate(report, fail_on=scan.Severity.CRITICAL)
    print(result)                                  # BLOCKED: … / PASSED: …

Each step is its own function, so a lesson can show them one at a time:
:func:`inventory` (syft's CycloneDX SBOM), :func:`match` (versions compared with each
ecosystem's own library), :func:`gate` (threshold, allow-list with expiry).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from portside.security.advisories import Advisory, Severity, load
from portside.security.scan.gate import AllowEntry, GateResult, gate, load_allowlist, parse_allowlist
from portside.security.scan.inventory import Inventory, Package, inventory, packages_of
from portside.security.scan.matching import Finding, match
from portside.security.scan.report import ScanReport

__all__ = [
    "AllowEntry",
    "Finding",
    "GateResult",
    "Inventory",
    "Package",
    "ScanReport",
    "Severity",
    "gate",
    "inventory",
    "load_allowlist",
    "match",
    "packages_of",
    "parse_allowlist",
    "scan",
]


def scan(image: str, *, advisories: Path | None = None, from_registry: bool = False,
         env: Mapping[str, str] | None = None, records: list[Advisory] | None = None,
         cache: bool | None = None) -> ScanReport:
    """Inventory ``image`` with syft and match it against advisories.

    ``advisories``: a folder or OSV zip export (default: the committed snapshot);
    ``records``: already-loaded advisories (wins over ``advisories``);
    ``from_registry``: read the image straight from its registry instead of the engine;
    ``cache``: reuse syft's document for an image digest it has already seen (default: on
    unless ``PORTSIDE_SBOM_CACHE=0``; see :func:`inventory`).
    """
    start = time.monotonic()
    chosen = records if records is not None else load(advisories)
    found = inventory(image, from_registry=from_registry, env=env, cache=cache)
    findings = match(found, chosen)
    source = "given records" if records is not None else str(advisories) if advisories else "course snapshot"
    return ScanReport(image=image, inventory=found, findings=findings, advisories_source=source,
                      advisories_count=len(chosen), seconds=time.monotonic() - start)

"""The scan report: findings as a table, a severity chart, and files for CI (JSON, or CycloneDX with vulnerabilities).

CycloneDX is the SBOM format syft wrote for the inventory; its ``vulnerabilities``
section is the standard place for scan results, so one file carries both *what is
inside* and *what is wrong with it* — each vulnerability's ``affects`` points at the
component (``bom-ref``) it was found in.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from portside.base.table import Table
from portside.errors import UsageError
from portside.security.advisories import Severity
from portside.security.scan.chart import severity_chart
from portside.security.scan.inventory import Inventory
from portside.security.scan.matching import Finding

__all__ = ["Format", "ScanReport", "SortKey"]

SortKey = Literal["severity", "package", "id", "fixed"]
Format = Literal["json", "cyclonedx"]

_SORTS: dict[str, Callable[[Finding], Any]] = {
    "severity": lambda f: (-int(f.severity), -(f.cvss_score or 0), f.package.lower(), f.id),
    "package": lambda f: (f.package.lower(), -int(f.severity), f.id),
    "id": lambda f: f.id,
    "fixed": lambda f: (f.fixed is None, f.package.lower(), -int(f.severity)),
}

_CVSS_METHOD = {"CVSS:4": "CVSSv4", "CVSS:3.1": "CVSSv31", "CVSS:3.0": "CVSSv3"}


@dataclass
class ScanReport:
    """What a scan found in ``image``: its ``inventory`` and its ``findings`` (one per flaw per package)."""

    image: str
    inventory: Inventory
    findings: list[Finding]
    advisories_source: str = "snapshot"
    advisories_count: int = 0
    seconds: float = field(default=0.0, compare=False)

    def counts(self) -> dict[Severity, int]:
        """Findings per severity, every severity present (CRITICAL first)."""
        counts = {severity: 0 for severity in sorted(Severity, reverse=True)}
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts

    def of(self, severity: Severity) -> list[Finding]:
        """The findings of one severity."""
        return [f for f in self.findings if f.severity is severity]

    def ids(self) -> set[str]:
        """The main id of every finding."""
        return {f.id for f in self.findings}

    def summary(self) -> str:
        """One line: the image, how many packages, and the findings per severity."""
        counts = ", ".join(f"{n} {s.name}" for s, n in self.counts().items() if n)
        return (f"{self.image}: {len(self.inventory.packages)} packages, {len(self.findings)} findings"
                + (f" ({counts})" if counts else "") + f" against {self.advisories_count} advisories"
                f" ({self.advisories_source}).")

    def table(self, sort: SortKey = "severity", *, limit: int | None = None,
              min_severity: Severity = Severity.UNKNOWN) -> Table:
        """The findings as a :class:`~portside.base.table.Table` (HTML in Jupyter, aligned text elsewhere)."""
        try:
            key = _SORTS[sort]
        except KeyError:
            raise UsageError(f"Cannot sort findings by {sort!r}.", hint=f"Use one of: {', '.join(_SORTS)}.") \
                from None
        chosen = sorted((f for f in self.findings if f.severity >= min_severity), key=key)
        rows = [[f.severity.name, f.package, f.installed, f.fixed or "(no fix)", f.id,
                 " ".join(i for i in f.ids if i != f.id), f"{f.cvss_score:.1f}" if f.cvss_score is not None else ""]
                for f in chosen[:limit]]
        title = self.summary()
        if limit is not None and len(chosen) > limit:
            title += f" Showing {limit} of {len(chosen)}."
        return Table(["severity", "package", "installed", "fixed in", "id", "also known as", "cvss"], rows,
                     title=title)

    def chart(self, *, title: str | None = None) -> str:
        """The findings per severity as an SVG bar chart (text; write it to a file or display it)."""
        return severity_chart(self.counts(), title=title or f"Findings in {self.image}")

    # ── files for CI ──────────────────────────────────────────────────────────

    def to_json(self) -> dict[str, Any]:
        """A plain JSON document: the image, counts, and every finding with all its ids."""
        return {
            "image": self.image,
            "advisories": {"source": self.advisories_source, "count": self.advisories_count},
            "packages": len(self.inventory.packages),
            "counts": {s.name: n for s, n in self.counts().items()},
            "findings": [
                {
                    "id": f.id,
                    "ids": list(f.ids),
                    "package": f.package,
                    "ecosystem": f.ecosystem,
                    "installed": f.installed,
                    "fixed": f.fixed,
                    "severity": f.severity.name,
                    "cvss_score": f.cvss_score,
                    "cvss_vector": f.cvss_vector,
                    "summary": f.summary,
                    "purl": f.purl,
                }
                for f in self.findings
            ],
        }

    def to_cyclonedx(self) -> dict[str, Any]:
        """The inventory's CycloneDX SBOM with a ``vulnerabilities`` section holding the findings."""
        document = copy.deepcopy(self.inventory.sbom) if self.inventory.sbom else {
            "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": []}
        vulnerabilities = []
        for number, f in enumerate(self.findings, start=1):
            rating: dict[str, Any] = {"severity": f.severity.name.lower(), "source": {"name": _source(f.id)}}
            if f.cvss_score is not None:
                rating["score"] = f.cvss_score
            if f.cvss_vector:
                rating["vector"] = f.cvss_vector
                rating["method"] = next((m for p, m in _CVSS_METHOD.items() if f.cvss_vector.startswith(p)),
                                        "CVSSv2" if not f.cvss_vector.startswith("CVSS:") else "other")
            entry: dict[str, Any] = {
                "bom-ref": f"vuln-{number}-{f.id}",
                "id": f.id,
                "source": {"name": _source(f.id)},
                "references": [{"id": other, "source": {"name": _source(other)}} for other in f.ids if other != f.id],
                "ratings": [rating],
                "description": f.summary,
                "affects": [{"ref": f.bom_ref or f.purl or f.package,
                             "versions": [{"version": f.installed, "status": "affected"}]}],
            }
            if f.fixed:
                entry["recommendation"] = f"Upgrade {f.package} to {f.fixed} or later."
            vulnerabilities.append(entry)
        document["vulnerabilities"] = vulnerabilities
        return document

    def write(self, path: str | Path, fmt: Format = "json") -> Path:
        """Write the report as ``json`` or ``cyclonedx`` (JSON) to ``path``; returns the path."""
        if fmt == "json":
            document = self.to_json()
        elif fmt == "cyclonedx":
            document = self.to_cyclonedx()
        else:
            raise UsageError(f"Unknown report format {fmt!r}.", hint="Use json or cyclonedx.")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        return path

    def __repr__(self) -> str:
        return self.table().text()

    def _repr_html_(self) -> str:
        """In Jupyter: the findings table as HTML."""
        return self.table()._repr_html_()


def _source(identifier: str) -> str:
    """Who publishes an id: GHSA → GitHub, PYSEC → PyPA, CVE → NVD, DSA/DLA/DEBIAN → Debian."""
    prefix = identifier.split("-", 1)[0].upper()
    return {"GHSA": "GitHub Advisory Database", "PYSEC": "PyPA Advisory Database", "CVE": "NVD",
            "DSA": "Debian", "DLA": "Debian", "DEBIAN": "Debian", "OSV": "OSV"}.get(prefix, prefix)

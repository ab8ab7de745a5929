"""The SBOM gate: a policy over the SBOM an attestation carries — by default the course's scan gate."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from portside.errors import UsageError

__all__ = ["GateLike", "SbomPolicy", "scan_gate"]


class GateLike(Protocol):
    """What a policy may return instead of a bool: anything with ``passed`` and a readable ``str()``."""

    @property
    def passed(self) -> bool: ...


#: a policy over the attested SBOM (the CycloneDX document as a dict)
SbomPolicy = Callable[[Mapping[str, Any]], "GateLike | bool"]


def scan_gate(*, fail_on: str = "critical", advisories: Path | None = None, block_unrated: bool = False
              ) -> Callable[[Mapping[str, Any]], GateLike]:
    """The course's scan gate as an SBOM policy: match the SBOM's packages against the advisories.

    It uses :mod:`portside.security.scan` (inventory from the SBOM, match, gate) and blocks at
    ``fail_on`` (``critical``, ``high``, ``medium``, ``low``) or above; ``block_unrated``: findings
    no loaded record rates block too.
    """

    def policy(sbom: Mapping[str, Any]) -> GateLike:
        return _gate_sbom(sbom, fail_on=fail_on, advisories=advisories, block_unrated=block_unrated)

    return policy


def _gate_sbom(sbom: Mapping[str, Any], *, fail_on: str, advisories: Path | None,
               block_unrated: bool = False) -> GateLike:
    """Run :mod:`portside.security.scan`'s gate on an SBOM that arrived in an attestation (no image, no syft run)."""
    from portside.security import scan
    from portside.security.advisories import load

    try:
        threshold = scan.Severity[fail_on.upper()]
    except KeyError:
        raise UsageError(f"Unknown severity {fail_on!r} for the scan gate.",
                         hint="Use critical, high, medium or low.") from None
    name = str((((sbom.get("metadata") or {}).get("component") or {}).get("name")) or "attested image")
    records = load(advisories)
    found = scan.inventory(name, sbom=sbom)
    report = scan.ScanReport(image=name, inventory=found, findings=scan.match(found, records),
                             advisories_source=str(advisories) if advisories else "course snapshot",
                             advisories_count=len(records))
    return scan.gate(report, fail_on=threshold, block_unrated=block_unrated)

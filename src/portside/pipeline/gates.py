"""The release gate, one verdict per scanner: on the built image (the scan step) and on the signed SBOM (verify).

Two scanners, the same policy (``[scan]``: a threshold, an allow-list, and for Trivy the OpenVEX
documents):

* **portside** — the course's scanner (:mod:`portside.security.scan`): syft's inventory of the image,
  or the attested SBOM itself, matched against the course's advisories, then its :func:`gate`
  (threshold, allow-list entries with reason and expiry; expired ones are ignored and named);
* **trivy** — the real ``trivy image`` (or ``trivy sbom`` on the attested SBOM), with the course-built
  database and ``--vex`` for each OpenVEX document; a ``not_affected`` statement removes a finding
  (Trivy lists it as suppressed), and the same allow-list applies to what is left (the entry's id
  must be the id Trivy reports).

``fail_on = "none"`` switches the gate off: the scan still runs and its findings are counted, and the
verdict says, in so many words, that nothing could have blocked.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portside.pipeline.config import ScanConfig
from portside.security import scan
from portside.security.advisories import Severity, load
from portside.security.scan import AllowEntry, ScanReport
from portside.security.scan.versions import normalize_name
from portside.tools._runner import run_tool
from portside.tools.trivy import QUIET_ENV, parse_json

__all__ = ["GateVerdict", "gate_sbom", "portside_verdict", "trivy_image_report", "trivy_sbom_report",
           "trivy_verdict"]


@dataclass(frozen=True)
class GateVerdict:
    """One scanner's answer: ``passed``, a readable ``text``, and the findings that blocked, were allowed or suppressed.

    Each finding is a small dict: ``id``, ``package``, ``installed``, ``fixed``, ``severity`` (and
    ``reason`` for an allowed or suppressed one).
    """

    scanner: str
    passed: bool
    text: str
    blocking: tuple[dict[str, Any], ...] = ()
    allowed: tuple[dict[str, Any], ...] = ()
    suppressed: tuple[dict[str, Any], ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)
    report: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return self.text

    def summary(self) -> str:
        """``"3 CRITICAL"`` when blocked, ``"0 CRITICAL"``/``"gate off"`` when it passed: a label for the picture."""
        if not self.passed:
            worst = max((Severity.parse(f["severity"]) for f in self.blocking), default=Severity.UNKNOWN)
            same = sum(1 for f in self.blocking if Severity.parse(f["severity"]) is worst)
            return f"{same} {worst.name}"
        return "gate off" if self.text.startswith("OFF") else "passed"


def _threshold(config: ScanConfig) -> str:
    return "none" if config.fail_on is None else config.fail_on.name + (" or unrated" if config.block_unrated else "")


def _row(finding: scan.Finding) -> dict[str, Any]:
    return {"id": finding.id, "package": finding.package, "installed": finding.installed, "fixed": finding.fixed,
            "severity": finding.severity.name}


# -- the course's scanner ------------------------------------------------------------------------------------------
def portside_verdict(report: ScanReport, config: ScanConfig, *, today: dt.date | None = None) -> GateVerdict:
    """The course's gate on a scan report, with the pipeline's threshold and allow-list."""
    counts = {s.name: n for s, n in report.counts().items() if n}
    if config.fail_on is None:
        return GateVerdict("portside", True, f"OFF: fail_on = none, so none of the {len(report.findings)} "
                           "finding(s) could block.", counts=counts, report=report.to_json())
    result = scan.gate(report, fail_on=config.fail_on, allow=config.allow, today=today,
                       block_unrated=config.block_unrated)
    allowed = tuple({**_row(f), "reason": result.allowed_by[f.id].reason} for f in result.allowed
                    if f.id in result.allowed_by)
    return GateVerdict("portside", result.passed, str(result), blocking=tuple(_row(f) for f in result.blocking),
                       allowed=allowed, counts=counts, report=report.to_json())


# -- Trivy -------------------------------------------------------------------------------------------------------
def _trivy_env(config: ScanConfig) -> dict[str, str]:
    env = dict(QUIET_ENV)
    if config.vex:
        env["TRIVY_VEX"] = ",".join(str(p) for p in config.vex)  # = --vex FILE,…
        env["TRIVY_SHOW_SUPPRESSED"] = "true"  # = --show-suppressed: list what a VEX statement removed
    return env


def trivy_image_report(image: str, config: ScanConfig) -> dict[str, Any]:
    """``trivy image --vex …`` of a local image, with the course's database (built once per advisory snapshot)."""
    from portside.security import trivydb

    return trivydb.scan(image, cache_dir=trivydb.ensure(), image_src=("docker",), env=_trivy_env(config))


def trivy_sbom_report(sbom: Path, config: ScanConfig) -> dict[str, Any]:
    """``trivy sbom --vex … FILE``: the same scan on an SBOM document (CycloneDX), with the course's database."""
    from portside.security import trivydb

    cache = trivydb.ensure()
    result = run_tool("trivy", ["sbom", "--cache-dir", str(cache), "--config", "", "--skip-db-update",
                                "--skip-java-db-update", "--offline-scan", "--format", "json", "--quiet", str(sbom)],
                      timeout=300, env=_trivy_env(config), what=f"trivy sbom {sbom.name}",
                      hint="Check the SBOM is a CycloneDX or SPDX JSON document.")
    return parse_json(result, sbom.name)


def _trivy_rows(report: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(vulnerabilities, suppressed findings) of a Trivy JSON report, each with its result's ``Type``."""
    rows, suppressed = [], []
    for result in report.get("Results") or []:
        for vuln in result.get("Vulnerabilities") or []:
            rows.append({"Type": result.get("Type"), **vuln})
        for modified in result.get("ExperimentalModifiedFindings") or []:
            finding = modified.get("Finding") or {}
            suppressed.append({"id": finding.get("VulnerabilityID", ""), "package": finding.get("PkgName", ""),
                               "installed": finding.get("InstalledVersion", ""), "fixed": finding.get("FixedVersion"),
                               "severity": finding.get("Severity", "UNKNOWN"), "status": modified.get("Status"),
                               "reason": modified.get("Statement") or "", "source": Path(str(modified.get("Source",
                                                                                                        ""))).name})
    return rows, suppressed


def _covers(entry: AllowEntry, row: Mapping[str, Any]) -> bool:
    ids = {str(row.get("VulnerabilityID", "")).upper(), *(str(v).upper() for v in row.get("VendorIDs") or [])}
    if entry.id.upper() not in ids:
        return False
    if entry.package is None:
        return True
    ecosystem = "PyPI" if row.get("Type") == "python-pkg" else "other"
    return normalize_name(ecosystem, entry.package) == normalize_name(ecosystem, str(row.get("PkgName", "")))


def _trivy_finding(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": row.get("VulnerabilityID", ""), "package": row.get("PkgName", ""),
            "installed": row.get("InstalledVersion", ""), "fixed": row.get("FixedVersion") or None,
            "severity": str(row.get("Severity", "UNKNOWN")).upper()}


def _listed(findings: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"{f['id']} ({f['severity']}, {f['package']} {f['installed']}"
                     + (f" → fix {f['fixed']}" if f.get("fixed") else ", no fix yet") + ")" for f in findings)


def trivy_verdict(report: Mapping[str, Any], config: ScanConfig, *, subject: str = "",
                  today: dt.date | None = None) -> GateVerdict:
    """The pipeline's gate on a Trivy report: threshold, then the allow-list; VEX-suppressed findings are named."""
    rows, suppressed = _trivy_rows(report)
    counts: dict[str, int] = {}
    for row in rows:
        counts[str(row.get("Severity", "UNKNOWN")).upper()] = counts.get(str(row.get("Severity", "UNKNOWN")).upper(),
                                                                         0) + 1
    notes = "".join(f"\nnot affected (VEX, {s['source']}): {s['id']} in {s['package']} {s['installed']} — "
                    f"{s['reason']}" for s in suppressed)
    subject = f"{subject} " if subject else ""
    if config.fail_on is None:
        return GateVerdict("trivy", True, f"OFF: fail_on = none, so none of trivy's {len(rows)} finding(s) could "
                           "block." + notes, suppressed=tuple(suppressed), counts=counts, report=report)
    day = today or dt.date.today()
    live = [e for e in config.allow if not e.expired(day)]
    expired = [e for e in config.allow if e.expired(day)]
    blocking, allowed = [], []
    for row in rows:
        severity = Severity.parse(str(row.get("Severity")))
        if severity is Severity.UNKNOWN and not config.block_unrated:
            continue
        if severity is not Severity.UNKNOWN and severity < config.fail_on:
            continue
        entry = next((e for e in live if _covers(e, row)), None)
        if entry is None:
            blocking.append(_trivy_finding(row))
        else:
            allowed.append({**_trivy_finding(row), "reason": entry.reason, "expires": entry.expires.isoformat()})
    threshold = _threshold(config)
    if blocking:
        text = (f"BLOCKED: trivy: {subject}has {len(blocking)} finding(s) at or above {threshold}: "
                f"{_listed(blocking)}. Upgrade to the fixed versions and rebuild, then scan again.")
    else:
        text = f"PASSED: trivy: {subject}has no finding at or above {threshold}"
        text += f" that is not allowed ({len(allowed)} allowed)." if allowed else "."
    text += "".join(f"\nallowed: {a['id']} in {a['package']} until {a['expires']} — {a['reason']}" for a in allowed)
    text += notes
    text += "".join(f"\nwarning: allow-list entry {e.id} expired on {e.expires} and was ignored "
                    f"(reason was: {e.reason})." for e in expired)
    return GateVerdict("trivy", not blocking, text, blocking=tuple(blocking), allowed=tuple(allowed),
                       suppressed=tuple(suppressed), counts=counts, report=report)


# -- the signed SBOM ------------------------------------------------------------------------------------------------
def gate_sbom(sbom: Mapping[str, Any], config: ScanConfig, *, name: str = "the signed SBOM",
              today: dt.date | None = None) -> list[GateVerdict]:
    """The same gate on an SBOM document: the course's matcher on its packages, ``trivy sbom`` on the file."""
    verdicts = []
    if config.uses_portside:
        records = load()
        found = scan.inventory(name, sbom=sbom)
        report = ScanReport(image=name, inventory=found, findings=scan.match(found, records),
                            advisories_source="course snapshot", advisories_count=len(records))
        verdicts.append(portside_verdict(report, config, today=today))
    if config.uses_trivy:
        with tempfile.TemporaryDirectory(prefix="portside-sbom-") as folder:
            path = Path(folder) / "sbom.cdx.json"
            path.write_text(json.dumps(sbom), encoding="utf-8")
            verdicts.append(trivy_verdict(trivy_sbom_report(path, config), config, subject=name, today=today))
    return verdicts

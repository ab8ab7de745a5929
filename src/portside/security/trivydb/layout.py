"""OSV records → the buckets of Trivy's vulnerability database (schema version 2).

Trivy does not read OSV. Its database is a bbolt file whose top-level buckets it
knows by name:

``pip::<data source name>``
    one sub-bucket per package (lower case, ``_`` → ``-``), one key per advisory id,
    whose value says which versions are affected: ``{"VulnerableVersions":
    [">=1.0, <1.2"], "PatchedVersions": ["1.2"]}`` (PEP 440 ranges, joined with OR).
``debian 12``
    one sub-bucket per Debian *source* package, one key per advisory id:
    ``{"FixedVersion": "2.36-9+deb12u3"}`` — reported when the installed version
    is lower — or, with no fix, ``{"Status": 2, "Severity": 1}``: always reported.
``vulnerability``
    advisory id → title, description, references, dates, and the severity and CVSS
    each data source gave (``VendorSeverity``, ``CVSS``).
``data-source``
    advisory bucket name → ``{"ID", "Name", "URL"}``; Trivy prints the severity that
    *this* source gave (``VendorSeverity[ID]``).

Each OSV record becomes one advisory under its own id (a GHSA record under
``GHSA-…``, a PYSEC record under ``PYSEC-…``), in the bucket of the database it came
from — so Trivy's findings carry the same ids as :mod:`portside.security.scan`'s. This module
builds the tree of :class:`portside.security.bbolt.Bucket` objects; it never sees a page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.version import InvalidVersion, Version

from portside.security.advisories import Advisory, Severity, parse
from portside.security.bbolt import Bucket

__all__ = ["DEBIAN", "SOURCES", "DataSource", "Layout", "convert", "pip_ranges", "pip_source"]


@dataclass(frozen=True)
class DataSource:
    """Where advisories come from, as Trivy names it (``ID`` keys ``VendorSeverity``)."""

    id: str
    name: str
    url: str

    def as_json(self) -> dict[str, str]:
        return {"ID": self.id, "Name": self.name, "URL": self.url}


#: Python advisory sources by id prefix; anything else is filed under plain OSV.
SOURCES: dict[str, DataSource] = {
    "GHSA": DataSource("ghsa", "GitHub Security Advisory pip",
                       "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Apip"),
    "PYSEC": DataSource("pypa", "Python Packaging Advisory Database", "https://github.com/pypa/advisory-database"),
}
OSV = DataSource("osv", "OSV", "https://osv.dev")
DEBIAN = DataSource("debian", "Debian Security Tracker", "https://security-tracker.debian.org/tracker/")

#: Debian's urgency words (OSV ``ecosystem_specific.urgency``) as a severity, when a record gives no rating
_URGENCY = {"unimportant": Severity.LOW, "low": Severity.LOW, "medium": Severity.MEDIUM, "high": Severity.HIGH}
_STATUS_AFFECTED = 2
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def pip_source(advisory_id: str) -> DataSource:
    """The data source a Python advisory belongs to, from its id prefix (``GHSA-…`` → GitHub)."""
    return SOURCES.get(advisory_id.split("-", 1)[0].upper(), OSV)


def pip_name(name: str) -> str:
    """A Python package name the way Trivy files it: lower case, ``_`` → ``-``."""
    return name.lower().replace("_", "-")


def _in_version_order(events: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Events sorted by version (OSV evaluates them in that order; ties keep record order).

    If a version does not parse as PEP 440 the record order is kept.
    """
    def key(event: Mapping[str, Any]) -> Version:
        value = str(next(iter(event.values())))
        return Version("0") if value == "0" else Version(value)

    try:
        return sorted((e for e in events if e), key=key)
    except InvalidVersion:
        return [e for e in events if e]


def _intervals(affected: Mapping[str, Any]) -> list[tuple[str | None, str | None, bool]]:
    """The affected intervals of one OSV entry's ECOSYSTEM ranges: ``(lower, upper, upper_included)``.

    ``introduced`` opens an interval (``0`` means "from the start"), ``fixed`` closes
    it before that version, ``last_affected`` closes it at that version; an interval
    still open at the end of its range stays open (upper ``None``).
    """
    found: list[tuple[str | None, str | None, bool]] = []
    for rng in affected.get("ranges") or []:
        if rng.get("type") not in ("ECOSYSTEM", "SEMVER"):
            continue
        lower: str | None = None
        opened = False
        for event in _in_version_order(rng.get("events") or []):
            if "introduced" in event:
                value = str(event["introduced"])
                lower, opened = (None if value == "0" else value), True
            elif opened and ("fixed" in event or "last_affected" in event):
                fixed = "fixed" in event
                found.append((lower, str(event["fixed" if fixed else "last_affected"]), not fixed))
                opened = False
        if opened:
            found.append((lower, None, False))
    return found


def _inside(version: str, intervals: Iterable[tuple[str | None, str | None, bool]], listed: Iterable[str]) -> bool:
    """Whether ``version`` is affected after all (PEP 440 order); unparsable versions count as outside."""
    try:
        v = Version(version)
        for lower, upper, included in intervals:
            if lower is not None and v < Version(lower):
                continue
            if upper is not None and (v > Version(upper) if included else v >= Version(upper)):
                continue
            return True
        return any(Version(x) == v for x in listed)
    except InvalidVersion:
        return False


def _valid(version: str) -> bool:
    try:
        Version(version)
    except InvalidVersion:
        return False
    return True


def pip_ranges(affected: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """``(VulnerableVersions, PatchedVersions)`` for one OSV ``affected`` entry of a PyPI package.

    Each interval becomes a range string (``">=1.0, <1.2"``, ``"<=2.0"``, ``">=3.0"``),
    and each explicit ``versions`` entry outside them ``"==V"``: Trivy joins them with
    OR, as OSV means them. The ``fixed`` versions become ``PatchedVersions`` (Trivy shows them as
    the fix, and treats each as an exact "not affected" version) — except one that
    another interval or the list says is affected again, which Trivy would wrongly clear.
    """
    intervals = _intervals(affected)
    listed = [str(v) for v in affected.get("versions") or []]
    vulnerable: list[str] = []
    patched: list[str] = []
    for lower, upper, included in intervals:
        parts = [f">={lower}"] if lower is not None else []
        if upper is not None:
            parts.append(f"{'<=' if included else '<'}{upper}")
            if not included and not _inside(upper, intervals, listed) and upper not in patched:
                patched.append(upper)
        vulnerable.append(", ".join(parts) or ">=0")
    # listed versions the ranges do not already cover, in canonical PEP 440 spelling ("0.2.0-beta1" →
    # "0.2.0b1"): Trivy parses all entries as one constraint, and one it cannot read makes it skip the record
    vulnerable += [f"=={Version(v)}" for v in listed if _valid(v) and not _inside(v, intervals, ())]
    return vulnerable, patched


def _severity(advisory: Advisory, affected: Iterable[Mapping[str, Any]]) -> Severity:
    """The record's own rating; for a Debian record without one, Debian's urgency word."""
    if advisory.severity is not Severity.UNKNOWN:
        return advisory.severity
    for entry in affected:
        urgency = str((entry.get("ecosystem_specific") or {}).get("urgency", "")).lower()
        if urgency in _URGENCY:
            return _URGENCY[urgency]
    return Severity.UNKNOWN


def _cvss(vector: str, score: float | None) -> dict[str, Any]:
    version = "V40" if vector.startswith("CVSS:4") else "V3" if vector.startswith("CVSS:3") else "V2"
    found: dict[str, Any] = {f"{version}Vector": vector}
    if score is not None:
        found[f"{version}Score"] = score
    return found


def _date(value: object) -> str | None:
    """An RFC 3339 timestamp Go can parse, or None (a malformed date must not break Trivy)."""
    return value if isinstance(value, str) and _RFC3339.match(value) else None


@dataclass
class Layout:
    """The Trivy database as buckets, plus what was converted and what was skipped."""

    root: Bucket = field(default_factory=Bucket)
    advisories: int = 0                               #: records converted
    entries: int = 0                                  #: (bucket, package, id) advisory entries
    skipped: dict[str, int] = field(default_factory=dict)  #: ecosystem → records left out
    withdrawn: int = 0
    _vulns: dict[str, dict[str, Any]] = field(default_factory=dict)
    _advice: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    _sources: dict[str, DataSource] = field(default_factory=dict)

    def add(self, raw: Mapping[str, Any]) -> None:
        """Convert one OSV record (a dict as loaded from JSON)."""
        advisory = parse(raw)
        if advisory.withdrawn:
            self.withdrawn += 1
            return
        used: dict[str, DataSource] = {}
        for entry in raw.get("affected") or []:
            package = entry.get("package") or {}
            ecosystem, name = str(package.get("ecosystem", "")), str(package.get("name", ""))
            family, _, release = ecosystem.partition(":")
            if family == "PyPI" and name:
                self._add_pip(advisory.id, name, entry, used)
            elif family == "Debian" and release and name:
                self._add_debian(advisory, release.split(".")[0], name, entry, raw, used)
            else:
                self.skipped[ecosystem or "(none)"] = self.skipped.get(ecosystem or "(none)", 0) + 1
        if used:
            self.advisories += 1
            self._add_vulnerability(advisory, raw, used)

    def _add_pip(self, advisory_id: str, name: str, entry: Mapping[str, Any], used: dict[str, DataSource]) -> None:
        source = pip_source(advisory_id)
        bucket = f"pip::{source.name}"
        used[bucket] = source
        vulnerable, patched = pip_ranges(entry)
        if not vulnerable:
            return
        value = self._advice.setdefault((bucket, pip_name(name), advisory_id), {})
        value.setdefault("VulnerableVersions", []).extend(vulnerable)
        if patched:
            value.setdefault("PatchedVersions", []).extend(patched)

    def _add_debian(self, advisory: Advisory, release: str, name: str, entry: Mapping[str, Any],
                    raw: Mapping[str, Any], used: dict[str, DataSource]) -> None:
        bucket = f"debian {release}"
        used[bucket] = DEBIAN
        fixed = [str(e["fixed"]) for r in entry.get("ranges") or [] if r.get("type") == "ECOSYSTEM"
                 for e in r.get("events") or [] if "fixed" in e]
        if fixed:
            value: dict[str, Any] = {"FixedVersion": fixed[-1]}
        else:
            value = {"Status": _STATUS_AFFECTED, "Severity": int(_severity(advisory, raw.get("affected") or []))}
        vendor_ids = [a for a in advisory.aliases if a.startswith("DSA-") or a.startswith("DLA-")]
        if vendor_ids:
            value["VendorIDs"] = vendor_ids
        self._advice[(bucket, name, advisory.id)] = value

    def _add_vulnerability(self, advisory: Advisory, raw: Mapping[str, Any], used: Mapping[str, DataSource]) -> None:
        vuln = self._vulns.setdefault(advisory.id, {})
        severity = _severity(advisory, raw.get("affected") or [])
        vuln["Title"] = advisory.summary
        details = str(raw.get("details") or "").strip()
        if details:
            vuln["Description"] = details
        vuln["Severity"] = severity.name
        for source in used.values():
            vuln.setdefault("VendorSeverity", {})[source.id] = int(severity)
            if advisory.cvss_vector:
                vuln.setdefault("CVSS", {})[source.id] = _cvss(advisory.cvss_vector, advisory.cvss_score)
        cwes = (raw.get("database_specific") or {}).get("cwe_ids")
        if isinstance(cwes, list) and cwes:
            vuln["CweIDs"] = [str(c) for c in cwes]
        if advisory.references:
            vuln["References"] = list(advisory.references)
        for key, value in (("PublishedDate", raw.get("published")), ("LastModifiedDate", raw.get("modified"))):
            if _date(value):
                vuln[key] = value
        self._sources.update(used)

    def finish(self) -> Bucket:
        """Write every collected entry into :attr:`root` and return it."""
        for (bucket, package, advisory_id), value in self._advice.items():
            self.root.bucket(bucket).bucket(package).put(advisory_id, _json(value))
        self.entries = len(self._advice)
        vulns = self.root.bucket("vulnerability")
        for advisory_id, vuln in self._vulns.items():
            vulns.put(advisory_id, _json(vuln))
        sources = self.root.bucket("data-source")
        for bucket, source in self._sources.items():
            sources.put(bucket, _json(source.as_json()))
        return self.root


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def convert(records: Iterable[Mapping[str, Any]]) -> Layout:
    """Convert OSV records into a finished :class:`Layout` (``layout.root`` is the database's root bucket)."""
    layout = Layout()
    for raw in records:
        layout.add(raw)
    layout.finish()
    return layout

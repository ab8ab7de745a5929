"""Step 3 of a scan: the policy gate — may this image ship?

A gate blocks every finding at or above a threshold (``fail_on``, CRITICAL by
default), except those an *allow-list* accepts. An allow-list entry is a decision a
person made and must revisit, so each one needs a reason and an expiry date; an
expired entry no longer allows anything (and the gate says so)::

    # allow.toml
    [[allow]]
    id = "GHSA-h8pj-cxx2-jfg2"        # any id of the flaw: GHSA, PYSEC or CVE
    package = "httpx"                  # optional: only for this package
    reason = "Only used against our own server; upgrade tracked in TICKET-12"
    expires = 2026-12-31               # a TOML date

A finding with UNKNOWN severity has no rating to compare with the threshold. It does
not block by default, but the verdict always counts such findings and names them (a
PASSED over findings nobody rated is not a clean bill of health), and
``block_unrated=True`` (``portside scan --fail-on-unrated``, like Trivy's
``--severity UNKNOWN``) blocks them too, unless an allow-list entry covers them.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portside.errors import ScanError
from portside.security.advisories import Severity
from portside.security.scan.matching import Finding
from portside.security.scan.versions import normalize_name

if TYPE_CHECKING:
    from portside.security.scan.report import ScanReport

__all__ = ["AllowEntry", "GateResult", "gate", "load_allowlist", "parse_allowlist"]


@dataclass(frozen=True)
class AllowEntry:
    """One accepted risk: a flaw id, why it is accepted, until when, and optionally for which package."""

    id: str
    reason: str
    expires: dt.date
    package: str | None = None

    def expired(self, today: dt.date | None = None) -> bool:
        """True from the day after ``expires`` on."""
        return (today or dt.date.today()) > self.expires

    def covers(self, finding: Finding) -> bool:
        """True when this entry names the finding (any of its ids) and, if it names a package, that package."""
        if not finding.matches(self.id):
            return False
        if self.package is None:
            return True
        wanted = normalize_name(finding.ecosystem, self.package)
        return wanted in {normalize_name(finding.ecosystem, finding.package),
                          normalize_name(finding.ecosystem, finding.source_name or finding.package)}


def _entry(raw: Any, where: str) -> AllowEntry:
    if not isinstance(raw, dict):
        raise ScanError(f"{where} is not a table.", hint="Write each entry as [[allow]] with id, reason, expires.")
    missing = [key for key in ("id", "reason", "expires") if not raw.get(key)]
    if missing:
        raise ScanError(f"{where} has no {', '.join(missing)}.",
                        hint="Every allow-list entry needs an id, a reason and an expiry date "
                             "(expires = 2026-12-31).")
    expires = raw["expires"]
    if isinstance(expires, dt.datetime):
        expires = expires.date()
    elif isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError:
            raise ScanError(f"{where}: expires = {expires!r} is not a date.",
                            hint="Write it as a TOML date without quotes: expires = 2026-12-31.") from None
    if not isinstance(expires, dt.date):
        raise ScanError(f"{where}: expires must be a date.", hint="expires = 2026-12-31")
    unknown = set(raw) - {"id", "reason", "expires", "package"}
    if unknown:
        raise ScanError(f"{where} has unknown keys: {', '.join(sorted(unknown))}.",
                        hint="Allowed keys: id, reason, expires, package.")
    package = raw.get("package")
    return AllowEntry(id=str(raw["id"]).strip(), reason=str(raw["reason"]).strip(), expires=expires,
                      package=str(package) if package else None)


def parse_allowlist(text: str, *, name: str = "allow-list") -> list[AllowEntry]:
    """Parse allow-list TOML text (``[[allow]]`` tables). Raises :class:`PortsideError` naming the bad entry."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScanError(f"{name} is not valid TOML: {exc}.", hint="Check the line it names.") from None
    entries = data.get("allow", [])
    if not isinstance(entries, list):
        raise ScanError(f"{name}: 'allow' must be a list of tables ([[allow]]).", hint="Write [[allow]] twice "
                        "brackets, once per entry.")
    return [_entry(raw, f"{name}, entry {number}") for number, raw in enumerate(entries, start=1)]


def load_allowlist(path: Path) -> list[AllowEntry]:
    """Read an allow-list file. Every entry is returned, expired ones too: :func:`gate` reports and ignores those."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScanError(f"Cannot read the allow-list {path}: {exc.strerror}.",
                        hint="Check the path, or leave --allow out.") from None
    return parse_allowlist(text, name=str(path))


@dataclass(repr=False)
class GateResult:
    """The verdict: ``passed``, the findings that block, those an entry allowed, and the expired entries."""

    passed: bool
    blocking: list[Finding]
    allowed: list[Finding]
    expired: list[AllowEntry]
    fail_on: Severity = Severity.CRITICAL
    image: str = ""
    allowed_by: dict[str, AllowEntry] = field(default_factory=dict, repr=False)
    #: findings with no rating that did not block (``block_unrated=False``)
    unrated: list[Finding] = field(default_factory=list)
    block_unrated: bool = False

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        subject = f"{self.image} " if self.image else ""
        threshold = self.fail_on.name + (" or unrated" if self.block_unrated else "")
        if self.passed:
            text = f"PASSED: {subject}has no finding at or above {threshold}"
            text += f" that is not allowed ({len(self.allowed)} allowed)." if self.allowed else "."
        else:
            listed = ", ".join(f"{f.id} ({f.severity.name}, {f.package} {f.installed}"
                               + (f" → fix {f.fixed}" if f.fixed else ", no fix yet") + ")"
                               for f in self.blocking)
            text = (f"BLOCKED: {subject}has {len(self.blocking)} finding(s) at or above {threshold}: "
                    f"{listed}. Upgrade to the fixed versions and rebuild, then scan again.")
        if self.unrated:
            ids = ", ".join(f"{f.id} ({f.package} {f.installed})" for f in self.unrated[:5])
            more = f" and {len(self.unrated) - 5} more" if len(self.unrated) > 5 else ""
            text += (f"\nwarning: {len(self.unrated)} finding(s) could not be rated — no loaded advisory record gives "
                     f"them a severity, so they were not compared with {self.fail_on.name}: {ids}{more}. Load rated "
                     "records (GitHub's GHSA) or block them with block_unrated=True (--fail-on-unrated).")
        for finding in self.allowed:
            entry = self.allowed_by.get(finding.id)
            if entry:
                text += f"\nallowed: {finding.id} in {finding.package} until {entry.expires} — {entry.reason}"
        for entry in self.expired:
            text += (f"\nwarning: allow-list entry {entry.id} expired on {entry.expires} and was ignored "
                     f"(reason was: {entry.reason}).")
        return text


def gate(report: ScanReport, *, fail_on: Severity = Severity.CRITICAL, allow: Sequence[AllowEntry] = (),
         today: dt.date | None = None, block_unrated: bool = False) -> GateResult:
    """Decide whether ``report``'s image passes: no finding at or above ``fail_on`` unless a live entry allows it.

    ``block_unrated``: findings no record rates block too (else they are counted in the verdict).
    """
    live = [entry for entry in allow if not entry.expired(today)]
    expired = [entry for entry in allow if entry.expired(today)]
    blocking: list[Finding] = []
    allowed: list[Finding] = []
    allowed_by: dict[str, AllowEntry] = {}
    unrated: list[Finding] = []
    for finding in report.findings:
        if finding.severity is Severity.UNKNOWN and not block_unrated:
            unrated.append(finding)
            continue
        if finding.severity is not Severity.UNKNOWN and finding.severity < fail_on:
            continue
        entry = next((e for e in live if e.covers(finding)), None)
        if entry is None:
            blocking.append(finding)
        else:
            allowed.append(finding)
            allowed_by[finding.id] = entry
    return GateResult(passed=not blocking, blocking=blocking, allowed=allowed, expired=expired, fail_on=fail_on,
                      image=report.image, allowed_by=allowed_by, unrated=unrated, block_unrated=block_unrated)

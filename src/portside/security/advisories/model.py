"""What an advisory *is*, as the OSV schema describes it, parsed into small frozen objects.

An OSV record (https://ossf.github.io/osv-schema/) says: this flaw (``id``, also known
as its ``aliases``) affects these versions of this package in this ecosystem. The
versions are given two ways, and a record may use both:

* ``ranges`` of type ``ECOSYSTEM`` (or ``SEMVER``): a list of *events* —
  ``introduced``, ``fixed``, ``last_affected`` — read in version order, where each
  event switches "affected" on or off;
* ``versions``: an explicit list of affected version strings.

Severity comes from the record itself: the GitHub Advisory Database's own rating
(``database_specific.severity``: LOW, MODERATE, HIGH, CRITICAL), else the rating of
the CVSS vector in ``severity`` (computed with the ``cvss`` library), else UNKNOWN.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Advisory", "Affected", "Event", "Range", "Severity", "cvss_rating", "parse"]


class Severity(enum.IntEnum):
    """How bad a flaw is, in the four words every scanner uses (plus UNKNOWN). Ordered: ``CRITICAL > HIGH``."""

    UNKNOWN = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str | None) -> Severity:
        """``"critical"``, ``"High"``, ``"MODERATE"`` (GitHub's word for MEDIUM)… → a Severity; unknown → UNKNOWN."""
        word = (text or "").strip().upper()
        if word == "MODERATE":
            word = "MEDIUM"
        try:
            return cls[word]
        except KeyError:
            return cls.UNKNOWN

    @classmethod
    def from_score(cls, score: float | None) -> Severity:
        """The CVSS v3/v4 qualitative rating of a base score (0.1–3.9 LOW … 9.0–10 CRITICAL)."""
        if score is None:
            return cls.UNKNOWN
        if score >= 9.0:
            return cls.CRITICAL
        if score >= 7.0:
            return cls.HIGH
        if score >= 4.0:
            return cls.MEDIUM
        if score > 0.0:
            return cls.LOW
        return cls.UNKNOWN

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Event:
    """One event of a range: ``kind`` is ``introduced``, ``fixed``, ``last_affected`` or ``limit``."""

    kind: str
    version: str


@dataclass(frozen=True)
class Range:
    """An OSV range: its ``type`` (``ECOSYSTEM``, ``SEMVER`` or ``GIT``) and its events in record order."""

    type: str
    events: tuple[Event, ...]

    @property
    def fixed(self) -> tuple[str, ...]:
        """The ``fixed`` versions this range names."""
        return tuple(e.version for e in self.events if e.kind == "fixed")


@dataclass(frozen=True)
class Affected:
    """One ``affected`` entry: a package in an ecosystem and the versions of it that are affected."""

    ecosystem: str  # "PyPI", "Debian:12", …
    name: str
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()
    purl: str | None = None

    @property
    def ecosystem_family(self) -> str:
        """``"Debian:12"`` → ``"Debian"``; ``"PyPI"`` → ``"PyPI"``."""
        return self.ecosystem.split(":", 1)[0]

    @property
    def ecosystem_release(self) -> str | None:
        """``"Debian:12"`` → ``"12"``; no release → None."""
        _, sep, release = self.ecosystem.partition(":")
        return release if sep else None


@dataclass(frozen=True)
class Advisory:
    """A parsed OSV record. ``raw`` is the record exactly as loaded (for reports and converters)."""

    id: str
    aliases: tuple[str, ...]
    summary: str
    severity: Severity
    cvss_vector: str | None
    cvss_score: float | None
    affected: tuple[Affected, ...]
    published: str | None = None
    modified: str | None = None
    references: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def ids(self) -> tuple[str, ...]:
        """The id and every alias: all the names of this flaw."""
        return (self.id, *self.aliases)

    @property
    def withdrawn(self) -> bool:
        """True when the record was withdrawn (it must not produce findings)."""
        return bool(self.raw.get("withdrawn"))


@functools.lru_cache(maxsize=4096)
def cvss_rating(vector: str) -> tuple[float | None, Severity]:
    """The base score and rating of a CVSS v2/v3.x/v4.0 vector, computed by the ``cvss`` library."""
    import cvss  # a small pure-Python library; imported here so loading records stays cheap without vectors

    try:
        if vector.startswith("CVSS:4"):
            v4 = cvss.CVSS4(vector)
            score = float(v4.base_score)
        elif vector.startswith("CVSS:3"):
            score = float(cvss.CVSS3(vector).base_score)
        else:
            score = float(cvss.CVSS2(vector).base_score)
            # CVSS v2 has no CRITICAL band: LOW < 4, MEDIUM < 7, else HIGH
            return score, Severity.HIGH if score >= 7 else Severity.MEDIUM if score >= 4 else Severity.LOW
    except (cvss.CVSSError, ValueError, TypeError, KeyError):
        return None, Severity.UNKNOWN
    return score, Severity.from_score(score)


_VECTOR_PREFERENCE = ("CVSS_V3", "CVSS_V4", "CVSS_V2")


def _pick_vector(raw: Mapping[str, Any]) -> str | None:
    entries = [s for s in raw.get("severity") or [] if isinstance(s, Mapping)]
    for wanted in _VECTOR_PREFERENCE:
        for entry in entries:
            if entry.get("type") == wanted and entry.get("score"):
                return str(entry["score"])
    return None


def _parse_affected(entry: Mapping[str, Any]) -> Affected:
    package = entry.get("package") or {}
    ranges = tuple(
        Range(str(r.get("type", "")),
              tuple(Event(kind, str(value)) for event in r.get("events") or [] for kind, value in event.items()))
        for r in entry.get("ranges") or []
    )
    return Affected(
        ecosystem=str(package.get("ecosystem", "")),
        name=str(package.get("name", "")),
        ranges=ranges,
        versions=tuple(str(v) for v in entry.get("versions") or []),
        purl=package.get("purl"),
    )


def parse(raw: Mapping[str, Any]) -> Advisory:
    """Turn one OSV record (a dict) into an :class:`Advisory`. Raises ``ValueError`` if it has no ``id``."""
    if not raw.get("id"):
        raise ValueError("an OSV record needs an 'id'")
    vector = _pick_vector(raw)
    score, from_vector = cvss_rating(vector) if vector else (None, Severity.UNKNOWN)
    database = raw.get("database_specific") or {}
    rated = Severity.parse(database.get("severity") if isinstance(database, Mapping) else None)
    summary = str(raw.get("summary") or "").strip() or str(raw.get("details") or "").strip().split("\n")[0][:200]
    return Advisory(
        id=str(raw["id"]),
        aliases=tuple(str(a) for a in raw.get("aliases") or []),
        summary=summary,
        severity=rated if rated is not Severity.UNKNOWN else from_vector,
        cvss_vector=vector,
        cvss_score=score,
        affected=tuple(_parse_affected(a) for a in raw.get("affected") or [] if isinstance(a, Mapping)),
        published=raw.get("published"),
        modified=raw.get("modified"),
        references=tuple(str(r["url"]) for r in raw.get("references") or [] if isinstance(r, Mapping) and r.get("url")),
        raw=raw,
    )

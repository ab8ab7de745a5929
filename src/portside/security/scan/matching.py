"""Step 2 of a scan: match the inventory against the advisories — one :class:`Finding` per flaw per package.

The same flaw often has several records: GitHub's ``GHSA-…``, PyPA's ``PYSEC-…``, the
``CVE-…`` both point to. Each record lists the others in its ``aliases``. Counting
each record would count one flaw two or three times, so records of one package that
share an id are merged into one finding that lists every id. Its main record is
GitHub's (reviewed, always rated) when there is one, and its severity is that
record's rating — else the highest rating among the others (records without a
rating, like most PYSEC ones, never lower it). Its fixed version is the one that
fixes every merged record (the records may disagree: PyPA says httpx 0.20.0 fixed
CVE-2021-41945, GitHub says 0.23.0).

A finding whose own records carry no rating borrows one from a *rated* record of the
loaded data that shares one of its ids (an alias), even when that record did not match
the package itself (its ranges may disagree): :attr:`Finding.rated_by` names it. A
finding no loaded record rates stays UNKNOWN, and the gate says how many there are.

Matching rules:

* PyPI: same name per PEP 503 (``GitPython`` = ``gitpython``), version order per PEP 440;
* Debian: the record's package is the *source* package (``glibc``), compared with the
  inventory's ``source_name``; a record for ``Debian:12`` only matches packages of a
  Debian 12 image; dpkg version order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from portside.security.advisories import Advisory, Affected, Severity
from portside.security.scan.inventory import Inventory, Package
from portside.security.scan.versions import UnsupportedVersion, affected_by, normalize_name, version_key

__all__ = ["Finding", "match"]


@dataclass
class Finding:
    """A flaw that affects a package of the image.

    ``advisory`` is the main record (GitHub's when there is one: it carries a rating);
    ``related`` are the other records of the same flaw. ``ids`` lists every name of it.
    """

    package: str
    installed: str
    ecosystem: str
    advisory: Advisory
    fixed: str | None
    severity: Severity
    related: tuple[Advisory, ...] = ()
    purl: str | None = None
    source_name: str | None = None
    layer: str | None = None
    bom_ref: str | None = field(default=None, repr=False)
    #: the id of the alias record the rating came from, when the finding's own records had none
    rated_by: str | None = None

    @property
    def id(self) -> str:
        """The main id (a GHSA id when there is one)."""
        return self.advisory.id

    @property
    def ids(self) -> tuple[str, ...]:
        """Every id and alias of the merged records, main id first, no repeats."""
        seen: dict[str, None] = {}
        for advisory in (self.advisory, *self.related):
            for name in advisory.ids:
                seen.setdefault(name, None)
        return tuple(seen)

    @property
    def cve(self) -> str | None:
        """The CVE id among :attr:`ids`, if any."""
        return next((i for i in self.ids if i.startswith("CVE-")), None)

    @property
    def summary(self) -> str:
        return self.advisory.summary or next((a.summary for a in self.related if a.summary), "")

    @property
    def cvss_score(self) -> float | None:
        return self.advisory.cvss_score if self.advisory.cvss_score is not None else next(
            (a.cvss_score for a in self.related if a.cvss_score is not None), None)

    @property
    def cvss_vector(self) -> str | None:
        return self.advisory.cvss_vector or next((a.cvss_vector for a in self.related if a.cvss_vector), None)

    def matches(self, name: str) -> bool:
        """True when ``name`` is one of this finding's ids (case-insensitive)."""
        return name.upper() in {i.upper() for i in self.ids}


def _applies(affected: Affected, package: Package) -> bool:
    """Is this ``affected`` entry about this package (same ecosystem, release and name)?"""
    family = affected.ecosystem_family
    if family != package.ecosystem:
        return False
    if family == "Debian":
        release = affected.ecosystem_release
        if release is not None and package.distro_release is not None and release != package.distro_release:
            return False
        return affected.name == (package.source_name or package.name)
    return normalize_name(family, affected.name) == normalize_name(family, package.name)


def _hits(package: Package, advisory: Advisory) -> tuple[bool, str | None]:
    hit, fixed = False, None
    for affected in advisory.affected:
        if _applies(affected, package):
            inside, fix = affected_by(affected, package.version)
            if inside:
                hit, fixed = True, fixed or fix
    return hit, fixed


def _groups(records: list[tuple[Advisory, str | None]]) -> list[list[tuple[Advisory, str | None]]]:
    """Records that share any id (directly or through another record) form one group."""
    groups: list[tuple[set[str], list[tuple[Advisory, str | None]]]] = []
    for record in records:
        names = {n.upper() for n in record[0].ids}
        joined = [g for g in groups if g[0] & names]
        merged_names, merged = set(names), [record]
        for g in joined:
            merged_names |= g[0]
            merged = g[1] + merged
            groups.remove(g)
        groups.append((merged_names, merged))
    return [g[1] for g in groups]


def _main_record(group: Sequence[tuple[Advisory, str | None]]) -> Advisory:
    """GitHub's record when there is one, else the most severe, else the first id."""
    return sorted((a for a, _ in group),
                  key=lambda a: (not a.id.startswith("GHSA-"), -int(a.severity), a.id))[0]


def _highest_fix(ecosystem: str, fixes: Iterable[str | None]) -> str | None:
    best: tuple[object, str] | None = None
    for fix in fixes:
        if fix is None:
            continue
        try:
            key = version_key(ecosystem, fix)
        except UnsupportedVersion:
            continue
        if best is None or key > best[0]:
            best = (key, fix)
    return best[1] if best else None


def _finding(package: Package, group: Sequence[tuple[Advisory, str | None]]) -> Finding:
    main = _main_record(group)
    others = tuple(sorted((a for a, _ in group if a is not main), key=lambda a: a.id))
    return Finding(
        package=package.name,
        installed=package.version,
        ecosystem=package.ecosystem,
        advisory=main,
        fixed=_highest_fix(package.ecosystem, (f for _, f in group)),
        severity=main.severity if main.severity is not Severity.UNKNOWN else max(a.severity for a, _ in group),
        related=others,
        purl=package.purl,
        source_name=package.source_name,
        layer=package.layer,
        bom_ref=package.bom_ref,
    )


def match(inventory: Inventory, advisories: Sequence[Advisory]) -> list[Finding]:
    """Every flaw that affects a package of ``inventory``; records of one flaw merged (see module doc).

    Sorted most severe first, then by package and id.
    """
    index: dict[tuple[str, str], list[Advisory]] = {}
    for advisory in advisories:
        for affected in advisory.affected:
            key = (affected.ecosystem_family, normalize_name(affected.ecosystem_family, affected.name))
            bucket = index.setdefault(key, [])
            if not bucket or bucket[-1] is not advisory:
                bucket.append(advisory)
    findings: list[Finding] = []
    for package in inventory.packages:
        lookup = package.source_name or package.name if package.ecosystem == "Debian" else package.name
        candidates = index.get((package.ecosystem, normalize_name(package.ecosystem, lookup)), [])
        hits = []
        for advisory in candidates:
            hit, fixed = _hits(package, advisory)
            if hit:
                hits.append((advisory, fixed))
        findings.extend(_finding(package, group) for group in _groups(hits))
    _borrow_ratings(findings, advisories)
    return sorted(findings, key=lambda f: (-int(f.severity), f.package.lower(), f.installed, f.id))


def _borrow_ratings(findings: Iterable[Finding], advisories: Sequence[Advisory]) -> None:
    """Give an unrated finding the highest rating of any loaded record that shares one of its ids."""
    rated: dict[str, list[Advisory]] = {}
    for advisory in advisories:
        if advisory.severity is not Severity.UNKNOWN:
            for name in advisory.ids:
                rated.setdefault(name.upper(), []).append(advisory)
    for finding in findings:
        if finding.severity is not Severity.UNKNOWN:
            continue
        sources = [a for name in finding.ids for a in rated.get(name.upper(), [])]
        if sources:
            best = max(sources, key=lambda a: (int(a.severity), a.id.startswith("GHSA-"), a.id))
            finding.severity, finding.rated_by = best.severity, best.id

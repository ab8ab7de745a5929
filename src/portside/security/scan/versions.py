"""Is this installed version affected? Version order comes from each ecosystem's own, well-kept library.

Never compare versions as strings or tuples of numbers by hand: every ecosystem has
its own rules, and the edge cases are where scanners go wrong.

* **PyPI** — PEP 440, with :mod:`packaging`: ``1.0rc1 < 1.0 < 1.0.post1``,
  ``1!0.5 > 2.0`` (the *epoch* before ``!`` wins), ``2015.04.28 == 2015.4.28``.
* **Debian** — dpkg ordering, with ``python-debian``: ``1:1.0 > 2.0`` (epoch before
  ``:``), ``1.0~rc1 < 1.0`` (a ``~`` sorts *before* everything, even the end),
  ``2.36-9+deb12u4 < 2.36-9+deb12u10`` (numbers compare as numbers).
* **SEMVER** ranges — with :mod:`semver`.

An OSV range is a list of events read in version order: ``introduced`` switches
"affected" on, ``fixed`` switches it off at that version, ``last_affected`` switches
it off just *after* that version. ``introduced: "0"`` means "since the beginning".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import semver
from debian.debian_support import Version as DebianVersion
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion
from packaging.version import Version as PyPIVersion

from portside.security.advisories import Affected, Range

__all__ = ["UnsupportedVersion", "affected_by", "compare", "normalize_name", "version_key"]


class UnsupportedVersion(ValueError):
    """A version string that the ecosystem's library cannot parse."""


#: OSV's ``introduced: "0"`` — keys are tuples, so "0" sorts first without ever being compared to a version
_ZERO: tuple[Any, ...] = (0,)


def _pypi(text: str) -> Any:
    try:
        return PyPIVersion(text)
    except InvalidVersion as exc:
        raise UnsupportedVersion(f"{text!r} is not a PEP 440 version") from exc


def _debian(text: str) -> Any:
    try:
        return DebianVersion(text)
    except ValueError as exc:
        raise UnsupportedVersion(f"{text!r} is not a Debian version") from exc


def _semver(text: str) -> Any:
    try:
        return semver.Version.parse(text.removeprefix("v"))
    except (ValueError, TypeError) as exc:
        raise UnsupportedVersion(f"{text!r} is not a semantic version") from exc


_PARSERS: dict[str, Callable[[str], Any]] = {"PyPI": _pypi, "Debian": _debian}


def version_key(ecosystem: str, version: str, *, range_type: str = "ECOSYSTEM") -> Any:
    """A comparable object for ``version`` in ``ecosystem`` (``"PyPI"``, ``"Debian"``, ``"Debian:12"``).

    ``"0"`` (OSV's "since the beginning") sorts below everything. Raises
    :class:`UnsupportedVersion` for an ecosystem without a library here, or a version
    its library rejects.
    """
    if version == "0":
        return _ZERO
    if range_type == "SEMVER":
        return (1, _semver(version))
    family = ecosystem.split(":", 1)[0]
    parser = _PARSERS.get(family)
    if parser is None:
        raise UnsupportedVersion(f"no version library for the ecosystem {ecosystem!r}")
    return (1, parser(version))


def compare(ecosystem: str, a: str, b: str) -> int:
    """-1, 0 or 1 as version ``a`` is lower than, equal to or higher than ``b`` in ``ecosystem``."""
    ka, kb = version_key(ecosystem, a), version_key(ecosystem, b)
    return -1 if ka < kb else 1 if ka > kb else 0


def normalize_name(ecosystem: str, name: str) -> str:
    """How a package name is compared: PyPI names per PEP 503 (``GitPython`` = ``gitpython``), others as is."""
    return str(canonicalize_name(name)) if ecosystem.split(":", 1)[0] == "PyPI" else name


_ORDER = {"introduced": 0, "last_affected": 1, "fixed": 2, "limit": 3}


def _in_range(ecosystem: str, rng: Range, installed: Any) -> tuple[bool, str | None]:
    """Walk the range's events in version order (OSV's algorithm); return (affected, the fix that ends it)."""
    events = []
    for event in rng.events:
        if event.kind not in _ORDER:
            continue
        try:
            events.append((version_key(ecosystem, event.version, range_type=rng.type), _ORDER[event.kind], event))
        except UnsupportedVersion:
            continue  # a malformed event cannot switch anything on or off
    events.sort(key=lambda item: (item[0], item[1]))
    affected = False
    for key, _, event in events:
        if event.kind == "introduced" and installed >= key:
            affected = True
        elif event.kind == "fixed" and installed >= key:
            affected = False
        elif event.kind == "last_affected" and installed > key:
            affected = False
        elif event.kind == "limit" and installed >= key:
            affected = False
    if not affected:
        return False, None
    fixes = sorted((key, event.version) for key, _, event in events if event.kind == "fixed" and key > installed)
    return True, fixes[0][1] if fixes else None


def affected_by(affected: Affected, version: str) -> tuple[bool, str | None]:
    """Does this ``affected`` entry cover installed ``version``? Returns (yes/no, fixed version or None).

    True when the version is in the explicit ``versions`` list or inside an
    ``ECOSYSTEM``/``SEMVER`` range (``GIT`` ranges name commits and are skipped). The
    fixed version is the lowest ``fixed`` event above the installed version, if any:
    ``None`` means no fix is published (common for Debian's unfixed issues).
    """
    ecosystem = affected.ecosystem
    try:
        installed = version_key(ecosystem, version)
    except UnsupportedVersion:
        return version in affected.versions, None  # cannot order it: only an exact listing counts
    hit = False
    fixed: str | None = None
    for rng in affected.ranges:
        if rng.type not in ("ECOSYSTEM", "SEMVER"):
            continue
        try:
            key = installed if rng.type == "ECOSYSTEM" else version_key(ecosystem, version, range_type="SEMVER")
        except UnsupportedVersion:
            continue
        inside, fix = _in_range(ecosystem, rng, key)
        if inside:
            hit = True
            fixed = fixed or fix
    if not hit:
        for listed in affected.versions:
            try:
                if version_key(ecosystem, listed) == installed:
                    hit = True
                    break
            except UnsupportedVersion:
                if listed == version:
                    hit = True
                    break
        if hit and fixed is None:
            # listed explicitly; a range of the record may still name the fix
            fixes = []
            for rng in affected.ranges:
                for fix_text in rng.fixed:
                    try:
                        fix_key = version_key(ecosystem, fix_text, range_type=rng.type)
                    except UnsupportedVersion:
                        continue
                    if fix_key > installed:
                        fixes.append((fix_key, fix_text))
            fixed = sorted(fixes)[0][1] if fixes else None
    return hit, fixed

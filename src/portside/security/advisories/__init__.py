"""Security advisories in the OSV format: the course's committed snapshot, or a full OSV export.

An *advisory* is a public record of one flaw: its ids (a GHSA, a PYSEC, a CVE — often
all three for the same flaw), which versions of which package it affects, the
version that fixes it, and how severe it is. :mod:`portside.security.scan` matches them
against the packages of an image.

::

    from portside.security.advisories import load, Severity
    advisories = load()                      # the snapshot in snapshot/ (see its README.md)
    [a.id for a in advisories if a.severity is Severity.CRITICAL]
"""

from __future__ import annotations

from portside.security.advisories.download import download, export_url
from portside.security.advisories.model import Advisory, Affected, Event, Range, Severity, cvss_rating, parse
from portside.security.advisories.store import load, load_raw, snapshot_dir

__all__ = [
    "Advisory",
    "Affected",
    "Event",
    "Range",
    "Severity",
    "cvss_rating",
    "download",
    "export_url",
    "load",
    "load_raw",
    "parse",
    "snapshot_dir",
]

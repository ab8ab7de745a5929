"""Run the real ``trivy image`` vulnerability scanner with a course-built database.

Two ways to hand Trivy its database, the same two a real site uses:

* ``cache_dir=``: the database is already on disk (``<cache_dir>/db/``); Trivy is told
  ``--skip-db-update`` and never goes online;
* ``db_repository=``: Trivy pulls the database from a registry (``--db-repository
  localhost:PORT/trivy-db:2``) into a fresh cache, as an air-gapped site's mirror
  serves it. Trivy speaks plain HTTP to ``localhost`` registries.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from portside.errors import ScanError, UsageError
from portside.tools._runner import run_tool
from portside.tools.trivy import QUIET_ENV, parse_json

if TYPE_CHECKING:
    from portside.security.scan import ScanReport

__all__ = ["Agreement", "compare", "found", "harness_found", "scan", "vulnerabilities"]



def scan(image: str, *, cache_dir: Path | None = None, db_repository: str | None = None,
         image_src: Sequence[str] = ("docker",), severity: Sequence[str] = (),
         env: Mapping[str, str] | None = None, timeout: float = 600) -> dict[str, Any]:
    """Trivy's JSON report of the vulnerabilities in ``image`` (OS packages and Python packages).

    Give ``cache_dir`` (a folder made by :func:`portside.security.trivydb.build`) or
    ``db_repository`` (a registry reference made by :func:`portside.security.trivydb.publish`).
    ``severity``: only these levels, as ``trivy image --severity CRITICAL,HIGH`` does.
    """
    if (cache_dir is None) == (db_repository is None):
        raise UsageError("Give Trivy its database one way: cache_dir= (a built database) or db_repository= "
                         "(a published one).")
    if cache_dir is not None and not (Path(cache_dir) / "db" / "trivy.db").is_file():
        raise ScanError(f"No Trivy database in {cache_dir}: Trivy reads {Path(cache_dir) / 'db' / 'trivy.db'}.",
                        hint="Build it first: trivydb.build(folder) or `portside advisories trivy-db FOLDER`, "
                             "and pass that folder (not its db/ subfolder).")
    scratch = Path(tempfile.mkdtemp(prefix="portside-trivy-")) if cache_dir is None else None
    args = ["image", "--cache-dir", str(cache_dir or scratch), "--config", "", "--scanners", "vuln",
            "--format", "json", "--skip-java-db-update", "--image-src", ",".join(image_src)]
    if severity:
        args += ["--severity", ",".join(level.upper() for level in severity)]
    if db_repository is None:
        args += ["--skip-db-update", "--offline-scan"]
    else:
        args += ["--db-repository", db_repository]
    try:
        result = run_tool("trivy", [*args, image], timeout=timeout, env={**QUIET_ENV, **(env or {})},
                          what=f"trivy image {image}",
                          hint="Check the image exists (`docker image ls`) and the database was built or "
                               "published (`portside advisories trivy-db` / `publish`).")
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return parse_json(result, image)


def vulnerabilities(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every vulnerability row of a report, each with its result's ``Target``, ``Class`` and ``Type`` added."""
    rows = []
    for result in report.get("Results") or []:
        for vuln in result.get("Vulnerabilities") or []:
            rows.append({"Target": result.get("Target"), "Class": result.get("Class"),
                         "Type": result.get("Type"), **vuln})
    return rows


def found(report: Mapping[str, Any]) -> set[tuple[str, str]]:
    """The ``(package, advisory id)`` pairs of a report — what to compare with another scanner.

    Python package names are in PEP 503 form (``GitPython`` → ``gitpython``); Debian
    packages keep their binary package name (``libc6``), as both scanners report them.
    """
    return {(_name(str(v["PkgName"]), v.get("Type") == "python-pkg"), str(v["VulnerabilityID"]))
            for v in vulnerabilities(report)}


def _name(name: str, python: bool) -> str:
    return str(canonicalize_name(name)) if python else name


@dataclass(frozen=True)
class Agreement:
    """Trivy's findings next to :mod:`portside.security.scan`'s, as ``(package, advisory id)`` pairs."""

    both: frozenset[tuple[str, str]]
    only_trivy: frozenset[tuple[str, str]]
    only_harness: frozenset[tuple[str, str]]

    @property
    def agree(self) -> bool:
        return not self.only_trivy and not self.only_harness

    def __str__(self) -> str:
        text = f"{len(self.both)} (package, advisory) pairs found by both"
        for label, pairs in (("only Trivy", self.only_trivy), ("only portside.scan", self.only_harness)):
            if pairs:
                text += f"; {label}: " + ", ".join(f"{p} {a}" for p, a in sorted(pairs))
        return text + ("" if not self.agree else "; no difference")


def harness_found(report: ScanReport) -> set[tuple[str, str]]:
    """The ``(package, advisory id)`` pairs of a :func:`portside.security.scan.scan` report.

    The harness merges the records of one flaw (GHSA, PYSEC, …) into one finding;
    Trivy reports each record on its own, so every merged record counts here.
    """
    return {(_name(f.package, f.ecosystem == "PyPI"), record.id)
            for f in report.findings for record in (f.advisory, *f.related)}


def compare(trivy_report: Mapping[str, Any], harness_report: ScanReport) -> Agreement:
    """Which findings Trivy and :mod:`portside.security.scan` share, and which only one of them has."""
    trivy, harness = found(trivy_report), harness_found(harness_report)
    return Agreement(frozenset(trivy & harness), frozenset(trivy - harness), frozenset(harness - trivy))

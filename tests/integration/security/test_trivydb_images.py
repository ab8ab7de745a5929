"""The real ``trivy image`` with the course-built database, on the lesson images — and through a registry.

Images: the demo app ``pyapp`` (vulnerable and fixed pins, built by
:mod:`portside.lessons.sample_app`) and the Debian 12 bases (``debian:bookworm-slim``,
``python:3.11-slim-bookworm``). The consistency test compares Trivy's
``(package, advisory id)`` pairs with :func:`portside.security.scan.scan`'s on every one of them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from packaging.utils import canonicalize_name

from portside.cli.trivydb import publish_command
from portside.registry.container import Registry
from portside.security import trivydb
from portside.security.scan import scan
from portside.security.trivydb.artifact import LAYER_MEDIA_TYPE, TITLE
from portside.security.trivydb.run import found, vulnerabilities

pytestmark = pytest.mark.slow

BASES = ("debian:bookworm-slim", "python:3.11-slim-bookworm")
#: lesson 04's secret-in-a-layer images are built on busybox, which has no package database: nothing to match
NO_PACKAGES = "busybox:1.35"

#: the snapshot's Debian records that affect the current bookworm base (all LOW, never fixed by Debian)
DEBIAN_FOUND = {
    ("apt", "DEBIAN-CVE-2011-3374"), ("libapt-pkg6.0", "DEBIAN-CVE-2011-3374"),
    ("coreutils", "DEBIAN-CVE-2016-2781"), ("coreutils", "DEBIAN-CVE-2017-18018"),
    ("tar", "DEBIAN-CVE-2005-2541"),
}
#: fixed in bookworm by DSA-5514-1 (2.36-9+deb12u3): a rebuilt base has the fix, so it is not reported
DEBIAN_NOT_FOUND = "DEBIAN-CVE-2023-4911"
#: the CRITICAL flaws of the vulnerable pins, one per package (GitHub's records carry the rating)
CRITICAL = {("gitpython", "GHSA-pr76-5cm5-w9cj"), ("h11", "GHSA-vqfr-h8mv-ghfj"), ("httpx", "GHSA-h8pj-cxx2-jfg2")}

#: (image, package, advisory id) → why Trivy and portside.security.scan legitimately disagree. Empty: they agree on
#: every lesson image, because both read the same OSV records and compare versions the same way.
KNOWN_DIFFERENCES: dict[tuple[str, str, str], str] = {}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Trivy database built from the committed snapshot."""
    return trivydb.build(tmp_path_factory.mktemp("trivy-cache"))


@pytest.fixture(scope="module")
def app(pyapp_images: dict[str, str]) -> dict[str, str]:
    """pyapp built with both pin sets (the session's shared build)."""
    return pyapp_images


@pytest.mark.parametrize("image", BASES)
def test_debian_base(cache: Path, image: str) -> None:
    """On the bookworm bases Trivy reports exactly the unfixed LOW Debian issues, and not the fixed glibc one."""
    pairs = found(trivydb.scan(image, cache_dir=cache))
    assert pairs == DEBIAN_FOUND
    assert all(advisory != DEBIAN_NOT_FOUND for _, advisory in pairs)


def test_vulnerable_app(cache: Path, app: dict[str, str]) -> None:
    """The vulnerable pins: the three CRITICALs (three packages), more below them, and the base's LOWs."""
    report = trivydb.scan(app["vulnerable"], cache_dir=cache)
    pairs = found(report)
    assert pairs >= CRITICAL | DEBIAN_FOUND
    critical = {(str(canonicalize_name(v["PkgName"])), v["VulnerabilityID"])
                for v in vulnerabilities(report) if v["Severity"] == "CRITICAL"}
    assert critical == CRITICAL
    assert ("certifi", "PYSEC-2022-42986") not in pairs      # fixed in 2022.12.7, the pinned version
    assert all(advisory != DEBIAN_NOT_FOUND for _, advisory in pairs)
    h11 = next(v for v in vulnerabilities(report) if v["VulnerabilityID"] == "GHSA-vqfr-h8mv-ghfj")
    assert (h11["InstalledVersion"], h11["FixedVersion"], h11["DataSource"]["ID"]) == ("0.12.0", "0.16.0", "ghsa")


def test_fixed_app(cache: Path, app: dict[str, str]) -> None:
    """The fixed pins: no Python finding at all; only the base image's LOW Debian issues remain."""
    assert found(trivydb.scan(app["fixed"], cache_dir=cache)) == DEBIAN_FOUND


def test_db_repository(cache: Path, app: dict[str, str]) -> None:
    """Published to a course registry, the database is pulled by `trivy --db-repository` and finds the same."""
    with Registry() as registry:
        ref = registry.ref("trivy-db", "2")
        result = CliRunner().invoke(publish_command, [ref, "--db", str(cache)])
        assert result.exit_code == 0, result.output
        manifest = registry.client().manifest("trivy-db", "2").json()
        (layer,) = manifest["layers"]
        assert layer["mediaType"] == LAYER_MEDIA_TYPE
        assert layer["annotations"] == {"org.opencontainers.image.title": TITLE}
        again = trivydb.publish(ref, cache)                          # same database, same bytes, same digest
        assert again == registry.client().digest("trivy-db", "2")
        for image in (app["vulnerable"], app["fixed"]):
            pulled = trivydb.scan(image, db_repository=ref)
            assert found(pulled) == found(trivydb.scan(image, cache_dir=cache))


def test_trivy_agrees_with_the_harness(cache: Path, app: dict[str, str]) -> None:
    """For every lesson image: Trivy's (package, id) pairs equal portside.security.scan's, except listed differences."""
    unexplained: dict[str, Any] = {}
    names = {tag: f"pyapp:{variant}" for variant, tag in app.items()}  # stable names for KNOWN_DIFFERENCES
    for image in (app["vulnerable"], app["fixed"], *BASES, NO_PACKAGES):
        trivy = trivydb.scan(image, cache_dir=cache)
        agreement = trivydb.compare(trivy, scan(image))
        assert bool(agreement.both) == (image != NO_PACKAGES), f"{image}: {agreement}"
        name = names.get(image, image)
        for side, pairs in (("only Trivy", agreement.only_trivy), ("only portside.scan", agreement.only_harness)):
            for package, advisory in pairs:
                if (name, package, advisory) not in KNOWN_DIFFERENCES:
                    unexplained[f"{name} {package} {advisory}"] = side
    assert not unexplained, json.dumps(unexplained, indent=1)

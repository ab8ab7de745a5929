"""The Trivy database converter, checked by the real Trivy (``portside.tools.path("trivy")``), offline.

Fast checks use ``trivy rootfs`` on a folder that holds only package metadata
(``*.dist-info/METADATA`` files and a dpkg status file), so every version and range
case can be tried without building images. The image tests (lesson images, the
registry path, the consistency check against :mod:`portside.security.scan`) are in
``test_trivydb_images.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from portside.cli.trivydb import trivy_db_command
from portside.errors import PortsideError
from portside.security import bbolt, trivydb
from portside.security.advisories import load_raw, snapshot_dir
from portside.security.trivydb.layout import pip_ranges
from portside.security.trivydb.run import QUIET_ENV, found
from portside.tools._runner import run_tool


def osv(advisory_id: str, ecosystem: str, name: str, events: list[dict[str, str]] | None = None,
        versions: list[str] | None = None, severity: str = "HIGH") -> dict[str, Any]:
    """A minimal OSV record (for the converter's own cases; the snapshot's records are real)."""
    affected: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": name}}
    if events is not None:
        affected["ranges"] = [{"type": "ECOSYSTEM", "events": events}]
    if versions is not None:
        affected["versions"] = versions
    return {"id": advisory_id, "summary": f"test record {advisory_id}", "affected": [affected],
            "database_specific": {"severity": severity}}


def rootfs(folder: Path, python: dict[str, str], debian: dict[str, tuple[str, str]]) -> Path:
    """A root file system with only metadata: Python dist-infos and a Debian 12 dpkg status file."""
    for name, version in python.items():
        info = folder / "usr/local/lib/python3.11/site-packages" / f"{name}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (folder / "etc").mkdir(parents=True, exist_ok=True)
    (folder / "etc/os-release").write_text('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
                                           'VERSION_ID="12"\nID=debian\n')
    (folder / "etc/debian_version").write_text("12.11\n")
    stanzas = [f"Package: {binary}\nStatus: install ok installed\nArchitecture: amd64\nSource: {source}\n"
               f"Version: {version}\n" for binary, (source, version) in debian.items()]
    (folder / "var/lib/dpkg").mkdir(parents=True)
    (folder / "var/lib/dpkg/status").write_text("\n".join(stanzas))
    return folder


def trivy_rootfs(cache: Path, folder: Path) -> set[tuple[str, str]]:
    result = run_tool("trivy", ["rootfs", "--cache-dir", str(cache), "--config", "", "--skip-db-update",
                                "--skip-java-db-update", "--offline-scan", "--scanners", "vuln", "--format", "json",
                                str(folder)], timeout=300, env=QUIET_ENV)
    return found(json.loads(result.stdout))


def value(tree: bbolt.Tree, *path: str) -> Any:
    """The JSON value at ``path`` (bucket names, then the key) of a tree read back from trivy.db."""
    node: Any = tree
    for name in path:
        node = node[name.encode()]
    return json.loads(node)


# ── the converter alone ───────────────────────────────────────────────────────────


@pytest.mark.parametrize(("events", "versions", "vulnerable", "patched"), [
    ([{"introduced": "0"}, {"fixed": "1.2"}], None, ["<1.2"], ["1.2"]),
    ([{"introduced": "1.0"}, {"fixed": "1.2"}], None, [">=1.0, <1.2"], ["1.2"]),
    ([{"introduced": "1.0"}, {"last_affected": "1.1"}], None, [">=1.0, <=1.1"], []),
    ([{"introduced": "2.0"}], None, [">=2.0"], []),
    ([{"introduced": "0"}], None, [">=0"], []),
    # events out of order are read in version order, as OSV says
    ([{"fixed": "2.0"}, {"introduced": "1.0"}], None, [">=1.0, <2.0"], ["2.0"]),
    # inside one range, events are read in version order: a fix with nothing open is ignored
    ([{"introduced": "0"}, {"fixed": "2.0"}, {"introduced": "1.5"}, {"fixed": "3.0"}], None,
     [">=1.5, <2.0"], ["2.0"]),
    # explicit versions join the ranges, spelt the canonical PEP 440 way (Trivy's parser rejects
    # "1.1-beta1"); one that is not PEP 440 at all is left out, or Trivy would skip the whole record
    (None, ["1.0", "1.1-beta1", "2.0.RC1", "not-a-version!"], ["==1.0", "==1.1b1", "==2.0rc1"], []),
    # listed versions the ranges already cover add nothing
    ([{"introduced": "0"}, {"fixed": "1.2"}], ["1.0", "1.1-beta1", "1.5"], ["<1.2", "==1.5"], ["1.2"]),
])
def test_pip_ranges(events: list[dict[str, str]] | None, versions: list[str] | None, vulnerable: list[str],
                    patched: list[str]) -> None:
    """OSV events become Trivy's range strings (joined with OR) and patched versions."""
    entry = osv("GHSA-x", "PyPI", "x", events, versions)["affected"][0]
    assert pip_ranges(entry) == (vulnerable, patched)


def test_a_fix_another_range_still_covers_is_not_patched() -> None:
    """Two ranges overlap: 2.0 fixes the first but the second still covers it, so it is no 'patched' version."""
    entry = {"package": {"ecosystem": "PyPI", "name": "x"}, "ranges": [
        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]},
        {"type": "ECOSYSTEM", "events": [{"introduced": "1.5"}, {"fixed": "3.0"}]},
        {"type": "GIT", "repo": "https://example.invalid/x", "events": [{"introduced": "abc"}]}]}
    assert pip_ranges(entry) == (["<2.0", ">=1.5, <3.0"], ["3.0"])


def test_snapshot_layout(tmp_path: Path) -> None:
    """The snapshot's records land in Trivy's buckets; metadata.json says schema version 2."""
    built = trivydb.build_records(tmp_path, load_raw())
    assert built.db_dir == tmp_path / "db"
    tree = bbolt.read(built.db_dir / "trivy.db")
    assert set(tree) >= {b"vulnerability", b"data-source", b"debian 12", b"pip::GitHub Security Advisory pip"}
    assert value(tree, "debian 12", "glibc", "DEBIAN-CVE-2023-4911") == {
        "FixedVersion": "2.36-9+deb12u3", "VendorIDs": ["DSA-5514-1"]}
    assert value(tree, "debian 12", "coreutils", "DEBIAN-CVE-2016-2781") == {"Status": 2, "Severity": 1}
    assert value(tree, "data-source", "debian 12")["ID"] == "debian"
    glibc = value(tree, "vulnerability", "DEBIAN-CVE-2023-4911")
    assert glibc["VendorSeverity"] == {"debian": 3}
    assert glibc["CVSS"]["debian"]["V3Vector"] == "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"
    vulns = tree[b"vulnerability"]
    assert isinstance(vulns, dict)
    every_id = {r["id"] for r in load_raw()}
    assert set(vulns) == {i.encode() for i in every_id}
    meta = json.loads((built.db_dir / "metadata.json").read_text())
    assert meta["Version"] == 2 and meta["NextUpdate"] > meta["UpdatedAt"]
    assert len(list((snapshot_dir() / "debian").glob("*.json"))) >= 4


def test_empty_source_is_refused(tmp_path: Path) -> None:
    """A source with no PyPI or Debian record gives a clear error, not an empty database."""
    with pytest.raises(PortsideError, match="would be empty"):
        trivydb.build_records(tmp_path, [osv("RUSTSEC-1", "crates.io", "x", [{"introduced": "0"}])])
    with pytest.raises(PortsideError, match="No Trivy database"):
        trivydb.db_folder(tmp_path / "nothing")


# ── the real Trivy reads it ───────────────────────────────────────────────────────


def test_real_trivy_agrees_with_osv_ranges(tmp_path: Path) -> None:
    """Every range case, fixed and unfixed Debian advisories and name normalisation, judged by Trivy itself."""
    records = [
        osv("GHSA-fixed-at-installed", "PyPI", "foo", [{"introduced": "0"}, {"fixed": "1.0"}]),
        osv("GHSA-open-range", "PyPI", "foo", [{"introduced": "0.5"}]),
        osv("GHSA-last-affected", "PyPI", "foo", [{"introduced": "0"}, {"last_affected": "1.0"}]),
        {**osv("GHSA-overlapping", "PyPI", "foo"), "affected": [{"package": {"ecosystem": "PyPI", "name": "foo"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}]},
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0.9"}, {"fixed": "1.1"}]}]}]},
        osv("PYSEC-second-interval", "PyPI", "bar", [{"introduced": "1.0"}, {"fixed": "2.0"},
                                                     {"introduced": "2.5"}, {"fixed": "2.6"}]),
        osv("PYSEC-between-intervals", "PyPI", "bar", [{"introduced": "1.0"}, {"fixed": "2.0"},
                                                       {"introduced": "3.0"}, {"fixed": "3.1"}]),
        osv("OSV-listed-version", "PyPI", "bar", None, ["2.4", "2.5"]),
        osv("PYSEC-listed-odd-spellings", "PyPI", "bar", [{"introduced": "0"}, {"fixed": "2.6"}],
            ["0.2.0-beta1", "0.3.2.RC1", "2.5"]),
        osv("OSV-listed-beta", "PyPI", "beta", None, ["0.2.0-beta1"]),
        osv("GHSA-underscore-name", "PyPI", "Baz_Qux", [{"introduced": "0"}, {"fixed": "0.4"}]),
        osv("GHSA-pre-release", "PyPI", "pre", [{"introduced": "0"}, {"fixed": "2.0"}]),
        osv("DEBIAN-CVE-fixed-later", "Debian:12", "glibc", [{"introduced": "0"}, {"fixed": "2.36-9+deb12u4"}]),
        osv("DEBIAN-CVE-fixed-before", "Debian:12", "glibc", [{"introduced": "0"}, {"fixed": "2.36-9+deb12u2"}]),
        osv("DEBIAN-CVE-tilde", "Debian:12", "tar", [{"introduced": "0"}, {"fixed": "1.34+dfsg-1.2~deb12u1"}]),
        osv("DEBIAN-CVE-unfixed", "Debian:12", "tar", [{"introduced": "0"}], severity="LOW"),
        osv("DEBIAN-CVE-other-release", "Debian:11", "tar", [{"introduced": "0"}]),
    ]
    cache = tmp_path / "cache"
    trivydb.build_records(cache, records)
    python = {"foo": "1.0", "bar": "2.5", "baz_qux": "0.3", "pre": "2.0rc1", "beta": "0.2.0b1"}
    folder = rootfs(tmp_path / "root", python,
                    {"libc6": ("glibc", "2.36-9+deb12u3"), "libc-bin": ("glibc", "2.36-9+deb12u3"),
                     "tar": ("tar", "1.34+dfsg-1.2")})
    assert trivy_rootfs(cache, folder) == {
        ("foo", "GHSA-open-range"), ("foo", "GHSA-last-affected"), ("foo", "GHSA-overlapping"),
        ("bar", "PYSEC-second-interval"), ("bar", "OSV-listed-version"),
        ("bar", "PYSEC-listed-odd-spellings"),
        ("baz-qux", "GHSA-underscore-name"),
        ("pre", "GHSA-pre-release"), ("beta", "OSV-listed-beta"),
        ("libc6", "DEBIAN-CVE-fixed-later"), ("libc-bin", "DEBIAN-CVE-fixed-later"),
        ("tar", "DEBIAN-CVE-unfixed"),
    }


def test_cli_builds_a_database(tmp_path: Path) -> None:
    """`portside advisories trivy-db OUT` writes OUT/db and says how to use it."""
    result = CliRunner().invoke(trivy_db_command, [str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "--cache-dir" in result.output and "advisories" in result.output
    assert trivydb.db_folder(tmp_path / "out") == tmp_path / "out" / "db"


def test_scan_without_a_database_says_what_to_do(tmp_path: Path) -> None:
    """A folder with no database (or both ways / neither way given) is refused before Trivy runs."""
    with pytest.raises(PortsideError, match="No Trivy database"):
        trivydb.scan("debian:bookworm-slim", cache_dir=tmp_path)
    with pytest.raises(PortsideError, match="one way"):
        trivydb.scan("debian:bookworm-slim")


def test_ensure_builds_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The course's cached database is built once and rebuilt only when the advisories change."""
    monkeypatch.setenv("PORTSIDE_HOME", str(tmp_path / "state"))
    folder = trivydb.ensure()
    db = folder / "db" / "trivy.db"
    first = db.stat().st_mtime_ns
    assert trivydb.ensure() == folder and db.stat().st_mtime_ns == first
    source = tmp_path / "records"
    source.mkdir()
    (source / "x.json").write_text(json.dumps(osv("GHSA-only-one", "PyPI", "foo", [{"introduced": "0"}])))
    assert trivydb.ensure(source) == folder
    assert set(value(bbolt.read(db), "vulnerability", "GHSA-only-one")) >= {"Title", "VendorSeverity"}

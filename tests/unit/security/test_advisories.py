"""The advisory loader: the committed snapshot, a folder, an OSV zip export; parsing and severity."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from portside.errors import PortsideError
from portside.security.advisories import Severity, cvss_rating, export_url, load, load_raw, parse, snapshot_dir


def test_snapshot_records_are_valid_osv_with_unique_ids() -> None:
    """Every snapshot file is one OSV record named after its id, and no id appears twice."""
    files = sorted(snapshot_dir().rglob("*.json"))
    assert len(files) >= 20
    ids = []
    for file in files:
        record = json.loads(file.read_text(encoding="utf-8"))
        assert file.stem == record["id"]
        assert record["affected"], file
        ids.append(record["id"])
    assert len(ids) == len(set(ids))
    assert (snapshot_dir() / "README.md").is_file()


def test_snapshot_has_the_lesson_criticals_with_their_facts() -> None:
    """The three CRITICALs the lesson's vulnerable app must hit, with GitHub's rating and vector."""
    by_id = {a.id: a for a in load()}
    gitpython = by_id["GHSA-pr76-5cm5-w9cj"]
    assert gitpython.severity is Severity.CRITICAL
    assert gitpython.aliases == ("CVE-2023-40267",)
    assert gitpython.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    assert gitpython.cvss_score == 9.8
    h11 = by_id["GHSA-vqfr-h8mv-ghfj"]
    assert (h11.severity, h11.cvss_score) == (Severity.CRITICAL, 9.1)
    assert h11.affected[0].ranges[0].fixed == ("0.16.0",)
    httpx = by_id["GHSA-h8pj-cxx2-jfg2"]
    assert httpx.severity is Severity.CRITICAL
    assert httpx.affected[0].ranges[0].fixed == ("0.23.0",)


def test_pysec_records_have_no_rating_unless_they_carry_a_vector() -> None:
    """PYSEC-2023-137 has no severity at all; PYSEC-2024-60 carries a CVSS vector, rated by the cvss library."""
    by_id = {a.id: a for a in load()}
    assert by_id["PYSEC-2023-137"].severity is Severity.UNKNOWN
    assert by_id["PYSEC-2023-137"].cvss_vector is None
    assert by_id["PYSEC-2024-60"].severity is Severity.HIGH
    assert by_id["PYSEC-2024-60"].cvss_score == 7.5


def test_github_rating_wins_over_the_vector() -> None:
    """GHSA-jjg7-2v4v-x38h: vector scores 6.2 (MEDIUM) and GitHub says MODERATE = MEDIUM; GHSA-hcpj: 8.1 → HIGH."""
    by_id = {a.id: a for a in load()}
    assert by_id["GHSA-jjg7-2v4v-x38h"].severity is Severity.MEDIUM
    assert by_id["GHSA-jjg7-2v4v-x38h"].cvss_score == 6.2
    assert by_id["GHSA-hcpj-qp55-gfph"].severity is Severity.HIGH


@pytest.mark.parametrize(("vector", "score", "severity"), [
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, Severity.CRITICAL),
    ("CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", 4.0, Severity.MEDIUM),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3, Severity.CRITICAL),
    ("AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5, Severity.HIGH),
    ("CVSS:3.1/AV:X/garbage", None, Severity.UNKNOWN),
])
def test_cvss_rating(vector: str, score: float | None, severity: Severity) -> None:
    """Scores come from the cvss library; v2 has no CRITICAL band; a bad vector is UNKNOWN, not an error."""
    assert cvss_rating(vector) == (score, severity)


def test_severity_words() -> None:
    """GitHub's MODERATE is MEDIUM; unknown words are UNKNOWN; severities order."""
    assert Severity.parse("moderate") is Severity.MEDIUM
    assert Severity.parse("Critical") is Severity.CRITICAL
    assert Severity.parse(None) is Severity.UNKNOWN
    assert Severity.CRITICAL > Severity.HIGH > Severity.MEDIUM > Severity.LOW > Severity.UNKNOWN


def test_withdrawn_records_are_left_out(tmp_path: Path) -> None:
    """A withdrawn record loads raw but produces no Advisory."""
    (tmp_path / "X-1.json").write_text(json.dumps({"id": "X-1", "withdrawn": "2024-01-01T00:00:00Z",
                                                   "affected": []}))
    (tmp_path / "X-2.json").write_text(json.dumps({"id": "X-2", "affected": []}))
    assert [r["id"] for r in load_raw(tmp_path)] == ["X-1", "X-2"]
    assert [a.id for a in load(tmp_path)] == ["X-2"]


def test_zip_export_loads_like_the_snapshot(tmp_path: Path) -> None:
    """An OSV all.zip (made here from the snapshot) gives the same records; a folder of zips too."""
    archive = tmp_path / "exports" / "PyPI.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as out:
        for file in sorted((snapshot_dir() / "pypi").glob("*.json")):
            out.write(file, arcname=file.name)
    from_zip = {a.id for a in load(archive)}
    assert from_zip == {a.id for a in load(snapshot_dir() / "pypi")}
    assert {a.id for a in load(archive.parent)} == from_zip
    assert "GHSA-vqfr-h8mv-ghfj" in from_zip


def test_bad_sources_raise_clear_errors(tmp_path: Path) -> None:
    """Missing path, broken JSON, a JSON that is not a record, a broken zip: PortsideError naming the file."""
    with pytest.raises(PortsideError, match="No advisories at"):
        load(tmp_path / "missing")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(PortsideError, match=r"bad\.json is not valid JSON"):
        load(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(PortsideError, match="not an OSV record"):
        load(bad)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK not really")
    with pytest.raises(PortsideError, match="not a zip file"):
        load(broken)


def test_parse_needs_an_id() -> None:
    """A record without an id is refused."""
    with pytest.raises(ValueError, match="id"):
        parse({"affected": []})


def test_export_url_follows_osv_bucket_layout() -> None:
    """OSV's per-ecosystem export lives at <bucket>/<ECOSYSTEM>/all.zip (not downloaded in tests: no internet)."""
    assert export_url("PyPI").endswith("/PyPI/all.zip")
    assert export_url("Debian:12").endswith("/Debian:12/all.zip")

"""OpenVEX documents: what the pipeline hands Trivy is checked first, and written the way the spec asks."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from portside.errors import UsageError
from portside.pipeline import VexStatement, read_openvex, write_openvex

GITPYTHON = VexStatement("GHSA-pr76-5cm5-w9cj", ("pkg:pypi/gitpython@3.1.29",), "not_affected",
                         "vulnerable_code_not_in_execute_path", "The app never passes user input to git.")


def test_written_and_read_back(tmp_path: Path) -> None:
    path = write_openvex(tmp_path / "app.openvex.json", [GITPYTHON], author="team@example.invalid",
                         doc_id="https://example.invalid/vex/1", timestamp=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    document = json.loads(path.read_text())
    assert document["@context"] == "https://openvex.dev/ns/v0.2.0"
    assert document["timestamp"] == "2026-12-01T00:00:00Z"
    assert document["statements"][0]["products"] == [{"@id": "pkg:pypi/gitpython@3.1.29"}]
    assert read_openvex(path) == [GITPYTHON]


@pytest.mark.parametrize(("statement", "expected"), [
    ({"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "pkg:pypi/a@1"}], "status": "not_affected"},
     "says not_affected without a justification or an impact_statement"),
    ({"vulnerability": {"name": "CVE-1"}, "products": [{"@id": "pkg:pypi/a@1"}], "status": "not_affected",
      "justification": "we_checked"}, "justification 'we_checked' is not an OpenVEX justification"),
    ({"vulnerability": {"name": "CVE-1"}, "products": [], "status": "fixed"}, "(CVE-1) names no product"),
    ({"vulnerability": {"name": "CVE-1"}, "products": ["pkg:pypi/a@1"], "status": "fine"},
     "status 'fine' is not one of not_affected"),
    ({"products": ["pkg:pypi/a@1"], "status": "fixed"}, "statement 1 names no vulnerability"),
])
def test_bad_statements_are_named(tmp_path: Path, statement: dict[str, object], expected: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"@context": "https://openvex.dev/ns/v0.2.0", "statements": [statement]}))
    with pytest.raises(UsageError) as caught:
        read_openvex(path)
    assert expected in str(caught.value) and "bad.json, statement 1" in str(caught.value)


def test_not_openvex(tmp_path: Path) -> None:
    (tmp_path / "sbom.json").write_text(json.dumps({"bomFormat": "CycloneDX"}))
    with pytest.raises(UsageError, match="is not an OpenVEX document"):
        read_openvex(tmp_path / "sbom.json")
    with pytest.raises(UsageError, match=r"There is no OpenVEX document at missing\.json"):
        read_openvex(tmp_path / "missing.json")

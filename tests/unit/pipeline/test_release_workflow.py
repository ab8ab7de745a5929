"""The GitHub Actions workflow the course ships (examples/github-actions/release.yml), checked offline.

zizmor (the dev extras) finds nothing in it, not even at the pedantic persona, and does find the unpinned
action a copy with ``@v7`` introduces (so the linter is really looking); every ``uses:`` names a full
40-hex commit with a ``# vX.Y.Z`` comment; permissions are empty at the top, and ``id-token: write`` is
granted to the signing job only.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOW = Path(__file__).resolve().parents[3] / "examples" / "github-actions" / "release.yml"
ZIZMOR = Path(sys.executable).parent / "zizmor"
_PINNED = re.compile(r"^\s*(?:-\s+)?uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+$")


def _zizmor(path: Path, *options: str) -> list[dict[str, Any]]:
    if not ZIZMOR.exists():
        pytest.skip("zizmor is not installed (pip install -e '.[dev]')")
    result = subprocess.run([str(ZIZMOR), "--offline", "--no-progress", "--format", "json", "--min-severity", "low",
                             *options, str(path)], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0 or result.returncode >= 10, result.stderr  # 0 clean; 1x: findings, by severity
    findings: list[dict[str, Any]] = json.loads(result.stdout or "[]")
    return findings


@pytest.mark.parametrize("persona", ["regular", "pedantic"])
def test_zizmor_finds_nothing(persona: str) -> None:
    findings = _zizmor(WORKFLOW, "--persona", persona)
    assert findings == [], [(f["ident"], f["determinations"]["severity"]) for f in findings]


def test_zizmor_would_flag_an_unpinned_action(tmp_path: Path) -> None:
    pinned = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"
    text = WORKFLOW.read_text()
    assert pinned in text
    copy = tmp_path / "release.yml"
    copy.write_text(text.replace(pinned, "actions/checkout@v7"))
    assert {f["ident"] for f in _zizmor(copy)} == {"unpinned-uses"}


def test_every_action_is_pinned_by_commit() -> None:
    lines = [line for line in WORKFLOW.read_text().splitlines() if re.match(r"^\s*(?:-\s+)?uses:", line)]
    assert len(lines) >= 10
    unpinned = [line.strip() for line in lines if not _PINNED.match(line)]
    assert unpinned == []
    actions = {m.group(1): m.group(2) for m in map(_PINNED.match, lines) if m}
    assert set(actions) == {"actions/checkout", "docker/setup-buildx-action", "docker/login-action",
                            "docker/build-push-action", "sigstore/cosign-installer"}
    assert "aquasecurity/trivy-action" not in WORKFLOW.read_text().split("\njobs:", 1)[1]


def test_least_privilege_and_oidc_only_where_it_signs() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert {name for name, job in jobs.items() if (job.get("permissions") or {}).get("id-token") == "write"} == {"sign"}
    writes = {name: sorted(k for k, v in job["permissions"].items() if v == "write") for name, job in jobs.items()}
    assert writes == {"build": ["packages"], "sign": ["id-token", "packages"], "verify": [], "deploy": []}


def test_it_deploys_and_verifies_by_digest() -> None:
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    for name in ("sign", "verify", "deploy"):
        assert jobs[name]["env"]["REF"] == "${{ needs.build.outputs.image }}@${{ needs.build.outputs.digest }}"
    runs = "\n".join(step.get("run", "") for job in jobs.values() for step in job["steps"])
    assert 'cosign sign --yes "${REF}"' in runs and 'docker run --rm --network none "${REF}"' in runs
    assert '--image-src remote)' in runs  # the pushed digest is scanned before the sign job signs it
    assert "trivy sbom" in runs and 'echo "${TRIVY_SHA256}  /tmp/${asset}" | sha256sum --check --strict' in runs

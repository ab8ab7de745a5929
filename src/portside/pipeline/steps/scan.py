"""Step 3, scan: the gate, before anything reaches the registry.

The image the build made is scanned on this machine with each scanner ``[scan] scanner`` names
(:mod:`portside.pipeline.gates`): the course's scanner and its allow-list, Trivy with the OpenVEX
documents, or both. Every scanner must pass. Reports go to the output folder
(``scan-portside.json``, ``scan-trivy.json``), and so does the course scanner's SBOM, which the sign
step attests when it describes exactly the digest that was pushed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from portside.engine.daemon import client
from portside.pipeline.context import StepContext
from portside.pipeline.gates import GateVerdict, portside_verdict, trivy_image_report, trivy_verdict
from portside.pipeline.result import StepResult
from portside.security import scan

__all__ = ["SCAN_SBOM", "run_scan"]

NAME = "scan"
#: the course scanner's SBOM of the scanned image (syft, CycloneDX), in the output folder
SCAN_SBOM = "scan-sbom.cdx.json"


def _write(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def run_scan(ctx: StepContext) -> StepResult:
    built = ctx.state.get("build")
    if not built:
        return StepResult(NAME, "error", "Nothing was built by this pipeline yet: run the build step first.",
                          summary="no image")
    config = ctx.config.scan
    image = str(built["image"])
    image_id = str(client().images.get(image).id)
    out = ctx.config.output_dir
    verdicts: list[GateVerdict] = []
    facts: dict[str, Any] = {"image": image, "image_id": image_id}
    if config.uses_portside:
        allow = f" --allow {config.allowlist.name}" if config.allowlist else ""
        ctx.note(f"portside scan {image} --fail-on {config.fail_on_name}{allow}")
        report = scan.scan(image)
        verdicts.append(portside_verdict(report, config, today=ctx.today))
        _write(out / "scan-portside.json", report.to_json())
        if report.inventory.sbom:
            _write(out / SCAN_SBOM, report.inventory.sbom)
            facts["sbom"] = str(out / SCAN_SBOM)
    if config.uses_trivy:
        vex = "".join(f" --vex {p.name}" for p in config.vex)
        ctx.note(f"trivy image --cache-dir trivy-db --skip-db-update --offline-scan --scanners vuln{vex} {image}")
        report_json = trivy_image_report(image, config)
        verdicts.append(trivy_verdict(report_json, config, subject=ctx.release, today=ctx.today))
        _write(out / "scan-trivy.json", report_json)
    passed = all(v.passed for v in verdicts)
    ctx.state.record(NAME, passed=passed, fail_on=config.fail_on_name, **facts)
    detail = "\n".join(v.text.replace(image, ctx.release) for v in verdicts)
    summary = next((v.summary() for v in verdicts if not v.passed), verdicts[0].summary() if verdicts else "")
    data = {"image_id": image_id, "fail_on": config.fail_on_name,
            "verdicts": {v.scanner: {"passed": v.passed, "blocking": list(v.blocking), "allowed": list(v.allowed),
                                     "suppressed": list(v.suppressed), "counts": dict(v.counts)} for v in verdicts}}
    return StepResult(NAME, "passed" if passed else "refused", detail, data, summary=summary)

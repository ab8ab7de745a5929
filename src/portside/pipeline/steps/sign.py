"""Step 5, sign and attest: the pushed digest, with the team's key, and its SBOM as a signed attestation.

``cosign sign --key`` on ``REPO@sha256:…`` (never a tag), then ``cosign attest --type cyclonedx`` with the
image's SBOM — offline, with the course's signing config and trusted root that name no services
(:mod:`portside.tools.cosign`). The SBOM is the one the course scanner wrote in the scan step when that
image is, byte for byte, the pushed digest (on the containerd image store the local image ID *is* the
pushed digest); otherwise it is made from the registry, by digest: syft's (``[sign] sbom = "syft"``) or
Trivy's (``"trivy"``). BuildKit's provenance, when the push carried it, is read back and reported.
Keyless signing (a short-lived Fulcio certificate for the CI job's OIDC identity, logged in Rekor) is
what the course's GitHub Actions workflow does; offline, the pipeline signs with a key.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from portside.pipeline.context import StepContext
from portside.pipeline.provenance import read_provenance
from portside.pipeline.result import StepResult
from portside.security import scan
from portside.tools import cosign, trivy

__all__ = ["SBOM_FILE", "run_sign"]

NAME = "sign"
#: the attested SBOM, in the output folder
SBOM_FILE = "sbom.cdx.json"


def _sbom(ctx: StepContext, digest: str, dest: Path) -> str:
    """Write the SBOM of ``digest`` to ``dest``; returns where it came from."""
    scanned = ctx.state.get("scan")
    if ctx.config.sign.sbom == "syft" and scanned.get("image_id") == digest and scanned.get("sbom") \
            and Path(scanned["sbom"]).is_file():
        if Path(scanned["sbom"]).resolve() != dest.resolve():
            shutil.copyfile(scanned["sbom"], dest)
        return "syft, from the scan of this very digest"
    ref = ctx.ref(digest=digest)
    env = ctx.endpoint.tool_env()
    document: dict[str, Any]
    if ctx.config.sign.sbom == "trivy":
        ctx.note(f"trivy image --image-src remote --format cyclonedx --output {dest.name} {ref}")
        document = trivy.sbom(ref, image_src=("remote",), env=env)
        where = "trivy, from the registry by digest"
    else:
        ctx.note(f"syft scan registry:{ref} -o cyclonedx-json={dest.name}")
        document = dict(scan.inventory(ref, from_registry=True, env=env).sbom)
        where = "syft, from the registry by digest"
    dest.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return where


def run_sign(ctx: StepContext) -> StepResult:
    pushed = ctx.state.get("push")
    if not pushed:
        return StepResult(NAME, "error", "This pipeline has pushed nothing to sign: run the push step first.",
                          summary="nothing pushed")
    digest = str(pushed["digest"])
    config = ctx.config.sign
    password = config.password()
    ref = ctx.ref(digest=digest)
    options = ctx.cosign_options()
    ctx.note(f"cosign sign --key {config.key.name} --signing-config signing-config.json "
             f"--trusted-root trusted-root.json --yes {ref}")
    cosign.sign(ref, config.key, password, **options)
    out = ctx.config.output_dir
    out.mkdir(parents=True, exist_ok=True)
    sbom_path = out / SBOM_FILE
    where = _sbom(ctx, digest, sbom_path)
    components = len(json.loads(sbom_path.read_text(encoding="utf-8")).get("components") or [])
    ctx.note(f"cosign attest --key {config.key.name} --type cyclonedx --predicate {SBOM_FILE} "
             f"--signing-config signing-config.json --trusted-root trusted-root.json --yes {ref}")
    cosign.attest(ref, sbom_path, "cyclonedx", config.key, password, **options)
    provenance = read_provenance(ctx.client(), ctx.repository, digest)
    bases = provenance.base_images() if provenance else []
    ctx.state.record(NAME, digest=digest, sbom=str(sbom_path), components=components)
    detail = (f"signed the pushed digest with {config.key.name}; attested its CycloneDX SBOM "
              f"({components} components; {where})")
    if provenance is not None:
        pins = ", ".join(f"{name} {'pinned' if pin else 'by tag'}" for name, pin in bases) or "no base image"
        detail += f"\nBuildKit provenance attached: built from {pins}"
    data = {"digest": digest, "sbom": str(sbom_path), "components": components, "sbom_source": where,
            "provenance": provenance.predicate if provenance else None,
            "bases": [{"name": n, "digest": d} for n, d in bases]}
    return StepResult(NAME, "passed", detail, data, summary="signed + SBOM")

"""Step 6, verify before deploy: what production would run, by digest, signed, attested, and its SBOM gated.

A deployment names a release (``team/app:1.1.0``); the verify step resolves that tag **once** to a digest,
as a deploy job does, and from then on only that digest counts:
:func:`portside.security.signing.verify_before_deploy` checks that it is a digest, that ``cosign verify``
finds a signature by ``[sign] public_key`` on it, that ``cosign verify-attestation`` finds a CycloneDX
SBOM attestation by the same key about it, and then runs the release gate (``[scan]``) on **that signed
SBOM** — the course's matcher on its packages, ``trivy sbom`` on the document — so the deploy gate judges
exactly what was signed. The step also refuses when the tag no longer names the digest this run pushed
and signed: the tag moved after signing.

``[deploy] image`` names what to deploy explicitly (a deploy job of another repository); a reference
by tag there is refused, as :func:`verify_before_deploy` refuses every tag.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portside.oci.reference import parse
from portside.pipeline.context import StepContext
from portside.pipeline.gates import GateVerdict, gate_sbom
from portside.pipeline.result import StepResult
from portside.security.signing import verify_before_deploy

__all__ = ["SbomGate", "run_verify"]

NAME = "verify"


@dataclass(frozen=True)
class SbomGate:
    """The verdicts of the release gate on the signed SBOM (what ``verify_before_deploy``'s policy returns)."""

    verdicts: tuple[GateVerdict, ...]

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)

    def __str__(self) -> str:
        return " | ".join(v.text.splitlines()[0] for v in self.verdicts)


def _short(reference: str) -> str:
    """``team/app@sha256:1a2b3c4d5e6f…`` / ``team/app:1.1.0``: a reference without the registry's address."""
    ref = parse(reference)
    if ref.digest:
        return f"{ref.path}@{ref.digest[:19]}…"
    return f"{ref.path}:{ref.tag or 'latest'}"


def run_verify(ctx: StepContext) -> StepResult:
    explicit = ctx.config.deploy_reference()
    pushed = ctx.state.get("push").get("digest")
    if explicit is not None:
        reference = explicit.original
        current = explicit.digest
    else:
        current = ctx.client().digest(ctx.repository, ctx.version)
        if current is None:
            return StepResult(NAME, "error", f"{ctx.release} is not in the registry: there is nothing to deploy.",
                              summary="no release")
        reference = ctx.ref(digest=current)
    key = ctx.config.sign.public_key.name
    offline = "--insecure-ignore-tlog=true --trusted-root trusted-root.json"
    ctx.note(f"cosign verify --key {key} {offline} {reference}")
    ctx.note(f"cosign verify-attestation --key {key} --type cyclonedx {offline} {reference}")

    def policy(sbom: Mapping[str, Any]) -> SbomGate:
        if ctx.config.scan.uses_trivy:
            vex = "".join(f" --vex {p.name}" for p in ctx.config.scan.vex)
            ctx.note(f"trivy sbom --cache-dir trivy-db --skip-db-update --offline-scan{vex} signed-sbom.cdx.json")
        return SbomGate(tuple(gate_sbom(sbom, ctx.config.scan, name=f"the signed SBOM of {ctx.release}",
                                        today=ctx.today)))

    decision = verify_before_deploy(reference, ctx.config.sign.public_key, policy=policy, registry=ctx.endpoint)
    lines = [f"{'✔' if c.passed else '✘'} {c.name}: {c.detail}" for c in decision.checks]
    moved = explicit is None and pushed is not None and current != pushed
    if moved:
        lines.append(f"✘ same release: {ctx.release} no longer names the digest this run pushed and signed — the "
                     "tag moved after signing")
    passed = decision.allowed and not moved
    if explicit is not None and explicit.tag and not explicit.digest:
        lines[0] += f" ([deploy] image = {_short(reference)})"
    failed = next((c for c in decision.checks if not c.passed), None)
    summary = "verified" if passed else ("tag moved" if moved else (failed.name if failed else "refused"))
    data: dict[str, Any] = {"reference": reference, "digest": current, "pushed": pushed, "moved": moved,
                            "checks": [{"name": c.name, "passed": c.passed, "detail": c.detail}
                                       for c in decision.checks]}
    if passed:
        ctx.state.record(NAME, digest=current, reference=reference)
    else:
        ctx.state.record(NAME, refused=True, digest=current)
    return StepResult(NAME, "passed" if passed else "refused", "\n".join(lines), data, summary=summary)

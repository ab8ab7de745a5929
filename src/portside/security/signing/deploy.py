"""Verify before deploy: digest, signature, attestation and policy, in that order, with the real cosign.

:func:`verify_before_deploy` uses cosign (signature **and** attestation) and then asks a
policy about the attested SBOM — by default the course's scan gate. It answers with a
:class:`DeployDecision` that lists each check, so a pipeline step can print why it said no.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from portside.errors import ToolError, VerificationFailed
from portside.oci.reference import Reference, parsed
from portside.security.signing.location import RegistryLike, endpoint_of
from portside.security.signing.policy import SbomPolicy, scan_gate
from portside.tools import cosign

__all__ = ["Check", "DeployDecision", "cosign_reason", "verify_before_deploy"]

_NO_SBOM = "not evaluated: there is no verified SBOM to scan"


@dataclass(frozen=True)
class Check:
    """One step of a deploy decision."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class DeployDecision:
    """Whether ``reference`` may be deployed, and each check that led there."""

    reference: str
    checks: tuple[Check, ...]
    sbom: Mapping[str, Any] | None = None
    gate: object = None

    @property
    def allowed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def __bool__(self) -> bool:
        return self.allowed

    def __str__(self) -> str:
        lines = [f"{'DEPLOY' if self.allowed else 'REFUSE'} {self.reference}"]
        lines += [f"  {'✔' if c.passed else '✘'} {c.name}: {c.detail}" for c in self.checks]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def cosign_reason(err: ToolError) -> str:
    """The line of cosign's output that says why it failed (``no matching signatures: …``), without noise."""
    lines = [line.strip() for line in err.stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("Error:"):
            return line.removeprefix("Error:").strip().rstrip(":")
    return lines[-1] if lines else err.message


def _cosign_options(registry: RegistryLike | None, env: Mapping[str, str] | None, username: str | None,
                    password: str | None) -> dict[str, Any]:
    """How cosign reaches the registry: what the caller said, else what ``registry``'s endpoint knows."""
    if registry is not None:
        endpoint = endpoint_of(registry)
        env = endpoint.tool_env() if env is None else env
        username = endpoint.username if username is None else username
        password = endpoint.password if password is None else password
    return {"env": env, "registry_username": username, "registry_password": password}


def verify_before_deploy(ref_with_digest: str | Reference, public_key: str | Path, *,
                         policy: SbomPolicy | None = None, predicate_type: str = "cyclonedx",
                         env: Mapping[str, str] | None = None, registry_username: str | None = None,
                         registry_password: str | None = None,
                         registry: RegistryLike | None = None) -> DeployDecision:
    """Decide whether an image may run: digest, signature, attestation and policy, in that order.

    1. the reference must name a digest (a tag could point elsewhere by the time it is pulled);
    2. ``cosign verify`` must find a signature by ``public_key`` on that digest;
    3. ``cosign verify-attestation --type cyclonedx`` must find an SBOM attestation by the
       same key, whose subject is that digest;
    4. ``policy(sbom)`` must pass — by default :func:`scan_gate` (block CRITICAL findings).

    cosign reaches the registry with ``env`` and ``registry_username``/``registry_password``;
    any of them left out comes from ``registry`` (an ``Endpoint``, or anything with ``.endpoint``)
    when given.

    Returns a :class:`DeployDecision` (truthy when allowed) instead of raising, so a
    pipeline step can print why it said no. Errors that are not a "no" (the registry is
    down, cosign is missing) still raise.
    """
    options = _cosign_options(registry, env, registry_username, registry_password)
    ref = parsed(ref_with_digest)
    if not ref.digest:
        refused = Check("pinned by digest", False, "the reference names a tag, which can move: deploy REPO@sha256:…")
        return DeployDecision(ref.original, (refused,))
    checks = [Check("pinned by digest", True, "the reference names exactly one image")]
    try:
        cosign.verify(ref.original, public_key, **options)
        checks.append(Check("signature", True, f"cosign verify found a valid signature by {Path(public_key).name}"))
    except VerificationFailed as err:
        checks.append(Check("signature", False, cosign_reason(err)))
    try:
        statements = cosign.verify_attestation(ref.original, public_key, predicate_type, **options)
    except VerificationFailed as err:
        checks.append(Check("SBOM attestation", False, cosign_reason(err)))
        checks.append(Check("scan gate", False, _NO_SBOM))
        return DeployDecision(ref.original, tuple(checks))
    wanted = ref.digest.removeprefix("sha256:")
    about_this = [s for s in statements
                  if any((sub.get("digest") or {}).get("sha256") == wanted for sub in s.get("subject") or [])]
    if not about_this:
        checks.append(Check("SBOM attestation", False, "the verified attestations are about another image"))
        checks.append(Check("scan gate", False, _NO_SBOM))
        return DeployDecision(ref.original, tuple(checks))
    sbom = cast("Mapping[str, Any]", about_this[0].get("predicate") or {})
    components = len(sbom.get("components") or [])
    checks.append(Check("SBOM attestation", True, f"a signed CycloneDX SBOM with {components} components"))
    result = (policy or scan_gate())(sbom)
    passed = result if isinstance(result, bool) else bool(result.passed)
    detail = ("passed" if passed else "failed") if isinstance(result, bool) else str(result).strip().splitlines()[0]
    checks.append(Check("scan gate", passed, detail))
    return DeployDecision(ref.original, tuple(checks), sbom=sbom, gate=result)

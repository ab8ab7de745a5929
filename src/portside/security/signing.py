"""Signatures and attestations next to an image, read and checked without trusting any tool.

cosign stores what it makes in the image's own repository, under tags derived from the
image's **digest** (never from a tag)::

    team/app@sha256:ab12…              the image (its manifest)
    team/app:sha256-ab12….sig          signatures: one layer per signature
    team/app:sha256-ab12….att          attestations (e.g. a signed SBOM)

A signature layer is a small JSON document, the *simple-signing payload*, which names
the digest that was signed (``critical.image.docker-manifest-digest``). The signature
itself, an ECDSA P-256 signature over the SHA-256 of those payload bytes (DER, then
base64), sits in the layer's annotation ``dev.cosignproject.cosign/signature``. An
attestation layer is a DSSE envelope: an in-toto statement (subject = the image
digest, predicate = e.g. a CycloneDX SBOM) and a signature over the envelope's
*pre-authentication encoding*.

This module finds those artifacts through the registry API and checks them with
``cryptography``, step by step, so a lesson can show that cosign does nothing magic:
:func:`verify_signature` agrees with ``cosign verify``. For deciding whether an image
may run, :func:`verify_before_deploy` uses the real cosign (signature **and**
attestation) and then asks a policy about the attested SBOM — by default the
course's scan gate.

Keys stay out of the project: :class:`TemporaryKeys` makes a key pair in a private
temporary folder with a generated password (or ``COSIGN_PASSWORD``), never shows the
password, and deletes everything on close.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import shutil
import tempfile
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from portside.base.labels import session_id
from portside.errors import InvalidReference, PortsideError, RegistryError, ToolError
from portside.oci.reference import parse as parse_reference
from portside.oci.registry_client import Manifest, RegistryClient
from portside.tools import cosign
from portside.tools._runner import run_tool

__all__ = [
    "ATTESTATION_ANNOTATION",
    "DSSE_ENVELOPE",
    "KEYLESS_VARIABLE",
    "SIGNATURE_ANNOTATION",
    "SIMPLE_SIGNING",
    "Attestation",
    "Check",
    "DeployDecision",
    "GateLike",
    "PythonVerification",
    "SbomPolicy",
    "SignatureLayer",
    "TemporaryKeys",
    "attestation_tag",
    "client_for",
    "cosign_reason",
    "ecdsa_valid",
    "fetch_attestations",
    "fetch_signatures",
    "keyless_enabled",
    "load_public_key",
    "pae",
    "scan_gate",
    "sign_keyless",
    "signature_tag",
    "tidy_tree",
    "verify_before_deploy",
    "verify_signature",
]

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE_ENVELOPE = "application/vnd.dsse.envelope.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
ATTESTATION_ANNOTATION = "predicateType"
SIGNATURE_TYPE = "cosign container image signature"
CYCLONEDX_PREDICATE = "https://cyclonedx.org/bom"
#: set to 1 to run the optional keyless (Fulcio/Rekor) part of lesson 05: it talks to sigstore.dev
KEYLESS_VARIABLE = "PORTSIDE_KEYLESS"


# -- names ----------------------------------------------------------------------------------------------
def _hex(digest: str) -> str:
    algorithm, _, value = digest.partition(":")
    if algorithm != "sha256" or len(value) != 64:
        raise InvalidReference(f"{digest!r} is not a sha256 digest (sha256:<64 hex>).")
    return value


def signature_tag(digest: str) -> str:
    """The tag cosign stores signatures of ``digest`` under: ``sha256-<hex>.sig``."""
    return f"sha256-{_hex(digest)}.sig"


def attestation_tag(digest: str) -> str:
    """The tag cosign stores attestations of ``digest`` under: ``sha256-<hex>.att``."""
    return f"sha256-{_hex(digest)}.att"


def _split(ref_with_digest: str) -> tuple[str, str, str]:
    """``(domain, path, digest)`` of a reference that names a digest; a tag alone is refused."""
    ref = parse_reference(ref_with_digest)
    if not ref.digest:
        raise InvalidReference(
            f"{ref_with_digest!r} names a tag, not a digest: a tag can move to other content at any time.",
            hint="Verify REPO@sha256:<digest> — resolve the tag once (client.digest(repo, tag)) and keep the digest.")
    return ref.domain, ref.path, ref.digest


def client_for(ref: str, *, username: str | None = None, password: str | None = None,
               ca_file: Path | None = None) -> RegistryClient:
    """A :class:`RegistryClient` for the registry ``ref`` lives on (plain HTTP on loopback, HTTPS elsewhere)."""
    domain = parse_reference(ref).domain
    host = domain.rsplit(":", 1)[0]
    scheme = "http" if host in ("localhost", "127.0.0.1") and ca_file is None else "https"
    return RegistryClient(f"{scheme}://{domain}", username=username, password=password, ca_file=ca_file)


# -- keys -----------------------------------------------------------------------------------------------
def load_public_key(key: str | Path | bytes) -> ec.EllipticCurvePublicKey:
    """An ECDSA public key from a PEM file (or its bytes), as cosign writes it (``cosign.pub``)."""
    if isinstance(key, bytes):
        data = key
    else:
        try:
            data = Path(key).read_bytes()
        except OSError as exc:
            raise PortsideError(f"Cannot read the public key {key}: {exc.strerror}.") from None
    if b"PRIVATE KEY" in data:
        raise PortsideError("That is a private key. Verifiers only ever get the public key (cosign.pub).",
                            hint="Hand out the .pub file; keep the .key file (and its password) to yourself.")
    try:
        public = serialization.load_pem_public_key(data)
    except ValueError:
        raise PortsideError("The public key is not a PEM public key (-----BEGIN PUBLIC KEY-----).") from None
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise PortsideError(f"The public key is a {type(public).__name__}; cosign key pairs are ECDSA.")
    return public


def ecdsa_valid(public_key: ec.EllipticCurvePublicKey, data: bytes, signature: bytes) -> bool:
    """True if ``signature`` (DER) is an ECDSA-SHA256 signature of ``data`` by ``public_key``'s private key."""
    try:
        public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def keyless_enabled() -> bool:
    """True when ``PORTSIDE_KEYLESS`` is 1/true/yes/on: the learner allows talking to Sigstore's public services."""
    return os.environ.get(KEYLESS_VARIABLE, "").strip().lower() in {"1", "true", "yes", "on"}


def sign_keyless(ref_with_digest: str, *, env: Mapping[str, str] | None = None, timeout: float = 600) -> str:
    """Sign with a short-lived Fulcio certificate and record it in the public Rekor log (needs the internet).

    cosign needs an OpenID Connect identity token: in CI the platform's own (GitHub
    Actions, GitLab…), elsewhere pass one in ``SIGSTORE_ID_TOKEN`` — or run
    ``cosign sign REF@DIGEST`` in a terminal for the browser login, which a notebook
    cell cannot show while cosign waits. The signer's identity ends up in a public log.
    Refuses unless ``PORTSIDE_KEYLESS`` is set, so nothing leaves the machine by
    accident. Returns cosign's messages.
    """
    _split(ref_with_digest)
    if not keyless_enabled():
        raise PortsideError("Keyless signing talks to Sigstore's public Fulcio and Rekor services; it is off.",
                            hint=f"Set {KEYLESS_VARIABLE}=1 (and be online) to allow it.")
    result = run_tool("cosign", ["sign", "--yes", ref_with_digest], timeout=timeout, env=env,
                      what=f"cosign sign (keyless) {ref_with_digest}", input_="")
    return result.stderr


class TemporaryKeys:
    """A cosign key pair in a private temporary folder, gone when closed.

    The password comes from ``COSIGN_PASSWORD`` when set, otherwise it is generated;
    it is handed to cosign through the environment and never shown (``repr`` hides it).
    The folder goes on :meth:`close`, or at the latest when the object is garbage-collected
    or Python exits::

        with TemporaryKeys() as keys:
            cosign.sign(ref, keys.private, keys.password)
    """

    def __init__(self, *, prefix: str = "cosign", password: str | None = None) -> None:
        self.password: str = password or os.environ.get("COSIGN_PASSWORD") or secrets.token_urlsafe(24)
        # mode 0700, outside the project; named by session, so a test can tell its own from another run's
        self.folder = Path(tempfile.mkdtemp(prefix=f"portside-keys-{session_id()}-"))
        try:
            pair = cosign.generate_key_pair(self.folder, self.password, prefix=prefix)
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        self.private: Path = pair.private
        self.public: Path = pair.public
        # also when the object is dropped or the interpreter exits (a kernel restart): keys never linger
        self._finalizer = weakref.finalize(self, shutil.rmtree, self.folder, True)

    def close(self) -> None:
        """Delete the folder, the keys in it and forget the password."""
        self._finalizer()
        self.password = ""

    def __enter__(self) -> TemporaryKeys:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TemporaryKeys(public={self.public.name!r}, private={self.private.name!r}, password=***)"


def tidy_tree(text: str) -> str:
    """``cosign tree`` output without its emoji, with its sections (signatures, attestations, SBOMs) sorted.

    cosign prints the sections in a random order (a Go map); sorted, the same registry gives the same text.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    for mark in ("📦 ", "🔐 ", "🍒 ", "💾 "):
        lines = [line.replace(mark, "") for line in lines]
    head = [line for line in lines if not line.startswith(("└──", " "))]
    sections: list[list[str]] = []
    for line in lines[len(head):]:
        if line.startswith("└──") or not sections:
            sections.append([line])
        else:
            sections[-1].append(line)
    return "\n".join(head + [line for section in sorted(sections) for line in section])


# -- signatures, read through the registry API ------------------------------------------------------------
@dataclass(frozen=True)
class SignatureLayer:
    """One signature in a ``.sig`` manifest: the simple-signing payload and its ECDSA signature."""

    layer_digest: str
    payload: bytes  #: the exact bytes that were signed
    signature_b64: str  #: the annotation's value
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def claims(self) -> dict[str, Any]:
        """The payload as JSON: ``critical.image.docker-manifest-digest``, ``critical.identity``, ``optional``."""
        return cast("dict[str, Any]", json.loads(self.payload))

    @property
    def signed_digest(self) -> str | None:
        """The image digest this signature speaks about (from the payload, not from the tag)."""
        found = (self.claims.get("critical") or {}).get("image", {}).get("docker-manifest-digest")
        return str(found) if found is not None else None

    @property
    def signature(self) -> bytes:
        """The DER-encoded ECDSA signature (empty if the annotation is not base64)."""
        try:
            return base64.b64decode(self.signature_b64, validate=True)
        except (binascii.Error, ValueError):
            return b""


def fetch_signatures(client: RegistryClient, repository: str, digest: str) -> tuple[Manifest, list[SignatureLayer]]:
    """The ``.sig`` manifest of ``repository@digest`` and its signature layers.

    Raises :class:`RegistryError` (status 404) when the image carries no signature.
    """
    tag = signature_tag(digest)
    try:
        manifest = client.manifest(repository, tag)
    except RegistryError as err:
        if err.status == 404:
            raise RegistryError(f"{repository}@{digest[:19]}… has no signature: there is no tag {tag[:20]}….sig.",
                                status=404, hint="Sign it by digest with cosign sign --key … REPO@sha256:….") from None
        raise
    layers = []
    for layer in manifest.json().get("layers") or []:
        if layer.get("mediaType") != SIMPLE_SIGNING:
            continue
        annotations = dict(layer.get("annotations") or {})
        layers.append(SignatureLayer(str(layer["digest"]), client.blob(repository, str(layer["digest"])),
                                     annotations.get(SIGNATURE_ANNOTATION, ""), annotations))
    return manifest, layers


@dataclass(frozen=True)
class PythonVerification:
    """The result of checking an image's signatures by hand (what ``cosign verify --key`` does offline)."""

    reference: str
    digest: str
    found: int  #: signature layers found
    valid: tuple[SignatureLayer, ...]  #: those whose ECDSA signature verifies AND whose payload names ``digest``
    problems: tuple[str, ...]  #: why each other layer was rejected

    @property
    def passed(self) -> bool:
        return bool(self.valid)

    def __str__(self) -> str:
        verdict = "verified" if self.passed else "NOT verified"
        lines = [f"{verdict}: {len(self.valid)} of {self.found} signature(s) valid for this digest"]
        lines += [f"  rejected: {p}" for p in self.problems]
        return "\n".join(lines)


def verify_signature(ref_with_digest: str, public_key: str | Path | bytes, *,
                     client: RegistryClient | None = None) -> PythonVerification:
    """Verify an image's cosign signatures in Python: fetch ``.sig``, check ECDSA and the signed digest.

    A layer counts only if (1) its ECDSA signature over the payload bytes verifies with
    ``public_key`` and (2) the payload names *this* digest as the signed image — a valid
    signature copied from another image must not count. No signature at all gives
    ``found == 0`` (not an exception): "unsigned" is an answer too.
    """
    _, path, digest = _split(ref_with_digest)
    key = load_public_key(public_key)
    api = client or client_for(ref_with_digest)
    try:
        _, layers = fetch_signatures(api, path, digest)
    except RegistryError as err:
        if err.status == 404:
            return PythonVerification(ref_with_digest, digest, 0, (), ("no .sig tag for this digest",))
        raise
    valid, problems = [], []
    for layer in layers:
        if not ecdsa_valid(key, layer.payload, layer.signature):
            problems.append("the ECDSA signature does not verify with this public key")
        elif layer.claims.get("critical", {}).get("type") != SIGNATURE_TYPE:
            problems.append("the payload is not a cosign container image signature")
        elif layer.signed_digest != digest:
            problems.append("the payload was signed for a different image digest")
        else:
            valid.append(layer)
    return PythonVerification(ref_with_digest, digest, len(layers), tuple(valid), tuple(problems))


# -- attestations ---------------------------------------------------------------------------------------------
def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what an attestation's signature really covers."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True)
class Attestation:
    """One DSSE envelope from a ``.att`` manifest, with its decoded in-toto statement."""

    layer_digest: str
    predicate_type: str
    envelope: Mapping[str, Any]

    @property
    def payload(self) -> bytes:
        return base64.b64decode(str(self.envelope.get("payload", "")))

    @property
    def statement(self) -> dict[str, Any]:
        """``{"_type", "predicateType", "subject": [{"name", "digest"}], "predicate": …}``."""
        return cast("dict[str, Any]", json.loads(self.payload))

    @property
    def subject_digests(self) -> list[str]:
        return [f"sha256:{s['digest']['sha256']}" for s in self.statement.get("subject") or []
                if isinstance(s, dict) and "sha256" in (s.get("digest") or {})]

    def signature_valid(self, public_key: ec.EllipticCurvePublicKey) -> bool:
        """Whether any of the envelope's signatures verifies over ``pae(payloadType, payload)``."""
        message = pae(str(self.envelope.get("payloadType", "")), self.payload)
        for entry in self.envelope.get("signatures") or []:
            try:
                signature = base64.b64decode(str(entry.get("sig", "")), validate=True)
            except (binascii.Error, ValueError):
                continue
            if ecdsa_valid(public_key, message, signature):
                return True
        return False


def fetch_attestations(client: RegistryClient, repository: str, digest: str) -> list[Attestation]:
    """Every attestation stored for ``repository@digest`` (``[]`` if there is no ``.att`` tag)."""
    try:
        manifest = client.manifest(repository, attestation_tag(digest))
    except RegistryError as err:
        if err.status == 404:
            return []
        raise
    found = []
    for layer in manifest.json().get("layers") or []:
        if layer.get("mediaType") != DSSE_ENVELOPE:
            continue
        envelope = json.loads(client.blob(repository, str(layer["digest"])))
        found.append(Attestation(str(layer["digest"]),
                                 str((layer.get("annotations") or {}).get(ATTESTATION_ANNOTATION, "")), envelope))
    return found


# -- verify before deploy -------------------------------------------------------------------------------------
class GateLike(Protocol):
    """What a policy may return instead of a bool: anything with ``passed`` and a readable ``str()``."""

    @property
    def passed(self) -> bool: ...


#: a policy over the attested SBOM (the CycloneDX document as a dict)
SbomPolicy = Callable[[Mapping[str, Any]], "GateLike | bool"]


def scan_gate(*, fail_on: str = "critical", advisories: Path | None = None
              ) -> Callable[[Mapping[str, Any]], GateLike]:
    """The course's scan gate as an SBOM policy: match the SBOM's packages against the advisories.

    It uses :mod:`portside.security.scan` (inventory from the SBOM, match, gate) and blocks at
    ``fail_on`` (``critical``, ``high``, ``medium``, ``low``) or above.
    """

    def policy(sbom: Mapping[str, Any]) -> GateLike:
        return _gate_sbom(sbom, fail_on=fail_on, advisories=advisories)

    return policy


def _gate_sbom(sbom: Mapping[str, Any], *, fail_on: str, advisories: Path | None) -> GateLike:
    """Run :mod:`portside.security.scan`'s gate on an SBOM that arrived in an attestation (no image, no syft run)."""
    from portside.security import scan
    from portside.security.advisories import load

    try:
        threshold = scan.Severity[fail_on.upper()]
    except KeyError:
        raise PortsideError(f"Unknown severity {fail_on!r} for the scan gate.",
                            hint="Use critical, high, medium or low.") from None
    name = str((((sbom.get("metadata") or {}).get("component") or {}).get("name")) or "attested image")
    records = load(advisories)
    found = scan.inventory(name, sbom=sbom)
    report = scan.ScanReport(image=name, inventory=found, findings=scan.match(found, records),
                             advisories_source=str(advisories) if advisories else "course snapshot",
                             advisories_count=len(records))
    return scan.gate(report, fail_on=threshold)


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


def verify_before_deploy(ref_with_digest: str, public_key: str | Path, *, policy: SbomPolicy | None = None,
                         predicate_type: str = "cyclonedx", env: Mapping[str, str] | None = None,
                         registry_username: str | None = None,
                         registry_password: str | None = None) -> DeployDecision:
    """Decide whether an image may run: digest, signature, attestation and policy, in that order.

    1. the reference must name a digest (a tag could point elsewhere by the time it is pulled);
    2. ``cosign verify`` must find a signature by ``public_key`` on that digest;
    3. ``cosign verify-attestation --type cyclonedx`` must find an SBOM attestation by the
       same key, whose subject is that digest;
    4. ``policy(sbom)`` must pass — by default :func:`scan_gate` (block CRITICAL findings).

    Returns a :class:`DeployDecision` (truthy when allowed) instead of raising, so a
    pipeline step can print why it said no. Errors that are not a "no" (the registry is
    down, cosign is missing) still raise.
    """
    options: dict[str, Any] = {"env": env, "registry_username": registry_username,
                               "registry_password": registry_password}
    ref = parse_reference(ref_with_digest)
    if not ref.digest:
        refused = Check("pinned by digest", False, "the reference names a tag, which can move: deploy REPO@sha256:…")
        return DeployDecision(ref_with_digest, (refused,))
    checks = [Check("pinned by digest", True, "the reference names exactly one image")]
    try:
        cosign.verify(ref_with_digest, public_key, **options)
        checks.append(Check("signature", True, f"cosign verify found a valid signature by {Path(public_key).name}"))
    except cosign.VerificationFailed as err:
        checks.append(Check("signature", False, cosign_reason(err)))
    try:
        statements = cosign.verify_attestation(ref_with_digest, public_key, predicate_type, **options)
    except cosign.VerificationFailed as err:
        checks.append(Check("SBOM attestation", False, cosign_reason(err)))
        checks.append(Check("scan gate", False, "not evaluated: there is no verified SBOM to scan"))
        return DeployDecision(ref_with_digest, tuple(checks))
    wanted = ref.digest.removeprefix("sha256:")
    about_this = [s for s in statements
                  if any((sub.get("digest") or {}).get("sha256") == wanted for sub in s.get("subject") or [])]
    if not about_this:
        checks.append(Check("SBOM attestation", False, "the verified attestations are about another image"))
        checks.append(Check("scan gate", False, "not evaluated: there is no verified SBOM to scan"))
        return DeployDecision(ref_with_digest, tuple(checks))
    sbom = cast("Mapping[str, Any]", about_this[0].get("predicate") or {})
    components = len(sbom.get("components") or [])
    checks.append(Check("SBOM attestation", True, f"a signed CycloneDX SBOM with {components} components"))
    result = (policy or scan_gate())(sbom)
    passed = result if isinstance(result, bool) else bool(result.passed)
    detail = ("passed" if passed else "failed") if isinstance(result, bool) else str(result).strip().splitlines()[0]
    checks.append(Check("scan gate", passed, detail))
    return DeployDecision(ref_with_digest, tuple(checks), sbom=sbom, gate=result)

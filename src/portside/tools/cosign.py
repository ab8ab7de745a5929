"""cosign 3: sign and verify images (and attestations) with a key pair, against a local registry, offline.

The course works offline, so nothing goes to Sigstore's public services. cosign 3 finds
those services through a *signing config* (which Fulcio, Rekor and timestamp services to
use) and checks what it gets back against a *trusted root* (their keys and certificates);
by default it fetches both from Sigstore's TUF repository. :func:`offline_config` makes,
once, a signing config and a trusted root that **name no services** (``cosign
signing-config create`` and ``cosign trusted-root create`` without any service flag) and
keeps them in the course state folder; :func:`sign` and :func:`attest` pass them to cosign,
:func:`verify` and :func:`verify_attestation` pass the trusted root and
``--insecure-ignore-tlog=true`` (there is no transparency-log entry to check).

What cosign 3 stores: a **Sigstore bundle** (a DSSE envelope holding an in-toto statement
about the image digest, signed with the key) in an OCI artifact manifest whose
``subject`` is the image. On a registry without the OCI 1.1 referrers API, such as
``registry:2``, it lists those manifests in an OCI index under the *referrers tag*
``sha256-<hex>`` of the image digest. A signature is a statement of predicate type
:data:`SIGNATURE_PREDICATE`; an attestation (``cosign attest``) one of its own type.
cosign 2 (and cosign 3 with ``legacy=True``, its deprecated ``--new-bundle-format=false``)
wrote the older layout instead: tags ``sha256-<hex>.sig`` and ``.att``. cosign 3 verifies
both; where an image has bundles it reads those alone. :func:`tree` lists what is stored.

cosign 3's ``verify --key`` accepts *any* bundle the key signed about the digest, an SBOM
attestation too. :func:`verify` asks for a signature: it raises :class:`VerificationFailed`
when only attestations verify.

Passwords never appear on a command line or in an error: the key password goes
through ``COSIGN_PASSWORD``; a registry password is passed as ``--registry-password``
(visible to this machine's process list while cosign runs, like with the real CLI)
and redacted from every :class:`~portside.errors.ToolError`. cosign's TUF cache goes
to the course state folder (``TUF_ROOT``), never to ``~/.sigstore``.

A verification that finds no valid signature raises :class:`VerificationFailed`
(a :class:`~portside.errors.ToolError`), so a lesson can show the failure as an
exception and ``except VerificationFailed`` separates "not signed by this key" from
"the registry could not be reached".
"""

from __future__ import annotations

import base64
import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portside.base.paths import state_dir
from portside.base.proc import Result
from portside.errors import InvalidReference, SigningError, ToolMissing, VerificationFailed
from portside.tools._runner import run_tool, tool_error
from portside.tools.install import TOOLS, path, version_of

__all__ = [
    "LEGACY_FLAGS",
    "LEGACY_SIGNATURE_TYPE",
    "SIGNATURE_PREDICATE",
    "KeyPair",
    "OfflineConfig",
    "VerificationFailed",
    "attest",
    "cosign_env",
    "generate_key_pair",
    "has_digest",
    "names_no_services",
    "offline_config",
    "sign",
    "tree",
    "verify",
    "verify_attestation",
    "version",
]

_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")

#: the predicate type of a cosign 3 signature: an in-toto statement "I sign this digest", with an empty predicate
SIGNATURE_PREDICATE = "https://sigstore.dev/cosign/sign/v1"
#: the ``critical.type`` of a signature in cosign 2's simple-signing payload (the ``.sig`` layout)
LEGACY_SIGNATURE_TYPE = "cosign container image signature"
#: cosign 3 writing what cosign 2 wrote: the ``.sig``/``.att`` layout, no bundle, no signing config, no log
LEGACY_FLAGS = ("--new-bundle-format=false", "--use-signing-config=false", "--tlog-upload=false")

#: what a signing config or a trusted root lists when it names a service (each must be absent or empty offline)
_SERVICE_FIELDS = {
    "signing-config": ("caUrls", "oidcUrls", "rekorTlogUrls", "tsaUrls"),
    "trusted-root": ("tlogs", "certificateAuthorities", "ctlogs", "timestampAuthorities"),
}
_MEDIA_TYPES = {
    "signing-config": "application/vnd.dev.sigstore.signingconfig",
    "trusted-root": "application/vnd.dev.sigstore.trustedroot",
}


@dataclass(frozen=True)
class KeyPair:
    """A cosign key pair on disk: an encrypted private key and its public key (both PEM)."""

    private: Path
    public: Path


@dataclass(frozen=True)
class OfflineConfig:
    """A signing config and a trusted root that name no services: cosign 3 signing and verifying offline."""

    signing_config: Path
    trusted_root: Path

    def sign_flags(self) -> list[str]:
        """What ``cosign sign`` and ``cosign attest`` get: where (not) to send things, and what to trust."""
        return ["--signing-config", str(self.signing_config), "--trusted-root", str(self.trusted_root)]

    def verify_flags(self) -> list[str]:
        """What ``cosign verify`` and ``verify-attestation`` get: no log entry to look for, nothing fetched."""
        return ["--insecure-ignore-tlog=true", "--trusted-root", str(self.trusted_root)]


def version() -> str:
    """cosign's version, e.g. ``"3.1.1"`` (Debian builds say ``devel``; their changelog is read instead)."""
    return version_of("cosign", path("cosign")) or "unknown"


def has_digest(ref: str) -> bool:
    """True when ``ref`` names content, not a tag: it ends in ``@sha256:<64 hex>``."""
    return bool(_DIGEST.search(ref))


#: the version of each cosign binary this process has run, keyed by (resolved path, mtime, size)
_VERSIONS: dict[tuple[str, int, int], str | None] = {}


def _require_cosign3() -> None:
    """Refuse, with a clear message, a cosign that is not 3.x (e.g. a cosign 2 the course installed earlier)."""
    found = path("cosign")
    stat = Path(found).stat()
    key = (str(Path(found).resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _VERSIONS:
        _VERSIONS[key] = version_of("cosign", found)
    tool = TOOLS["cosign"]
    found_version = _VERSIONS[key]
    if not tool.accepts(found_version):
        raise ToolMissing(
            f"{found} is cosign {found_version or '(a version that does not run)'}, but the course needs cosign "
            f"{tool.requirement}: it signs the cosign 3 way, with a signing config and a trusted root, and reads "
            f"cosign 3's bundles.",
            hint=f"Run `portside tools ensure` (it installs cosign 3 into the course folder), or install "
                 f"{tool.manual}.",
        )


def cosign_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a cosign run: cosign's TUF cache in the course state folder, then ``env``."""
    return {"TUF_ROOT": str(state_dir("cosign", "tuf")), **(env or {})}


def _registry_args(username: str | None, password: str | None) -> list[str]:
    args = []
    if username is not None:
        args += ["--registry-username", username]
    if password is not None:
        args += ["--registry-password", password]
    return args


def _require_digest(ref: str, allow_tag: bool, action: str) -> None:
    if allow_tag or has_digest(ref):
        return
    raise InvalidReference(
        f"Refusing to {action} {ref!r}: it names a tag, not a digest. A tag can be moved to other content "
        f"at any time, so a signature made through a tag may end up on an image you never looked at; "
        f"a digest (REF@sha256:…) names exactly the bytes you mean.",
        hint="Resolve the digest first (the push output or a registry HEAD request gives it) and pass "
             "REPO@sha256:<digest>; or pass allow_tag=True to let cosign resolve the tag now.",
    )


# ── the offline signing config and trusted root ────────────────────────────────


def names_no_services(kind: str, document: Mapping[str, Any]) -> bool:
    """True when ``document`` is a ``kind`` (``signing-config`` or ``trusted-root``) that names no service.

    A signing config naming Rekor would upload every signature to a public log; a trusted
    root naming one would make verification want its entries. Offline, both must be empty.
    """
    if kind not in _SERVICE_FIELDS:
        raise SigningError(f"Unknown kind {kind!r}: expected signing-config or trusted-root.")
    media_type = str(document.get("mediaType", ""))
    if not media_type.startswith(_MEDIA_TYPES[kind]):
        return False
    return not any(document.get(field) for field in _SERVICE_FIELDS[kind])


def _usable(kind: str, file: Path) -> bool:
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and names_no_services(kind, document)


def offline_config() -> OfflineConfig:
    """The course's signing config and trusted root that name no services (made once, then reused).

    They live in ``<state>/cosign/offline/``. A file that is missing, unreadable or that names
    a service (someone edited it) is made again with ``cosign signing-config create`` /
    ``cosign trusted-root create``, given no service flag. The same two commands work by hand::

        cosign signing-config create --out signing-config.json
        cosign trusted-root create --out trusted-root.json
    """
    folder = state_dir("cosign", "offline")
    config = OfflineConfig(folder / "signing-config.json", folder / "trusted-root.json")
    for kind, file in (("signing-config", config.signing_config), ("trusted-root", config.trusted_root)):
        if _usable(kind, file):
            continue
        _require_cosign3()
        with tempfile.TemporaryDirectory(dir=folder, prefix=".create-") as tmp:
            made = Path(tmp) / file.name
            run_tool("cosign", [kind, "create", "--out", str(made)], timeout=60, env=cosign_env(),
                     what=f"cosign {kind} create")
            if not _usable(kind, made):
                raise SigningError(f"cosign {kind} create wrote a {kind} that names services or is not one.",
                                   hint="Check which cosign runs (`portside tools status`): the course needs 3.x.")
            os.replace(made, file)  # atomic: a concurrent run sees the old file or the new one, never half
    return config


# ── keys, signing and verifying ────────────────────────────────────────────────


def generate_key_pair(folder: str | Path, password: str, *, prefix: str = "cosign",
                      overwrite: bool = False) -> KeyPair:
    """Create ``<prefix>.key`` (encrypted with ``password``) and ``<prefix>.pub`` in ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pair = KeyPair(folder / f"{prefix}.key", folder / f"{prefix}.pub")
    existing = [p for p in (pair.private, pair.public) if p.exists()]
    if existing and not overwrite:
        raise SigningError(f"A key already exists at {existing[0]}; cosign would not overwrite it.",
                           hint="Choose another folder or prefix, or pass overwrite=True.")
    for p in existing:
        p.unlink()
    _require_cosign3()
    run_tool("cosign", ["generate-key-pair", "--output-key-prefix", prefix], cwd=folder, timeout=60,
             env=cosign_env({"COSIGN_PASSWORD": password}), secrets=[password], input_="")
    return pair


def _signing_flags(legacy: bool) -> list[str]:
    return list(LEGACY_FLAGS) if legacy else offline_config().sign_flags()


def sign(ref: str, key: str | Path, password: str, *, env: Mapping[str, str] | None = None,
         extra: Sequence[str] = (), allow_tag: bool = False, registry_username: str | None = None,
         registry_password: str | None = None, legacy: bool = False, timeout: float = 180) -> Result:
    """Sign ``ref`` (``REPO@sha256:…``) with the private ``key`` and push the signature to its registry.

    cosign 3 stores a Sigstore bundle as an OCI referrer of the image (on ``registry:2``: listed
    under the tag ``sha256-<hex>``). ``legacy=True`` writes what cosign 2 wrote instead, a
    ``sha256-<hex>.sig`` tag (cosign 3's deprecated ``--new-bundle-format=false``).
    """
    _require_digest(ref, allow_tag, "sign")
    return _signing(
        ["sign", "--key", str(key), *_signing_flags(legacy), "--yes",
         *_registry_args(registry_username, registry_password), *extra, ref],
        env=env, password=password, registry_password=registry_password, timeout=timeout,
        what=f"cosign sign {ref}")


def _signing(args: list[str], *, env: Mapping[str, str] | None, password: str, registry_password: str | None,
             timeout: float, what: str) -> Result:
    """Run a cosign command that opens the private key; a wrong password gets its own hint."""
    _require_cosign3()
    result = run_tool("cosign", args, timeout=timeout, env=cosign_env({**(env or {}), "COSIGN_PASSWORD": password}),
                      secrets=[password, registry_password or ""], what=what, check=False)
    if result.ok:
        return result
    hint = ("The password does not open this private key: use the password given when the key pair was made."
            if "decrypt" in (result.stderr or result.stdout) else None)
    raise tool_error(result, what, hint=hint)


def _verifying(args: list[str], *, env: Mapping[str, str] | None, timeout: float,
               registry_password: str | None, what: str) -> Result:
    _require_cosign3()
    result = run_tool("cosign", [*args[:1], *offline_config().verify_flags(), *args[1:]], timeout=timeout,
                      env=cosign_env(env), secrets=[registry_password or ""], what=what, check=False)
    if result.ok:
        return result
    raise tool_error(result, what, verifying=True)


def _json_lines(text: str) -> list[dict[str, Any]]:
    """cosign prints either one JSON array or one JSON object per line."""
    text = text.strip()
    if not text:
        return []
    try:
        data = json.loads(text)
        return list(data) if isinstance(data, list) else [data]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _claim_type(payload: Mapping[str, Any]) -> str:
    return str((payload.get("critical") or {}).get("type", ""))


def verify(ref: str, public_key: str | Path, *, env: Mapping[str, str] | None = None,
           registry_username: str | None = None, registry_password: str | None = None,
           extra: Sequence[str] = (), timeout: float = 120) -> list[dict[str, Any]]:
    """Check ``ref``'s signatures with ``public_key``; return the verified signature payloads.

    Each payload says which manifest digest was signed (``critical.image.docker-manifest-digest``)
    and what kind of statement it was (``critical.type``: :data:`SIGNATURE_PREDICATE`, or cosign 2's
    :data:`LEGACY_SIGNATURE_TYPE`). cosign 3 also accepts attestations here; they are left out,
    and raise :class:`VerificationFailed` when nothing else verifies — an SBOM attestation is
    not a signature. Raises :class:`VerificationFailed` when no signature verifies.
    """
    what = f"cosign verify {ref}"
    result = _verifying(
        ["verify", "--key", str(public_key), "--output", "json",
         *_registry_args(registry_username, registry_password), *extra, ref],
        env=env, timeout=timeout, registry_password=registry_password, what=what)
    payloads = _json_lines(result.stdout)
    signatures = [p for p in payloads if _claim_type(p) in (SIGNATURE_PREDICATE, LEGACY_SIGNATURE_TYPE)]
    if payloads and not signatures:
        kinds = ", ".join(sorted({_claim_type(p) for p in payloads}))
        raise VerificationFailed(
            f"{what}: only attestations verify, no signature.", command=list(result.command), returncode=0,
            stderr=f"Error: no signature verifies, only attestations ({kinds})",
            hint="cosign 3 counts any bundle signed by the key as a signature, an SBOM attestation too; the course "
                 "asks for a signature. Sign the digest itself: cosign sign --key … REPO@sha256:….")
    return signatures


def attest(ref: str, predicate: str | Path, type: str, key: str | Path, password: str, *,
           env: Mapping[str, str] | None = None, allow_tag: bool = False, registry_username: str | None = None,
           registry_password: str | None = None, extra: Sequence[str] = (), legacy: bool = False,
           timeout: float = 180) -> Result:
    """Attach a signed in-toto attestation of ``type`` (``cyclonedx``, ``spdxjson``, …) to ``ref``.

    Stored like a signature (a bundle in an OCI referrer); ``legacy=True``: a ``.att`` tag, as cosign 2 did.
    """
    _require_digest(ref, allow_tag, "attest")
    return _signing(
        ["attest", "--key", str(key), "--type", type, "--predicate", str(predicate), *_signing_flags(legacy),
         "--yes", *_registry_args(registry_username, registry_password), *extra, ref],
        env=env, password=password, registry_password=registry_password, timeout=timeout,
        what=f"cosign attest {ref}")


def verify_attestation(ref: str, public_key: str | Path, type: str, *, env: Mapping[str, str] | None = None,
                       registry_username: str | None = None, registry_password: str | None = None,
                       extra: Sequence[str] = (), timeout: float = 120) -> list[dict[str, Any]]:
    """Check ``ref``'s attestations of ``type``; return the verified in-toto statements (decoded).

    Each statement has ``predicateType``, ``subject`` (the image digest) and ``predicate``
    (e.g. the CycloneDX SBOM). Raises :class:`VerificationFailed` when none verifies.
    """
    result = _verifying(
        ["verify-attestation", "--key", str(public_key), "--type", type,
         *_registry_args(registry_username, registry_password), *extra, ref],
        env=env, timeout=timeout, registry_password=registry_password,
        what=f"cosign verify-attestation {ref}")
    statements = []
    for envelope in _json_lines(result.stdout):
        payload = envelope.get("payload")
        statements.append(json.loads(base64.b64decode(payload)) if isinstance(payload, str) else envelope)
    return statements


def tree(ref: str, *, env: Mapping[str, str] | None = None, registry_username: str | None = None,
         registry_password: str | None = None, timeout: float = 60) -> str:
    """What cosign has stored for ``ref`` (as text): bundles found as OCI referrers, and legacy ``.sig``/``.att`` tags.

    :func:`portside.security.signing.tidy_tree` makes it comparable between runs.
    """
    _require_cosign3()
    result = run_tool("cosign", ["tree", *_registry_args(registry_username, registry_password), ref],
                      timeout=timeout, env=cosign_env(env), secrets=[registry_password or ""],
                      what=f"cosign tree {ref}")
    return result.stdout

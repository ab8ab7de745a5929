"""cosign: sign and verify images (and attestations) with a key pair, against a local registry.

The course works offline, so nothing goes to Sigstore's public services: signatures
are made with ``--tlog-upload=false`` and checked with ``--insecure-ignore-tlog``.
cosign stores what it makes next to the image, in the same repository, under tags
derived from the image digest (``sha256-<hex>.sig``, ``.att``) — :func:`tree` shows them.

Passwords never appear on a command line or in an error: the key password goes
through ``COSIGN_PASSWORD``; a registry password is passed as ``--registry-password``
(visible to this machine's process list while cosign runs, like with the real CLI)
and redacted from every :class:`~portside.errors.ToolError`.

A verification that finds no valid signature raises :class:`VerificationFailed`
(a :class:`~portside.errors.ToolError`), so a lesson can show the failure as an
exception and ``except VerificationFailed`` separates "not signed by this key" from
"the registry could not be reached".
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portside.base.proc import Result
from portside.errors import InvalidReference, SigningError, VerificationFailed
from portside.tools._runner import run_tool, tool_error
from portside.tools.install import path, version_of

__all__ = [
    "KeyPair",
    "VerificationFailed",
    "attest",
    "generate_key_pair",
    "has_digest",
    "sign",
    "tree",
    "verify",
    "verify_attestation",
    "version",
]

_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class KeyPair:
    """A cosign key pair on disk: an encrypted private key and its public key (both PEM)."""

    private: Path
    public: Path


def version() -> str:
    """cosign's version, e.g. ``"2.5.0"`` (Debian builds say ``devel``; their changelog is read instead)."""
    return version_of("cosign", path("cosign")) or "unknown"


def has_digest(ref: str) -> bool:
    """True when ``ref`` names content, not a tag: it ends in ``@sha256:<64 hex>``."""
    return bool(_DIGEST.search(ref))


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
    run_tool("cosign", ["generate-key-pair", "--output-key-prefix", prefix], cwd=folder, timeout=60,
             env={"COSIGN_PASSWORD": password}, secrets=[password], input_="")
    return pair


def sign(ref: str, key: str | Path, password: str, *, env: Mapping[str, str] | None = None,
         extra: Sequence[str] = (), allow_tag: bool = False, registry_username: str | None = None,
         registry_password: str | None = None, timeout: float = 180) -> Result:
    """Sign ``ref`` (``REPO@sha256:…``) with the private ``key`` and push the signature to its registry."""
    _require_digest(ref, allow_tag, "sign")
    return _signing(
        ["sign", "--key", str(key), "--tlog-upload=false", "--yes",
         *_registry_args(registry_username, registry_password), *extra, ref],
        env=env, password=password, registry_password=registry_password, timeout=timeout,
        what=f"cosign sign {ref}")


def _signing(args: list[str], *, env: Mapping[str, str] | None, password: str, registry_password: str | None,
             timeout: float, what: str) -> Result:
    """Run a cosign command that opens the private key; a wrong password gets its own hint."""
    result = run_tool("cosign", args, timeout=timeout, env={**(env or {}), "COSIGN_PASSWORD": password},
                      secrets=[password, registry_password or ""], what=what, check=False)
    if result.ok:
        return result
    hint = ("The password does not open this private key: use the password given when the key pair was made."
            if "decrypt" in (result.stderr or result.stdout) else None)
    raise tool_error(result, what, hint=hint)


def _verifying(args: list[str], ref: str, *, env: Mapping[str, str] | None, timeout: float,
               registry_password: str | None, what: str) -> Result:
    result = run_tool("cosign", args, timeout=timeout, env=env, secrets=[registry_password or ""],
                      what=what, check=False)
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


def verify(ref: str, public_key: str | Path, *, env: Mapping[str, str] | None = None,
           registry_username: str | None = None, registry_password: str | None = None,
           extra: Sequence[str] = (), timeout: float = 120) -> list[dict[str, Any]]:
    """Check ``ref``'s signatures with ``public_key``; return the verified signature payloads.

    Each payload says which manifest digest was signed (``critical.image.docker-manifest-digest``).
    Raises :class:`VerificationFailed` when no signature verifies.
    """
    result = _verifying(
        ["verify", "--key", str(public_key), "--insecure-ignore-tlog", "--output", "json",
         *_registry_args(registry_username, registry_password), *extra, ref],
        ref, env=env, timeout=timeout, registry_password=registry_password, what=f"cosign verify {ref}")
    return _json_lines(result.stdout)


def attest(ref: str, predicate: str | Path, type: str, key: str | Path, password: str, *,
           env: Mapping[str, str] | None = None, allow_tag: bool = False, registry_username: str | None = None,
           registry_password: str | None = None, extra: Sequence[str] = (), timeout: float = 180) -> Result:
    """Attach a signed in-toto attestation of ``type`` (``cyclonedx``, ``spdxjson``, …) to ``ref``."""
    _require_digest(ref, allow_tag, "attest")
    return _signing(
        ["attest", "--key", str(key), "--type", type, "--predicate", str(predicate), "--tlog-upload=false",
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
        ["verify-attestation", "--key", str(public_key), "--type", type, "--insecure-ignore-tlog",
         *_registry_args(registry_username, registry_password), *extra, ref],
        ref, env=env, timeout=timeout, registry_password=registry_password,
        what=f"cosign verify-attestation {ref}")
    statements = []
    for envelope in _json_lines(result.stdout):
        payload = envelope.get("payload")
        statements.append(json.loads(base64.b64decode(payload)) if isinstance(payload, str) else envelope)
    return statements


def tree(ref: str, *, env: Mapping[str, str] | None = None, registry_username: str | None = None,
         registry_password: str | None = None, timeout: float = 60) -> str:
    """What cosign has stored for ``ref``: its signatures, attestations and SBOMs (as text)."""
    result = run_tool("cosign", ["tree", *_registry_args(registry_username, registry_password), ref],
                      timeout=timeout, env=env, secrets=[registry_password or ""], what=f"cosign tree {ref}")
    return result.stdout

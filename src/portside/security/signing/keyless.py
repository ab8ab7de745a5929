"""Keyless signing (Fulcio certificate, Rekor log): optional, online, and off unless the learner asks."""

from __future__ import annotations

import os
from collections.abc import Mapping

from portside.errors import SigningError
from portside.oci.reference import Reference
from portside.security.signing.names import pinned
from portside.tools import cosign
from portside.tools._runner import run_tool

__all__ = ["KEYLESS_VARIABLE", "keyless_enabled", "sign_keyless"]

#: set to 1 to run the optional keyless (Fulcio/Rekor) part of lesson 05: it talks to sigstore.dev
KEYLESS_VARIABLE = "PORTSIDE_KEYLESS"


def keyless_enabled() -> bool:
    """True when ``PORTSIDE_KEYLESS`` is 1/true/yes/on: the learner allows talking to Sigstore's public services."""
    return os.environ.get(KEYLESS_VARIABLE, "").strip().lower() in {"1", "true", "yes", "on"}


def sign_keyless(ref_with_digest: str | Reference, *, env: Mapping[str, str] | None = None,
                 timeout: float = 600) -> str:
    """Sign with a short-lived Fulcio certificate and record it in the public Rekor log (needs the internet).

    cosign needs an OpenID Connect identity token: in CI the platform's own (GitHub
    Actions, GitLab…), elsewhere pass one in ``SIGSTORE_ID_TOKEN`` — or run
    ``cosign sign REF@DIGEST`` in a terminal for the browser login, which a notebook
    cell cannot show while cosign waits. The signer's identity ends up in a public log.
    Refuses unless ``PORTSIDE_KEYLESS`` is set, so nothing leaves the machine by
    accident. cosign 3 takes Sigstore's signing config and trusted root from its TUF
    repository (cached in the course state folder, not ``~/.sigstore``). Returns cosign's messages.
    """
    ref = pinned(ref_with_digest)
    if not keyless_enabled():
        raise SigningError("Keyless signing talks to Sigstore's public Fulcio and Rekor services; it is off.",
                           hint=f"Set {KEYLESS_VARIABLE}=1 (and be online) to allow it.")
    result = run_tool("cosign", ["sign", "--yes", ref.original], timeout=timeout, env=cosign.cosign_env(env),
                      what=f"cosign sign (keyless) {ref.original}", input_="")
    return result.stderr

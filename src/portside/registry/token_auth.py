"""A registry in token-authentication mode: what it needs to know about the token service it trusts.

``auth: token`` in registry:2's configuration (here as ``REGISTRY_AUTH_TOKEN_*`` variables): the registry
sends clients to ``realm`` for a token, accepts tokens whose ``aud`` is ``service`` and whose ``iss`` is
``issuer``, signed by a key that chains up to ``root_bundle`` (distribution's ``docs/spec/auth/token.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["ROOT_BUNDLE_PATH", "TokenAuth"]

#: where the course copies the token CA bundle into the registry container
ROOT_BUNDLE_PATH = "/auth/token-ca.pem"


@dataclass(frozen=True)
class TokenAuth:
    """The token service a registry trusts."""

    realm: str  #: the token endpoint's URL, as clients must reach it (``http://127.0.0.1:PORT/token``)
    service: str  #: the registry's own name in tokens
    issuer: str  #: the token service's name in tokens
    root_bundle: Path  #: PEM file of the CA that issued the token signing certificate

    def env(self) -> dict[str, str]:
        """The registry's configuration for it, as environment variables."""
        return {"REGISTRY_AUTH": "token", "REGISTRY_AUTH_TOKEN_REALM": self.realm,
                "REGISTRY_AUTH_TOKEN_SERVICE": self.service, "REGISTRY_AUTH_TOKEN_ISSUER": self.issuer,
                "REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE": ROOT_BUNDLE_PATH}

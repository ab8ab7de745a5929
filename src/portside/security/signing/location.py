"""Which registry an image lives on, and how to reach it: an :class:`Endpoint` when the caller has one.

The course's registries know their own URL, TLS setting and CA file (a
:class:`portside.registry.Registry`, a lab's context and the learner's lab handle all
carry an ``.endpoint``). Only a bare reference, with nothing else to go on, has its
scheme guessed from its host name by :func:`client_for`.
"""

from __future__ import annotations

from pathlib import Path

from portside.oci.endpoint import HasEndpoint, RegistryLike, endpoint_of
from portside.oci.reference import Reference, parsed
from portside.oci.registry_client import RegistryClient

__all__ = ["HasEndpoint", "RegistryLike", "client_for", "endpoint_of"]


def client_for(ref: str | Reference, *, username: str | None = None, password: str | None = None,
               ca_file: Path | None = None) -> RegistryClient:
    """A :class:`RegistryClient` for the registry ``ref`` lives on (plain HTTP on loopback, HTTPS elsewhere)."""
    domain = parsed(ref).domain
    host = domain.rsplit(":", 1)[0]
    scheme = "http" if host in ("localhost", "127.0.0.1") and ca_file is None else "https"
    return RegistryClient(f"{scheme}://{domain}", username=username, password=password, ca_file=ca_file)

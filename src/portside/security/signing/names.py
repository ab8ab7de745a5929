"""Where cosign keeps what it makes: media types, annotations, and the tags derived from a digest.

cosign stores a signature and an attestation in the image's own repository, under tags
made from the image's **digest** (never from a tag)::

    team/app@sha256:ab12…              the image (its manifest)
    team/app:sha256-ab12….sig          signatures: one layer per signature
    team/app:sha256-ab12….att          attestations (e.g. a signed SBOM)
"""

from __future__ import annotations

from portside.errors import InvalidReference
from portside.oci.reference import Reference, parsed

__all__ = [
    "ATTESTATION_ANNOTATION",
    "CYCLONEDX_PREDICATE",
    "DSSE_ENVELOPE",
    "SIGNATURE_ANNOTATION",
    "SIGNATURE_TYPE",
    "SIMPLE_SIGNING",
    "attestation_tag",
    "pinned",
    "signature_tag",
]

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE_ENVELOPE = "application/vnd.dsse.envelope.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
ATTESTATION_ANNOTATION = "predicateType"
SIGNATURE_TYPE = "cosign container image signature"
CYCLONEDX_PREDICATE = "https://cyclonedx.org/bom"


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


def pinned(ref_with_digest: str | Reference) -> Reference:
    """``ref_with_digest`` parsed (once), refused when it names a tag alone: a tag can move."""
    ref = parsed(ref_with_digest)
    if not ref.digest:
        raise InvalidReference(
            f"{ref.original!r} names a tag, not a digest: a tag can move to other content at any time.",
            hint="Verify REPO@sha256:<digest> — resolve the tag once (client.digest(repo, tag)) and keep the digest.")
    return ref

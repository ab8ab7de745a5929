"""Where cosign keeps what it makes: media types, annotations, and the tags derived from a digest.

cosign 3 stores each signature and each attestation as a **Sigstore bundle** in an OCI
artifact manifest whose ``subject`` is the image. A registry with the OCI 1.1 referrers
API lists those manifests itself; on one without it, such as ``registry:2``, cosign keeps
the list — an OCI image index — under the **referrers tag** made from the image's digest
(never from a tag)::

    team/app@sha256:ab12…              the image (its manifest)
    team/app:sha256-ab12…              an index of its referrers: one manifest per bundle
                                       (signatures and attestations alike)

cosign 2 (and cosign 3 with its deprecated ``--new-bundle-format=false``) used one tag per
kind instead, with the signatures as layers of one manifest::

    team/app:sha256-ab12….sig          signatures: one simple-signing layer per signature
    team/app:sha256-ab12….att          attestations: one DSSE layer per attestation
"""

from __future__ import annotations

import re

from portside.errors import InvalidReference
from portside.oci.reference import Reference, parsed
from portside.tools.cosign import LEGACY_SIGNATURE_TYPE, SIGNATURE_PREDICATE

__all__ = [
    "ATTESTATION_ANNOTATION",
    "BUNDLE_CONTENT_ANNOTATION",
    "BUNDLE_PREDICATE_ANNOTATION",
    "CYCLONEDX_PREDICATE",
    "DSSE_ENVELOPE",
    "EMPTY_CONFIG",
    "IN_TOTO",
    "SIGNATURE_ANNOTATION",
    "SIGNATURE_TYPE",
    "SIGN_PREDICATE",
    "SIGSTORE_BUNDLE",
    "SIMPLE_SIGNING",
    "attestation_tag",
    "pinned",
    "referrers_tag",
    "signature_tag",
    "subject_of_tag",
]

# cosign 3: bundles in OCI referrers
#: a Sigstore bundle (JSON): the DSSE envelope plus what verifies it (here: a hint naming the public key)
SIGSTORE_BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"
#: the annotation of a referrer manifest that says which in-toto predicate its bundle carries (unsigned: a label)
BUNDLE_PREDICATE_ANNOTATION = "dev.sigstore.bundle.predicateType"
#: ... and what the bundle holds (``dsse-envelope``)
BUNDLE_CONTENT_ANNOTATION = "dev.sigstore.bundle.content"
#: the config of an artifact manifest that has none (``{}``); cosign's index entries carry it as their artifactType
EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"
#: the predicate type of a cosign 3 signature
SIGN_PREDICATE = SIGNATURE_PREDICATE
#: the payload type of a DSSE envelope holding an in-toto statement
IN_TOTO = "application/vnd.in-toto+json"

# cosign 2: the .sig and .att tags
SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE_ENVELOPE = "application/vnd.dsse.envelope.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
ATTESTATION_ANNOTATION = "predicateType"
SIGNATURE_TYPE = LEGACY_SIGNATURE_TYPE

CYCLONEDX_PREDICATE = "https://cyclonedx.org/bom"

_COSIGN_TAG = re.compile(r"sha256-([0-9a-f]{64})(\.sig|\.att|\.sbom)?")


def _hex(digest: str) -> str:
    algorithm, _, value = digest.partition(":")
    if algorithm != "sha256" or len(value) != 64:
        raise InvalidReference(f"{digest!r} is not a sha256 digest (sha256:<64 hex>).")
    return value


def referrers_tag(digest: str) -> str:
    """The tag that lists the referrers of ``digest`` on a registry without the referrers API: ``sha256-<hex>``.

    cosign 3 keeps its signatures and attestations there (OCI 1.1's referrers tag schema).
    """
    return f"sha256-{_hex(digest)}"


def signature_tag(digest: str) -> str:
    """The tag cosign 2 stored signatures of ``digest`` under: ``sha256-<hex>.sig`` (the legacy layout)."""
    return f"{referrers_tag(digest)}.sig"


def attestation_tag(digest: str) -> str:
    """The tag cosign 2 stored attestations of ``digest`` under: ``sha256-<hex>.att`` (the legacy layout)."""
    return f"{referrers_tag(digest)}.att"


def subject_of_tag(tag: str) -> tuple[str, str] | None:
    """For a tag cosign made, the digest it is about and its kind; ``None`` for any other tag.

    ``sha256-<hex>`` → ``("sha256:<hex>", "referrers")``; ``sha256-<hex>.sig`` → ``(…, "sig")``,
    likewise ``att`` and ``sbom``.
    """
    match = _COSIGN_TAG.fullmatch(tag)
    if match is None:
        return None
    return f"sha256:{match[1]}", (match[2] or ".referrers")[1:]


def pinned(ref_with_digest: str | Reference) -> Reference:
    """``ref_with_digest`` parsed (once), refused when it names a tag alone: a tag can move."""
    ref = parsed(ref_with_digest)
    if not ref.digest:
        raise InvalidReference(
            f"{ref.original!r} names a tag, not a digest: a tag can move to other content at any time.",
            hint="Verify REPO@sha256:<digest> — resolve the tag once (client.digest(repo, tag)) and keep the digest.")
    return ref

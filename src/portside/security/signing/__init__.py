"""Signatures and attestations next to an image, read and checked without trusting any tool.

cosign 3 stores each signature and each attestation as a **Sigstore bundle** in an OCI
artifact manifest whose ``subject`` is the image. ``registry:2`` has no OCI 1.1 referrers
API, so cosign lists those manifests in an OCI index under the **referrers tag** made from
the image's **digest** (never from a tag)::

    team/app@sha256:ab12…              the image (its manifest)
    team/app:sha256-ab12…              an index: one artifact manifest per bundle, each with
                                       subject = the image and one layer, the bundle

A bundle holds a DSSE envelope: an in-toto statement (subject = the image digest; predicate
type ``https://sigstore.dev/cosign/sign/v1`` for a signature, e.g. ``https://cyclonedx.org/bom``
for an SBOM attestation) and an ECDSA P-256 signature over the envelope's
*pre-authentication encoding*; and a hint naming the public key (:func:`key_hint`).

cosign 2 (and cosign 3 with ``legacy=True``) wrote one tag per kind instead::

    team/app:sha256-ab12….sig          signatures: one layer per signature (a simple-signing
                                       payload naming the digest; the signature in an annotation)
    team/app:sha256-ab12….att          attestations: one DSSE envelope per layer

cosign 3 verifies both; an image that has bundles is judged by its bundles alone.

This package finds those artifacts through the registry API and checks them with
``cryptography``, step by step, so a lesson can show that cosign does nothing magic:
:func:`verify_signature` agrees with ``cosign verify``. For deciding whether an image
may run, :func:`verify_before_deploy` uses the real cosign (signature **and**
attestation) and then asks a policy about the attested SBOM — by default the
course's scan gate.

Keys stay out of the project: :class:`TemporaryKeys` makes a key pair in a private
temporary folder with a generated password (or ``COSIGN_PASSWORD``), never shows the
password, and deletes everything on close.

Every function that takes a reference takes a parsed
:class:`~portside.oci.reference.Reference` as well as a string, and parses it once.
One module per job:

=================  ====================================================================
``names``          media types, annotations, the referrers tag and the legacy ``.sig``/``.att`` tags
``keys``           :func:`load_public_key`, :func:`key_hint`, :class:`TemporaryKeys`
``ecdsa``          :func:`ecdsa_valid`, the one cryptographic check
``dsse``           :class:`Attestation` (a signed in-toto statement), :func:`pae`
``location``       which registry to ask: an ``Endpoint`` (or ``.endpoint``), else :func:`client_for`
``bundles``        :func:`read_referrers`: the referrers tag, its index and the bundles it lists
``signatures``     :func:`fetch_signatures` (cosign 3), :func:`fetch_legacy_signatures`, :class:`SignatureLayer`
``verify``         :func:`verify_signature` in Python, :class:`PythonVerification`
``attestations``   :func:`fetch_attestations` (cosign 3, else cosign 2's), :func:`fetch_legacy_attestations`
``policy``         the SBOM gate: :func:`scan_gate`, :data:`SbomPolicy`
``deploy``         :func:`verify_before_deploy`, :class:`DeployDecision`, :func:`cosign_reason`
``keyless``        :func:`sign_keyless` (Fulcio and Rekor, off unless ``PORTSIDE_KEYLESS``)
``tree``           :func:`tidy_tree`: ``cosign tree`` output comparable between runs
=================  ====================================================================
"""

from __future__ import annotations

from .attestations import Attestation, fetch_attestations, fetch_legacy_attestations, pae
from .bundles import read_referrers, referrers_index
from .deploy import Check, DeployDecision, cosign_reason, verify_before_deploy
from .ecdsa import ecdsa_valid
from .keyless import KEYLESS_VARIABLE, keyless_enabled, sign_keyless
from .keys import TemporaryKeys, key_hint, load_public_key
from .location import HasEndpoint, RegistryLike, client_for
from .names import (
    ATTESTATION_ANNOTATION,
    BUNDLE_PREDICATE_ANNOTATION,
    CYCLONEDX_PREDICATE,
    DSSE_ENVELOPE,
    SIGN_PREDICATE,
    SIGNATURE_ANNOTATION,
    SIGNATURE_TYPE,
    SIGSTORE_BUNDLE,
    SIMPLE_SIGNING,
    attestation_tag,
    referrers_tag,
    signature_tag,
    subject_of_tag,
)
from .policy import GateLike, SbomPolicy, scan_gate
from .signatures import SignatureLayer, fetch_legacy_signatures, fetch_signatures
from .tree import tidy_tree
from .verify import PythonVerification, verify_signature

__all__ = [
    "ATTESTATION_ANNOTATION",
    "BUNDLE_PREDICATE_ANNOTATION",
    "CYCLONEDX_PREDICATE",
    "DSSE_ENVELOPE",
    "KEYLESS_VARIABLE",
    "SIGNATURE_ANNOTATION",
    "SIGNATURE_TYPE",
    "SIGN_PREDICATE",
    "SIGSTORE_BUNDLE",
    "SIMPLE_SIGNING",
    "Attestation",
    "Check",
    "DeployDecision",
    "GateLike",
    "HasEndpoint",
    "PythonVerification",
    "RegistryLike",
    "SbomPolicy",
    "SignatureLayer",
    "TemporaryKeys",
    "attestation_tag",
    "client_for",
    "cosign_reason",
    "ecdsa_valid",
    "fetch_attestations",
    "fetch_legacy_attestations",
    "fetch_legacy_signatures",
    "fetch_signatures",
    "key_hint",
    "keyless_enabled",
    "load_public_key",
    "pae",
    "read_referrers",
    "referrers_index",
    "referrers_tag",
    "scan_gate",
    "sign_keyless",
    "signature_tag",
    "subject_of_tag",
    "tidy_tree",
    "verify_before_deploy",
    "verify_signature",
]

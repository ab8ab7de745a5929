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
``names``          media types, annotations, the ``.sig``/``.att`` tags, "pinned by digest"
``keys``           :func:`load_public_key`, :class:`TemporaryKeys`
``ecdsa``          :func:`ecdsa_valid`, the one cryptographic check
``location``       which registry to ask: an ``Endpoint`` (or ``.endpoint``), else :func:`client_for`
``signatures``     :func:`fetch_signatures`, :class:`SignatureLayer`
``verify``         :func:`verify_signature` in Python, :class:`PythonVerification`
``attestations``   :func:`fetch_attestations`, :class:`Attestation`, :func:`pae`
``policy``         the SBOM gate: :func:`scan_gate`, :data:`SbomPolicy`
``deploy``         :func:`verify_before_deploy`, :class:`DeployDecision`, :func:`cosign_reason`
``keyless``        :func:`sign_keyless` (Fulcio and Rekor, off unless ``PORTSIDE_KEYLESS``)
``tree``           :func:`tidy_tree`: ``cosign tree`` output comparable between runs
=================  ====================================================================
"""

from __future__ import annotations

from .attestations import Attestation, fetch_attestations, pae
from .deploy import Check, DeployDecision, cosign_reason, verify_before_deploy
from .ecdsa import ecdsa_valid
from .keyless import KEYLESS_VARIABLE, keyless_enabled, sign_keyless
from .keys import TemporaryKeys, load_public_key
from .location import HasEndpoint, RegistryLike, client_for
from .names import (
    ATTESTATION_ANNOTATION,
    CYCLONEDX_PREDICATE,
    DSSE_ENVELOPE,
    SIGNATURE_ANNOTATION,
    SIGNATURE_TYPE,
    SIMPLE_SIGNING,
    attestation_tag,
    signature_tag,
)
from .policy import GateLike, SbomPolicy, scan_gate
from .signatures import SignatureLayer, fetch_signatures
from .tree import tidy_tree
from .verify import PythonVerification, verify_signature

__all__ = [
    "ATTESTATION_ANNOTATION",
    "CYCLONEDX_PREDICATE",
    "DSSE_ENVELOPE",
    "KEYLESS_VARIABLE",
    "SIGNATURE_ANNOTATION",
    "SIGNATURE_TYPE",
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

"""Keys: a verifier's public key read as cosign writes it, and a key pair that never outlives its use.

Keys stay out of the project: :class:`TemporaryKeys` makes a key pair in a private
temporary folder with a generated password (or ``COSIGN_PASSWORD``), never shows the
password, and deletes everything on close.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
import tempfile
import weakref
from pathlib import Path
from types import TracebackType

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from portside.base.labels import session_id
from portside.errors import SigningError
from portside.tools import cosign

__all__ = ["TemporaryKeys", "key_hint", "load_public_key"]


def load_public_key(key: str | Path | bytes) -> ec.EllipticCurvePublicKey:
    """An ECDSA public key from a PEM file (or its bytes), as cosign writes it (``cosign.pub``)."""
    if isinstance(key, bytes):
        data = key
    else:
        try:
            data = Path(key).read_bytes()
        except OSError as exc:
            raise SigningError(f"Cannot read the public key {key}: {exc.strerror}.") from None
    if b"PRIVATE KEY" in data:
        raise SigningError("That is a private key. Verifiers only ever get the public key (cosign.pub).",
                           hint="Hand out the .pub file; keep the .key file (and its password) to yourself.")
    try:
        public = serialization.load_pem_public_key(data)
    except ValueError:
        raise SigningError("The public key is not a PEM public key (-----BEGIN PUBLIC KEY-----).") from None
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise SigningError(f"The public key is a {type(public).__name__}; cosign key pairs are ECDSA.")
    return public


def key_hint(key: str | Path | bytes | ec.EllipticCurvePublicKey) -> str:
    """How a cosign 3 bundle names the key that verifies it: base64 of the SHA-256 of the public key (DER).

    The bundle carries only this hint (``verificationMaterial.publicKey.hint``), never the key:
    a verifier must already have the public key, and the hint says which one to use.
    """
    public = key if isinstance(key, ec.EllipticCurvePublicKey) else load_public_key(key)
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


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

"""The room's signing key and tokens: what registry:2 checks, checked here with no registry."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path

import jwt
import pytest
from cryptography import x509

from portside.errors import RegistryAuthError
from portside.room.tokens import LEEWAY_SECONDS, create_signing_key, libtrust_key_id, load_signing_key, verify

SERVICE, ISSUER = "portside-room", "portside-room-tokens"
ACCESS = [{"type": "repository", "name": "learner-01/app", "actions": ["pull", "push"]}]


def test_a_token_carries_the_claims_the_registry_reads(tmp_path: Path) -> None:
    key = create_signing_key(tmp_path)
    token, claims = key.issue(subject="learner-01", access=ACCESS, service=SERVICE, issuer=ISSUER, ttl=300)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256" and header["kid"] == key.key_id
    leaf = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    assert leaf == key.certificate  # x5c is the signing certificate, base64 DER (not URL-safe)
    assert claims["aud"] == SERVICE and isinstance(claims["aud"], str)  # distribution 2.8 wants one string
    assert claims["exp"] - claims["iat"] == 300 and claims["nbf"] == claims["iat"]
    assert verify(token, key.ca_file, service=SERVICE, issuer=ISSUER)["access"] == ACCESS


def test_the_key_id_is_libtrust_s_format(tmp_path: Path) -> None:
    key = create_signing_key(tmp_path)
    assert re.fullmatch(r"([A-Z2-7]{4}:){11}[A-Z2-7]{4}", libtrust_key_id(key.key.public_key()))


def test_the_private_key_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    key = create_signing_key(tmp_path)
    assert (tmp_path / "token-signer.key").stat().st_mode & 0o077 == 0
    assert load_signing_key(tmp_path).key_id == key.key_id


def test_an_expired_token_is_refused_after_the_leeway(tmp_path: Path) -> None:
    key = create_signing_key(tmp_path)
    old, _ = key.issue(subject="learner-01", access=ACCESS, service=SERVICE, issuer=ISSUER, ttl=60,
                       now=time.time() - 60 - LEEWAY_SECONDS - 5)
    with pytest.raises(RegistryAuthError, match="expired"):
        verify(old, key.ca_file, service=SERVICE, issuer=ISSUER)
    recent, _ = key.issue(subject="learner-01", access=ACCESS, service=SERVICE, issuer=ISSUER, ttl=60,
                          now=time.time() - 90)  # expired 30 s ago: within registry:2's 60 s of skew
    assert verify(recent, key.ca_file, service=SERVICE, issuer=ISSUER)["sub"] == "learner-01"


def test_a_token_for_another_service_or_from_another_key_is_refused(tmp_path: Path) -> None:
    key = create_signing_key(tmp_path / "room")
    other = create_signing_key(tmp_path / "other")
    token, _ = key.issue(subject="learner-01", access=ACCESS, service="elsewhere", issuer=ISSUER, ttl=300)
    with pytest.raises(RegistryAuthError, match="another service"):
        verify(token, key.ca_file, service=SERVICE, issuer=ISSUER)
    forged, _ = other.issue(subject="instructor", access=ACCESS, service=SERVICE, issuer=ISSUER, ttl=300)
    with pytest.raises(RegistryAuthError, match="not issued by the room's CA"):
        verify(forged, key.ca_file, service=SERVICE, issuer=ISSUER)


def test_a_new_key_invalidates_the_old_tokens(tmp_path: Path) -> None:
    token, _ = create_signing_key(tmp_path).issue(subject="learner-01", access=ACCESS, service=SERVICE,
                                                  issuer=ISSUER, ttl=300)
    fresh = create_signing_key(tmp_path)  # what `workshop down` + `up` amounts to
    with pytest.raises(RegistryAuthError):
        verify(token, fresh.ca_file, service=SERVICE, issuer=ISSUER)

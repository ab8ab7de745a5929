"""RegistryClient against a real registry:2: discovery, manifests, digests, retagging, blobs, errors."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Iterator

import docker.errors
import pytest

from portside import engine
from portside.engine import transfer
from portside.errors import RegistryAuthError, RegistryError, RegistryUnreachable
from portside.oci.registry_client import MANIFEST_MEDIA_TYPES, RegistryClient, sha256_digest
from portside.registry.container import Registry

REPO = "course/tool"


def _image_to_push(wait: float = 90) -> str:
    """busybox:1.35 (built by another part of the course); registry:2 if it does not appear in time."""
    images = engine.client().images
    deadline = time.monotonic() + wait
    while True:
        try:
            images.get("busybox:1.35")
            return "busybox:1.35"
        except docker.errors.ImageNotFound:
            if time.monotonic() > deadline:
                return "registry:2"
            time.sleep(2)


@pytest.fixture(scope="module")
def pushed() -> Iterator[tuple[Registry, str]]:
    """A registry holding one pushed image as course/tool:1.0; yields (registry, manifest digest)."""
    with Registry() as reg:
        ref = reg.ref(REPO, "1.0")
        transfer.tag(_image_to_push(), ref)
        yield reg, transfer.push(ref, progress=False).digest


@pytest.fixture
def client(pushed: tuple[Registry, str]) -> RegistryClient:
    return pushed[0].client()


def test_ping_catalog_tags(client: RegistryClient) -> None:
    """/v2/ answers 200; the catalog lists the repository; tags list the tag; unknown repos have none."""
    assert client.ping() == 200
    assert REPO in client.catalog()
    assert "1.0" in client.tags(REPO)
    assert client.tags("no/such-repo") == []


def test_manifest_bytes_hash_to_their_digest(client: RegistryClient, pushed: tuple[Registry, str]) -> None:
    """The manifest's raw bytes hash to the digest the registry and the push reported, by tag and by digest."""
    digest = pushed[1]
    by_tag = client.manifest(REPO, "1.0")
    assert by_tag.digest == digest
    assert "sha256:" + hashlib.sha256(by_tag.raw).hexdigest() == digest
    assert by_tag.media_type in MANIFEST_MEDIA_TYPES
    assert by_tag.json()["schemaVersion"] == 2
    by_digest = client.manifest(REPO, digest)
    assert by_digest.raw == by_tag.raw
    assert client.digest(REPO, "1.0") == digest
    assert client.digest(REPO, "no-such-tag") is None


def test_missing_manifest_is_a_clear_404(client: RegistryClient) -> None:
    """Asking for a tag that does not exist names the tag and the repository."""
    with pytest.raises(RegistryError) as caught:
        client.manifest(REPO, "9.9")
    assert caught.value.status == 404
    assert "no manifest '9.9' in repository 'course/tool'" in str(caught.value)


def test_retag_without_pushing(client: RegistryClient, pushed: tuple[Registry, str]) -> None:
    """PUT of the same manifest bytes under a new tag: a new name, the same digest, no layers moved."""
    manifest = client.manifest(REPO, "1.0")
    assert client.put_manifest(REPO, "stable", manifest) == pushed[1]
    assert set(client.tags(REPO)) >= {"1.0", "stable"}
    assert client.digest(REPO, "stable") == pushed[1]


def test_blobs(client: RegistryClient) -> None:
    """The config blob downloads and hashes to its digest; a made-up digest does not exist."""
    manifest = client.manifest(REPO, "1.0").json()
    config = manifest["config"]["digest"]
    assert client.blob_exists(REPO, config)
    data = client.blob(REPO, config)
    assert sha256_digest(data) == config
    assert len(data) == manifest["config"]["size"]
    missing = sha256_digest(b"never pushed")
    assert not client.blob_exists(REPO, missing)
    with pytest.raises(RegistryError) as caught:
        client.blob(REPO, missing)
    assert caught.value.status == 404


def test_delete_by_digest_only(pushed: tuple[Registry, str]) -> None:
    """Manifests are deleted by digest: a tag is refused with a hint, a digest removes every tag on it."""
    reg = pushed[0]
    client = reg.client()
    manifest = client.manifest(REPO, "1.0")
    with pytest.raises(RegistryError) as across:
        client.put_manifest("course/doomed", "x", manifest)  # its blobs are not in that repository
    assert "does not have" in str(across.value)
    ref = reg.ref("course/doomed", "x")
    transfer.tag(_image_to_push(), ref)
    transfer.push(ref, progress=False)
    with pytest.raises(RegistryError) as caught:
        client.delete_manifest("course/doomed", "x")
    assert "by digest" in str(caught.value)
    client.delete_manifest("course/doomed", manifest.digest)
    assert client.tags("course/doomed") == []
    assert client.digest(REPO, "1.0") == manifest.digest  # other repositories are untouched


def test_delete_disabled_is_explained() -> None:
    """A registry started with delete=False answers 405; the error says how to enable deletion."""
    with Registry(delete=False) as reg:
        client = reg.client()
        ref = reg.ref("course/kept", "1")
        transfer.tag(_image_to_push(), ref)
        digest = transfer.push(ref, progress=False).digest
        with pytest.raises(RegistryError) as caught:
            client.delete_manifest("course/kept", digest)
        assert caught.value.status == 405
        assert "delete=True" in str(caught.value)


def test_unreachable_fails_fast() -> None:
    """Nothing listening: RegistryUnreachable at once (no retry sleeps), naming the URL."""
    began = time.monotonic()
    with pytest.raises(RegistryUnreachable) as caught:
        RegistryClient("http://127.0.0.1:1").catalog()
    assert time.monotonic() - began < 1
    assert "Nothing answered at http://127.0.0.1:1" in str(caught.value)


def test_a_silent_server_times_out_as_unreachable() -> None:
    """A port that accepts but never answers HTTP is reported as unreachable, not hung on."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = RegistryClient(f"http://127.0.0.1:{port}", timeout=0.5)
        began = time.monotonic()
        with pytest.raises(RegistryUnreachable) as caught:
            client.ping()
        assert time.monotonic() - began < 2
        assert "timed out" in str(caught.value)


def test_basic_auth_errors() -> None:
    """htpasswd registry: anonymous and wrong password raise RegistryAuthError fast; the right one works."""
    with Registry(users={"bob": "builder"}) as reg:
        with pytest.raises(RegistryAuthError) as anonymous:
            reg.client().tags(REPO)
        assert "requires a login" in str(anonymous.value)
        began = time.monotonic()
        with pytest.raises(RegistryAuthError) as wrong:
            RegistryClient(reg.url, username="bob", password="wrecker").catalog()
        assert time.monotonic() - began < 2
        assert "wrecker" not in str(wrong.value) and "'bob'" in str(wrong.value)
        assert reg.client("bob", "builder").tags(REPO) == []


def test_bad_url_is_refused() -> None:
    """Something that is not an http(s) URL is refused before any request."""
    with pytest.raises(RegistryError):
        RegistryClient("ftp://localhost:5000")


# -- Bearer-token auth, with a real (tiny) token service --------------------------------------------------
class _TokenService:
    """A token service as the Docker token spec describes it: Basic login in, ES256-signed JWT out.

    It runs on 127.0.0.1 in a thread; the registry only needs its certificate to verify tokens.
    """

    def __init__(self, users: dict[str, str]) -> None:
        import datetime as dt
        import http.server
        import threading

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portside token issuer")])
        now = dt.datetime.now(dt.UTC)
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(hours=1))
                     .sign(self.key, hashes.SHA256()))
        self.cert_pem = self.cert.public_bytes(serialization.Encoding.PEM)
        self.users = users
        self.requests: list[str] = []
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                service.requests.append(self.path)
                status, body = service.answer(self.path, self.headers.get("Authorization", ""))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.realm = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path: str, authorization: str) -> tuple[int, bytes]:
        import base64
        import json
        from urllib.parse import parse_qs, urlsplit

        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        if not authorization.startswith("Basic "):
            return 401, b'{"details": "login required"}'
        user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        if self.users.get(user) != password:
            return 401, b'{"details": "wrong user name or password"}'
        query = parse_qs(urlsplit(path).query)
        access = []
        for scope in query.get("scope", []):
            kind, name, actions = scope.split(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        der = self.cert.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(der).decode()]}
        now = int(time.time())
        claims = {"iss": "portside-issuer", "sub": user, "aud": query.get("service", [""])[0], "iat": now,
                  "nbf": now - 10, "exp": now + 300, "jti": str(now), "access": access}
        signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
        r, s = decode_dss_signature(self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        token = f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
        return 200, json.dumps({"token": token}).encode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_bearer_token_auth() -> None:
    """A token-auth registry: the client logs in at the token service, per scope; a wrong password fails."""
    tokens = _TokenService({"carol": "tokens-please"})
    try:
        reg = (Registry()
               .with_copy_into_container(tokens.cert_pem, "/auth/token.crt")
               .with_envs(REGISTRY_AUTH="token", REGISTRY_AUTH_TOKEN_REALM=tokens.realm,
                          REGISTRY_AUTH_TOKEN_SERVICE="portside-registry",
                          REGISTRY_AUTH_TOKEN_ISSUER="portside-issuer",
                          REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE="/auth/token.crt"))
        with reg:
            assert reg.client().ping() == 401
            client = reg.client("carol", "tokens-please")
            assert client.ping() == 200
            assert client.catalog() == []                 # scope registry:catalog:*
            assert client.tags("course/tool") == []        # scope repository:course/tool:pull: a new token
            assert any("scope=repository" in path for path in tokens.requests)
            began = time.monotonic()
            with pytest.raises(RegistryAuthError):
                reg.client("carol", "wrong").catalog()
            assert time.monotonic() - began < 2
            with pytest.raises(RegistryAuthError):
                reg.client().catalog()
    finally:
        tokens.close()

"""portside.registry.admin against real registries: users files, disk listings, fetches, the docker run line."""

from __future__ import annotations

import base64
import hashlib
import secrets
import subprocess
from collections.abc import Iterator

import bcrypt
import docker.errors
import pytest
import requests

from portside import engine
from portside.base.labels import session_id
from portside.engine import transfer
from portside.engine.identity import config_digest
from portside.errors import RegistryError
from portside.lessons.sample_images import build_image, remove_images
from portside.registry.admin import (
    blob_links,
    describe_htpasswd,
    docker_run_line,
    fetch_image,
    hash_scheme,
    htpasswd_line,
    manifest_revisions,
    stored_blobs,
    wait_for_blobs,
)
from portside.registry.container import HTPASSWD_PATH, Registry

OLD, NEW = f"portside-test/admin-app:1.0-{session_id()}", f"portside-test/admin-app:2.0-{session_id()}"


@pytest.fixture(scope="module")
def images() -> Iterator[dict[str, str]]:
    """Two sample images sharing only the busybox base layer: their local image IDs."""
    ids = {name: build_image(name, size=64 * 1024) for name in (OLD, NEW)}
    try:
        yield ids
    finally:
        remove_images([OLD, NEW])


@pytest.fixture(scope="module")
def configs(images: dict[str, str]) -> dict[str, str]:
    """The config digest of each sample image: the config blob a push uploads (its ID on the classic store only)."""
    return {name: config_digest(engine.client().images.get(image_id)) for name, image_id in images.items()}


@pytest.fixture
def registry() -> Iterator[Registry]:
    with Registry() as reg:
        yield reg


def _push(reg: Registry, source: str, version: str) -> str:
    target = reg.ref("team/app", version)
    transfer.tag(source, target)
    return transfer.push(target, progress=False).digest


# -- users files ---------------------------------------------------------------------------------------------
def test_htpasswd_lines_in_three_formats() -> None:
    password = secrets.token_urlsafe(12)
    user, hashed = htpasswd_line("alice", password).rstrip("\n").split(":", 1)
    assert user == "alice" and bcrypt.checkpw(password.encode(), hashed.encode())
    sha = htpasswd_line("bob", password, "sha1").rstrip("\n").split(":", 1)[1]
    assert sha == "{SHA}" + base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()
    apr = htpasswd_line("carol", password, "apr1").rstrip("\n").split(":", 1)[1]
    salt = apr.split("$")[2]
    again = subprocess.run(["openssl", "passwd", "-apr1", "-salt", salt, "-stdin"], input=password,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert apr == again  # the same password and salt give the same MD5-crypt hash
    with pytest.raises(RegistryError, match="no ':'"):
        htpasswd_line("a:b", password)


def test_describe_htpasswd_shows_formats_not_hashes() -> None:
    password = secrets.token_urlsafe(12)
    text = htpasswd_line("alice", password) + htpasswd_line("bob", password, "sha1") + "# comment\n\ncarol:plain\n"
    lines = describe_htpasswd(text)
    assert lines[0].startswith("alice: bcrypt ($2") and lines[0].endswith(", cost 10)")
    assert lines[1] == "bob: SHA-1 ({SHA}…)"
    assert lines[2] == "carol: crypt or plain text"
    hashes = [line.split(":", 1)[1] for line in text.splitlines() if line.startswith(("alice", "bob"))]
    assert not any(h in "\n".join(lines) for h in hashes)
    assert hash_scheme("$apr1$x$y") == "MD5 (apr1)" and hash_scheme("$6$x$y") == "SHA-512-crypt"


def test_registry_accepts_only_bcrypt() -> None:
    """A real registry with one users file in three formats: only the bcrypt user gets in."""
    password = secrets.token_urlsafe(12)
    users = htpasswd_line("alice", password) + htpasswd_line("bob", password, "sha1") + \
        htpasswd_line("carol", password, "apr1")
    reg = Registry(users={"alice": password})
    reg.with_copy_into_container(users.encode(), HTPASSWD_PATH, 0o644)
    with reg:
        statuses = {u: requests.get(f"{reg.url}/v2/", auth=(u, password), timeout=5).status_code
                    for u in ("alice", "bob", "carol")}
    assert statuses == {"alice": 200, "bob": 401, "carol": 401}


# -- the disk ------------------------------------------------------------------------------------------------
def test_disk_listings_follow_delete_and_garbage_collection(registry: Registry, images: dict[str, str],
                                                            configs: dict[str, str]) -> None:
    assert stored_blobs(registry) == set() and manifest_revisions(registry) == {} and blob_links(registry) == {}
    old = _push(registry, OLD, "1.0")
    new = _push(registry, NEW, "2.0")
    client = registry.client()
    old_blobs = fetch_image(client, "team/app", "1.0")
    new_blobs = fetch_image(client, "team/app", "2.0")
    assert old_blobs[0] == configs[OLD] and new_blobs[0] == configs[NEW]  # the config blob comes first
    if engine.uses_containerd_store():
        # the ID is the digest of the manifest the engine keeps, and the push sends that manifest unchanged
        assert (old, new) == (images[OLD], images[NEW])
        assert not {images[OLD], images[NEW]} & {*old_blobs, *new_blobs}
    else:
        # the ID is the config's digest; the manifest is written at push time
        assert (old_blobs[0], new_blobs[0]) == (images[OLD], images[NEW])
        assert not {old, new} & {images[OLD], images[NEW]}
    everything = {old, new, *old_blobs, *new_blobs}
    assert stored_blobs(registry) == everything and len(everything) == 7
    assert manifest_revisions(registry) == {"team/app": {old, new}}
    assert blob_links(registry) == {"team/app": set(old_blobs) | set(new_blobs)}

    client.delete_manifest("team/app", old)
    assert manifest_revisions(registry) == {"team/app": {new}}
    assert stored_blobs(registry) == everything  # deleting only unlinks
    registry.garbage_collect()
    assert stored_blobs(registry) == {new, *new_blobs}
    assert configs[OLD] not in stored_blobs(registry)
    assert configs[OLD] in blob_links(registry)["team/app"]  # links outlive the collection


def test_fetch_image_refuses_an_index(registry: Registry, images: dict[str, str]) -> None:
    digest = _push(registry, OLD, "1.0")
    manifest = registry.client().manifest("team/app", digest)
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [{"mediaType": manifest.media_type, "digest": digest, "size": len(manifest.raw),
                            "platform": {"architecture": "amd64", "os": "linux"}}]}
    put = requests.put(f"{registry.url}/v2/team/app/manifests/multi", json=index, timeout=5,
                       headers={"Content-Type": "application/vnd.oci.image.index.v1+json"})
    assert put.status_code == 201
    with pytest.raises(RegistryError, match="index of several platforms"):
        fetch_image(registry.client(), "team/app", "multi")


def test_wait_for_blobs(registry: Registry, configs: dict[str, str]) -> None:
    _push(registry, OLD, "1.0")
    assert wait_for_blobs(registry, [configs[OLD]], timeout=1)
    assert not wait_for_blobs(registry, ["sha256:" + "0" * 64], timeout=0.3)


def test_pull_through_cache_stores_what_it_served(images: dict[str, str]) -> None:
    with Registry() as upstream:
        _push(upstream, NEW, "2.0")
        with Registry(proxy=upstream.internal_url) as cache:
            blobs = fetch_image(cache.client(), "team/app", "2.0")
            assert wait_for_blobs(cache, blobs)
            assert set(blobs) <= stored_blobs(cache)


# -- the docker run line -------------------------------------------------------------------------------------
def test_docker_run_line_reads_the_live_container() -> None:
    password = secrets.token_urlsafe(12)
    volume = f"portside-test-admin-{secrets.token_hex(4)}"
    with Registry(users={"alice": password}, tls=True, volume=volume) as reg:
        line = docker_run_line(reg, name="my-registry")
        container = reg.get_wrapped_container()
        container.reload()
        secret = next(e.split("=", 1)[1] for e in container.attrs["Config"]["Env"]
                      if e.startswith("REGISTRY_HTTP_SECRET="))
    assert line.startswith("docker run -d \\\n  --name my-registry \\\n")
    assert f"-p 127.0.0.1:{reg.port}:5000" in line
    assert f"-v {volume}:/var/lib/registry" in line
    assert '-v "$PWD/auth":/auth:ro' in line and '-v "$PWD/certs":/certs:ro' in line
    assert "-e REGISTRY_AUTH=htpasswd" in line and "'REGISTRY_HTTP_SECRET=…'" in line
    assert secret not in line and password not in line
    assert line.endswith("  registry:2")
    with pytest.raises(docker.errors.NotFound):
        engine.client().volumes.get(volume)  # the registry made it, so stop() removed it

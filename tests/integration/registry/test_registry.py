"""The registry fixture against the real engine: life cycle, binding, push/pull, auth, TLS, storage, proxy."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import docker
import docker.errors
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from portside import engine
from portside.base.labels import COURSE, KIND
from portside.engine import transfer
from portside.errors import ImageUnavailable, PortInUse, RegistryAuthError, RegistryError
from portside.oci import credentials
from portside.registry.container import THROWAWAY_BCRYPT_ROUNDS, Registry, docker_login, docker_logout, htpasswd
from portside.registry.request_log import watch

BUSYBOX = "busybox:1.35"


def _image_to_push(wait: float = 90) -> str:
    """busybox:1.35 (built by another part of the course); registry:2 if it does not appear in time."""
    images = engine.client().images
    deadline = time.monotonic() + wait
    while True:
        try:
            images.get(BUSYBOX)
            return BUSYBOX
        except docker.errors.ImageNotFound:
            if time.monotonic() > deadline:
                return "registry:2"
            time.sleep(2)


@pytest.fixture(scope="module")
def image() -> str:
    return _image_to_push()


@pytest.fixture
def registry() -> Iterator[Registry]:
    with Registry() as reg:
        yield reg


def _local_tags() -> set[str]:
    return engine.image_names()


# -- life cycle -----------------------------------------------------------------------------------------
def test_start_and_stop_leave_nothing_behind() -> None:
    """A registry answers soon after start(); stop() removes its container (and the anonymous volume)."""
    reg = Registry()
    reg.start()
    try:
        container = reg.get_wrapped_container()
        container.reload()
        volumes = [m["Name"] for m in container.attrs["Mounts"] if m["Type"] == "volume"]
        assert container.labels[COURSE] == "true"
        assert container.labels[KIND] == "registry"
        assert reg.startup_seconds is not None
        print(f"registry ready {reg.startup_seconds:.2f} s after start()")
        assert reg.startup_seconds < 5
        assert reg.client().ping() == 200
    finally:
        reg.stop()
    cli = engine.client()
    with pytest.raises(docker.errors.NotFound):
        cli.containers.get(container.id)
    for name in volumes:
        with pytest.raises(docker.errors.NotFound):
            cli.volumes.get(name)


def test_address_is_localhost_and_bound_to_loopback_only(registry: Registry) -> None:
    """address is localhost:PORT and the engine publishes the port on 127.0.0.1 and nowhere else."""
    assert registry.address == f"localhost:{registry.port}"
    assert registry.url == f"http://localhost:{registry.port}"
    container = registry.get_wrapped_container()
    container.reload()
    bindings = container.attrs["HostConfig"]["PortBindings"]["5000/tcp"]
    published = container.attrs["NetworkSettings"]["Ports"]["5000/tcp"]
    for found in (bindings, published):
        assert found == [{"HostIp": "127.0.0.1", "HostPort": str(registry.port)}]


def test_port_in_use_is_reported() -> None:
    """A taken port raises PortInUse, whether another program or another registry holds it."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(PortInUse) as caught, Registry(port=port):
            pass
        assert str(port) in str(caught.value)
    with Registry() as first, pytest.raises(PortInUse), Registry(port=first.port):
        pass


def test_a_registry_that_crashes_is_reported_with_its_logs() -> None:
    """A registry that exits at start fails fast with its status and log lines, and leaves no container."""
    reg = Registry().with_env("REGISTRY_STORAGE", "no-such-driver")
    began = time.monotonic()
    with pytest.raises(RegistryError) as caught:
        reg.start()
    assert time.monotonic() - began < 10
    message = str(caught.value)
    assert "Container status: exited" in message
    assert "panic: StorageDriver not registered: no-such-driver" in message
    assert "goroutine" not in message  # Go stack traces are left out
    assert reg._container is None
    reg.stop()


def test_a_missing_image_is_reported() -> None:
    """An image that is neither here nor pullable raises ImageUnavailable naming it, with the next step."""
    with pytest.raises(ImageUnavailable) as caught, Registry(image="portside-test/no-such-registry:0"):
        pass
    assert "portside-test/no-such-registry:0" in str(caught.value)
    assert "portside images ensure" in str(caught.value)


# -- push and pull --------------------------------------------------------------------------------------
def test_push_pull_round_trip(registry: Registry, image: str) -> None:
    """An image pushed and pulled back is the same image; a second push finds its layers already there,
    a push to another repository of the registry mounts them from the first."""
    ref = registry.ref("course/tool", "1.0")
    transfer.tag(image, ref)
    pushed = transfer.push(ref, progress=False)
    assert pushed.digest.startswith("sha256:")
    assert pushed.size > 0
    assert pushed.layers and all(status == "Pushed" for _, status in pushed.layers)

    again = transfer.push(ref, progress=False)
    assert again.digest == pushed.digest
    assert all(status == "Layer already exists" for _, status in again.layers)

    # Which repository the engine asks the registry to mount a blob from differs by image store. The classic
    # store remembers the repositories it pushed each layer to, per registry host and port. The containerd store
    # labels each blob with the repositories it went to per host name *without the port* (so every localhost
    # registry counts) and picks the one sharing the longest path prefix with the target, the last in sorted
    # order on a tie: to "other/tool" it would offer whichever repository of some earlier localhost registry
    # sorts last, and upload when this registry has no such repository. "course/tool/copy" shares two path
    # components with "course/tool" only, so both stores mount from the repository just pushed.
    copy = registry.ref("course/tool/copy", "1.0")
    transfer.tag(image, copy)
    with watch(registry) as log:
        mounted = transfer.push(copy, progress=False)
    assert mounted.digest == pushed.digest
    assert mounted.layers and all(status.startswith("Mounted from ") and status.endswith("course/tool")
                                  for _, status in mounted.layers)
    manifest = registry.client().manifest("course/tool", "1.0").json()
    layers = [layer["digest"] for layer in manifest["layers"]]
    mounts = {r.mount: r.status for r in log.requests if r.mount}  # what the engine asked the registry to mount
    assert {digest: mounts.get(digest) for digest in layers} == dict.fromkeys(layers, 201)
    assert all(r.mount_from == "course/tool" for r in log.requests if r.mount)
    uploaded = {r.path.split("digest=")[-1] for r in log.requests if r.method == "PUT" and "/blobs/" in r.path}
    assert not uploaded & set(layers)  # no layer byte travelled again
    if engine.uses_containerd_store():  # its pusher mounts the config blob too: nothing is uploaded at all
        assert mounts.get(manifest["config"]["digest"]) == 201 and not uploaded

    cli = engine.client()
    original_id = cli.images.get(image).id
    cli.images.remove(ref)
    pulled = transfer.pull(ref, progress=False)
    assert pulled.id == original_id
    assert ref in pulled.tags
    by_digest = transfer.pull(registry.ref("course/tool", digest=pushed.digest), progress=False)
    assert by_digest.id == original_id


def test_stop_removes_only_this_registrys_tags(image: str) -> None:
    """stop() untags localhost:PORT/... images and never touches the source image's own tag."""
    with Registry() as reg:
        ref = reg.ref("course/kept", "x")
        transfer.tag(image, ref)
        transfer.push(ref, progress=False)
        assert ref in _local_tags()
    tags = _local_tags()
    assert ref not in tags
    assert image in tags
    assert not any(t.startswith(f"localhost:{reg.port}/") for t in tags)


# -- users ----------------------------------------------------------------------------------------------
def test_htpasswd_users() -> None:
    """Anonymous and wrong-password requests get RegistryAuthError quickly; the right password works."""
    with Registry(users={"alice": "wonderland"}) as reg:
        assert reg.client().ping() == 401
        with pytest.raises(RegistryAuthError) as anonymous:
            reg.client().catalog()
        assert anonymous.value.status == 401
        began = time.monotonic()
        with pytest.raises(RegistryAuthError) as wrong:
            reg.client("alice", "looking-glass").catalog()
        assert time.monotonic() - began < 2
        assert "looking-glass" not in str(wrong.value)
        assert reg.client("alice", "wonderland").catalog() == []
        assert reg.client("alice", "wonderland").ping() == 200


def test_throwaway_users_get_a_low_bcrypt_cost() -> None:
    """Course registries hash at THROWAWAY_BCRYPT_ROUNDS (test_htpasswd_users logs in with it); rounds= overrides."""
    line = htpasswd({"alice": "wonderland"}).decode()
    assert line.startswith(f"alice:$2a${THROWAWAY_BCRYPT_ROUNDS:02d}$")
    assert bcrypt.checkpw(b"wonderland", line.strip().split(":", 1)[1].encode())
    assert htpasswd({"alice": "wonderland"}, rounds=10).startswith(b"alice:$2a$10$")


def test_push_needs_a_login(image: str) -> None:
    """Pushing without credentials is refused with a message that says to log in; with them it works."""
    with Registry(users={"alice": "wonderland"}) as reg:
        ref = reg.ref("private/tool", "1")
        transfer.tag(image, ref)
        with pytest.raises(RegistryAuthError) as caught:
            transfer.push(ref, progress=False)
        assert "not logged in" in str(caught.value)
        assert transfer.push(ref, username="alice", password="wonderland", progress=False).digest


def test_docker_login_uses_the_course_config_only(image: str) -> None:
    """docker_login: a wrong password raises (never shown); a right one lands in the course config only."""
    user_config = Path.home() / ".docker" / "config.json"
    user_before = user_config.read_bytes() if user_config.exists() else None
    with Registry(users={"alice": "wonderland"}) as reg:
        with pytest.raises(RegistryAuthError) as caught:
            docker_login(reg.address, "alice", "s3cret-but-wrong")
        assert "s3cret-but-wrong" not in str(caught.value)

        docker_login(reg.address, "alice", "wonderland")
        course = credentials.config_file()
        assert Path(os.environ["DOCKER_CONFIG"]) == course.parent != Path.home() / ".docker"
        assert reg.address in json.loads(course.read_text())["auths"]
        assert reg.client().catalog() == []  # the client reads the saved course login

        ref = reg.ref("private/tool", "2")
        transfer.tag(image, ref)
        assert transfer.push(ref, progress=False).digest  # the engine gets the saved login too
        docker_logout(reg.address)
        assert reg.address not in json.loads(course.read_text()).get("auths", {})
    user_after = user_config.read_bytes() if user_config.exists() else None
    assert user_after == user_before


# -- TLS ------------------------------------------------------------------------------------------------
def test_tls(image: str) -> None:
    """With tls=True: unverified clients fail clearly, the course CA makes requests and curl work, push works."""
    with Registry(tls=True) as reg:
        assert reg.url.startswith("https://localhost:")
        assert reg.ca_file is not None and reg.ca_file.is_file()
        with pytest.raises(RegistryError) as caught:
            type(reg.client())(reg.url).ping()  # no CA given
        assert "certificate" in str(caught.value) and "ca_file" in str(caught.value)

        ref = reg.ref("secure/tool", "1")
        transfer.tag(image, ref)
        transfer.push(ref, progress=False)  # the engine allows loopback registries without trusting the CA
        assert reg.client().tags("secure/tool") == ["1"]

        url = f"{reg.url}/v2/_catalog"
        refused = subprocess.run(["curl", "-sS", url], capture_output=True, text=True, timeout=30, check=False)
        assert refused.returncode != 0
        trusted = subprocess.run(["curl", "-sS", "--cacert", str(reg.ca_file), url], capture_output=True,
                                 text=True, timeout=30, check=False)
        assert json.loads(trusted.stdout) == {"repositories": ["secure/tool"]}

        env = reg.tool_env()
        bundle = Path(env["SSL_CERT_FILE"]).read_text()
        assert reg.ca_file.read_text() in bundle and bundle.count("BEGIN CERTIFICATE") > 1
        via_env = subprocess.run(["curl", "-sS", url], capture_output=True, text=True, timeout=30, check=False,
                                 env={**os.environ, "CURL_CA_BUNDLE": env["SSL_CERT_FILE"]})
        assert via_env.returncode == 0

        server = x509.load_pem_x509_certificate((reg.ca_file.parent / "server.crt").read_bytes())
        ca = x509.load_pem_x509_certificate(reg.ca_file.read_bytes())
        assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert "localhost" in san.get_values_for_type(x509.DNSName)
        assert {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
        eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert ExtendedKeyUsageOID.SERVER_AUTH in eku
        folder = reg.ca_file.parent
    assert not folder.exists()  # the throwaway certificates go with the registry


# -- storage ------------------------------------------------------------------------------------------------
def test_delete_then_garbage_collect_frees_space(registry: Registry, image: str) -> None:
    """Deleting a manifest only unlinks it; garbage collection removes the blobs and frees the bytes."""
    ref = registry.ref("gc/tool", "1")
    transfer.tag(image, ref)
    transfer.push(ref, progress=False)
    client = registry.client()
    manifest = client.manifest("gc/tool", "1")
    blobs = [layer["digest"] for layer in manifest.json()["layers"]]
    before = registry.disk_usage()

    client.delete_manifest("gc/tool", manifest.digest)
    assert client.tags("gc/tool") == []
    assert registry.disk_usage() > before * 0.9  # unlinked, but the layer bytes are all still there

    report = registry.garbage_collect(dry_run=True)
    assert "eligible for deletion" in report
    report = registry.garbage_collect()
    assert "eligible for deletion" in report
    after = registry.disk_usage()
    assert after < before / 2
    assert not any(client.blob_exists("gc/tool", digest) for digest in blobs)


def test_volume_survives_restart(image: str) -> None:
    """With a named volume, restart() keeps port and data; the volume the registry created goes at stop()."""
    name = f"portside-test-{uuid.uuid4().hex[:8]}"
    cli = engine.client()
    with Registry(volume=name) as reg:
        ref = reg.ref("kept/tool", "1")
        transfer.tag(image, ref)
        digest = transfer.push(ref, progress=False).digest
        port, old_id = reg.port, reg.get_wrapped_container().id
        reg.restart()
        assert reg.port == port
        assert reg.get_wrapped_container().id != old_id
        assert reg.client().digest("kept/tool", "1") == digest
        assert cli.volumes.get(name).attrs["Labels"][KIND] == "registry-data"
    with pytest.raises(docker.errors.NotFound):
        cli.volumes.get(name)


def test_existing_or_kept_volume_stays(image: str) -> None:
    """A volume the registry did not create, or was asked to keep, outlives it."""
    name = f"portside-test-{uuid.uuid4().hex[:8]}"
    cli = engine.client()
    try:
        with Registry(volume=name, keep_volume=True):
            pass
        cli.volumes.get(name)
        with Registry(volume=name):  # exists already: not ours to remove
            pass
        cli.volumes.get(name)
    finally:
        cli.volumes.get(name).remove(force=True)


# -- pull-through cache -------------------------------------------------------------------------------------
def test_proxy_serves_what_the_upstream_has(image: str) -> None:
    """A registry with proxy= fetches from its upstream (another local registry) and keeps a copy."""
    with Registry() as upstream:
        ref = upstream.ref("mirror/tool", "1")
        transfer.tag(image, ref)
        digest = transfer.push(ref, progress=False).digest
        assert upstream.internal_url.startswith("http://") and ":5000" in upstream.internal_url
        with Registry(proxy=upstream.internal_url) as cache:
            assert cache.client().digest("mirror/tool", "1") == digest
            pulled = transfer.pull(cache.ref("mirror/tool", "1"), progress=False)
            assert pulled.id == engine.client().images.get(image).id

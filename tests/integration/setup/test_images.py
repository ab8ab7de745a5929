"""The course images exist after ``ensure()``, stand-ins say what they are, and they behave like the originals.

Everything runs against the real engine: the images are ensured once per module
(offline, so nothing is pulled; built only if missing), containers are labelled,
bound to 127.0.0.1 and removed with their anonymous volumes.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urljoin

import bcrypt
import pytest
import requests
from docker.models.containers import Container

from portside.base.labels import STANDIN, course_labels
from portside.engine.daemon import client
from portside.errors import ImageUnavailable
from portside.setup import images
from portside.setup.standins import rootfs

pytestmark = pytest.mark.slow

NOT_IN_CATALOGUE = "portside.invalid/never-pulled:0"  # .invalid never resolves: a pull fails at once


@pytest.fixture(scope="module")
def course_images() -> dict[str, images.ImageStatus]:
    """Every catalogue image, present (built here if it was missing; never pulled)."""
    return {s.name: s for s in images.ensure(offline=True, progress=False, say=lambda _: None)}


def run(image: str, *command: str) -> str:
    """Run ``command`` in a throwaway, network-less container of ``image``; return its output."""
    output = client().containers.run(image, list(command), remove=True, network_mode="none",
                                     labels=course_labels("test-images"))
    return bytes(output).decode()


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@contextmanager
def registry(environment: dict[str, str] | None = None,
             files: dict[str, bytes] | None = None) -> Iterator[tuple[Container, str]]:
    """A ``registry:2`` container on a random 127.0.0.1 port (``files`` copied in before start)."""
    container = client().containers.create("registry:2", environment=environment or {},
                                           ports={"5000/tcp": ("127.0.0.1", None)},
                                           labels=course_labels("test-registry"))
    try:
        if files:
            container.put_archive("/", _tar(files))
        container.start()
        container.reload()
        url = f"http://127.0.0.1:{container.ports['5000/tcp'][0]['HostPort']}"
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"{url}/v2/", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"registry did not answer:\n{container.logs().decode()[-2000:]}") from None
                time.sleep(0.1)
        yield container, url
    finally:
        container.remove(force=True, v=True)


def upload_blob(url: str, repository: str) -> str:
    """Upload a small random blob (POST then PUT, as the distribution API says); return its digest."""
    data = uuid.uuid4().bytes * 64
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    started = requests.post(f"{url}/v2/{repository}/blobs/uploads/", timeout=10)
    assert started.status_code == 202, started.text
    location = urljoin(url, started.headers["Location"])
    done = requests.put(location + ("&" if "?" in location else "?") + f"digest={digest}", data=data, timeout=10,
                        headers={"Content-Type": "application/octet-stream"})
    assert done.status_code == 201, done.text
    return digest


def blob_path(digest: str) -> str:
    hex_ = digest.removeprefix("sha256:")
    return f"/var/lib/registry/docker/registry/v2/blobs/sha256/{hex_[:2]}/{hex_}"


# --- presence and labels -----------------------------------------------------------------------------------


def test_every_catalogue_image_is_present(course_images: dict[str, images.ImageStatus]) -> None:
    """ensure() leaves each catalogue image on the engine, with an id and a size."""
    assert list(course_images) == list(images.CATALOGUE)
    for status in course_images.values():
        assert status.state in ("pulled", "stand-in")
        assert status.image_id and status.image_id.startswith("sha256:")
        assert status.size and status.size > 0


@pytest.mark.parametrize("name", list(images.CATALOGUE))
def test_stand_ins_say_what_they_were_built_from(course_images: dict[str, images.ImageStatus], name: str) -> None:
    """A stand-in carries org.portside.standin=true and OCI labels naming its Debian packages."""
    status = course_images[name]
    if status.state == "pulled":
        pytest.skip(f"{name} is the official image here, not a stand-in")
    labels: dict[str, Any] = client().images.get(name).labels
    assert labels[STANDIN] == "true"
    assert "built from Debian archive by Portside" in labels["org.opencontainers.image.description"]
    assert labels["org.opencontainers.image.version"]
    assert labels["org.opencontainers.image.source"].startswith("Debian 12 (bookworm) package ")
    assert status.source == labels["org.opencontainers.image.source"]
    packages = dict(item.split("=", 1) for item in labels["org.portside.standin.packages"].split())
    assert labels["org.opencontainers.image.version"] in packages.values()


def test_status_and_table_list_the_catalogue(course_images: dict[str, images.ImageStatus]) -> None:
    """status() reports the same images as ensure(); format_table prints one row each."""
    statuses = images.status()
    assert [(s.name, s.image_id) for s in statuses] == [(s.name, s.image_id) for s in course_images.values()]
    table = images.format_table(statuses).splitlines()
    assert table[0].split()[:4] == ["image", "state", "size", "id"]
    assert len(table) == 1 + len(images.CATALOGUE)


# --- the stand-ins behave like the originals ---------------------------------------------------------------


def test_registry_serves_the_v2_api(course_images: dict[str, images.ImageStatus]) -> None:
    """registry:2 answers /v2/ with 200 and the distribution API version header."""
    with registry() as (_, url):
        answer = requests.get(f"{url}/v2/", timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Docker-Distribution-Api-Version"] == "registry/2.0"


def test_registry_deletes_are_off_unless_enabled(course_images: dict[str, images.ImageStatus]) -> None:
    """Like upstream, DELETE is refused (405) by default; REGISTRY_STORAGE_DELETE_ENABLED=true allows it."""
    with registry() as (_, url):
        digest = upload_blob(url, "test/blobs")
        assert requests.delete(f"{url}/v2/test/blobs/blobs/{digest}", timeout=5).status_code == 405
    with registry({"REGISTRY_STORAGE_DELETE_ENABLED": "true"}) as (_, url):
        digest = upload_blob(url, "test/blobs")
        assert requests.delete(f"{url}/v2/test/blobs/blobs/{digest}", timeout=5).status_code == 202


def test_registry_garbage_collect_runs_through_exec(course_images: dict[str, images.ImageStatus]) -> None:
    """`registry garbage-collect` (docker exec) sweeps a blob no manifest references; du works too."""
    with registry() as (container, url):
        digest = upload_blob(url, "test/gc")
        assert container.exec_run(["ls", blob_path(digest)]).exit_code == 0
        code, output = container.exec_run(["registry", "garbage-collect", "/etc/docker/registry/config.yml"])
        assert code == 0, output.decode()
        assert f"blob eligible for deletion: {digest}" in output.decode()
        assert container.exec_run(["ls", blob_path(digest)]).exit_code != 0
        code, output = container.exec_run(["du", "-s", "/var/lib/registry"])
        assert code == 0 and output.split()[0].isdigit()


def test_registry_htpasswd_auth(course_images: dict[str, images.ImageStatus]) -> None:
    """REGISTRY_AUTH=htpasswd with a bcrypt file: no or wrong credentials get 401, the right ones 200."""
    hashed = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=5))
    environment = {"REGISTRY_AUTH": "htpasswd", "REGISTRY_AUTH_HTPASSWD_REALM": "Portside test",
                   "REGISTRY_AUTH_HTPASSWD_PATH": "/auth/htpasswd"}
    with registry(environment, {"auth/htpasswd": b"learner:" + hashed + b"\n"}) as (_, url):
        anonymous = requests.get(f"{url}/v2/", timeout=5)
        wrong = requests.get(f"{url}/v2/", auth=("learner", "nope"), timeout=5)
        right = requests.get(f"{url}/v2/", auth=("learner", "s3cret"), timeout=5)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith('Basic realm="Portside test"')
    assert wrong.status_code == 401
    assert right.status_code == 200


def test_busybox_runs_a_shell(course_images: dict[str, images.ImageStatus]) -> None:
    """busybox:1.35 runs `sh -c 'echo ok'` and is BusyBox 1.35."""
    assert run("busybox:1.35", "sh", "-c", "echo ok") == "ok\n"
    assert run("busybox:1.35", "busybox").startswith("BusyBox v1.35")


def test_python_image_runs_python_and_pip(course_images: dict[str, images.ImageStatus]) -> None:
    """python:3.11-slim-bookworm: python is 3.11, pip runs, and `pip install` works as in the official image."""
    assert run("python:3.11-slim-bookworm", "python", "-c", "import sys; print(sys.version)").startswith("3.11")
    assert "(python 3.11)" in run("python:3.11-slim-bookworm", "pip", "--version")
    script = (
        "mkdir /tmp/hello && cd /tmp/hello && echo 'x = 42' > hello.py && "
        "printf 'from setuptools import setup\\nsetup(name=\"hello\", version=\"1\", py_modules=[\"hello\"])\\n'"
        " > setup.py && pip install -q --no-index --no-build-isolation . 2>/dev/null && cd / && "
        "python -c 'import hello; print(hello.x)'"
    )
    assert run("python:3.11-slim-bookworm", "sh", "-c", script).strip() == "42"


def test_debian_image_is_debian_12(course_images: dict[str, images.ImageStatus]) -> None:
    """debian:bookworm-slim has /etc/debian_version starting with 12."""
    assert run("debian:bookworm-slim", "cat", "/etc/debian_version").startswith("12")


@pytest.mark.parametrize("name", ["debian:bookworm-slim", "python:3.11-slim-bookworm"])
def test_stand_in_holds_exactly_the_packages_its_recipe_names(course_images: dict[str, images.ImageStatus],
                                                              name: str) -> None:
    """The package set is the recipe: the same names on every Debian 12 machine (versions move with the archive)."""
    if course_images[name].state != "stand-in":
        pytest.skip(f"{name} was pulled, not built here")
    expected = set(rootfs.debian_packages())
    if name.startswith("python"):
        expected |= set(rootfs.python_packages())
    installed = set(run(name, "dpkg-query", "-W", "-f=${Package}\\n").split())
    assert installed - expected == set(), "packages the recipe does not name (a hook skipped? Recommends?)"
    assert expected - installed == set(), "packages the recipe names but the image lacks"
    assert "usrmerge" not in installed and "perl" not in installed  # merged /usr by mmdebstrap's hook, as upstream


# --- ensure(): warm runs and offline mode ------------------------------------------------------------------


def test_warm_ensure_is_fast_and_builds_nothing(course_images: dict[str, images.ImageStatus]) -> None:
    """With every image present, ensure() takes < 2 s, says nothing and changes no image id."""
    said: list[str] = []
    start = time.monotonic()
    again = images.ensure(progress=False, say=said.append)
    assert time.monotonic() - start < 2
    assert said == []
    assert {s.name: s.image_id for s in again} == {s.name: s.image_id for s in course_images.values()}


def test_offline_never_pulls(course_images: dict[str, images.ImageStatus]) -> None:
    """Offline, an image neither present nor in the catalogue fails at once, without a pull attempt."""
    said: list[str] = []
    start = time.monotonic()
    with pytest.raises(ImageUnavailable) as caught:
        images.ensure([NOT_IN_CATALOGUE], offline=True, say=said.append)
    assert time.monotonic() - start < 1
    assert NOT_IN_CATALOGUE in str(caught.value) and "offline" in str(caught.value)
    assert "no stand-in recipe" in str(caught.value)
    assert not any("pull" in line for line in said)
    assert images.status([NOT_IN_CATALOGUE])[0].state == "missing"


def test_offline_mode_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """PORTSIDE_OFFLINE=1 means offline when ensure() is not told otherwise."""
    monkeypatch.setenv("PORTSIDE_OFFLINE", "1")
    assert images.offline_from_env()
    with pytest.raises(ImageUnavailable, match="offline mode"):
        images.ensure([NOT_IN_CATALOGUE], say=lambda _: None)
    monkeypatch.setenv("PORTSIDE_OFFLINE", "no")
    assert not images.offline_from_env()


def test_failed_pull_without_recipe_is_a_clear_error() -> None:
    """Online, a name that cannot be pulled and has no recipe raises ImageUnavailable naming both facts."""
    with pytest.raises(ImageUnavailable) as caught:
        images.ensure([NOT_IN_CATALOGUE], offline=False, progress=False, say=lambda _: None)
    message = str(caught.value)
    assert "`docker pull` failed" in message and "no stand-in recipe" in message
    assert "registry:2" in message  # the hint lists the course images

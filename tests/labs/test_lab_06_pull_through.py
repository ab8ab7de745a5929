"""Lab 06's task 4, a pull-through cache for the room, proven both ways against the real engine and registries.

Each test starts from tasks 1–3 solved (``team/app:1.0`` in the lab's registry). The Python way
(:func:`run_cache`, :func:`fresh_pull` twice) and the CLI way (``docker run … registry:2`` with the lab's
cache labels, ``crane pull`` twice) pass. Known-bad states fail their own requirement with its first hint, and
the next hint when checked again: no cache; a cache without the lab's labels; a plain registry where the cache
belongs; an upstream at ``localhost`` (the cache stops at once); a cache of another registry that holds a copy
of the release; a mirror of a registry without it; ``docker pull`` on the machine that built the image (no
layer travels); a push to the cache (refused); one pull only; two pulls at the same moment (both reach the
upstream, a third is served from the cache's disk). What the registries did is read here from their own access
logs and disks (``docker logs``, ``docker exec … find``), not through the lab's code. Reset and close remove
the cache, its data and the local names of its port.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import docker.errors
import docker.models.containers
import pytest
import requests
from labtools import fails_with_hints

from portside import engine
from portside.base.labels import course_labels
from portside.base.proc import Result, run
from portside.engine import provided
from portside.engine.build import buildx
from portside.engine.daemon import uses_containerd_store
from portside.errors import RegistryError
from portside.labs import LabSession
from portside.labs import lab06_team_builds as lab06
from portside.labs.context import ROLE_LABEL, find_container, lab_containers
from portside.registry import Registry
from portside.registry.admin import wait_for_blobs
from portside.registry.ports import free_port
from portside.registry.request_log import Request, parse_access_log
from portside.tools import install

SLUG = lab06.LAB.slug
REPO, TAG = lab06.REPO, lab06.TAG
_ACCEPT = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"
NO_CACHE = "no pull-through cache of the lab runs yet"


@pytest.fixture(autouse=True)
def _containerd_store() -> None:
    """The lab needs the containerd image store (its tasks 1–3 export a registry build cache)."""
    if not uses_containerd_store():
        pytest.skip("lab 06 needs the engine's containerd image store")


@pytest.fixture
def released(lab: LabSession) -> LabSession:
    """The lab with tasks 1–3 solved: team/app:1.0 (small, pinned, with its build cache) in the lab's registry."""
    forwarded = lab.fast_forward(4)
    assert forwarded.passed, repr(forwarded)
    return lab


# -- helpers ---------------------------------------------------------------------------------------------------
def _docker(*args: str, check: bool = True) -> Result:
    """Run the docker CLI as a learner's `!docker …` cell does: the course's CLI, client config and engine."""
    buildx()  # the course's DOCKER_CONFIG and DOCKER_HOST, as `import portside` sets them
    return run([provided.docker_cli(), *args], timeout=300, check=check, what=f"docker {args[0]}")


def _crane(*args: str) -> None:
    run([install.path("crane"), *args], timeout=300, what=f"crane {args[0]}")


def _registry() -> docker.models.containers.Container:
    container = find_container(SLUG)
    assert container is not None
    return container


def _ip(container: docker.models.containers.Container) -> str:
    container.reload()
    return str(next(iter(container.attrs["NetworkSettings"]["Networks"].values()))["IPAddress"])


def _access(container: docker.models.containers.Container) -> list[tuple[str, Request]]:
    """(client address, request) for each line of the container's access log, read with plain `docker logs`.

    Read until it stops growing: a registry writes a request's line once it has answered it.
    """

    def read() -> list[tuple[str, Request]]:
        lines = container.logs(stdout=True, stderr=True).decode("utf-8", "replace").splitlines()
        return [(line.split(" ", 1)[0], request) for line in lines for request in parse_access_log(line)]

    seen = read()
    while True:
        time.sleep(0.3)
        again = read()
        if len(again) == len(seen):
            return again
        seen = again


def _stored(container: docker.models.containers.Container) -> set[str]:
    """The digests of the blob files on the registry's disk (`find … -name data`)."""
    found = container.exec_run(["busybox", "find", "/var/lib/registry", "-name", "data", "-type", "f"])
    return {f"sha256:{line.split('/')[-2]}" for line in found.output.decode().splitlines() if "/sha256/" in line}


def _get(port: int, path: str) -> Any:
    response = requests.get(f"http://localhost:{port}/v2/{path}", headers={"Accept": _ACCEPT}, timeout=30)
    response.raise_for_status()
    return response.json()


def _release(lab: LabSession) -> tuple[list[str], list[str]]:
    """team/app:1.0 in the lab's registry, over plain HTTP: (index and image manifest digests, config and layers)."""
    port = lab.context.port
    index = requests.head(f"http://localhost:{port}/v2/{REPO}/manifests/{TAG}", headers={"Accept": _ACCEPT},
                          timeout=30).headers["Docker-Content-Digest"]
    entry = next(m for m in _get(port, f"{REPO}/manifests/{TAG}")["manifests"] if m["platform"]["os"] != "unknown")
    manifest = _get(port, f"{REPO}/manifests/{entry['digest']}")
    return [index, entry["digest"]], [manifest["config"]["digest"], *(layer["digest"] for layer in manifest["layers"])]


def _answering(port: int) -> None:
    """Wait until the registry on ``port`` answers (a learner's next cell comes a moment after `docker run`)."""
    deadline = time.monotonic() + 15
    while True:
        try:
            if requests.get(f"http://localhost:{port}/v2/", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, f"nothing answers on port {port}"
        time.sleep(0.1)


def _docker_run_cache(lab: LabSession, *, upstream: str | None, labels: dict[str, str] | None = None,
                      name: str | None = None) -> tuple[docker.models.containers.Container, int]:
    """`docker run -d --name … --label … [-e REGISTRY_PROXY_REMOTEURL=…] -p 127.0.0.1:PORT:5000 registry:2`."""
    port = free_port()
    if labels is None:  # the way the notebook shows it: the helper's option string
        options = lab06.cache_label_options(lab).split()
    else:
        options = [f"--label={key}={value}" for key, value in labels.items()]
    env = ["-e", f"REGISTRY_PROXY_REMOTEURL={upstream}"] if upstream else []
    started = _docker("run", "-d", "--name", name or lab06.cache_name(lab), *options, *env,
                      "-p", f"127.0.0.1:{port}:5000", "registry:2")
    return engine.client().containers.get(started.stdout.strip()), port


def _exited(container: docker.models.containers.Container) -> None:
    deadline = time.monotonic() + 15
    while container.status in ("created", "running"):
        assert time.monotonic() < deadline, "the cache did not stop"
        time.sleep(0.1)
        container.reload()


def _caches() -> list[docker.models.containers.Container]:
    return [c for c in lab_containers(SLUG) if (c.labels or {}).get(ROLE_LABEL)]


def _local_names(port: int) -> list[str]:
    return [tag for image in engine.list_images() for tag in engine.listed_tags(image)
            if tag.startswith(f"localhost:{port}/")]


# -- the good solutions ------------------------------------------------------------------------------------------
def test_the_python_way_passes(released: LabSession) -> None:
    """run_cache and fresh_pull twice: the first pull reaches the lab's registry, the second asks it for no blob."""
    lab = released
    cache = lab06.run_cache(lab)
    through = cache.ref(REPO, TAG)
    manifests, blobs = _release(lab)
    registry, cache_ip = _registry(), _ip(cache.get_wrapped_container())
    assert not [r for client, r in _access(registry) if client == cache_ip and "/blobs/" in r.path]

    lab06.fresh_pull(through)
    first = [r for client, r in _access(registry) if client == cache_ip]
    # registry:2 2.8 fetches a blob it lacks twice: once for the client, once (in the background) for its disk
    assert sorted(r.path for r in first if r.method == "GET" and "/blobs/" in r.path) \
        == sorted(f"/v2/{REPO}/blobs/{blob}" for blob in blobs for _ in range(2))
    assert set(manifests + blobs) <= _stored(cache.get_wrapped_container())
    report = lab.check(4)
    assert [r.passed for r in report.task(4).results] == [True, True, True, False], repr(report)

    lab06.fresh_pull(through)
    second = [r for client, r in _access(registry) if client == cache_ip][len(first):]
    assert not [r for r in second if "/blobs/" in r.path]  # every blob came from the cache's disk
    assert {r.method for r in second if "/manifests/" in r.path} == {"HEAD"}  # only: is 1.0 still that manifest?
    report = lab.check()
    assert report.passed, repr(report)
    assert lab06.cache_traffic(lab) == (f"each blob of {REPO}:{TAG}: served by the cache 2 times, 1 of them from its "
                                        "own disk; sent to the cache by the lab's registry 2 times")


def test_the_cli_way_passes(released: LabSession, tmp_path: Path) -> None:
    """`docker run … registry:2` with the lab's cache labels and REGISTRY_PROXY_REMOTEURL, then `crane pull` twice."""
    lab = released
    container, port = _docker_run_cache(lab, upstream=lab06.upstream_url(lab))
    _answering(port)
    manifests, blobs = _release(lab)
    _crane("pull", f"localhost:{port}/{REPO}:{TAG}", str(tmp_path / "pull-1.tar"))
    assert wait_for_blobs(container, manifests + blobs)  # the learner's next cell runs a moment later
    _crane("pull", f"localhost:{port}/{REPO}:{TAG}", str(tmp_path / "pull-2.tar"))
    report = lab.check(4)
    assert report.passed, repr(report)
    assert lab.context.port != port  # the lab still finds its registry, not the cache


# -- known-bad states --------------------------------------------------------------------------------------------
def test_no_cache(released: LabSession) -> None:
    report = released.check(4)
    details = [r.detail for r in report.task(4).results]
    assert details[1:] == [NO_CACHE] * 3, details
    fails_with_hints(released, lab06.CACHE_RUNS, 4,
                     "no container carries the lab's cache labels: no pull-through cache runs for it")


def test_a_cache_without_the_labs_labels(released: LabSession) -> None:
    """A right cache started without the labels: the lab does not take it for its own, and says why."""
    lab = released
    name = f"portside-test-stray-cache-{course_labels('x')['org.portside.session']}"
    container, _ = _docker_run_cache(lab, upstream=lab06.upstream_url(lab), labels=course_labels("test-stray"),
                                     name=name)
    try:
        fails_with_hints(lab, lab06.CACHE_RUNS, 4,
                         f"a cache of the lab's registry runs as {name}, but without the lab's labels: the lab cannot "
                         f"find it, nor remove it on reset (`docker rm -f -v {name}`, then start it again with "
                         "cache_label_options(lab))")
        assert lab.check(4).requirement(lab06.CACHE_UPSTREAM.name).detail == NO_CACHE
    finally:
        container.remove(force=True, v=True)


def test_a_plain_registry_is_no_cache(released: LabSession) -> None:
    """The cache's labels on a registry:2 started without an upstream: it runs, as an ordinary registry."""
    container, _ = _docker_run_cache(released, upstream=None)
    assert "proxy cache" not in container.logs().decode()
    report = released.check(4)
    assert report.requirement(lab06.CACHE_UPSTREAM.name).detail \
        == f"{container.name} is no cache, so it has no upstream"
    fails_with_hints(released, lab06.CACHE_RUNS, 4,
                     f"{container.name} runs as a plain registry, not a cache: its configuration names no upstream "
                     "(proxy.remoteurl in config.yml, or REGISTRY_PROXY_REMOTEURL)")


def test_an_upstream_at_localhost(released: LabSession) -> None:
    """REGISTRY_PROXY_REMOTEURL=http://localhost:PORT: inside the container that is the cache; registry:2 2.8 stops."""
    lab = released
    upstream = f"http://localhost:{lab.context.port}"
    container, _ = _docker_run_cache(lab, upstream=upstream)
    _exited(container)
    panic = next(line for line in container.logs().decode().splitlines() if line.startswith("panic: "))
    assert panic.startswith(f'panic: Get "{upstream}/v2/": dial tcp ') and "connection refused" in panic
    fails_with_hints(lab, lab06.CACHE_RUNS, 4,
                     f"the cache container {container.name} is not running (exited); it stopped with {panic} "
                     "(registry:2 stops at once when its upstream does not answer)")
    fails_with_hints(lab, lab06.CACHE_UPSTREAM, 4,
                     f"the cache's upstream is {upstream}: inside the cache's container, localhost is the cache "
                     f"itself; the lab's registry is at http://{_ip(_registry())}:5000")


def test_a_cache_of_another_registry(released: LabSession) -> None:
    """The cache mirrors the team's old registry, which holds a copy of the release: the pulls work, from there."""
    lab = released
    old = Registry().start()
    try:
        _crane("copy", lab.context.ref(REPO, TAG), old.ref(REPO, TAG))
        cache = lab06.run_cache(lab, upstream=old.internal_url)
        lab06.fresh_pull(cache.ref(REPO, TAG))
        lab06.fresh_pull(cache.ref(REPO, TAG))
        report = lab.check(4)
        assert report.requirement(lab06.CACHE_HOLDS.name).passed  # the same digests, from the other registry
        _, blobs = _release(lab)
        assert report.requirement(lab06.SERVED.name).detail == (
            f"the lab's registry never sent {len(blobs)} of the {len(blobs)} blobs of {REPO}:{TAG} to the cache: it "
            "got them from another upstream")
        fails_with_hints(lab, lab06.CACHE_UPSTREAM, 4,
                         f"the cache's upstream is {old.internal_url}: that is not the lab's registry; the lab's "
                         f"registry is at {lab06.upstream_url(lab)}")
    finally:
        old.stop()


def test_a_mirror_of_a_registry_without_the_release(released: LabSession) -> None:
    """A cache of an empty registry: a pull through it gets 404, and the checker says where the cache points."""
    lab = released
    empty = Registry().start()
    try:
        cache = lab06.run_cache(lab, upstream=empty.internal_url)
        with pytest.raises(RegistryError, match=f"There is no manifest '{TAG}' in repository '{REPO}'"):
            lab06.fresh_pull(cache.ref(REPO, TAG))
        report = lab.check(4)
        assert report.requirement(lab06.CACHE_HOLDS.name).detail \
            == f"the cache holds nothing of {REPO}:{TAG}: it was never pulled through it"
        assert report.requirement(lab06.CACHE_UPSTREAM.name).detail.startswith(
            f"the cache's upstream is {empty.internal_url}: that is not the lab's registry")
    finally:
        empty.stop()


def test_docker_pull_on_the_building_machine_moves_no_layer(released: LabSession) -> None:
    """`docker pull` through the cache, twice: the engine has every layer, so it asks for the manifest only."""
    lab = released
    cache = lab06.run_cache(lab)
    through = cache.ref(REPO, TAG)
    _docker("pull", through)
    _docker("pull", through)
    asked = _access(cache.get_wrapped_container())
    assert [r.method for _, r in asked if "/manifests/" in r.path] == ["HEAD", "HEAD"]
    assert not [r for _, r in asked if "/blobs/" in r.path]
    manifests, blobs = _release(lab)
    stored = _stored(cache.get_wrapped_container())
    assert manifests[0] in stored and not set(blobs) & stored  # the cache fetched the index for the HEAD, only it
    assert lab.check(4).requirement(lab06.SERVED.name).detail \
        == f"no pull through the cache has downloaded every blob of {REPO}:{TAG} yet"
    fails_with_hints(lab, lab06.CACHE_HOLDS, 4,
                     f"the cache holds {REPO}:{TAG}'s manifest but none of its layers: no pull through it downloaded "
                     f"them — the engine on this machine built {REPO}:{TAG} and has every layer, so `docker pull` "
                     "only asks for the manifest")


def test_pushing_to_the_cache_is_refused(released: LabSession) -> None:
    """`docker push` of the release to the cache as team/app:1.1, a tag its upstream lacks: 405 Unsupported.

    (Pushed as 1.0 the push "succeeds" and sends nothing: the cache answers every HEAD from its upstream,
    which has that very image.) The engine first asks whether each layer and manifest exists (HEAD by
    digest), and registry:2 2.8 serves a HEAD like a GET: it fetches and stores each of them. What it never
    gets is the tag 1.0, so the index 1.0 names is the one thing missing.
    """
    lab = released
    cache = lab06.run_cache(lab)
    _docker("tag", lab.context.ref(REPO, TAG), cache.ref(REPO, "1.1"))
    pushed = _docker("push", cache.ref(REPO, "1.1"), check=False)
    assert not pushed.ok and "unsupported" in (pushed.stdout + pushed.stderr)
    asked = _access(cache.get_wrapped_container())
    refused = [r for _, r in asked if r.method in ("POST", "PUT", "PATCH")]
    assert refused and {r.status for r in refused} == {405}
    manifests, blobs = _release(lab)
    assert wait_for_blobs(cache.get_wrapped_container(), [manifests[1], *blobs])
    assert manifests[0] not in _stored(cache.get_wrapped_container())
    assert lab.check(4).requirement(lab06.SERVED.name).detail \
        == f"no pull through the cache has downloaded every blob of {REPO}:{TAG} yet"
    fails_with_hints(lab, lab06.CACHE_HOLDS, 4,
                     f"1 of the {len(manifests) + len(blobs)} manifests and blobs of {REPO}:{TAG} is "
                     f"not in the cache; it refused {len(refused)} push request(s) with 405 Unsupported: a "
                     "pull-through cache fills itself from its upstream on a pull, and takes no push")


def test_one_pull_is_not_enough(released: LabSession) -> None:
    """One pull fills the cache; only the next one shows the cache serving from its disk."""
    lab = released
    cache = lab06.run_cache(lab)
    lab06.fresh_pull(cache.ref(REPO, TAG))
    report = lab.check(4)
    assert [r.passed for r in report.task(4).results] == [True, True, True, False], repr(report)
    fails_with_hints(lab, lab06.SERVED, 4,
                     f"{REPO}:{TAG} was pulled through the cache once: that pull filled the cache from the upstream; "
                     "the next one is the pull it serves from its own disk")


def test_two_pulls_at_once_both_reach_the_upstream(released: LabSession) -> None:
    """Two runners pull at the same moment: the second finds the blobs still being stored and fetches them too.

    A third pull, once the cache has stored everything, is served from its disk.
    """
    lab = released
    cache = lab06.run_cache(lab)
    through = cache.ref(REPO, TAG)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lab06.fresh_pull, [through, through]))
    _, blobs = _release(lab)
    biggest = max(_get(lab.context.port, f"{REPO}/manifests/{_release(lab)[0][1]}")["layers"],
                  key=lambda layer: layer["size"])["digest"]
    sent = [r for client, r in _access(_registry()) if client == _ip(cache.get_wrapped_container())
            and r.method == "GET" and r.path == f"/v2/{REPO}/blobs/{biggest}"]
    assert len(sent) == 3  # the first pull's two fetches (for it, for the disk) and the second pull's own
    result = lab.check(4).requirement(lab06.SERVED.name)
    found = re.fullmatch(rf"(\d+) of the {len(blobs)} blobs of {REPO}:{TAG} were fetched from the upstream on each of "
                         "the 2 pulls: the later pulls began before the cache had stored what the first one fetched",
                         result.detail)
    assert not result.passed and found and int(found.group(1)) >= 1, result.detail
    lab06.fresh_pull(through)
    report = lab.check(4)
    assert report.passed, repr(report)


# -- reset and close -----------------------------------------------------------------------------------------------
def test_reset_and_close_remove_the_cache(released: LabSession) -> None:
    """The cache is the lab's: reset and close remove it, its data volume and the local names of its port."""
    lab = released
    cache = lab06.run_cache(lab)
    _docker("pull", cache.ref(REPO, TAG))
    assert _local_names(cache.port) == [cache.ref(REPO, TAG)]
    volume = next(m["Name"] for m in cache.get_wrapped_container().attrs["Mounts"] if m["Type"] == "volume")
    assert lab.context.port != cache.port  # the lab's context is its registry, never the cache

    lab.reset()
    assert _caches() == [] and _local_names(cache.port) == []
    with pytest.raises(docker.errors.NotFound):
        engine.client().volumes.get(volume)
    assert [c.name for c in lab_containers(SLUG)] == [_registry().name]

    container, port = _docker_run_cache(lab, upstream=lab06.upstream_url(lab))
    assert _caches() and lab.context.port != port
    lab.close()
    assert lab_containers(SLUG) == []
    with pytest.raises(docker.errors.NotFound):
        engine.client().containers.get(container.id)

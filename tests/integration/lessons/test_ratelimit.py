"""lessons.ratelimit for real: the stand-in in its container counts manifest GETs (not HEADs), sends Docker Hub's
headers, answers 429 once the allowance is spent, counts another identity apart, and a pull-through cache in front
of it absorbs a room; everything is removed afterwards."""

from __future__ import annotations

import os
import subprocess

import pytest
import requests

from portside import engine
from portside.base.labels import SESSION, session_id
from portside.base.paths import docker_config_dir
from portside.engine.provided import docker_cli
from portside.errors import RegistryAuthError
from portside.lessons.ratelimit import LIMIT_MESSAGE, RateLimitedHub
from portside.oci.registry_client import MANIFEST_MEDIA_TYPES
from portside.registry import admin
from portside.tools import install

IMAGES = ("workshop/step-01", "workshop/step-02", "workshop/step-03")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """A CLI (the course's docker, or crane) with the course's own Docker config, never ~/.docker."""
    env = {**os.environ, "DOCKER_CONFIG": str(docker_config_dir())}
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120, env=env)


def _course_leftovers() -> list[str]:
    cli = engine.client()
    labels = {"label": [f"{SESSION}={session_id()}"]}
    return ([c.name for c in cli.containers.list(all=True, filters=labels)]
            + [n.name for n in cli.networks.list(filters=labels)])


def _manifest(hub: RateLimitedHub, method: str, repository: str, token: str) -> requests.Response:
    return requests.request(method, f"{hub.url}/v2/{repository}/manifests/1.0", timeout=10,
                            headers={"Authorization": f"Bearer {token}", "Accept": ", ".join(MANIFEST_MEDIA_TYPES)})


def test_gets_count_heads_do_not_and_the_spent_allowance_is_answered_429_like_docker_hub() -> None:
    with RateLimitedHub(anonymous=3, authenticated=5, window=600, users={"ci-bot": "pat-123"}) as hub:
        hub.publish_sample(IMAGES[0])
        token = hub.token(repository=IMAGES[0])
        head = _manifest(hub, "HEAD", IMAGES[0], token)
        assert head.status_code == 200
        assert head.headers["ratelimit-limit"] == "3;w=600"
        assert head.headers["ratelimit-remaining"] == "3;w=600"  # a HEAD is a version check: free
        remaining = [_manifest(hub, "GET", IMAGES[0], token).headers["ratelimit-remaining"] for _ in range(3)]
        assert remaining == ["2;w=600", "1;w=600", "0;w=600"]
        refused = _manifest(hub, "GET", IMAGES[0], token)
        assert refused.status_code == 429
        assert refused.json() == {"errors": [{"code": "TOOMANYREQUESTS", "message": LIMIT_MESSAGE, "detail": None}]}
        assert refused.headers["ratelimit-remaining"] == "0;w=600"
        source = refused.headers["docker-ratelimit-source"]
        assert source == head.headers["docker-ratelimit-source"]  # one address: this machine
        assert _manifest(hub, "HEAD", IMAGES[0], token).status_code == 200  # version checks still answer

        # another identity: the account has an allowance of its own, at the same address
        pull = hub.pull(IMAGES[0], "1.0", username="ci-bot", password="pat-123")
        assert (pull.status, pull.limit, pull.remaining, pull.source) == (200, "5;w=600", 4, "ci-bot")
        with pytest.raises(RegistryAuthError, match="incorrect username or password"):
            hub.token("ci-bot", "wrong")

        counts = {c.who: (c.pulls, c.refused, c.limit) for c in hub.counts()}
        assert counts == {"this machine": (3, 1, 3), "user ci-bot": (1, 0, 5)}

        # a real client sees the real message
        crane = _cli(install.path("crane"), "manifest", hub.ref(IMAGES[0], "1.0"))
        assert crane.returncode != 0 and f"TOOMANYREQUESTS: {LIMIT_MESSAGE}" in crane.stderr
        name = hub.network.name
    assert not engine.client().networks.list(names=[name])
    assert _course_leftovers() == []


def test_a_pull_through_cache_absorbs_a_room_one_upstream_pull_per_image() -> None:
    with RateLimitedHub(anonymous=5, users={"ci-bot": "pat-123"}) as hub:
        for image in IMAGES:
            hub.publish_sample(image)
        cache = hub.cache(name="the cache")
        client = cache.client()
        for _learner in range(6):  # 18 pulls: more than the anonymous allowance of 5
            for image in IMAGES:
                admin.fetch_image(client, image, "1.0")
        pulls = {c.who: c.pulls for c in hub.counts()}
        assert pulls == {"the cache": len(IMAGES)}

        # the same through a cache that logs in upstream: counted against the account, not an address
        logged_in = hub.cache(username="ci-bot", password="pat-123", name="team cache")
        for _learner in range(4):
            admin.fetch_image(logged_in.client(), IMAGES[0], "1.0")
        counts = {c.who: (c.pulls, c.authenticated) for c in hub.counts()}
        assert counts == {"the cache": (3, False), "user ci-bot": (1, True)}
        containers = [cache.get_wrapped_container().id, logged_in.get_wrapped_container().id]
    cli = engine.client()
    assert not [c for c in cli.containers.list(all=True) if c.id in containers]
    assert _course_leftovers() == []


def test_docker_pull_falls_back_to_http_and_shows_the_limit() -> None:
    with RateLimitedHub(anonymous=1) as hub:
        hub.publish_sample(IMAGES[1])
        ref = hub.ref(IMAGES[1], "1.0")
        first = _cli(docker_cli(), "pull", ref)
        try:
            assert first.returncode == 0, first.stderr
            engine.client().images.remove(ref)
            second = _cli(docker_cli(), "pull", ref)
            assert second.returncode != 0
            assert "You have reached your pull rate limit" in second.stderr
        finally:
            _cli(docker_cli(), "rmi", ref)
    assert _course_leftovers() == []


def test_an_index_is_not_counted_the_platform_manifest_fetched_next_is() -> None:
    with RateLimitedHub(anonymous=5) as hub:
        digest = hub.publish_sample(IMAGES[2])
        manifest = requests.get(f"{hub.storage.url}/v2/{IMAGES[2]}/manifests/1.0", timeout=10,
                                headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
        index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                 "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest,
                                "size": len(manifest.content), "platform": {"os": "linux", "architecture": "amd64"}}]}
        stored = requests.put(f"{hub.storage.url}/v2/{IMAGES[2]}/manifests/multi", json=index, timeout=10,
                              headers={"Content-Type": "application/vnd.oci.image.index.v1+json"})
        assert stored.status_code == 201, stored.text
        token = hub.token(repository=IMAGES[2])
        listing = requests.get(f"{hub.url}/v2/{IMAGES[2]}/manifests/multi", timeout=10,
                               headers={"Authorization": f"Bearer {token}", "Accept": ", ".join(MANIFEST_MEDIA_TYPES)})
        assert listing.status_code == 200
        assert listing.headers["ratelimit-remaining"] == "5;w=21600"  # the list of platforms is free
        platform = requests.get(f"{hub.url}/v2/{IMAGES[2]}/manifests/{digest}", timeout=10,
                                headers={"Authorization": f"Bearer {token}", "Accept": ", ".join(MANIFEST_MEDIA_TYPES)})
        assert platform.headers["ratelimit-remaining"] == "4;w=21600"
        missing = requests.get(f"{hub.url}/v2/{IMAGES[2]}/manifests/no-such-tag", timeout=10,
                               headers={"Authorization": f"Bearer {token}", "Accept": ", ".join(MANIFEST_MEDIA_TYPES)})
        assert missing.status_code == 404 and missing.headers["ratelimit-remaining"] == "4;w=21600"
    assert _course_leftovers() == []

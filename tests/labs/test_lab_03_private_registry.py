"""Lab 03-private-registry, proven both ways against the real engine and registry.

The scripted solution and the learner's way (the solution notebook's calls) pass every
requirement. Known-bad attempts fail the intended requirement with its first hint, and
the next hint when checked again: the hurried start state (login over plain HTTP), a
registry without users, one without TLS, one with the wrong password, only 2.0 published,
1.0 deleted but never garbage-collected, garbage collected without deleting, and 1.0
pushed only into the old registry.
(Its untouched student notebook: ``tests/labs/test_labs.py::test_student_notebook``.)
"""

from __future__ import annotations

import secrets

import requests
from labtools import fails_with_hints

from portside.engine.transfer import push
from portside.labs import LabContext, LabSession
from portside.labs import lab03_private_registry as lab03
from portside.labs.context import find_container
from portside.registry.admin import stored_blobs
from portside.registry.container import docker_login

SLUG = lab03.LAB.slug
REPO = lab03.REPO


def _secure(lab: LabSession) -> None:
    """Task 1 the learner's way."""
    assert lab.user and lab.password
    lab03.run_registry(lab, users={lab.user: lab.password}, tls=True)


def _publish(lab: LabSession, *versions: str) -> None:
    assert lab.user and lab.password
    docker_login(lab.address, lab.user, lab.password)
    for version in versions:
        push(lab.ref(REPO, version), progress=False)


# -- the start state and the good solution ---------------------------------------------------------------------
def test_start_state(lab: LabSession) -> None:
    """A registry that wants a login over plain HTTP; both versions built locally under the lab's address."""
    ctx = lab.context
    assert not ctx.tls and ctx.ca_file is None
    plain = requests.get(f"http://{lab.address}/v2/", timeout=5)
    assert plain.status_code == 401 and plain.headers["WWW-Authenticate"].startswith("Basic ")
    for version in ("1.0", "2.0"):
        assert ctx.docker.images.get(lab.ref(REPO, version)).labels["org.opencontainers.image.version"] == version
    assert lab.client().catalog() == []
    report = lab.check(1)
    assert not report.requirement(lab03.SERVES_TLS.name).passed
    assert report.requirement(lab03.ANONYMOUS_REFUSED.name).passed
    assert report.requirement(lab03.LEARNER_LOGS_IN.name).passed


def test_solution_passes_every_requirement(lab: LabSession) -> None:
    forwarded = lab.fast_forward(len(lab03.LAB.tasks) + 1)
    assert forwarded.passed, repr(forwarded)
    report = lab.check()
    assert report.passed, repr(report)
    assert "sha256:" not in repr(report) and str(lab.context.port) not in repr(report)
    lab.fast_forward(len(lab03.LAB.tasks) + 1)  # solving again changes nothing
    assert lab.check().passed


def test_the_learner_way_passes_too(lab: LabSession) -> None:
    _secure(lab)
    assert lab.context.tls and lab.context.ca_file is not None
    assert lab.check(1).passed, repr(lab.check(1))
    _publish(lab, "1.0", "2.0")
    assert lab.check(2).passed, repr(lab.check(2))
    client = lab.client()
    client.delete_manifest(REPO, client.digest(REPO, "1.0"))
    summary = lab03.garbage_collect(lab)
    assert summary == "4 blobs marked, 3 blobs and 0 manifests eligible for deletion"
    report = lab.check()
    assert report.passed, repr(report)
    assert client.tags(REPO) == ["2.0"]
    assert len(stored_blobs(find_container(SLUG))) == 4


# -- known-bad attempts: task 1 --------------------------------------------------------------------------------
def test_task1_start_state_is_plain_http(lab: LabSession) -> None:
    fails_with_hints(lab, lab03.SERVES_TLS, 1, "it answers plain HTTP (GET http://…/v2/ → 401): a password "
                                                "sent to it crosses the network readable")


def test_task1_tls_but_no_users(lab: LabSession) -> None:
    lab03.run_registry(lab, tls=True)
    report = lab.check(1)
    assert report.requirement(lab03.SERVES_TLS.name).passed
    fails_with_hints(lab, lab03.ANONYMOUS_REFUSED, 1,
                      "an anonymous request was answered 200, not 401: anyone can read it")


def test_task1_users_but_no_tls(lab: LabSession) -> None:
    assert lab.user and lab.password
    lab03.run_registry(lab, users={lab.user: lab.password})
    report = lab.check(1)
    assert report.requirement(lab03.ANONYMOUS_REFUSED.name).passed
    assert report.requirement(lab03.LEARNER_LOGS_IN.name).passed
    fails_with_hints(lab, lab03.SERVES_TLS, 1, "it answers plain HTTP (GET http://…/v2/ → 401): a password "
                                                "sent to it crosses the network readable")


def test_task1_wrong_password(lab: LabSession) -> None:
    assert lab.user
    lab03.run_registry(lab, users={lab.user: secrets.token_urlsafe(12)}, tls=True)
    assert lab.check(1).requirement(lab03.SERVES_TLS.name).passed
    fails_with_hints(lab, lab03.LEARNER_LOGS_IN, 1, "the registry refused learner's password (GET /v2/ → 401)")


# -- known-bad attempts: task 2 --------------------------------------------------------------------------------
def test_task2_only_the_new_version(lab: LabSession) -> None:
    lab.fast_forward(2)
    _publish(lab, "2.0")
    report = lab.check(2)
    assert report.requirement(lab03.LOGGED_IN.name).passed and report.requirement(lab03.NEW_PUSHED.name).passed
    fails_with_hints(lab, lab03.OLD_PUSHED, 2, "team/app:1.0 not found — team/app has tag 2.0")


def test_task2_pushed_to_the_old_registry_only(lab: LabSession) -> None:
    """Both versions pushed to the hurried registry, then the secure one started: it is empty."""
    _publish(lab, "1.0", "2.0")
    _secure(lab)
    fails_with_hints(lab, lab03.OLD_PUSHED, 2,
                      "team/app:1.0 not found — there is no repository team/app: the registry is empty")
    report = lab.check(3)
    assert report.requirement(lab03.OLD_DELETED.name).detail == \
        "team/app:1.0 was never pushed to this registry, so there is nothing to retire"


# -- known-bad attempts: task 3 --------------------------------------------------------------------------------
def test_task3_deleted_but_not_collected(lab: LabSession) -> None:
    lab.fast_forward(3)
    client = lab.client()
    client.delete_manifest(REPO, client.digest(REPO, "1.0"))
    report = lab.check(3)
    assert report.requirement(lab03.OLD_DELETED.name).passed and report.requirement(lab03.NEW_PULLS.name).passed
    fails_with_hints(lab, lab03.NO_GARBAGE, 3, "3 blob(s) that no manifest refers to are still on the "
                                                "registry's disk: deleting a manifest does not free its layers")
    assert lab.check(2).passed  # 1.0 was published; retiring it does not undo task 2


def test_task3_collected_without_deleting(lab: LabSession) -> None:
    lab.fast_forward(3)
    assert lab03.garbage_collect(lab) == "7 blobs marked, 0 blobs and 0 manifests eligible for deletion"
    report = lab.check(3)
    assert report.requirement(lab03.NO_GARBAGE.name).passed
    fails_with_hints(lab, lab03.OLD_DELETED, 3, "team/app:1.0 is still in the registry")


def test_task3_deleted_the_wrong_version(lab: LabSession) -> None:
    lab.fast_forward(3)
    client = lab.client()
    client.delete_manifest(REPO, client.digest(REPO, "2.0"))
    lab03.garbage_collect(lab)
    fails_with_hints(lab, lab03.NEW_PULLS, 3, "team/app:2.0 not found — team/app has tag 1.0")


def test_checks_on_a_stopped_registry_fail_without_traceback(lab: LabSession) -> None:
    lab.fast_forward(2)
    container = find_container(SLUG)
    assert container is not None
    container.stop(timeout=1)
    report = lab.check()
    assert not report.passed and all(r.error for t in report.tasks for r in t.results)
    assert "Traceback" not in repr(report)
    lab.reset()
    assert not LabContext.discover(lab03.LAB).tls

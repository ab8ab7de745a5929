"""Lab 03-private-registry, proven both ways against the real engine and registry.

The scripted solution, the learner's Python way (files written, then ``run_registry``) and the
CLI way (``docker create`` / ``docker cp`` / ``docker start``, ``docker login``, ``docker push``,
``curl -X DELETE``, ``docker exec … garbage-collect``; ``docker run -v`` where the engine sees the
work folder) pass every requirement: the checker grades the running registry, not how it was
started. Known-bad attempts fail the intended requirement with its first hint, and the next hint
when checked again: the hurried start state (login over plain HTTP, no deletes), a configuration
without users, one without TLS, one without deletes, a wrong password, an MD5 users file, a
certificate from another CA, ``config.yml`` copied to registry:3's path, only 2.0 published, 1.0
deleted but never garbage-collected, garbage collected without deleting, and 1.0 pushed only into
the old registry. (Its untouched student notebook: ``tests/labs/test_labs.py::test_student_notebook``.)
"""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

import bcrypt
import pytest
import requests
from labtools import fails_with_hints

from portside.base.labels import course_labels
from portside.base.paths import isolate_docker_config
from portside.base.proc import run
from portside.engine import provided
from portside.engine.transfer import push
from portside.labs import LabContext, LabSession
from portside.labs import lab03_private_registry as lab03
from portside.labs.context import find_container
from portside.oci.tls import make_certificates
from portside.registry.admin import stored_blobs
from portside.registry.container import docker_login
from portside.registry.htpasswd import THROWAWAY_BCRYPT_ROUNDS, htpasswd_line

SLUG = lab03.LAB.slug
REPO = lab03.REPO

# config.yml pieces: a known-bad attempt leaves one out
STORAGE = "storage:\n  filesystem:\n    rootdirectory: /var/lib/registry\n"
DELETE = "  delete:\n    enabled: true\n"
HTTP = "http:\n  addr: :5000\n"
TLS = "  tls:\n    certificate: /certs/server.crt\n    key: /certs/server.key\n"
AUTH = "auth:\n  htpasswd:\n    realm: team registry\n    path: /auth/htpasswd\n"


def _config(*, auth: bool = True, tls: bool = True, delete: bool = True) -> str:
    return ("version: 0.1\n" + STORAGE + (DELETE if delete else "") + HTTP + (TLS if tls else "")
            + (AUTH if auth else ""))


def _write(lab: LabSession, config: str | None = None, users: str | None = None) -> Path:
    """config.yml and auth/htpasswd in the lab's work folder (the learner's files); returns the folder."""
    assert lab.user and lab.password
    work = Path(lab.workdir)
    (work / "config.yml").write_text(config if config is not None else _config(), encoding="utf-8")
    (work / "auth").mkdir(exist_ok=True)
    line = users if users is not None else htpasswd_line(lab.user, lab.password, rounds=THROWAWAY_BCRYPT_ROUNDS)
    (work / "auth" / "htpasswd").write_text(line, encoding="utf-8")
    return work


def _start(lab: LabSession, config: str | None = None, users: str | None = None) -> None:
    """Task 1 the Python way, with these files."""
    _write(lab, config, users)
    lab03.run_registry(lab, lab03.FILES)


def _publish(lab: LabSession, *versions: str) -> None:
    assert lab.user and lab.password
    docker_login(lab.address, lab.user, lab.password)
    for version in versions:
        push(lab.ref(REPO, version), progress=False)


def _cli(*args: str, stdin: str | None = None) -> str:
    """A command as the learner types it (``docker`` is the course's CLI, with the course's client config)."""
    isolate_docker_config()
    command = [provided.docker_cli(), *args[1:]] if args[0] == "docker" else list(args)
    return run(command, input=stdin, timeout=120).stdout


# -- the start state and the good solution ---------------------------------------------------------------------
def test_start_state(lab: LabSession) -> None:
    """A registry that wants a login over plain HTTP and refuses deletes; both versions built locally under the
    lab's address; a certificate for localhost from the lab's CA in the work folder."""
    ctx = lab.context
    assert not ctx.tls and ctx.ca_file is None
    plain = requests.get(f"http://{lab.address}/v2/", timeout=5)
    assert plain.status_code == 401 and plain.headers["WWW-Authenticate"].startswith("Basic ")
    for version in ("1.0", "2.0"):
        assert ctx.docker.images.get(lab.ref(REPO, version)).labels["org.opencontainers.image.version"] == version
    assert lab.client().catalog() == []
    certs = Path(lab.workdir) / "certs"
    assert sorted(p.name for p in certs.iterdir()) == ["ca.crt", "server.crt", "server.key"]
    assert (certs / "ca.crt").read_bytes() == ctx.state.ca_file.read_bytes()
    report = lab.check(1)
    assert not report.requirement(lab03.SERVES_TLS.name).passed
    assert report.requirement(lab03.ANONYMOUS_REFUSED.name).passed
    assert report.requirement(lab03.LEARNER_LOGS_IN.name).passed
    assert not report.requirement(lab03.DELETES_ENABLED.name).passed


def test_solution_passes_every_requirement(lab: LabSession) -> None:
    forwarded = lab.fast_forward(len(lab03.LAB.tasks) + 1)
    assert forwarded.passed, repr(forwarded)
    report = lab.check()
    assert report.passed, repr(report)
    assert "sha256:" not in repr(report) and str(lab.context.port) not in repr(report)
    lab.fast_forward(len(lab03.LAB.tasks) + 1)  # solving again changes nothing
    assert lab.check().passed


def test_the_learner_way_passes_too(lab: LabSession) -> None:
    """The solution notebook's Python way: the files written by hand (bcrypt, cost 10), then run_registry."""
    assert lab.user and lab.password
    hashed = bcrypt.hashpw(lab.password.encode(), bcrypt.gensalt(rounds=10)).decode()
    _start(lab, lab03.CONFIG, f"{lab.user}:{hashed}\n")
    assert lab.context.tls and lab.context.ca_file is not None  # recorded: every client now speaks HTTPS
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


def test_the_cli_way_passes_too(lab: LabSession) -> None:
    """Every task with the commands a learner types (docker create/cp/start, login, push, curl, exec, restart)."""
    assert lab.user and lab.password
    work = _write(lab, lab03.CONFIG)
    name = lab03.registry_name(lab)
    _cli("docker", "rm", "-f", "-v", name)
    _cli("docker", "create", "--name", name, *lab03.label_options(lab).split(),
         "-p", f"127.0.0.1:{lab.context.port}:5000", "registry:2")
    _cli("docker", "cp", str(work / "config.yml"), f"{name}:{lab03.CONFIG_PATH}")
    _cli("docker", "cp", str(work / "auth"), f"{name}:/auth")
    _cli("docker", "cp", str(work / "certs"), f"{name}:/certs")
    _cli("docker", "start", name)
    assert not lab.context.tls  # nothing recorded yet: the first check finds out
    assert lab.check(1).passed, repr(lab.check(1))
    assert lab.context.tls

    assert "Login Succeeded" in _cli("docker", "login", lab.address, "-u", lab.user, "--password-stdin",
                                     stdin=lab.password)
    for version in ("1.0", "2.0"):
        _cli("docker", "push", lab.ref(REPO, version))
    assert lab.check(2).passed, repr(lab.check(2))

    old = lab.client().digest(REPO, "1.0")
    curl_config = f'user = "{lab.user}:{lab.password}"\n'  # on stdin: the password stays out of the process list
    _cli("curl", "-sSf", "-K", "-", "--cacert", str(work / "certs" / "ca.crt"), "-X", "DELETE",
         f"https://{lab.address}/v2/{REPO}/manifests/{old}", stdin=curl_config)
    collected = _cli("docker", "exec", name, "registry", "garbage-collect", lab03.CONFIG_PATH)
    assert "4 blobs marked, 3 blobs and 0 manifests eligible for deletion" in collected
    _cli("docker", "restart", name)
    report = lab.check()
    assert report.passed, repr(report)


def test_the_cli_way_with_bind_mounts(lab: LabSession) -> None:
    """``docker run -v`` with the work folder's files, where the engine can see that folder (not every engine can)."""
    work = _write(lab, lab03.CONFIG)
    name = lab03.registry_name(lab)
    labels = [f"--label={key}={value}" for key, value in course_labels("probe").items()]
    probe = subprocess.run([provided.docker_cli(), "run", "--rm", *labels,
                            "-v", f"{work}:/probe:ro", "busybox:1.35", "test", "-f", "/probe/config.yml"],
                           capture_output=True, text=True, timeout=60, check=False)
    if probe.returncode != 0:
        pytest.skip("this engine does not see the work folder (it runs in a file system of its own): "
                    "bind mounts cannot work, docker cp does (test_the_cli_way_passes_too)")
    _cli("docker", "rm", "-f", "-v", name)
    _cli("docker", "run", "-d", "--name", name, *lab03.label_options(lab).split(),
         "-p", f"127.0.0.1:{lab.context.port}:5000",
         "-v", f"{work / 'config.yml'}:{lab03.CONFIG_PATH}:ro", "-v", f"{work / 'auth'}:/auth:ro",
         "-v", f"{work / 'certs'}:/certs:ro", "registry:2")
    assert lab.check(1).passed, repr(lab.check(1))


# -- known-bad attempts: task 1 --------------------------------------------------------------------------------
def test_task1_start_state_is_plain_http(lab: LabSession) -> None:
    fails_with_hints(lab, lab03.SERVES_TLS, 1, "it answers plain HTTP (GET http://…/v2/ → 401): a password "
                                                "sent to it crosses the network readable")


def test_task1_start_state_refuses_deletes(lab: LabSession) -> None:
    fails_with_hints(lab, lab03.DELETES_ENABLED, 1, "a DELETE of a manifest was answered 405 Unsupported: "
                                                     "deleting is off (storage.delete.enabled is false unless "
                                                     "the configuration turns it on)")


def test_task1_tls_but_no_users(lab: LabSession) -> None:
    _start(lab, _config(auth=False))
    report = lab.check(1)
    assert report.requirement(lab03.SERVES_TLS.name).passed
    assert report.requirement(lab03.DELETES_ENABLED.name).passed
    fails_with_hints(lab, lab03.ANONYMOUS_REFUSED, 1,
                     "an anonymous request was answered 200, not 401: anyone can read it")


def test_task1_users_but_no_tls(lab: LabSession) -> None:
    _start(lab, _config(tls=False))
    report = lab.check(1)
    assert report.requirement(lab03.ANONYMOUS_REFUSED.name).passed
    assert report.requirement(lab03.LEARNER_LOGS_IN.name).passed
    fails_with_hints(lab, lab03.SERVES_TLS, 1, "it answers plain HTTP (GET http://…/v2/ → 401): a password "
                                                "sent to it crosses the network readable")


def test_task1_no_deletes(lab: LabSession) -> None:
    _start(lab, _config(delete=False))
    report = lab.check(1)
    assert report.requirement(lab03.SERVES_TLS.name).passed and report.requirement(lab03.LEARNER_LOGS_IN.name).passed
    fails_with_hints(lab, lab03.DELETES_ENABLED, 1, "a DELETE of a manifest was answered 405 Unsupported: "
                                                     "deleting is off (storage.delete.enabled is false unless "
                                                     "the configuration turns it on)")


def test_task1_wrong_password(lab: LabSession) -> None:
    assert lab.user
    _start(lab, users=htpasswd_line(lab.user, secrets.token_urlsafe(12), rounds=THROWAWAY_BCRYPT_ROUNDS))
    assert lab.check(1).requirement(lab03.SERVES_TLS.name).passed
    fails_with_hints(lab, lab03.LEARNER_LOGS_IN, 1, "the registry refused learner's password (GET /v2/ → 401)")


def test_task1_users_file_not_bcrypt(lab: LabSession) -> None:
    """htpasswd without -B writes MD5 ($apr1$): the right password, in a format registry:2 never matches."""
    assert lab.user and lab.password
    _start(lab, users=htpasswd_line(lab.user, lab.password, "apr1"))
    fails_with_hints(lab, lab03.LEARNER_LOGS_IN, 1, "the registry refused learner's password (GET /v2/ → 401) — "
                                                     "your auth/htpasswd stores it as MD5 (apr1), and registry:2 "
                                                     "checks bcrypt hashes only")


def test_task1_certificate_from_another_ca(lab: LabSession) -> None:
    """A self-made certificate: HTTPS, but no client that trusts the lab's CA accepts it."""
    work = _write(lab, _config().replace("/certs/", "/own-certs/"))
    own = make_certificates(work / "own-certs")
    lab03.run_registry(lab, {**lab03.FILES, "/own-certs": own.folder})
    fails_with_hints(lab, lab03.SERVES_TLS, 1, "it speaks HTTPS, but its certificate is not the one the lab's "
                                                "CA issued")


def test_task1_config_at_the_registry3_path(lab: LabSession) -> None:
    """config.yml copied to /etc/distribution/ (registry:3's path): registry:2 runs its image's own settings."""
    _write(lab)
    lab03.run_registry(lab, {"/etc/distribution/config.yml": "config.yml", "/auth": "auth", "/certs": "certs"})
    note = (" — and it does not run your config.yml: /etc/docker/registry/config.yml, the one file registry:2 "
            "reads, holds other settings")
    fails_with_hints(lab, lab03.ANONYMOUS_REFUSED, 1,
                     "an anonymous request was answered 200, not 401: anyone can read it" + note)
    report = lab.check(1)
    assert report.requirement(lab03.SERVES_TLS.name).detail == (
        "it answers plain HTTP (GET http://…/v2/ → 200): a password sent to it crosses the network readable" + note)


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
    _start(lab)
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

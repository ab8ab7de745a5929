"""Lab 03 — your own private registry.

Scenario: the team's registry was set up in a hurry. It asks for a password, but over
plain HTTP, so every push sends the password across the network readable by anyone on
the way; and it refuses deletes (registry:2's default). The build has left two versions
of the team's app on this machine, named for that registry (``localhost:PORT/team/app:1.0``
and ``:2.0``), and the lab's CA has issued a certificate for ``localhost``
(``certs/server.crt``, ``certs/server.key`` and the CA's own ``certs/ca.crt`` in the lab's
work folder).

1. Run the registry again, properly, from files the learner writes: a ``config.yml``
   (htpasswd authentication, TLS with the lab's certificate, deletes enabled), the users
   file (one bcrypt line for ``learner``), and the certificate, all put into a new
   ``registry:2`` container on the same address. The CLI way is ``docker create`` +
   ``docker cp`` + ``docker start`` with :func:`registry_name` and :func:`label_options`
   (or ``docker run -v`` bind mounts where the engine sees the learner's files); the
   Python way is :func:`run_registry`, which does the same from a mapping of paths.
2. Log in and publish both versions.
3. Retire 1.0: delete its manifest, then collect the garbage (:func:`garbage_collect`,
   or ``docker exec … registry garbage-collect`` and ``docker restart``) so its bytes
   leave the disk.

The checker asks the registry itself, however it was started: does an anonymous request
get 401, does plain HTTP get refused, does HTTPS show the lab's certificate, does the
learner's password work, is a ``DELETE`` allowed, can the learner pull 2.0 — and it looks
at the registry's disk (``docker exec … find``) to see that no blob is left that no
manifest refers to. Where the registry does not run the ``config.yml`` of the work folder
(a file copied to the wrong path, say), the failure says so.

The lab records whether its registry speaks TLS (``LabState.registry``); a registry the
learner started with ``docker`` changes that, so the checks (and the learner's tools here)
find out what the registry on the lab's port answers and record it.
"""

from __future__ import annotations

import io
import secrets
import shutil
import tarfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import docker.errors
import requests

from portside.base.labels import course_labels
from portside.engine.build import build
from portside.engine.daemon import client as docker_client
from portside.engine.identity import config_digest
from portside.engine.transfer import push
from portside.errors import (
    EngineError,
    LabError,
    PortInUse,
    RegistryAuthError,
    RegistryError,
    RegistryUnreachable,
    engine_case,
    engine_detail,
)
from portside.labs import catalog, lifecycle
from portside.labs.context import LabContext, container_name, find_container, lab_labels
from portside.labs.model import Lab, Outcome, Predicate, Requirement, Task
from portside.labs.predicates import ANSWER_SECONDS, anonymous_refused, logged_in, tag_exists, user_can_pull
from portside.lessons.sample_images import SAMPLE, MiB
from portside.oci.tls import make_certificates
from portside.registry.admin import blob_links, manifest_revisions, stored_blobs
from portside.registry.container import docker_login
from portside.registry.htpasswd import hash_scheme, htpasswd_line
from portside.registry.layout import CONFIG_PATH, CONTAINER_PORT
from portside.registry.maintenance import garbage_collect as collect_garbage
from portside.registry.probe import config_in_container, protocol
from portside.registry.readiness import ContainerTarget, not_ready

__all__ = ["CONFIG_PATH", "LAB", "REPO", "garbage_collect", "label_options", "registry_labels", "registry_name",
           "run_registry"]

SLUG = "03-private-registry"
REPO = "team/app"
OLD, NEW = "1.0", "2.0"
BASE = "busybox:1.35"
IMAGE = "registry:2"
#: what the lab's CA issued, in the work folder: the server's certificate and key, and the CA's certificate
CERTS = "certs"
#: a digest no manifest has: deleting it tells whether deletes are allowed (404) or not (405)
_NO_SUCH_MANIFEST = "sha256:" + "0" * 64
#: seconds a check waits for a registry that was just started to answer (a loaded machine took more than 5)
_STARTING = 20.0


# -- the learner's tools ---------------------------------------------------------------------------------
def registry_name(lab: Any) -> str:
    """The container name of the lab's registry (``docker rm``, ``docker cp``, ``docker exec`` take it)."""
    return container_name(catalog.lab_of(lab, SLUG).slug)


def registry_labels(lab: Any) -> dict[str, str]:
    """The labels by which the lab (its checker, reset and close) finds a container as its registry."""
    return {**course_labels("registry"), **lab_labels(catalog.lab_of(lab, SLUG).slug)}


def label_options(lab: Any) -> str:
    """:func:`registry_labels` as ``docker create``/``docker run`` options: ``--label KEY=VALUE …``."""
    return " ".join(f"--label {key}={value}" for key, value in registry_labels(lab).items())


def _archive(files: Mapping[str, str | Path | bytes], workdir: Path) -> bytes:
    """A tar of ``{path in the container: file, folder or bytes}``, to unpack at ``/`` (what ``docker cp`` sends)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for target, source in files.items():
            if not target.startswith("/"):
                raise LabError(f"{target!r} is not a path inside the container.",
                               hint=f"Give absolute paths as keys, e.g. {CONFIG_PATH!r}.")
            name = target.strip("/")
            if isinstance(source, bytes):
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(source), 0o644, int(time.time())
                tar.addfile(info, io.BytesIO(source))
                continue
            path = Path(source) if Path(source).is_absolute() else workdir / source
            if not path.exists():
                raise LabError(f"There is no {source} to copy to {target} (looked in the lab's work folder).",
                               hint="Write the file first, or give its full path.")
            tar.add(str(path), arcname=name)
    return buffer.getvalue()


def run_registry(lab: Any, files: Mapping[str, str | Path | bytes], *, env: Mapping[str, str] | None = None) -> None:
    """Replace the lab's registry by a new ``registry:2`` holding ``files``, on the same address.

    The Python way of ``docker rm -f -v`` + ``docker create`` + ``docker cp`` + ``docker start``:
    ``files`` maps a path inside the container to a file or folder (relative paths are in the
    lab's work folder) or to its bytes, e.g. ``{CONFIG_PATH: "config.yml", "/auth": "auth",
    "/certs": "certs"}``; ``env`` adds ``REGISTRY_*`` settings. Nothing else is configured for you:
    the registry does what its ``config.yml`` says. Like a ``docker run`` without a volume, the new
    registry starts empty.
    """
    the_lab = catalog.lab_of(lab, SLUG)
    ctx = LabContext.discover(the_lab)
    archive = _archive(files, ctx.workdir)
    lifecycle.remove_registry(the_lab.slug)
    engine = docker_client()
    container = None
    try:
        container = engine.containers.create(
            IMAGE, name=container_name(the_lab.slug), labels=registry_labels(the_lab), environment=dict(env or {}),
            ports={f"{CONTAINER_PORT}/tcp": ("127.0.0.1", ctx.port)}, detach=True)
        if files:
            container.put_archive("/", archive)
        container.start()
    except docker.errors.APIError as exc:
        if container is not None:
            container.remove(force=True, v=True)
        if engine_case(exc) == "port-in-use":
            raise PortInUse(f"Port {ctx.port} was taken by another program while the lab registry restarted.",
                            hint="Run lab.reset() to start the lab on a free port.") from None
        raise EngineError(f"The engine refused to start the lab registry: {engine_detail(exc)}") from None
    scheme = protocol(ctx.address, wait=_STARTING)
    if scheme is None:
        raise not_ready(container, ctx.address, "nothing answered on its port")
    _record(ctx, tls=scheme == "https")
    print(f"The lab registry runs again at {ctx.address}, from your files: "
          + ("HTTPS." if scheme == "https" else "plain HTTP."))


def garbage_collect(lab: Any) -> str:
    """``docker exec <registry> registry garbage-collect <config>``, then restart it; returns the summary line.

    The restart clears the registry's in-memory cache of which blobs exist, as the
    registry's documentation asks after a collection. The same code as
    :meth:`portside.registry.Registry.garbage_collect`, on the lab's container found by label.
    """
    ctx = _live(LabContext.discover(catalog.lab_of(lab, SLUG)))
    container = find_container(ctx.lab.slug)
    if container is None or container.status != "running":
        raise RegistryUnreachable(f"The lab registry is not running (nothing answers at {ctx.address}).",
                                  hint="Run lab.reset() to start it again.")
    output = collect_garbage(ContainerTarget(container), ctx.address, tls=ctx.tls)
    return next((line for line in output.splitlines() if "blobs marked" in line), output.strip())


# -- what the registry on the lab's port really is --------------------------------------------------------
def _record(ctx: LabContext, *, tls: bool) -> None:
    """Note in the lab's state whether its registry speaks TLS (every process then talks to it the right way)."""
    if bool(ctx.state.registry.get("tls")) != tls:
        ctx.state.registry = {**ctx.state.registry, "port": ctx.port, "tls": tls}


_seen: tuple[LabContext, LabContext] | None = None


def _live(ctx: LabContext) -> LabContext:
    """``ctx``, with the TLS setting the registry on the lab's port answers with now (asked once per context)."""
    global _seen
    if _seen is not None and _seen[0] is ctx:
        return _seen[1]
    live = ctx
    if ctx.running:
        scheme = protocol(ctx.address, wait=_STARTING)
        if scheme is not None and (scheme == "https") != ctx.tls:
            _record(ctx, tls=scheme == "https")
            live = LabContext.discover(ctx.lab)
    _seen = (ctx, live)
    return live


def _on_live(predicate: Predicate) -> Predicate:
    """``predicate``, asked about the registry as it runs now (see :func:`_live`)."""

    def check(ctx: LabContext) -> Outcome | bool:
        return predicate(_live(ctx))

    return check


def _config_note(ctx: LabContext) -> str:
    """Why a setting may be missing: the registry does not run the ``config.yml`` of the work folder."""
    mine = ctx.workdir / "config.yml"
    container = find_container(ctx.lab.slug)
    if not mine.is_file() or container is None:
        return ""
    running = config_in_container(container)
    if running is not None and running == mine.read_text(encoding="utf-8"):
        return ""
    return (f" — and it does not run your config.yml: {CONFIG_PATH}, the one file registry:2 reads, "
            "holds other settings")


def _with_config_note(predicate: Predicate) -> Predicate:
    """``predicate`` on the live registry; a failure also says when the registry ignores the learner's config.yml."""

    def check(ctx: LabContext) -> Outcome:
        live = _live(ctx)
        answer = predicate(live)
        outcome = answer if isinstance(answer, Outcome) else Outcome(bool(answer))
        if outcome.passed or outcome.error:
            return outcome
        return Outcome.fail(outcome.detail + _config_note(live))

    return check


# -- the start state ----------------------------------------------------------------------------------------
def _build(ref: str, version: str) -> None:
    """``team/app:VERSION``: busybox plus one layer of 2 MiB of random bytes (so two versions share only the base).

    Built with BuildKit (``docker buildx build --load``) from a context made in memory; random
    bytes do not compress, so the layer weighs the same in the registry.
    """
    dockerfile = f"FROM {BASE}\nCOPY app.bin /app/app-{version}.bin\n".encode()
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data in (("Dockerfile", dockerfile), ("app.bin", secrets.token_bytes(2 * MiB))):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    build(context.getvalue(), tag=ref, labels={"org.opencontainers.image.version": version, SAMPLE: "true"},
          network="none")


def _issue_certificate(ctx: LabContext) -> None:
    """The lab's CA issues a certificate for ``localhost``; the learner finds it in the work folder.

    ``certs/`` holds ``server.crt``, ``server.key`` and ``ca.crt``; the lab keeps the CA
    certificate as its own too, to check the registry's certificate and to trust it in clients.
    """
    issued = make_certificates(ctx.workdir / CERTS)
    ctx.state.folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(issued.ca_file, ctx.state.ca_file)


def _setup(ctx: LabContext) -> None:
    for version in (OLD, NEW):
        _build(ctx.ref(REPO, version), version)
    _issue_certificate(ctx)


# -- predicates ------------------------------------------------------------------------------------------------
def serves_tls() -> Predicate:
    """The registry answers HTTPS, with a certificate the lab's CA vouches for, and refuses plain HTTP."""

    def check(ctx: LabContext) -> Outcome:
        try:
            plain = requests.get(f"http://{ctx.address}/v2/", timeout=ANSWER_SECONDS)
        except requests.RequestException:
            raise RegistryUnreachable(f"Nothing answers at {ctx.address}.") from None
        if "HTTP request to an HTTPS server" not in plain.text:
            return Outcome.fail(f"it answers plain HTTP (GET http://…/v2/ → {plain.status_code}): a password "
                                "sent to it crosses the network readable")
        if not ctx.state.ca_file.is_file():
            raise LabError("The lab's CA certificate is missing.", hint="Run lab.reset() to issue a new one.")
        try:
            requests.get(f"https://{ctx.address}/v2/", timeout=ANSWER_SECONDS, verify=str(ctx.state.ca_file))
        except requests.exceptions.SSLError:
            return Outcome.fail("it speaks HTTPS, but its certificate is not the one the lab's CA issued")
        return Outcome.ok()

    return check


def _users_note(ctx: LabContext) -> str:
    """What the work folder's users file says about the learner's line, when that explains a refused login."""
    users = ctx.workdir / "auth" / "htpasswd"
    if not users.is_file() or not ctx.user:
        return ""
    lines = dict(line.split(":", 1) for line in users.read_text(encoding="utf-8").splitlines() if ":" in line)
    if ctx.user not in lines:
        return f" — your auth/htpasswd has no line for {ctx.user}"
    scheme = hash_scheme(lines[ctx.user].strip())
    if scheme != "bcrypt":
        return f" — your auth/htpasswd stores it as {scheme}, and registry:2 checks bcrypt hashes only"
    return ""


def user_can_log_in() -> Predicate:
    """The lab's user, with the lab's password, gets 200 from ``GET /v2/``."""

    def check(ctx: LabContext) -> Outcome:
        status = ctx.client().ping()
        if status == 200:
            return Outcome.ok()
        return Outcome.fail(f"the registry refused {ctx.user}'s password (GET /v2/ → {status})" + _users_note(ctx))

    return check


def deletes_enabled() -> Predicate:
    """The registry allows deleting manifests: a ``DELETE`` of one it lacks gets 404, not 405 Unsupported."""

    def check(ctx: LabContext) -> Outcome:
        try:
            ctx.client().delete_manifest(REPO, _NO_SUCH_MANIFEST)
        except RegistryAuthError:
            return Outcome.fail(f"the registry refused {ctx.user}'s password, so a delete could not be tried")
        except RegistryError as err:
            if err.status == 404:
                return Outcome.ok()
            if err.status == 405:
                return Outcome.fail("a DELETE of a manifest was answered 405 Unsupported: deleting is off "
                                    "(storage.delete.enabled is false unless the configuration turns it on)")
            raise
        return Outcome.ok()

    return check


def _pushed_here(ctx: LabContext, version: str) -> bool:
    """Whether the local image ``team/app:VERSION`` was ever pushed into *this* registry.

    Its config blob is then linked to the repository; the link survives a manifest
    delete and garbage collection, and a registry started anew has none. (The config
    digest is the local image ID on the classic store, not on the containerd store.)
    """
    try:
        image_id = config_digest(ctx.docker.images.get(ctx.ref(REPO, version)))
    except docker.errors.ImageNotFound:
        return False
    container = find_container(ctx.lab.slug)
    if container is None:
        raise RegistryUnreachable(f"The lab registry is not running (nothing answers at {ctx.address}).")
    return image_id in blob_links(container).get(REPO, set())


def old_release_published() -> Predicate:
    """``team/app:1.0`` is in the registry — or was pushed into it and has been retired since (task 3)."""
    in_registry = tag_exists(REPO, OLD)

    def check(ctx: LabContext) -> Outcome:
        found = in_registry(ctx)
        if isinstance(found, Outcome) and not found.passed and _pushed_here(ctx, OLD):
            return Outcome.ok()
        return found if isinstance(found, Outcome) else Outcome(bool(found))

    return check


def old_release_deleted() -> Predicate:
    """``team/app:1.0`` was pushed into this registry and is gone now: no tag, no manifest."""

    def check(ctx: LabContext) -> Outcome:
        if OLD in ctx.tags(REPO):
            return Outcome.fail(f"{REPO}:{OLD} is still in the registry")
        if not _pushed_here(ctx, OLD):
            return Outcome.fail(f"{REPO}:{OLD} was never pushed to this registry, so there is nothing to retire")
        return Outcome.ok()

    return check


def _referenced(ctx: LabContext, container: Any) -> set[str]:
    """Every blob a still-linked manifest refers to (the *mark* phase of garbage collection), manifests included."""
    marked: set[str] = set()
    client = ctx.client()
    for repo, digests in manifest_revisions(container).items():
        pending = list(digests)
        while pending:
            digest = pending.pop()
            if digest in marked:
                continue
            marked.add(digest)
            try:
                manifest = client.manifest(repo, digest).json()
            except RegistryError as err:
                if err.status == 404:  # a revision link to a manifest the API no longer serves
                    continue
                raise
            pending += [entry["digest"] for entry in manifest.get("manifests", [])]
            if "config" in manifest:
                marked.add(manifest["config"]["digest"])
            marked.update(layer["digest"] for layer in manifest.get("layers", []))
    return marked


def no_garbage_left() -> Predicate:
    """Every blob on the registry's disk belongs to a manifest that is still there (garbage was collected)."""

    def check(ctx: LabContext) -> Outcome:
        container = find_container(ctx.lab.slug)
        if container is None:
            raise RegistryUnreachable(f"The lab registry is not running (nothing answers at {ctx.address}).")
        orphans = stored_blobs(container) - _referenced(ctx, container)
        if orphans:
            return Outcome.fail(f"{len(orphans)} blob(s) that no manifest refers to are still on the registry's "
                                "disk: deleting a manifest does not free its layers")
        return Outcome.ok()

    return check


# -- requirements --------------------------------------------------------------------------------------------
SERVES_TLS = Requirement(
    "the registry speaks HTTPS with the certificate the lab's CA issued",
    _with_config_note(serves_tls()),
    hints=[
        "With plain HTTP, every request carries base64(user:password) that anyone on the network path can "
        "decode. The registry has to be started again, from a configuration with a certificate.",
        f"The lab's CA issued a certificate for localhost: {CERTS}/server.crt and its key {CERTS}/server.key in "
        "lab.workdir. In config.yml, http.tls.certificate and http.tls.key name where those files are inside the "
        "container.",
        f"Idea: http: tls: certificate: /certs/server.crt, key: /certs/server.key in {CONFIG_PATH}, with the "
        f"{CERTS} folder copied (or mounted) to /certs.",
    ],
)

ANONYMOUS_REFUSED = Requirement(
    "an anonymous request is refused with 401",
    _with_config_note(anonymous_refused()),
    hints=[
        "A registry without authentication lets anyone push and pull. Yours must answer 401 to a request that "
        "carries no credentials.",
        "registry:2 asks for a login when config.yml has an auth: htpasswd: section: a realm (any label) and the "
        "path of the users file inside the container.",
        f"Idea: auth: htpasswd: realm: …, path: /auth/htpasswd — with the users file at /auth/htpasswd and "
        f"config.yml at {CONFIG_PATH} (registry:2 reads no other path; registry:3 reads /etc/distribution/).",
    ],
)

LEARNER_LOGS_IN = Requirement(
    "learner can log in with the lab's password",
    _on_live(user_can_log_in()),
    hints=[
        "The checker logs in as lab.user with lab.password; the users file must hold that pair.",
        "Each line of the users file is user:hash, and registry:2 only understands bcrypt hashes ($2y$, $2b$, "
        "$2a$): htpasswd -B at work, Python's bcrypt here. Hash the value of lab.password; never print it.",
        "Idea: f\"{lab.user}:{bcrypt.hashpw(lab.password.encode(), bcrypt.gensalt(rounds=10)).decode()}\\n\" "
        "as auth/htpasswd.",
    ],
)

DELETES_ENABLED = Requirement(
    "the registry allows deleting manifests (task 3 needs it)",
    _with_config_note(deletes_enabled()),
    hints=[
        "registry:2 answers 405 Unsupported to every DELETE unless its configuration allows deleting.",
        "The setting is under storage: in config.yml (or the REGISTRY_STORAGE_DELETE_ENABLED variable).",
        "Idea: storage: delete: enabled: true (next to storage: filesystem: rootdirectory: /var/lib/registry).",
    ],
)

LOGGED_IN = Requirement(
    "you are logged in to the lab registry as learner",
    _on_live(logged_in()),
    hints=[
        "The new registry wants a login before anything can be pushed. Log in once; the course's Docker "
        "client keeps the login in its own config file.",
        "Log in to lab.address as lab.user with lab.password (docker login … --password-stdin, or the course's "
        "docker_login).",
        "Idea: docker_login(lab.address, lab.user, lab.password).",
    ],
)

OLD_PUSHED = Requirement(
    f"{REPO}:{OLD} was published",
    _on_live(old_release_published()),
    hints=[
        "The build left both versions on this machine, already named for the lab registry: "
        f"lab.ref('{REPO}', '{OLD}') and lab.ref('{REPO}', '{NEW}').",
        "A name that starts with the registry's address only needs a push.",
        f"Idea: docker push (or push(lab.ref('{REPO}', version))) for both versions, after logging in.",
    ],
)

NEW_PUSHED = Requirement(
    f"{REPO}:{NEW} is in the registry",
    _on_live(tag_exists(REPO, NEW)),
    hints=[
        f"Both versions go up: {OLD} now, so it can be retired in the next task, and {NEW}, which stays.",
        "A name that starts with the registry's address only needs a push.",
        f"Idea: push(lab.ref('{REPO}', '{NEW}')).",
    ],
)

NEW_PULLS = Requirement(
    f"learner can pull {REPO}:{NEW} (its manifest and every blob)",
    _on_live(user_can_pull(REPO, NEW)),
    hints=[
        f"{REPO}:{NEW} must stay complete: its manifest and every layer it names.",
        "Delete only the old version's manifest — by its own digest, not the new one's — and let garbage "
        "collection decide which layers are unused.",
        f"Idea: if {NEW} is broken, push it again: push(lab.ref('{REPO}', '{NEW}')).",
    ],
)

OLD_DELETED = Requirement(
    f"{REPO}:{OLD} is deleted from the registry",
    _on_live(old_release_deleted()),
    hints=[
        "registry:2 deletes manifests, not tags: DELETE /v2/<repository>/manifests/<digest>, and every tag on "
        "that manifest goes with it.",
        f"lab.client().digest('{REPO}', '{OLD}') gives the digest; the client has a method to delete a manifest.",
        f"Idea: client.delete_manifest('{REPO}', client.digest('{REPO}', '{OLD}')).",
    ],
)

NO_GARBAGE = Requirement(
    "no blob is left on disk that no manifest refers to",
    _on_live(no_garbage_left()),
    hints=[
        "Deleting a manifest only unlinks it: its config and layers stay on the registry's disk until garbage "
        "collection runs.",
        f"Garbage collection is a command inside the registry container: registry garbage-collect {CONFIG_PATH} "
        "(then restart the registry).",
        "Idea: garbage_collect(lab) does both (or docker exec, then docker restart).",
    ],
)


# -- solutions ------------------------------------------------------------------------------------------------
#: the configuration the scripted solution writes: htpasswd users, the lab's certificate, deletes on
CONFIG = """\
version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
  tls:
    certificate: /certs/server.crt
    key: /certs/server.key
auth:
  htpasswd:
    realm: team registry
    path: /auth/htpasswd
"""
#: where the solution's files go in the container (keys) and where they are in the work folder (values)
FILES = {CONFIG_PATH: "config.yml", "/auth": "auth", "/certs": CERTS}


def _solve_run(ctx: LabContext) -> None:
    ctx = _live(LabContext.discover(ctx.lab))
    task = (SERVES_TLS, ANONYMOUS_REFUSED, LEARNER_LOGS_IN, DELETES_ENABLED)
    if ctx.running and all(req.evaluate(ctx).passed for req in task):
        return
    assert ctx.user and ctx.password
    if not (ctx.workdir / CERTS / "server.crt").is_file():
        _issue_certificate(ctx)
    (ctx.workdir / "config.yml").write_text(CONFIG, encoding="utf-8")
    (ctx.workdir / "auth").mkdir(exist_ok=True)
    (ctx.workdir / "auth" / "htpasswd").write_text(htpasswd_line(ctx.user, ctx.password), encoding="utf-8")
    run_registry(ctx.lab, FILES)


def _solve_publish(ctx: LabContext) -> None:
    ctx = _live(LabContext.discover(ctx.lab))
    assert ctx.user and ctx.password
    docker_login(ctx.address, ctx.user, ctx.password)
    for version in (OLD, NEW):
        try:
            ctx.docker.images.get(ctx.ref(REPO, version))
        except docker.errors.ImageNotFound:
            _build(ctx.ref(REPO, version), version)
        push(ctx.ref(REPO, version), progress=False)


def _solve_retire(ctx: LabContext) -> None:
    ctx = _live(LabContext.discover(ctx.lab))
    client = ctx.client()
    old = client.digest(REPO, OLD)
    if old is not None:
        client.delete_manifest(REPO, old)
    garbage_collect(ctx.lab)


LAB = Lab(
    slug=SLUG,
    title="Your own private registry",
    images=[BASE, IMAGE],
    setup=_setup,
    users=("learner",),
    tls=False,
    delete=False,
    tasks=[
        Task(1, "Configure and run the registry: a login, TLS, deletes",
             [SERVES_TLS, ANONYMOUS_REFUSED, LEARNER_LOGS_IN, DELETES_ENABLED], _solve_run),
        Task(2, "Log in and publish both versions", [LOGGED_IN, OLD_PUSHED, NEW_PUSHED], _solve_publish),
        Task(3, "Retire 1.0 and reclaim its space", [OLD_DELETED, NEW_PULLS, NO_GARBAGE], _solve_retire),
    ],
)

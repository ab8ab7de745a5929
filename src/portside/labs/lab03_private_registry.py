"""Lab 03 — your own private registry.

Scenario: the team's registry was set up in a hurry. It asks for a password, but over
plain HTTP, so every push sends the password across the network readable by anyone on
the way. The build has left two versions of the team's app on this machine, named for
that registry (``localhost:PORT/team/app:1.0`` and ``:2.0``).

1. Run the registry again, properly: a login (user ``learner``) **and** HTTPS. The
   learner starts it with :func:`run_registry` — the lab's own way of running a
   ``registry:2`` container, which labels it so the checker finds it and keeps the
   lab's CA certificate where every client of the lab can read it.
2. Log in and publish both versions.
3. Retire 1.0: delete its manifest, then collect the garbage (:func:`garbage_collect`)
   so its bytes leave the disk.

The checker asks the registry itself: does an anonymous request get 401, does plain
HTTP get refused, does the learner's password work, can the learner pull 2.0 — and it
looks at the registry's disk (``docker exec … find``) to see that no blob is left that
no manifest refers to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import docker.errors
import requests

from portside.engine.transfer import push
from portside.errors import PortInUse, RegistryError, RegistryUnreachable
from portside.labs import catalog, lifecycle
from portside.labs.context import LabContext, find_container
from portside.labs.model import Lab, Outcome, Predicate, Requirement, Task
from portside.labs.predicates import anonymous_refused, logged_in, tag_exists, user_can_pull
from portside.lessons.sample_images import build_image
from portside.registry.admin import blob_links, manifest_revisions, stored_blobs
from portside.registry.container import docker_login
from portside.registry.maintenance import garbage_collect as collect_garbage
from portside.registry.readiness import ContainerTarget

__all__ = ["LAB", "REPO", "garbage_collect", "run_registry"]

SLUG = "03-private-registry"
REPO = "team/app"
OLD, NEW = "1.0", "2.0"
BASE = "busybox:1.35"


# -- the learner's tools ---------------------------------------------------------------------------------
def run_registry(lab: Any, *, users: Mapping[str, str] | None = None, tls: bool = False) -> None:
    """Replace the lab's registry by a new ``registry:2`` with these settings, on the same port.

    ``users`` maps user names to passwords (stored as bcrypt in the registry's htpasswd
    file; none means anyone may read and write); ``tls=True`` gives it a certificate
    signed by a CA made for the lab (``lab.context.ca_file``). Like re-running
    ``docker run`` without a volume, the new registry starts empty.
    """
    the_lab = catalog.lab_of(lab, SLUG)
    ctx = LabContext.discover(the_lab)
    lifecycle.remove_registry(the_lab.slug)
    try:
        registry = lifecycle.start_registry(the_lab, users or {}, port=ctx.port, tls=tls, delete=True)
    except PortInUse:
        raise PortInUse(f"Port {ctx.port} was taken by another program while the lab registry restarted.",
                        hint="Run lab.reset() to start the lab on a free port.") from None
    login = f"a login ({', '.join(sorted(users))})" if users else "no login: anyone may push"
    print(f"The lab registry runs again at {registry.address}: {login}; "
          + ("HTTPS with a certificate from the lab's CA (lab.context.ca_file)." if tls else "plain HTTP."))


def garbage_collect(lab: Any) -> str:
    """``docker exec <registry> registry garbage-collect <config>``, then restart it; returns the summary line.

    The restart clears the registry's in-memory cache of which blobs exist, as the
    registry's documentation asks after a collection. The same code as
    :meth:`portside.registry.Registry.garbage_collect`, on the lab's container found by label.
    """
    ctx = LabContext.discover(catalog.lab_of(lab, SLUG))
    container = find_container(ctx.lab.slug)
    if container is None or container.status != "running":
        raise RegistryUnreachable(f"The lab registry is not running (nothing answers at {ctx.address}).",
                                  hint="Run lab.reset() to start it again.")
    output = collect_garbage(ContainerTarget(container), ctx.address, tls=ctx.tls)
    return next((line for line in output.splitlines() if "blobs marked" in line), output.strip())


# -- the start state ----------------------------------------------------------------------------------------
def _build_images(ctx: LabContext) -> None:
    """The build's output: two versions of the app, sharing only the busybox base layer."""
    for version in (OLD, NEW):
        build_image(ctx.ref(REPO, version), base=BASE)


def _setup(ctx: LabContext) -> None:
    _build_images(ctx)


# -- predicates ------------------------------------------------------------------------------------------------
def serves_tls() -> Predicate:
    """The registry answers HTTPS, with a certificate the lab's CA vouches for, and refuses plain HTTP."""

    def check(ctx: LabContext) -> Outcome:
        try:
            plain = requests.get(f"http://{ctx.address}/v2/", timeout=5)
        except requests.RequestException:
            raise RegistryUnreachable(f"Nothing answers at {ctx.address}.") from None
        if "HTTP request to an HTTPS server" not in plain.text:
            return Outcome.fail(f"it answers plain HTTP (GET http://…/v2/ → {plain.status_code}): a password "
                                "sent to it crosses the network readable")
        if ctx.ca_file is None:
            return Outcome.fail("it speaks HTTPS, but not with a certificate from the lab's CA")
        try:
            requests.get(f"https://{ctx.address}/v2/", timeout=5, verify=str(ctx.ca_file))
        except requests.exceptions.SSLError:
            return Outcome.fail("its certificate is not signed by the lab's CA")
        return Outcome.ok()

    return check


def user_can_log_in() -> Predicate:
    """The lab's user, with the lab's password, gets 200 from ``GET /v2/``."""

    def check(ctx: LabContext) -> Outcome:
        status = ctx.client().ping()
        if status == 200:
            return Outcome.ok()
        return Outcome.fail(f"the registry refused {ctx.user}'s password (GET /v2/ → {status})")

    return check


def _pushed_here(ctx: LabContext, version: str) -> bool:
    """Whether the local image ``team/app:VERSION`` was ever pushed into *this* registry.

    Its config blob (whose digest is the local image id) is then linked to the
    repository; the link survives a manifest delete and garbage collection, and a
    registry started anew has none.
    """
    try:
        image_id = ctx.docker.images.get(ctx.ref(REPO, version)).id
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
    "the registry speaks HTTPS with a certificate from the lab's CA",
    serves_tls(),
    hints=[
        "With plain HTTP, every request carries base64(user:password) that anyone on the network path can "
        "decode. The registry has to be started again, this time with a certificate.",
        "run_registry(lab, …) starts the lab's registry anew; one of its options gives it a TLS certificate "
        "signed by the lab's own CA.",
        "Idea: run_registry with tls=True — and keep the users, or the login requirement fails next.",
    ],
)

ANONYMOUS_REFUSED = Requirement(
    "an anonymous request is refused with 401",
    anonymous_refused(),
    hints=[
        "A registry without users lets anyone push and pull. Yours must answer 401 to a request that "
        "carries no credentials.",
        "run_registry takes users={name: password}: with at least one user, registry:2 turns on htpasswd "
        "authentication.",
        "Idea: run_registry(lab, users={lab.user: lab.password}, tls=True).",
    ],
)

LEARNER_LOGS_IN = Requirement(
    "learner can log in with the lab's password",
    user_can_log_in(),
    hints=[
        "The checker logs in as lab.user with lab.password; the registry must know that pair.",
        "The users you pass to run_registry become the registry's htpasswd file: the name must be lab.user "
        "and the password lab.password (pass the value; never print it).",
        "Idea: users={lab.user: lab.password}.",
    ],
)

LOGGED_IN = Requirement(
    "you are logged in to the lab registry as learner",
    logged_in(),
    hints=[
        "The new registry wants a login before anything can be pushed. Log in once; the course's Docker "
        "client keeps the login in its own config file.",
        "Log in to lab.address as lab.user with lab.password.",
        "Idea: docker_login(lab.address, lab.user, lab.password).",
    ],
)

OLD_PUSHED = Requirement(
    f"{REPO}:{OLD} was published",
    old_release_published(),
    hints=[
        "The build left both versions on this machine, already named for the lab registry: "
        f"lab.ref('{REPO}', '{OLD}') and lab.ref('{REPO}', '{NEW}').",
        "A name that starts with the registry's address only needs a push.",
        f"Idea: push(lab.ref('{REPO}', version)) for both versions, after logging in.",
    ],
)

NEW_PUSHED = Requirement(
    f"{REPO}:{NEW} is in the registry",
    tag_exists(REPO, NEW),
    hints=[
        f"Both versions go up: {OLD} now, so it can be retired in the next task, and {NEW}, which stays.",
        "A name that starts with the registry's address only needs a push.",
        f"Idea: push(lab.ref('{REPO}', '{NEW}')).",
    ],
)

NEW_PULLS = Requirement(
    f"learner can pull {REPO}:{NEW} (its manifest and every blob)",
    user_can_pull(REPO, NEW),
    hints=[
        f"{REPO}:{NEW} must stay complete: its manifest and every layer it names.",
        "Delete only the old version's manifest — by its own digest, not the new one's — and let garbage "
        "collection decide which layers are unused.",
        f"Idea: if {NEW} is broken, push it again: push(lab.ref('{REPO}', '{NEW}')).",
    ],
)

OLD_DELETED = Requirement(
    f"{REPO}:{OLD} is deleted from the registry",
    old_release_deleted(),
    hints=[
        "registry:2 deletes manifests, not tags: DELETE /v2/<repository>/manifests/<digest>, and every tag on "
        "that manifest goes with it.",
        f"lab.client().digest('{REPO}', '{OLD}') gives the digest; the client has a method to delete a manifest.",
        f"Idea: client.delete_manifest('{REPO}', client.digest('{REPO}', '{OLD}')).",
    ],
)

NO_GARBAGE = Requirement(
    "no blob is left on disk that no manifest refers to",
    no_garbage_left(),
    hints=[
        "Deleting a manifest only unlinks it: its config and layers stay on the registry's disk until garbage "
        "collection runs.",
        "Garbage collection is a command inside the registry container: registry garbage-collect "
        "/etc/docker/registry/config.yml (then restart the registry).",
        "Idea: garbage_collect(lab) does both.",
    ],
)


# -- solutions ------------------------------------------------------------------------------------------------
def _solve_run(ctx: LabContext) -> None:
    ctx = LabContext.discover(ctx.lab)
    if ctx.running and all(req.evaluate(ctx).passed for req in (SERVES_TLS, ANONYMOUS_REFUSED, LEARNER_LOGS_IN)):
        return
    assert ctx.user and ctx.password
    run_registry(ctx.lab, users={ctx.user: ctx.password}, tls=True)


def _solve_publish(ctx: LabContext) -> None:
    ctx = LabContext.discover(ctx.lab)
    assert ctx.user and ctx.password
    docker_login(ctx.address, ctx.user, ctx.password)
    for version in (OLD, NEW):
        try:
            ctx.docker.images.get(ctx.ref(REPO, version))
        except docker.errors.ImageNotFound:
            build_image(ctx.ref(REPO, version), base=BASE)
        push(ctx.ref(REPO, version), progress=False)


def _solve_retire(ctx: LabContext) -> None:
    ctx = LabContext.discover(ctx.lab)
    client = ctx.client()
    old = client.digest(REPO, OLD)
    if old is not None:
        client.delete_manifest(REPO, old)
    garbage_collect(ctx.lab)


LAB = Lab(
    slug=SLUG,
    title="Your own private registry",
    images=[BASE],
    setup=_setup,
    users=("learner",),
    tls=False,
    delete=True,
    tasks=[
        Task(1, "Run the registry with a login and TLS", [SERVES_TLS, ANONYMOUS_REFUSED, LEARNER_LOGS_IN],
             _solve_run),
        Task(2, "Log in and publish both versions", [LOGGED_IN, OLD_PUSHED, NEW_PUSHED], _solve_publish),
        Task(3, "Retire 1.0 and reclaim its space", [OLD_DELETED, NEW_PULLS, NO_GARBAGE], _solve_retire),
    ],
)

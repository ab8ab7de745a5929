"""The live environment of one lab, found from any process.

A lab runs its own registry container, labelled ``org.portside.lab=SLUG``. The
notebook kernel that started it and a terminal running ``portside lab check SLUG``
both build a :class:`LabContext` the same way: find the container by its label, read
its published port, and read the lab's credentials from the lab's state folder
(``run_dir("labs", SLUG)``; the password file is readable by its owner only). In a
namespaced run (``PORTSIDE_NAMESPACE``, set by the test suite) the container name, an
``org.portside.namespace`` label and the state folder carry the namespace, so two runs
can each have lab SLUG at once.

Predicates receive a ``LabContext`` and look at live state through it: the registry
API (:meth:`LabContext.client`), the engine (:attr:`LabContext.docker`) and the
lab's work folder.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import docker.errors

from portside.base.labels import COURSE, in_namespace
from portside.base.paths import namespace, run_dir
from portside.engine.daemon import client as docker_client
from portside.engine.daemon import uses_containerd_store
from portside.errors import EngineError, LabError, LabNotRunning
from portside.labs.room import RoomLink, answers
from portside.oci.endpoint import AtEndpoint, Endpoint

if TYPE_CHECKING:
    import docker
    import docker.models.containers

    from portside.labs.model import Lab
    from portside.oci.registry_client import Manifest, RegistryClient

__all__ = ["LAB_LABEL", "ROLE_LABEL", "LabContext", "LabNotRunning", "LabState", "container_name", "find_container",
           "lab_labels", "require_containerd_store"]

#: the label that ties a container to its lab
LAB_LABEL = "org.portside.lab"
#: on a lab's container that is not its registry (lab 06's pull-through cache): the lab's reset and close remove
#: it with the registry (it carries LAB_LABEL), but it is never taken for the lab's registry
ROLE_LABEL = "org.portside.lab-role"
_REGISTRY_PORT = "5000/tcp"


def container_name(slug: str) -> str:
    """The lab's registry container name: ``portside-lab-SLUG`` (``…-NAMESPACE`` in a namespaced run)."""
    ns = namespace()
    return f"portside-lab-{slug}-{ns}" if ns else f"portside-lab-{slug}"


def lab_labels(slug: str) -> dict[str, str]:
    """The label that ties a container to lab ``slug`` (its namespace label comes with ``course_labels``)."""
    return {LAB_LABEL: slug}


def lab_containers(slug: str) -> list[docker.models.containers.Container]:
    """Every container of lab ``slug`` in this run's namespace (another run's lab of that slug is not ours).

    Listed sparsely (no inspect of each), then only ours are inspected: another run may be
    removing its own lab of the same slug meanwhile.
    """
    containers = docker_client().containers
    listed = containers.list(all=True, sparse=True, filters={"label": [f"{COURSE}=true", f"{LAB_LABEL}={slug}"]})
    found = []
    for sparse in listed:
        if in_namespace(sparse.attrs.get("Labels")):
            try:
                found.append(containers.get(sparse.id))
            except docker.errors.NotFound:  # removed meanwhile (by this namespace's own teardown)
                continue
    return found


def find_container(slug: str) -> docker.models.containers.Container | None:
    """The lab's registry container (running or not), or ``None``; a container with a :data:`ROLE_LABEL` is not it."""
    found = [c for c in lab_containers(slug) if not (c.labels or {}).get(ROLE_LABEL)]
    running = [c for c in found if c.status == "running"]
    return (running or found or [None])[0]


def _published_port(container: docker.models.containers.Container) -> int | None:
    ports = (container.attrs.get("NetworkSettings") or {}).get("Ports") or {}
    bindings = ports.get(_REGISTRY_PORT) or []
    for binding in bindings:
        if binding.get("HostPort"):
            return int(binding["HostPort"])
    return None


class LabState:
    """The files a lab keeps in its state folder.

    ``credentials.json`` (mode 0600) holds the generated passwords, ``registry.json``
    the last known port and TLS settings, ``facts.json`` what ``setup`` recorded for
    the predicates (e.g. the digest of an image it pushed), ``work/`` is scratch space
    for the tasks.
    """

    def __init__(self, slug: str) -> None:
        self.slug = slug
        self.folder = run_dir("labs") / slug  # created when something is written

    def _read(self, name: str) -> dict[str, Any]:
        path = self.folder / name
        if not path.is_file():
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}

    def _write(self, name: str, data: Mapping[str, Any], *, private: bool = False) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / name
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, sort_keys=True)
        os.replace(tmp, path)

    @property
    def started(self) -> bool:
        return (self.folder / "registry.json").is_file()

    @property
    def credentials(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self._read("credentials.json").items()}

    @credentials.setter
    def credentials(self, users: Mapping[str, str]) -> None:
        self._write("credentials.json", users, private=True)

    @property
    def registry(self) -> dict[str, Any]:
        return self._read("registry.json")

    @registry.setter
    def registry(self, data: Mapping[str, Any]) -> None:
        self._write("registry.json", data)

    @property
    def facts(self) -> dict[str, Any]:
        return self._read("facts.json")

    def remember(self, **facts: Any) -> None:
        """Record facts for the predicates (JSON values)."""
        self._write("facts.json", {**self.facts, **facts})

    def forget_facts(self) -> None:
        (self.folder / "facts.json").unlink(missing_ok=True)

    @property
    def ca_file(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def workdir(self) -> Path:
        path = self.folder / "work"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def clear_workdir(self) -> None:
        shutil.rmtree(self.folder / "work", ignore_errors=True)

    def remove(self) -> None:
        """Delete the whole state folder (credentials included)."""
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass(frozen=True)
class LabContext(AtEndpoint):
    """Everything a predicate or a ``solve`` step may use.

    ``running`` is False when the lab's container is gone or stopped; the address is
    then the last known one, so a check reports "registry unreachable" instead of
    failing to start.
    """

    lab: Lab
    port: int
    tls: bool
    users: Mapping[str, str]
    running: bool
    state: LabState
    #: the workshop room the lab runs in (its registry and the learner's namespace there), else None
    room: RoomLink | None = None
    _clients: dict[str | None, RegistryClient] = field(default_factory=dict, repr=False, compare=False)
    _answers: dict[tuple[str, str, str], object] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def discover(cls, lab: Lab) -> LabContext:
        """Find the lab's registry (by label) and its credentials (from the state folder)."""
        state = LabState(lab.slug)
        room = RoomLink.saved(state.registry)
        if room is not None:
            return cls(lab=lab, port=room.port, tls=room.tls, users=state.credentials, running=answers(room),
                       state=state, room=room)
        try:
            container = find_container(lab.slug)
        except docker.errors.DockerException as err:
            raise EngineError(f"Could not list the lab's containers: {err}") from None
        saved = state.registry
        port = _published_port(container) if container is not None and container.status == "running" else None
        running = port is not None
        if port is None:
            if not saved.get("port"):
                raise LabNotRunning(
                    f"Lab {lab.slug} is not running on this machine.",
                    hint=f'Start it in its notebook (`portside.labs.start("{lab.slug}")`) '
                         f"or run `portside lab reset {lab.slug}`.")
            port = int(saved["port"])
        return cls(lab=lab, port=port, tls=bool(saved.get("tls", lab.tls)), users=state.credentials,
                   running=running, state=state)

    # -- addresses -----------------------------------------------------------------------------------
    @property
    def endpoint(self) -> Endpoint:
        """The lab's registry as one value: ``localhost:PORT``, TLS and the lab's CA, as the lab's main user.

        In a workshop room: the room registry, under the learner's namespace, as the learner's account.
        """
        if self.room is not None:
            return self.room.endpoint(self.users.get(self.room.reader or self.room.account))
        return Endpoint("localhost", self.port, tls=self.tls, ca_file=self.ca_file, username=self.user,
                        password=self.password)

    # -- credentials ---------------------------------------------------------------------------------
    @property
    def user(self) -> str | None:
        """The lab's main user (the one the learner logs in as; in a room, the learner's account)."""
        if self.room is not None:
            return self.room.account
        return self.lab.users[0] if self.lab.users else None

    @property
    def password(self) -> str | None:
        """The main user's password. Never print it: pass it to the login call instead."""
        return self.users.get(self.user) if self.user else None

    def password_for(self, user: str) -> str:
        try:
            return self.users[user]
        except KeyError:
            raise LabError(f"Lab {self.lab.slug} has no user {user!r}.") from None

    @property
    def ca_file(self) -> Path | None:
        return self.state.ca_file if self.tls and self.state.ca_file.is_file() else None

    # -- clients -------------------------------------------------------------------------------------
    def client(self, username: str | None = None) -> RegistryClient:
        """A registry API client logged in as ``username`` (default: the lab's main user).

        For an open lab (no users) the client is anonymous. The check for anonymous
        access on a lab *with* users is :func:`portside.labs.predicates.anonymous_refused`.
        One client per user for the life of this context.
        """
        user = username or (self.room.reader if self.room is not None and self.room.reader else self.user)
        if user not in self._clients:
            password = self.password_for(user) if user else None
            self._clients[user] = self.endpoint.as_user(user, password).client()
        return self._clients[user]

    # -- registry reads, remembered for the life of this context (one check) ---------------------------
    # An authenticated request costs a bcrypt comparison in the registry; predicates of one
    # check often ask the same question, so each answer is fetched once.
    def digest(self, repository: str, reference: str) -> str | None:
        """The manifest digest ``repository:reference`` resolves to (``None`` if absent)."""
        key = ("digest", repository, reference)
        if key not in self._answers:
            self._answers[key] = self.client().digest(repository, reference)
        return cast("str | None", self._answers[key])

    def tags(self, repository: str) -> list[str]:
        """The tags of ``repository`` (``[]`` if it does not exist)."""
        key = ("tags", repository, "")
        if key not in self._answers:
            self._answers[key] = self.client().tags(repository)
        return list(cast("list[str]", self._answers[key]))

    def catalog(self) -> list[str]:
        """Every repository in the lab's registry."""
        key = ("catalog", "", "")
        if key not in self._answers:
            self._answers[key] = self.client().catalog()
        return list(cast("list[str]", self._answers[key]))

    def manifest(self, repository: str, reference: str) -> Manifest:
        key = ("manifest", repository, reference)
        if key not in self._answers:
            self._answers[key] = self.client().manifest(repository, reference)
        return cast("Manifest", self._answers[key])

    @property
    def docker(self) -> docker.DockerClient:
        return docker_client()

    @property
    def workdir(self) -> Path:
        return self.state.workdir

    @property
    def facts(self) -> dict[str, Any]:
        return self.state.facts


def require_containerd_store(lab: str, why: str) -> None:
    """Refuse to set up ``lab`` (e.g. "Lab 06") on an engine without the containerd image store, saying ``why``."""
    if not uses_containerd_store():
        raise LabError(f"{lab} needs the engine's containerd image store: {why}",
                       hint="Use the course's engine (`make setup` as root), or Docker Engine 29+ / Docker Desktop, "
                            "where the containerd image store is the default.")

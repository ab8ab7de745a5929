"""Bring a lab's environment up, back to its start state, or down.

The start state of every lab is: a fresh, empty registry of its own (labelled
``org.portside.lab=SLUG``, on the same port as before when that port is free), the
lab's users with their generated passwords, no saved login for that registry, no
local image tags pointing at it, an empty work folder — and then whatever the lab's
``setup`` adds. Tearing down removes all of that again. Both work from any process:
everything is found by label or in the lab's state folder, never held in memory.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Mapping
from typing import Any

import docker.errors

from portside.base.labels import COURSE
from portside.engine.daemon import client as docker_client
from portside.errors import ImageUnavailable, PortInUse, PortsideError, RoomError
from portside.labs.context import LabContext, LabState, container_name, lab_containers, lab_labels
from portside.labs.model import Lab
from portside.labs.room import RoomLink, clear, link, room_from_env, unlink
from portside.lessons import myapp
from portside.oci import credentials
from portside.registry.container import Registry, remove_local_names

__all__ = ["LabRegistry", "ensure_running", "join_room", "provision", "remove_built_images", "remove_registry",
           "start_registry", "teardown"]


class LabRegistry(Registry):
    """A course registry that also carries the ``org.portside.lab=SLUG`` label (so any process finds it)."""

    def __init__(self, slug: str, **options: Any) -> None:
        super().__init__(labels=lab_labels(slug), **options)
        self._lab_slug = slug


def _new_password() -> str:
    """A password a learner can type: 16 letters and digits."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


def _require_images(lab: Lab) -> None:
    images = docker_client().images
    for name in lab.images:
        try:
            images.get(name)
        except docker.errors.ImageNotFound:
            raise ImageUnavailable(f"Lab {lab.slug} starts from the image {name}, which is not on this machine.",
                                   hint="Run `portside images ensure` (it builds a stand-in offline), "
                                        "then start the lab again.") from None


def _lab_containers(slug: str) -> list[Any]:
    """The lab's containers: by label, plus a course container that holds the lab's name."""
    found = {c.id: c for c in lab_containers(slug)}
    try:
        named = docker_client().containers.get(container_name(slug))
    except docker.errors.NotFound:
        named = None
    if named is not None and (named.labels or {}).get(COURSE) == "true":
        found.setdefault(named.id, named)
    return list(found.values())


def _ports_of(containers: list[Any]) -> set[int]:
    ports: set[int] = set()
    for container in containers:
        for bindings in ((container.attrs.get("HostConfig") or {}).get("PortBindings") or {}).values():
            for binding in bindings or []:
                if binding.get("HostPort"):
                    ports.add(int(binding["HostPort"]))
    return ports


def remove_built_images(lab: Lab) -> None:
    """Remove the local images the lab's setup built (only names the course made: a learner's own stay)."""
    for name in lab.built_images:
        myapp.remove(name)


def teardown(slug: str, *, forget: bool = False) -> None:
    """Remove the lab's registry container(s) and data, local tags and saved logins.

    With ``forget``, the lab's state folder (generated passwords, facts, work folder)
    goes too; otherwise the passwords are kept so a reset does not change them.
    """
    state = LabState(slug)
    room = RoomLink.saved(state.registry)
    if room is not None:  # the room is the instructor's: only the learner's part of it is touched
        if forget:  # leaving the room: what was pushed stays for the instructor's board (`workshop down` ends it)
            remove_local_names(room.port, namespace=room.account, host=room.host)
            credentials.forget(room.address)
            unlink(state)
        else:  # back to the start state: the lab's repositories in the learner's namespace are emptied
            clear(LabContext.discover(catalog_lab(slug)), room)
            state.clear_workdir()
            state.forget_facts()
        return
    ports = remove_registry(slug)
    if state.registry.get("port"):
        ports.add(int(state.registry["port"]))
    for port in sorted(ports):
        remove_local_names(port)
        credentials.forget(f"localhost:{port}")  # every form: 127.0.0.1:PORT, http(s)://… too
    if forget:
        state.remove()
    else:
        state.clear_workdir()
        state.forget_facts()


def remove_registry(slug: str) -> set[int]:
    """Remove the lab's registry container(s) and their data; return the host ports they had.

    Only the containers: local tags, saved logins and the state folder stay (see :func:`teardown`).
    """
    containers = _lab_containers(slug)
    ports = _ports_of(containers)
    for container in containers:
        try:
            container.remove(force=True, v=True)  # v: the registry's anonymous data volume
        except docker.errors.NotFound:
            pass
    return ports


def start_registry(lab: Lab, users: Mapping[str, str], *, port: int | None, tls: bool | None = None,
                   delete: bool | None = None) -> Registry:
    """Start the lab's registry (``tls``/``delete``: the lab's own settings unless given) and record it.

    Recording it is what makes it the lab's for every process: its port and TLS setting
    in the state folder, and its CA there too (the container keeps its own copy of the
    key; the registry's temporary certificate folder goes).
    """
    tls = lab.tls if tls is None else tls
    delete = lab.delete if delete is None else delete
    registry = LabRegistry(lab.slug, users=dict(users) or None, tls=tls, delete=delete, port=port,
                           name=container_name(lab.slug))
    registry.start()
    state = LabState(lab.slug)
    try:
        if registry.ca_file is not None:
            shutil.copyfile(registry.ca_file, state.ca_file)
            shutil.rmtree(registry.ca_file.parent, ignore_errors=True)
        state.registry = {"port": registry.port, "tls": tls}
    except BaseException:
        remove_registry(lab.slug)
        raise
    return registry


def catalog_lab(slug: str) -> Lab:
    from portside.labs.catalog import get

    return get(slug)


def join_room(lab: Lab, address: str | None = None, user: str | None = None, password: str | None = None,
              ca_file: str | None = None) -> LabContext:
    """Link ``lab`` to a workshop room (arguments, else the ``PORTSIDE_ROOM*`` variables) and put it in its start state.

    A lab that ran with its own registry before has that registry removed first.
    """
    env_address, env_user, env_password, env_ca = room_from_env()
    state = LabState(lab.slug)
    if RoomLink.saved(state.registry) is None:
        teardown(lab.slug, forget=True)
    link(lab, state, address or env_address or "", user or env_user, password if password is not None else env_password,
         ca_file or env_ca)
    return provision(lab)


def provision(lab: Lab) -> LabContext:
    """Put the lab in its start state (tearing down what was there) and return its context."""
    _require_images(lab)
    state = LabState(lab.slug)
    if RoomLink.saved(state.registry) is not None:
        teardown(lab.slug)
        ctx = LabContext.discover(lab)
        lab.setup(ctx)
        return ctx
    previous = state.registry.get("port")
    teardown(lab.slug)
    users = state.credentials
    if sorted(users) != sorted(lab.users):
        users = {user: _new_password() for user in lab.users}
        state.credentials = users
    try:
        start_registry(lab, users, port=int(previous) if previous else None)
    except PortInUse:
        start_registry(lab, users, port=None)  # the old port was taken meanwhile: any free one
    try:
        ctx = LabContext.discover(lab)
        lab.setup(ctx)
    except BaseException:
        teardown(lab.slug)
        raise
    return ctx


def ensure_running(lab: Lab) -> LabContext:
    """The running lab's context, provisioning it first if it is not running."""
    try:
        ctx = LabContext.discover(lab)
    except PortsideError:
        return provision(lab)
    if ctx.room is not None:  # a room is not ours to restart: the lab's start state is already there
        if not ctx.running:
            raise RoomError(f"The workshop room at {ctx.room.address} does not answer.",
                            hint="Tell the instructor; or leave the room with `portside lab close "
                                 f"{lab.slug}` and run the lab on its own registry.")
        return ctx
    usable = ctx.running and sorted(ctx.users) == sorted(lab.users)  # credentials found for its users
    return ctx if usable else provision(lab)

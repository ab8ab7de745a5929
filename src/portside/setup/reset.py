"""Back to a clean course state: remove what the lessons made in this run's namespace, keep what set-up made.

A clean course state is what a learner has right after ``make setup``: the engine, the course
images (pulled or stand-ins), the tools, the wheels and the caches. :func:`reset` removes, on top
of that, what lessons leave behind (a kernel that died before its last cell, a lesson stopped
halfway):

* every course container, network and volume (label ``org.portside.course=true``) of this namespace;
* the local image names pointing at those containers' registries (``localhost:PORT/…``), and the
  saved logins for them in the course's Docker config;
* the images the course built in this namespace (``org.portside.course=true``, by build session:
  :func:`portside.setup.cleanup.remove_images`, so a learner's own image built on one keeps it), but
  not the course image (:data:`SETUP_KINDS`: set-up builds it);
* the throwaway TLS certificates (with their private keys) of lesson registries that are gone.

It never touches the learner's ``~/.docker``, an image set-up made, anything without the course
label, or a saved login for a registry that is not one of the course's (a learner's own Docker Hub
login in the course config stays). Labs and a workshop room are higher layers: ``portside reset``
closes them first (:mod:`portside.cli.course`), then calls this.

**Namespaces.** Unlike ``portside cleanup`` (every course resource on the engine), a reset stays in
this run's namespace (:func:`portside.base.labels.in_namespace`): a learner's reset (no
``PORTSIDE_NAMESPACE``) takes only what carries no namespace label, and a test run's only its own, so
a reset never pulls a registry from under another run. Local names and logins follow their registry:
only the ports of this namespace's registries. The certificate folder is shared by all namespaces and
the certificates carry no label: it is emptied only when no course registry of any namespace is left.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from typing import Any

import docker.errors

from portside.base.labels import COURSE, KIND, SESSION, course_filter, in_namespace
from portside.base.paths import state_dir
from portside.engine.daemon import client, list_images
from portside.errors import engine_detail
from portside.oci import credentials
from portside.registry.local_images import remove_local_names
from portside.setup.cleanup import remove_images
from portside.setup.course_image.image import KIND as COURSE_IMAGE_KIND

__all__ = ["CERT_GRACE", "PORT_LABEL", "SETUP_KINDS", "Reset", "reset"]

#: the host port a course registry container was published on (set by :class:`portside.registry.Registry`)
PORT_LABEL = "org.portside.port"
_LOOPBACK = ("localhost", "127.0.0.1")
#: kinds of course-labelled images that set-up makes, not the lessons: a reset keeps them
SETUP_KINDS = frozenset({COURSE_IMAGE_KIND})
#: seconds a new certificate folder is left alone (its registry may be starting: see :func:`_certificates`)
CERT_GRACE = 300


@dataclass
class Reset:
    """What :func:`reset` removed (and what it left, with the reason)."""

    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    local_names: list[str] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    certificates: int = 0
    kept: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.containers or self.networks or self.volumes or self.images or self.local_names
                    or self.logins or self.certificates)

    def lines(self) -> list[str]:
        """What went, one line per kind of thing (none when nothing was there)."""
        def count(what: str, names: list[str], plural: str = "s", after: str = "") -> str:
            return f"{len(names)} {what}{plural if len(names) != 1 else ''}{after}: {', '.join(sorted(names))}"

        found = []
        engine = [count(what, names) for what, names in (("container", self.containers),
                                                          ("network", self.networks), ("volume", self.volumes))
                  if names]
        if engine:
            found.append("Removed " + "; ".join(engine) + ".")
        if self.images:
            found.append("Removed " + count("image", self.images, after=" the lessons built") + ".")
        if self.local_names:
            found.append("Removed " + count("local name", self.local_names, after=" pointing at course registries")
                         + ".")
        if self.logins:
            found.append("Forgot " + count("saved login", self.logins, after=" for course registries") + ".")
        if self.certificates:
            found.append(f"Removed {self.certificates} throwaway TLS certificate folder"
                         f"{'s' if self.certificates != 1 else ''} of lesson registries that are gone.")
        return found

    def kept_lines(self) -> list[str]:
        """What was found but left, each with its reason."""
        return [f"Kept {note}." for note in self.kept]


def _name(attrs: dict[str, Any], fallback: str) -> str:
    names = attrs.get("Names") or [fallback]
    return f"{str(names[0]).lstrip('/')} ({(attrs.get('Labels') or {}).get(KIND, '?')})"


def _ports(attrs: dict[str, Any]) -> set[int]:
    """The host ports of one container (sparse listing): its course port label and what it publishes."""
    found = {int(p["PublicPort"]) for p in attrs.get("Ports") or [] if p.get("PublicPort")}
    label = (attrs.get("Labels") or {}).get(PORT_LABEL, "")
    return found | ({int(label)} if label.isdigit() else set())


def _engine_objects(done: Reset) -> set[int]:
    """Remove this namespace's course containers, networks and volumes; return the ports its containers had."""
    cli = client()
    course = course_filter()
    ports: set[int] = set()
    for container in cli.containers.list(all=True, filters=course, sparse=True):
        attrs = container.attrs
        if not in_namespace(attrs.get("Labels")):
            continue
        ports |= _ports(attrs)
        try:
            container.remove(force=True, v=True)  # v: its anonymous volume (registry:2's /var/lib/registry)
            done.containers.append(_name(attrs, container.short_id))
        except docker.errors.NotFound:  # removed meanwhile
            pass
    for network in cli.networks.list(filters=course):
        if in_namespace(network.attrs.get("Labels")):
            try:
                network.remove()
                done.networks.append(f"{network.name} ({_kind(network.attrs)})")
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:  # a container of another namespace (or the learner's) is on it
                done.kept.append(f"the network {network.name}: {engine_detail(exc)}")
    for volume in cli.volumes.list(filters=course):
        if in_namespace(volume.attrs.get("Labels")):
            try:
                volume.remove(force=True)
                done.volumes.append(f"{volume.name} ({_kind(volume.attrs)})")
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:  # in use by a container that is not this namespace's
                done.kept.append(f"the volume {volume.name}: {engine_detail(exc)}")
    return ports


def _kind(attrs: dict[str, Any]) -> str:
    return str((attrs.get("Labels") or {}).get(KIND, "?"))


def _names_at(ports: set[int]) -> set[str]:
    """The local tags and digest names that point at ``localhost:PORT`` or ``127.0.0.1:PORT`` for ``ports``."""
    prefixes = tuple(f"{host}:{port}/" for port in ports for host in _LOOPBACK)
    if not prefixes:
        return set()
    return {name for image in list_images() for name in (image.get("RepoTags") or []) + (image.get("RepoDigests") or [])
            if name.startswith(prefixes)}


def _registry_traces(ports: set[int], done: Reset) -> None:
    """Forget the local names and saved logins of the registries that listened on ``ports``."""
    before = _names_at(ports)
    for port in sorted(ports):
        remove_local_names(port)
    left = _names_at(ports)
    done.local_names += sorted(before - left)
    if left:
        done.kept.append(f"{len(left)} local name(s) of images a running container uses: {', '.join(sorted(left))}")
    auths = credentials.read_config().get("auths") or {}
    addresses = [f"localhost:{port}" for port in sorted(ports)]
    done.logins += [key for address in addresses for key in credentials.address_forms(address) if key in auths]
    credentials.forget(*addresses)


def _built_images(done: Reset) -> None:
    """Remove the images the course built in this namespace, one build session at a time.

    A session is one process's, and a process works in one namespace; a session whose images
    carry several namespaces (``PORTSIDE_SESSION`` set by hand) is left alone rather than guessed at.
    So is a session that built an image of a :data:`SETUP_KINDS` kind (``portside course-image build``):
    that image is set-up's, like the course images, and stays.
    """
    namespaces: dict[str, set[bool]] = {}  # session -> {in this namespace?} over its images
    setup_made: set[str] = set()  # sessions that built an image set-up makes (the course image)
    for image in list_images(all=True, filters=course_filter()):
        labels = image.get("Labels") or {}
        if labels.get(SESSION):
            namespaces.setdefault(labels[SESSION], set()).add(in_namespace(labels))
            if labels.get(KIND) in SETUP_KINDS:
                setup_made.add(labels[SESSION])
    for session in sorted(s for s, seen in namespaces.items() if seen == {True} and s not in setup_made):
        for line in remove_images(session=session):
            (done.kept if "(kept:" in line else done.images).append(line)
    done.kept += [f"the images of build session {session}: it built images for other namespaces too"
                  for session, seen in sorted(namespaces.items()) if seen == {True, False}]


def _certificates(done: Reset) -> None:
    """Remove the throwaway certificate folders of gone lesson registries (only when no course registry is left).

    A registry writes its folder just before its container exists: a folder younger than
    :data:`CERT_GRACE` seconds may be one that is starting right now, and stays.
    """
    now = time.time()
    folders = [path for path in state_dir("tls").glob("certs-*")
               if path.is_dir() and now - path.stat().st_mtime > CERT_GRACE]
    if not folders:
        return
    registries = client().containers.list(all=True, sparse=True,
                                          filters={"label": [f"{COURSE}=true", f"{KIND}=registry"]})
    if registries:  # another namespace's registry may still serve one of them: the folder names cannot say which
        done.kept.append(f"{len(folders)} TLS certificate folder(s): another namespace's course registry is running")
        return
    for path in folders:
        shutil.rmtree(path, ignore_errors=True)
    done.certificates = len(folders)


def reset() -> Reset:
    """Remove what the lessons left in this namespace (see the module docstring); returns what went.

    Safe to run again: a second run finds nothing and returns an empty :class:`Reset`.
    """
    done = Reset()
    ports = _engine_objects(done)
    _registry_traces(ports, done)
    _built_images(done)
    _certificates(done)
    return done

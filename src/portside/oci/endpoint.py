"""Where a registry answers and how to talk to it, made once and passed on as one value.

A registry the course starts (:class:`portside.registry.Registry`), a lab's registry
(:class:`portside.labs.LabContext`) and the learner's lab handle all hand out the same
:class:`Endpoint`: its address, URL, TLS setting and CA file, and the user to act as.
Everything that needs "the registry" (a reference in it, an API client, the environment a
CLI tool runs with) asks the endpoint instead of rebuilding it from a host name.

>>> ep = Endpoint("localhost", 5000)
>>> ep.address, ep.url, ep.ref("team/app", "1.0")
('localhost:5000', 'http://localhost:5000', 'localhost:5000/team/app:1.0')
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from portside.base.paths import docker_config_dir
from portside.oci.reference import Reference, join, parse
from portside.oci.tls import bundle

if TYPE_CHECKING:
    from portside.oci.registry_client import RegistryClient

__all__ = ["AtEndpoint", "Endpoint", "HasEndpoint", "RegistryLike", "endpoint_of"]


@dataclass(frozen=True)
class Endpoint:
    """A registry's address with its TLS setting and, optionally, the login to use. ``repr`` hides the password."""

    host: str
    port: int
    tls: bool = False
    #: the PEM file of the CA that signed the registry's certificate (a throwaway CA), when ``tls``
    ca_file: Path | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    #: a namespace every repository name is put under (``learner-07``: a lab run in a workshop room); the
    #: references and the client this endpoint hands out carry it, so code written for a lab's own registry
    #: works unchanged in the learner's part of a shared one
    namespace: str | None = None

    @property
    def address(self) -> str:
        """``HOST:PORT``: the registry part of image references."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The API base URL: ``http://HOST:PORT``, or ``https://`` with TLS."""
        return f"{'https' if self.tls else 'http'}://{self.address}"

    def as_user(self, username: str | None, password: str | None) -> Endpoint:
        """The same registry, acting as another user (``None``: anonymous)."""
        return replace(self, username=username, password=password)

    def repository(self, name: str) -> str:
        """``name`` under this endpoint's namespace, if it has one (``hello`` → ``learner-07/hello``)."""
        return f"{self.namespace}/{name}" if self.namespace else name

    def reference(self, repository: str, tag: str | None = None, digest: str | None = None) -> Reference:
        """A parsed reference in this registry (``InvalidReference`` says what is wrong with it)."""
        return parse(join(self.address, self.repository(repository), tag, digest))

    def ref(self, repository: str, tag: str | None = None, digest: str | None = None) -> str:
        """``HOST:PORT/repository[:tag][@digest]``, validated."""
        return self.reference(repository, tag, digest).original

    def client(self) -> RegistryClient:
        """A registry API client for this endpoint, as its user (anonymous when it has none)."""
        from portside.oci.registry_client import RegistryClient

        return RegistryClient(self.url, username=self.username, password=self.password, ca_file=self.ca_file,
                              namespace=self.namespace)

    def tool_env(self) -> dict[str, str]:
        """The environment for CLIs (cosign, syft, crane, curl): the course's Docker config, the engine, the CA."""
        env = {"DOCKER_CONFIG": str(docker_config_dir())}
        if os.environ.get("DOCKER_HOST"):
            env["DOCKER_HOST"] = os.environ["DOCKER_HOST"]
        if self.tls and self.ca_file:
            env["SSL_CERT_FILE"] = str(bundle(self.ca_file))
        return env


class HasEndpoint(Protocol):
    """Anything that knows where its registry answers: a ``Registry``, a ``LabContext``, a lab."""

    @property
    def endpoint(self) -> Endpoint: ...


#: where a registry answers: the endpoint itself, or anything that has one
RegistryLike = Endpoint | HasEndpoint


def endpoint_of(registry: RegistryLike) -> Endpoint:
    """The :class:`Endpoint` of ``registry`` (which may be one already)."""
    return registry if isinstance(registry, Endpoint) else registry.endpoint


class AtEndpoint:
    """``address``, ``url`` and ``ref()`` for a class that has an ``endpoint``: asked of it, never rebuilt.

    :class:`portside.registry.Registry`, a lab's context and the learner's lab handle all mix
    this in and define only :attr:`endpoint`.
    """

    @property
    def endpoint(self) -> Endpoint:
        raise NotImplementedError

    @property
    def address(self) -> str:
        """``localhost:PORT``: the registry part of image references (``localhost:PORT/repo:tag``)."""
        return self.endpoint.address

    @property
    def url(self) -> str:
        """The API base URL, ``http://localhost:PORT`` (``https://`` with TLS)."""
        return self.endpoint.url

    def ref(self, repository: str, tag: str | None = None, digest: str | None = None) -> str:
        """An image reference in this registry: ``localhost:PORT/repository[:tag][@digest]``, validated."""
        return self.endpoint.ref(repository, tag, digest)

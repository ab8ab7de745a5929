"""What every step works with: the configuration, the registry it releases to, and the state steps hand on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from portside.errors import UsageError
from portside.oci.endpoint import Endpoint
from portside.oci.registry_client import RegistryClient
from portside.pipeline.config import PipelineConfig
from portside.pipeline.state import ReleaseState

__all__ = ["StepContext", "endpoint_for"]


def endpoint_for(address: str) -> Endpoint:
    """The :class:`Endpoint` of ``HOST:PORT`` (plain HTTP; the course's saved login, if any, is used for it)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"{address!r} is not HOST:PORT.", hint="Give the registry as localhost:5000.")
    return Endpoint(host, int(port))


@dataclass
class StepContext:
    """One run's configuration, registry endpoint and state, and where to say what is going on."""

    config: PipelineConfig
    endpoint: Endpoint
    state: ReleaseState
    say: Callable[[str], object] | None = None
    #: the real commands the current step stands for, as it ran them (``note`` adds one)
    commands: list[str] = field(default_factory=list)
    #: the date allow-list expiries are judged on (``None``: today)
    today: dt.date | None = None
    _client: RegistryClient | None = field(default=None, repr=False)

    @property
    def repository(self) -> str:
        return self.config.repository

    @property
    def version(self) -> str:
        return self.config.version

    @property
    def release(self) -> str:
        """``team/app:1.1.0``: how details name the release (no registry port in them)."""
        return f"{self.repository}:{self.version}"

    def ref(self, tag: str | None = None, digest: str | None = None) -> str:
        """``HOST:PORT/REPOSITORY[:tag][@digest]`` in the release registry."""
        return self.endpoint.ref(self.repository, tag, digest)

    @property
    def local_image(self) -> str:
        """The name the build gives the image: the release's exact version in the release registry."""
        return self.ref(self.version)

    def client(self) -> RegistryClient:
        if self._client is None:
            self._client = self.endpoint.client()
        return self._client

    def cosign_options(self) -> dict[str, Any]:
        """How cosign reaches the registry: the endpoint's environment (CA) and login."""
        return {"env": self.endpoint.tool_env(), "registry_username": self.endpoint.username,
                "registry_password": self.endpoint.password}

    def note(self, command: str) -> None:
        """Record the real command a step is about to do (what a learner would type), and say it."""
        self.commands.append(command)
        if self.say is not None:
            self.say(command)

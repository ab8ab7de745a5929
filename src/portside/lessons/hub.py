"""The optional Docker Hub round trip: log in, tag, push, pull back, log out.

Docker Hub is the registry an image name without a host goes to (``docker.io``).
The course never contacts it unless the learner asks: :func:`hub_user` reads
``PORTSIDE_HUB_USER`` and returns ``None`` when it is unset, and a lesson then skips
its Hub cell. The token comes from ``PORTSIDE_HUB_TOKEN`` or is asked for without
echo; use a personal access token, not the account password (with two-factor
authentication switched on, the CLI accepts nothing else).

:func:`roundtrip` is written for any registry, so the course tests the very same
steps against a local one.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass

import docker.errors

from portside import engine
from portside.engine import transfer
from portside.oci.reference import parse as parse_reference
from portside.registry.container import docker_login, docker_logout

__all__ = ["HUB", "TOKEN_VARIABLE", "USER_VARIABLE", "RoundTrip", "hub_token", "hub_user", "roundtrip"]

HUB = "docker.io"
USER_VARIABLE = "PORTSIDE_HUB_USER"
TOKEN_VARIABLE = "PORTSIDE_HUB_TOKEN"


def hub_user() -> str | None:
    """Your Docker Hub user name from ``PORTSIDE_HUB_USER``; ``None`` (skip the Hub part) if unset."""
    user = os.environ.get(USER_VARIABLE, "").strip()
    return user or None


def hub_token() -> str:
    """The access token from ``PORTSIDE_HUB_TOKEN``, else asked for (nothing is echoed or stored here)."""
    return os.environ.get(TOKEN_VARIABLE) or getpass.getpass("Docker Hub personal access token: ")


@dataclass(frozen=True)
class RoundTrip:
    """What the round trip did; the digest is the registry's name for what was pushed."""

    reference: str
    digest: str
    same_image: bool

    def __str__(self) -> str:
        return (f"pushed and pulled back {self.reference}\n  digest: {self.digest}\n"
                f"  the pulled image is the one built here: {self.same_image}\n  logged out again")


def roundtrip(image: str, user: str, token: str, *, registry: str = HUB, repository: str = "myapp",
              tag: str = "1.0.0", progress: bool = True) -> RoundTrip:
    """Log in to ``registry`` as ``user``, publish ``image`` as ``user/repository:tag``, pull it back, log out.

    The local name made for the push is removed at the end, and so is the saved login.
    """
    target = parse_reference(f"{registry}/{user}/{repository}:{tag}").familiar
    cli = engine.client()
    docker_login(registry, user, token)
    try:
        transfer.tag(image, target)
        pushed = transfer.push(target, progress=progress)
        cli.images.remove(target)
        pulled = transfer.pull(target, progress=progress)
        same = pulled.id == cli.images.get(image).id
    finally:
        try:
            cli.images.remove(target)
        except docker.errors.NotFound:
            pass
        docker_logout(registry)
    return RoundTrip(target, pushed.digest, same)

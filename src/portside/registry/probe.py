"""What a running registry really does: the protocol it answers, and the configuration file it reads.

A registry someone else started, with ``docker run`` and their own ``config.yml``, tells
nothing about itself in advance. These two functions ask it:

* :func:`protocol` says whether it answers HTTPS or plain HTTP on its address (or nothing yet);
* :func:`config_in_container` reads the file ``registry:2`` loads its settings from
  (:data:`~portside.registry.layout.CONFIG_PATH`), so a checker can tell whether the file
  a learner wrote is the one in effect.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Literal

import docker.errors
import requests

from portside.errors import RegistryError
from portside.registry.layout import CONFIG_PATH

if TYPE_CHECKING:
    import docker.models.containers

__all__ = ["Scheme", "config_in_container", "protocol"]

Scheme = Literal["https", "http"]

#: what Go's TLS server answers to a plain-HTTP request (the registry is written in Go)
_TLS_ONLY = "HTTP request to an HTTPS server"


def protocol(address: str, *, wait: float = 0, timeout: float = 5) -> Scheme | None:
    """``"https"`` or ``"http"``: what the registry at ``address`` (``HOST:PORT``) answers ``GET /v2/`` with.

    ``None`` when nothing answers there; with ``wait``, keep asking for up to that many seconds
    first (a registry just started needs a moment before it listens). The answer comes from one
    plain-HTTP request: a TLS-only server refuses it with a message of its own. No certificate is
    checked here.
    """
    deadline = time.monotonic() + wait
    while True:
        try:
            answer = requests.get(f"http://{address}/v2/", timeout=timeout)
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or too slow to answer yet
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.1)
            continue
        except requests.RequestException:
            return None
        return "https" if _TLS_ONLY in answer.text else "http"


def config_in_container(container: docker.models.containers.Container) -> str | None:
    """The text of the configuration file ``registry:2`` reads in ``container`` (``None`` if there is none).

    Whatever put it there — a bind mount, ``docker cp``, the image itself — this is the file in
    effect; ``REGISTRY_*`` environment variables of the container can still override single settings.
    """
    try:
        result = container.exec_run(["busybox", "cat", CONFIG_PATH])
    except docker.errors.APIError as exc:
        raise RegistryError(f"Reading {CONFIG_PATH} in the registry container failed: {exc}") from None
    output = bytes(result.output or b"").decode(errors="replace")
    if result.exit_code != 0:
        if "No such file" in output:
            return None
        raise RegistryError(f"Reading {CONFIG_PATH} in the registry container failed: {output.strip()[-300:]}")
    return output

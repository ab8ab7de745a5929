"""Where ``docker login`` keeps what it was told: the course's own Docker config file.

``docker login`` writes to ``$DOCKER_CONFIG/config.json`` (``~/.docker/config.json``
when ``DOCKER_CONFIG`` is unset; the course always sets it, see
:func:`portside.base.paths.isolate_docker_config`). Without a credential helper the
file holds, per registry, an ``auth`` value that is only ``base64("user:password")``:
an encoding anybody can reverse, not encryption.

This module shows that file without ever showing a password:

>>> print(masked_config(["localhost:5000"]))    # doctest: +SKIP
{
  "auths": {
    "localhost:5000": {
      "auth": "<base64 of 'ada:********'>"
    }
  }
}
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portside.base.paths import docker_config_dir
from portside.errors import PortsideError

__all__ = ["SavedLogin", "config_file", "masked_config", "read_config", "saved_login", "storage"]

MASK = "********"


def config_file() -> Path:
    """The course's ``config.json`` (created empty on first use)."""
    return docker_config_dir() / "config.json"


def read_config() -> dict[str, Any]:
    """The course's Docker config as a dict (``{}`` if the file is empty or unreadable JSON)."""
    try:
        data = json.loads(config_file().read_text(encoding="utf-8") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class SavedLogin:
    """A login found in the config. ``repr`` and ``str`` never show the password."""

    address: str
    user: str
    _password: str

    @property
    def masked(self) -> str:
        """What the ``auth`` field decodes to, password hidden: ``ada:********``."""
        return f"{self.user}:{MASK}"

    def matches(self, password: str) -> bool:
        """Whether the saved password equals ``password`` (without revealing either)."""
        return self._password == password

    def __repr__(self) -> str:
        return f"SavedLogin(address={self.address!r}, user={self.user!r}, password={MASK})"

    __str__ = __repr__


def _decode(auth: str, where: str) -> tuple[str, str]:
    try:
        text = base64.b64decode(auth, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise PortsideError(f"The saved login for {where} is not valid base64 'user:password'.",
                            hint="Log in again; docker login rewrites the entry.") from None
    user, _, password = text.partition(":")
    return user, password


def saved_login(address: str) -> SavedLogin | None:
    """The login the course's config holds for ``address`` (``None`` if it holds none there)."""
    auths = read_config().get("auths") or {}
    for key in (address, f"http://{address}", f"https://{address}"):
        entry = auths.get(key)
        if isinstance(entry, dict) and entry.get("auth"):
            user, password = _decode(str(entry["auth"]), address)
            return SavedLogin(address, user, password)
    return None


def _mask_entry(address: str, entry: Any) -> Any:
    if not isinstance(entry, dict):
        return entry
    masked = dict(entry)
    if masked.get("auth"):
        user, _ = _decode(str(masked["auth"]), address)
        masked["auth"] = f"<base64 of {user + ':' + MASK!r}>"
    for secret in ("password", "identitytoken", "registrytoken"):
        if masked.get(secret):
            masked[secret] = MASK
    return masked


def masked_config(addresses: Iterable[str] | None = None) -> str:
    """The course's config as JSON with every secret masked; only ``addresses`` under ``auths`` if given.

    Limiting the addresses keeps a lesson's output to its own registry (labs and other
    lessons may hold logins of their own in the same file).
    """
    config = read_config()
    auths = config.get("auths") or {}
    if addresses is not None:
        wanted = set(addresses)
        auths = {key: value for key, value in auths.items() if key in wanted}
    if "auths" in config or addresses is not None:
        config["auths"] = {key: _mask_entry(key, value) for key, value in auths.items()}
    return json.dumps(config, indent=2)


def storage(address: str | None = None) -> str:
    """Where the secret for ``address`` (or any registry) is kept, in words.

    ``credHelpers`` names a helper per registry, ``credsStore`` one for all; either way
    the password goes to the operating system's keychain (or ``pass``) through a
    ``docker-credential-NAME`` program, and ``config.json`` only lists the registry.
    """
    config = read_config()
    helper = (config.get("credHelpers") or {}).get(address) if address else None
    if helper:
        return f"credential helper docker-credential-{helper} (credHelpers entry for {address})"
    if config.get("credsStore"):
        return f"credential store docker-credential-{config['credsStore']} (credsStore, for every registry)"
    return "config.json itself: the auth field is base64('user:password'), readable by anyone who can read the file"

"""Where ``docker login`` keeps what it was told: the course's own Docker config file.

``docker login`` writes to ``$DOCKER_CONFIG/config.json`` (``~/.docker/config.json``
when ``DOCKER_CONFIG`` is unset; the course always sets it, see
:func:`portside.base.paths.isolate_docker_config`). Without a credential helper the
file holds, per registry, an ``auth`` value that is only ``base64("user:password")``:
an encoding anybody can reverse, not encryption.

It is the one module that reads and writes that file: everything else that wants a
saved login (the registry client, a lab check) or needs one gone (a registry that
stops, a lab that resets) asks it. A login is looked up under every name the Docker
CLI may have saved it as (``localhost:PORT``, ``127.0.0.1:PORT``, with or without
``http(s)://``); when the file hands logins to a credential helper, the secret is not
in it, and asking for it is an error rather than a silent "not logged in".

It shows that file without ever showing a password:

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
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oras.utils import iter_localhosts

from portside.base.paths import docker_config_dir
from portside.errors import SetupError

__all__ = ["SavedLogin", "address_forms", "config_file", "decode", "forget", "helper_for", "masked_config",
           "read_config", "saved_login", "storage", "write_config"]

MASK = "********"


def config_file() -> Path:
    """The course's ``config.json``.

    :func:`portside.base.paths.docker_config_dir` creates it, empty and readable by its
    owner only, together with its folder: every CLI the course starts reads that folder
    (``DOCKER_CONFIG``), including ones that never import this module.
    """
    return docker_config_dir() / "config.json"


def read_config() -> dict[str, Any]:
    """The course's Docker config as a dict (``{}`` if the file is missing, empty or unreadable JSON)."""
    try:
        data = json.loads(config_file().read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_config(config: dict[str, Any]) -> None:
    """Replace the course's config with ``config``, in the Docker CLI's layout, readable by its owner only."""
    path = config_file()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(config, indent="\t") + "\n")
    os.replace(tmp, path)


def address_forms(address: str) -> Iterator[str]:
    """Every key a login for ``address`` may be saved under, the address as written first.

    ``localhost`` and ``127.0.0.1`` name the same registry (oras' rule), and the Docker
    CLI keeps a key with ``http://`` or ``https://`` as it was typed.
    """
    for name in dict.fromkeys(iter_localhosts(address)):
        yield from (name, f"http://{name}", f"https://{name}")


def helper_for(address: str, config: dict[str, Any] | None = None) -> str | None:
    """The credential helper that keeps the secret for ``address`` (``credHelpers``, else ``credsStore``), if any."""
    config = read_config() if config is None else config
    helpers = config.get("credHelpers") or {}
    for key in address_forms(address):
        if helpers.get(key):
            return str(helpers[key])
    store = config.get("credsStore")
    return str(store) if store else None


def decode(auth: str, where: str) -> tuple[str, str]:
    """``(user, password)`` from an ``auth`` value (``base64("user:password")``)."""
    try:
        text = base64.b64decode(auth, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise SetupError(f"The saved login for {where} is not valid base64 'user:password'.",
                         hint="Log in again; docker login rewrites the entry.") from None
    user, _, password = text.partition(":")
    return user, password


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

    @property
    def password(self) -> str:
        """The saved password, for a client that logs in with it. Pass it on; never print it."""
        return self._password

    def matches(self, password: str) -> bool:
        """Whether the saved password equals ``password`` (without revealing either)."""
        return self._password == password

    def __repr__(self) -> str:
        return f"SavedLogin(address={self.address!r}, user={self.user!r}, password={MASK})"

    __str__ = __repr__


def saved_login(address: str) -> SavedLogin | None:
    """The login the course's config holds for ``address`` (``None`` if it holds none there).

    Looks under every form of the address (:func:`address_forms`). When a credential
    helper keeps the secret instead, the file cannot tell: that raises :class:`SetupError`.
    """
    config = read_config()
    if helper_for(address, config):
        raise SetupError("The course's Docker config uses a credential helper; the course cannot read the "
                         "login it keeps.",
                         hint="Remove credsStore/credHelpers from the course's config.json.")
    auths = config.get("auths") or {}
    for key in address_forms(address):
        entry = auths.get(key)
        if isinstance(entry, dict) and entry.get("auth"):
            user, password = decode(str(entry["auth"]), address)
            return SavedLogin(address, user, password)
    return None


def forget(*addresses: str) -> None:
    """Drop the saved logins for ``addresses`` (every form of each) from the course config.

    What ``docker logout`` does to the file, without starting the CLI: used when a
    registry the course made goes away. A file without those logins is left untouched.
    """
    config = read_config()
    auths = config.get("auths") or {}
    doomed = [key for address in addresses for key in address_forms(address) if key in auths]
    if doomed:
        for key in doomed:
            del auths[key]
        write_config(config)


def _mask_entry(address: str, entry: Any) -> Any:
    if not isinstance(entry, dict):
        return entry
    masked = dict(entry)
    if masked.get("auth"):
        user, _ = decode(str(masked["auth"]), address)
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
    helpers = config.get("credHelpers") or {}
    helper = next((helpers[key] for key in address_forms(address) if helpers.get(key)), None) if address else None
    if helper:
        return f"credential helper docker-credential-{helper} (credHelpers entry for {address})"
    if config.get("credsStore"):
        return f"credential store docker-credential-{config['credsStore']} (credsStore, for every registry)"
    return "config.json itself: the auth field is base64('user:password'), readable by anyone who can read the file"

"""``docker login`` and ``docker logout`` against the course's own Docker config (never ``~/.docker``).

The CLI writes the file; :mod:`portside.oci.credentials` reads it (and forgets a login
when a registry the course made goes away).
"""

from __future__ import annotations

from portside import engine
from portside.base.paths import docker_config_dir
from portside.base.proc import run
from portside.engine.provided import docker_cli
from portside.errors import RegistryAuthError, RegistryError, RegistryUnreachable, ToolError, engine_error

__all__ = ["docker_login", "docker_logout"]


def _config_env() -> dict[str, str]:
    engine.client()  # exports DOCKER_HOST and the course DOCKER_CONFIG
    return {"DOCKER_CONFIG": str(docker_config_dir())}


def docker_login(address: str, username: str, password: str) -> None:
    """``docker login --password-stdin``: store a login in the course's Docker config (never ``~/.docker``).

    The engine checks the password against the registry first; a refusal raises
    :class:`RegistryAuthError`. The password is sent on standard input and never
    appears in a message.
    """
    try:
        run([docker_cli(), "login", "--username", username, "--password-stdin", address], input=password,
            env=_config_env(), timeout=60, what=f"docker login {address}")
    except ToolError as exc:
        text = exc.stderr.replace(password, "***") if password else exc.stderr
        last = text.strip().splitlines()[-1] if text.strip() else "no error text"
        other = RegistryError(f"docker login {address} failed: {last}")
        raise engine_error(text, "docker login", address, registry=address, instead={
            "unauthorized": RegistryAuthError(f"{address} refused the login of user {username!r} "
                                              "(401 Unauthorized).", status=401),
            "unreachable": RegistryUnreachable(f"Nothing answered at {address} when logging in."),
            "not-found": other, "no-local-image": other, "other": other,
        }) from None


def docker_logout(address: str) -> None:
    """``docker logout ADDRESS``: forget the course's saved login for one registry."""
    run([docker_cli(), "logout", address], env=_config_env(), timeout=30, what=f"docker logout {address}")

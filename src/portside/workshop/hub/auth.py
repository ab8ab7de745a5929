"""The room's accounts as a JupyterHub authenticator: ``learner-NN`` and ``instructor``, their bcrypt hashes.

JupyterHub loads it by name (``c.JupyterHub.authenticator_class``) in the hub's own process; it reads the
room's ``accounts.json`` (hashes only, never the passwords) through :class:`portside.room.accounts.Accounts`
and checks a login with :class:`portside.room.accounts.PasswordCheck`, as the room's token service does.
The instructor is the hub's admin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyterhub.auth import Authenticator
from traitlets import Unicode, default

from portside.room.accounts import Accounts, PasswordCheck
from portside.room.policy import INSTRUCTOR

__all__ = ["RoomAuthenticator"]


class RoomAuthenticator(Authenticator):  # type: ignore[misc]
    """Logs in the accounts of a room's ``accounts.json``; everyone else is refused."""

    accounts_folder = Unicode(help="the folder holding the room's accounts.json").tag(config=True)

    _check: PasswordCheck | None = None

    @default("admin_users")
    def _admins(self) -> set[str]:
        return {INSTRUCTOR}

    @default("allowed_users")
    def _allowed(self) -> set[str]:
        return set(Accounts(Path(self.accounts_folder)).names()) if self.accounts_folder else set()

    async def authenticate(self, handler: Any, data: dict[str, str]) -> str | None:
        if self._check is None:
            self._check = PasswordCheck(Accounts(Path(self.accounts_folder)).hashes())
        name, password = data.get("username", ""), data.get("password", "")
        return name if name and self._check(name, password) else None

"""The room's accounts: one per learner and one for the instructor, with generated passwords.

Two files, both the room's, both removed by ``portside workshop down``:

* ``accounts.json`` (mode 0600): the bcrypt hash of each password, what the token service checks;
* ``credentials.json`` (mode 0600): the passwords themselves, for the credentials sheet. It is read only to
  write the sheet and the learners' files; the token service never reads it.

Passwords are 16 random characters from ``secrets`` that are easy to read aloud and type (no 0/O, 1/l).
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import bcrypt

from portside.errors import RoomError
from portside.room.policy import INSTRUCTOR, learner_name

__all__ = ["Account", "Accounts", "PasswordCheck", "make_accounts", "password"]

_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
#: bcrypt cost of the room's password hashes: the passwords are random (16 characters, ~93 bits), so the
#: work factor guards nothing here; a low cost keeps a room of token requests fast (see THROWAWAY_BCRYPT_ROUNDS)
BCRYPT_ROUNDS = 6
ACCOUNTS_FILE, CREDENTIALS_FILE = "accounts.json", "credentials.json"


def password(length: int = 16) -> str:
    """A random password that reads aloud and types without confusion."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class Account:
    """One account; ``repr`` hides the password."""

    name: str
    password: str = field(repr=False)

    @property
    def is_instructor(self) -> bool:
        return self.name == INSTRUCTOR

    @property
    def namespace(self) -> str | None:
        """The namespace this account pushes under (``learner-07``); the instructor has none of its own."""
        return None if self.is_instructor else self.name


def make_accounts(learners: int) -> list[Account]:
    """``learner-01`` … ``learner-NN`` and ``instructor``, each with a new password."""
    if not 1 <= learners <= 200:
        raise RoomError(f"A room has 1 to 200 learners, not {learners}.", hint="Use --learners 1..200.")
    return [Account(learner_name(n), password()) for n in range(1, learners + 1)] + [Account(INSTRUCTOR, password())]


def _write_private(path: Path, data: Mapping[str, str]) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(dict(data), out, indent=2, sort_keys=True)
    os.replace(tmp, path)


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise RoomError(f"The room's {path.name} cannot be read ({err}).",
                        hint="Start the room again: `portside workshop down`, then `portside workshop up`.") from None
    return {str(k): str(v) for k, v in data.items()}


class Accounts:
    """The accounts of one room, kept in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, accounts: list[Account]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        salt = bcrypt.gensalt(rounds=BCRYPT_ROUNDS)
        _write_private(self.folder / ACCOUNTS_FILE,
                       {a.name: bcrypt.hashpw(a.password.encode(), salt).decode() for a in accounts})
        _write_private(self.folder / CREDENTIALS_FILE, {a.name: a.password for a in accounts})

    def names(self) -> list[str]:
        return list(_read(self.folder / ACCOUNTS_FILE))

    def hashes(self) -> dict[str, str]:
        return _read(self.folder / ACCOUNTS_FILE)

    def all(self) -> list[Account]:
        """Every account with its password (for the sheet and for tests; never print one)."""
        return [Account(name, pw) for name, pw in _read(self.folder / CREDENTIALS_FILE).items()]

    def get(self, name: str) -> Account:
        found = {a.name: a for a in self.all()}
        if name not in found:
            raise RoomError(f"The room has no account {name!r}.",
                            hint=f"Its accounts are {', '.join(sorted(found))}.")
        return found[name]


class PasswordCheck:
    """Checks a name and password against the hashes; a pair once found good is remembered (per process)."""

    def __init__(self, hashes: Mapping[str, str]) -> None:
        self._hashes = dict(hashes)
        self._pepper = secrets.token_bytes(16)
        self._good: set[bytes] = set()

    def _key(self, name: str, pw: str) -> bytes:
        return hmac.digest(self._pepper, f"{name}\0{pw}".encode(), "sha256")

    def __call__(self, name: str, pw: str) -> bool:
        hashed = self._hashes.get(name)
        if hashed is None:
            return False
        key = self._key(name, pw)
        if key in self._good:
            return True
        if bcrypt.checkpw(pw.encode(), hashed.encode()):
            self._good.add(key)
            return True
        return False


"""``room.json``: the one record of a running room (its addresses, ports, names and processes).

Written by :func:`portside.room.room.up`, read by everything else about the room (the token service
process, ``portside workshop status|down``, labs run ``--room``). Its owner is this module.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from portside.errors import RoomError, RoomNotRunning

__all__ = ["ROOM_FILE", "RoomSettings"]

ROOM_FILE = "room.json"


@dataclass(frozen=True)
class RoomSettings:
    """Where one room answers and what it is made of."""

    learners: int
    listen: str  #: the host address both servers bind (127.0.0.1 unless a room LAN address was given)
    host: str  #: the name learners use in image references (``localhost`` on loopback)
    registry_port: int
    token_port: int
    tls: bool
    service: str
    issuer: str
    ttl: int
    container: str  #: the registry container's name
    volume: str  #: its data volume
    pid: int = 0  #: the token service's process id
    started: str = ""

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def registry_address(self) -> str:
        return f"{self.host}:{self.registry_port}"

    @property
    def realm(self) -> str:
        """The token endpoint, as the challenge names it (a numeric address on loopback)."""
        host = "127.0.0.1" if self.host == "localhost" else self.host
        return f"{self.scheme}://{host}:{self.token_port}/token"

    @property
    def token_base(self) -> str:
        return self.realm.removesuffix("/token")

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{ROOM_FILE}.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, folder / ROOM_FILE)

    @classmethod
    def load(cls, folder: Path) -> RoomSettings:
        path = folder / ROOM_FILE
        if not path.is_file():
            raise RoomNotRunning(f"No workshop room is up on this machine (no {path}).")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except (ValueError, TypeError) as err:
            raise RoomError(f"{path} cannot be read ({err}).",
                            hint="Take the room down (`portside workshop down`) and start it again.") from None

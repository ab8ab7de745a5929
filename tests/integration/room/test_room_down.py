"""Taking a room down removes everything it made, and no credential of it works any more."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from portside.errors import RoomNotRunning
from portside.room import room as rooms


def test_down_removes_everything_and_invalidates_every_credential() -> None:
    room = rooms.up(1)
    me = room.endpoint_for("learner-01")
    container, volume = room.settings.container, room.settings.volume
    token_url, pid = room.token_url, room.settings.pid
    room.down()
    assert not room.folder.exists()  # keys, password hashes and sheet are gone
    with pytest.raises(RoomNotRunning):
        rooms.current()
    cmdline = Path(f"/proc/{pid}/cmdline")
    assert not cmdline.exists() or b"portside.room.server" not in cmdline.read_bytes()  # the token service is gone
    with pytest.raises(requests.ConnectionError):
        requests.get(token_url, auth=(me.username or "", me.password or ""), timeout=5)
    from portside.engine.daemon import client

    assert not client().containers.list(all=True, filters={"name": container})
    assert volume not in [v.name for v in client().volumes.list()]
    assert rooms.down() == []  # twice is fine

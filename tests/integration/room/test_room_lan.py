"""A room served on an address of its own (as on a room's LAN): TLS from the room's CA for both servers, and a Go
client that trusts it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from portside.oci.tls import bundle
from portside.room import room as rooms
from portside.room.sheet import write_sheet
from portside.tools import install

#: the "LAN address" the room is served on here: a loopback address other than 127.0.0.1. It takes the same path as a
#: real room LAN address (TLS for both servers, a certificate naming it) while nothing leaves this machine
ROOM_ADDRESS = "127.0.0.2"


@pytest.fixture(scope="module")
def room() -> Iterator[rooms.Room]:
    found = rooms.up(1, listen=ROOM_ADDRESS)
    try:
        yield found
    finally:
        found.down()


def test_both_servers_speak_tls_with_the_room_ca(room: rooms.Room) -> None:
    assert room.settings.tls and room.ca_file is not None
    assert room.token_url.startswith(f"https://{room.settings.host}:")
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{room.endpoint.url}/v2/", timeout=30)  # not trusted by default
    answer = requests.get(f"{room.endpoint.url}/v2/", timeout=30, verify=str(room.ca_file))
    assert answer.status_code == 401 and f'realm="{room.token_url}"' in answer.headers["Www-Authenticate"]
    assert room.endpoint_for("learner-01").client().tags("learner-01/none") == []


def test_crane_pushes_through_the_token_dance_over_tls(room: rooms.Room, tmp_path: Path) -> None:
    crane = install.path("crane")
    assert room.ca_file is not None
    env = {"SSL_CERT_FILE": str(bundle(room.ca_file)), "DOCKER_CONFIG": str(tmp_path), "PATH": "/usr/bin:/bin"}
    me = room.endpoint_for("learner-01")
    subprocess.run([str(crane), "auth", "login", room.address, "-u", "learner-01", "--password-stdin"],
                   input=me.password, text=True, env=env, check=True, capture_output=True)
    target = f"{room.address}/learner-01/empty:1"
    subprocess.run([str(crane), "append", "-f", "/dev/null", "-t", target], env=env, check=True, capture_output=True)
    listed = subprocess.run([str(crane), "ls", f"{room.address}/learner-01/empty"], env=env, text=True,
                            capture_output=True, check=True)
    assert listed.stdout.split() == ["1"]


def test_the_sheet_tells_learners_how_to_trust_the_room(room: rooms.Room) -> None:
    folder = write_sheet(room)
    text = (folder / "learner-01.txt").read_text()
    assert f"/etc/docker/certs.d/{room.address}/ca.crt" in text
    assert (folder / "ca.crt").read_bytes() == room.ca_file.read_bytes() if room.ca_file else False

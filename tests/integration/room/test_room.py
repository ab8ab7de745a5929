"""A workshop room for real: registry:2 in token mode, the token service process, the engine pushing through it."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator

import pytest
import requests

from portside.engine import transfer
from portside.errors import RegistryAuthError, RoomError
from portside.registry.container import docker_login
from portside.room import room as rooms
from portside.room.seed import seed_course_images
from portside.room.sheet import write_sheet
from portside.room.tokens import load_signing_key


@pytest.fixture(scope="module")
def room() -> Iterator[rooms.Room]:
    with rooms.up(2) as found:
        yield found


def challenge(url: str) -> dict[str, str]:
    response = requests.get(url, timeout=30)
    assert response.status_code == 401
    header = response.headers["Www-Authenticate"]
    assert header.startswith("Bearer ")
    return dict(requests.utils.parse_dict_header(header[len("Bearer "):]))  # type: ignore[no-untyped-call]


def test_the_registry_sends_clients_to_the_token_service(room: rooms.Room) -> None:
    fields = challenge(f"{room.endpoint.url}/v2/")
    assert fields == {"realm": room.token_url, "service": "portside-room"}
    fields = challenge(f"{room.endpoint.url}/v2/learner-01/app/tags/list")
    assert fields["scope"] == "repository:learner-01/app:pull"
    assert room.status().healthy


def test_a_learner_pushes_in_their_namespace_and_not_in_another(room: rooms.Room) -> None:
    me = room.endpoint_for("learner-01")
    assert me.password is not None
    docker_login(room.address, "learner-01", me.password)
    transfer.tag("busybox:1.35", me.ref("learner-01/hello", "1.0"))
    transfer.push(me.ref("learner-01/hello", "1.0"), progress=False)
    assert me.client().tags("learner-01/hello") == ["1.0"]
    transfer.tag("busybox:1.35", me.ref("learner-02/hello", "1.0"))
    with pytest.raises(RegistryAuthError, match="may not do this there") as denied:
        transfer.push(me.ref("learner-02/hello", "1.0"), progress=False)
    assert "insufficient_scope" in str(denied.value)
    assert room.endpoint_for("learner-02").client().tags("learner-02/hello") == []
    with pytest.raises(RegistryAuthError):  # a learner may not list the room
        me.client().catalog()
    assert "learner-01/hello" in room.endpoint_for("instructor").client().catalog()


def test_the_course_images_are_seeded_and_pull_only(room: rooms.Room) -> None:
    pushed = seed_course_images(room)
    assert "course/busybox:1.35" in pushed
    anonymous = room.endpoint.client()
    assert anonymous.tags("course/busybox") == ["1.35"]  # anonymous pulls the course images
    learner = room.endpoint_for("learner-02").client()
    manifest = learner.manifest("course/busybox", "1.35")
    with pytest.raises(RegistryAuthError):
        learner.put_manifest("course/busybox", "mine", manifest)


def test_a_backdated_token_is_refused_and_a_fresh_one_works(room: rooms.Room) -> None:
    key = load_signing_key(room.folder / "keys")
    access = [{"type": "repository", "name": "learner-01/hello", "actions": ["pull"]}]
    url = f"{room.endpoint.url}/v2/learner-01/hello/tags/list"
    old, _ = key.issue(subject="learner-01", access=access, service=room.settings.service,
                       issuer=room.settings.issuer, ttl=60, now=time.time() - 200)
    refused = requests.get(url, headers={"Authorization": f"Bearer {old}"}, timeout=30)
    assert refused.status_code == 401 and "invalid_token" in refused.headers["Www-Authenticate"]
    fresh, _ = key.issue(subject="learner-01", access=access, service=room.settings.service,
                         issuer=room.settings.issuer, ttl=60)
    assert requests.get(url, headers={"Authorization": f"Bearer {fresh}"}, timeout=30).status_code == 200


def test_the_sheet_holds_each_learner_s_credentials_privately(room: rooms.Room) -> None:
    folder = write_sheet(room)
    assert sorted(p.name for p in folder.iterdir()) == ["index.html", "instructor.txt", "learner-01.txt",
                                                        "learner-02.txt"]
    text = (folder / "learner-02.txt").read_text()
    assert room.accounts.get("learner-02").password in text and room.address in text
    assert room.accounts.get("learner-01").password not in text
    assert stat.S_IMODE(os.stat(folder / "learner-02.txt").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(room.folder).st_mode) == 0o700


def test_a_second_room_in_the_same_namespace_is_refused(room: rooms.Room) -> None:
    with pytest.raises(RoomError, match="already up"):
        rooms.up(1)

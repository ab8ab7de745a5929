"""A lab's link to a workshop room, as kept in its registry.json (no room needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from portside.errors import LabError, RoomError
from portside.labs.catalog import all_labs, get
from portside.labs.context import LabState
from portside.labs.room import RoomLink, _address, link


def test_a_saved_link_round_trips_and_names_the_progress_endpoint() -> None:
    found = RoomLink("192.168.1.10:40123", "learner-07", True, "https://192.168.1.10:40999/token",
                     Path("/tmp/ca.crt"))
    again = RoomLink.saved(found.as_json())
    assert again == found
    assert (again.host, again.port) == ("192.168.1.10", 40123)
    assert again.progress_url == "https://192.168.1.10:40999/progress"
    endpoint = again.endpoint("pw")
    assert (endpoint.username, endpoint.namespace, endpoint.tls) == ("learner-07", "learner-07", True)
    assert RoomLink.saved({"port": 5000, "tls": False}) is None  # a lab with a registry of its own


def test_addresses_with_and_without_a_scheme() -> None:
    assert _address("localhost:40123") == ("localhost:40123", None)
    assert _address("https://192.168.1.10:40123/") == ("192.168.1.10:40123", True)
    with pytest.raises(RoomError, match="is not a room registry address"):
        _address("localhost")


def test_only_labs_that_say_so_run_in_a_room_and_they_name_their_repositories() -> None:
    room_labs = [lab.slug for lab in all_labs() if lab.room]
    assert room_labs == ["00-first-push", "01-publish"]
    assert all(lab.repositories for lab in all_labs() if lab.room)
    with pytest.raises(LabError, match="needs a registry of its own"):
        link(get("03-private-registry"), LabState("03-private-registry"), "localhost:1", "learner-01", "pw")


def test_joining_needs_an_account_and_a_password() -> None:
    with pytest.raises(RoomError, match="needs your account and password"):
        link(get("00-first-push"), LabState("00-first-push"), "localhost:1", None, None)


def test_machine_requirements_are_marked() -> None:
    lab = get("00-first-push")
    reads = {req.name: req.reads for task in lab.tasks for req in task.requirements}
    assert reads["you are logged in to the lab registry as learner"] == "machine"
    assert reads["learner/hello has no latest tag"] == "registry"

"""An endpoint with a namespace: a learner's part of a shared registry (a workshop room)."""

from __future__ import annotations

from portside.oci.endpoint import Endpoint


def test_references_and_the_client_carry_the_namespace() -> None:
    room = Endpoint("localhost", 40123, username="learner-07", password="pw", namespace="learner-07")
    assert room.ref("learner/hello", "1.0") == "localhost:40123/learner-07/learner/hello:1.0"
    assert room.repository("app") == "learner-07/app"
    assert room.client().namespace == "learner-07"
    assert room.as_user("instructor", "x").namespace == "learner-07"  # reading it as someone else keeps it
    assert "pw" not in repr(room)


def test_without_a_namespace_nothing_changes() -> None:
    plain = Endpoint("localhost", 5000)
    assert plain.ref("learner/hello", "1.0") == "localhost:5000/learner/hello:1.0"
    assert plain.client().namespace is None

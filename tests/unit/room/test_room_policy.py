"""Who may do what in the room (scopes asked for → actions granted)."""

from __future__ import annotations

import pytest

from portside.errors import UsageError
from portside.room.policy import grant, learner_name, parse_scopes


def actions(account: str | None, scope: str) -> list[object]:
    return [item["actions"] for item in grant(account, parse_scopes([scope]))]


def test_a_learner_owns_their_namespace_and_pulls_the_course() -> None:
    assert actions("learner-07", "repository:learner-07/app:pull,push") == [["pull", "push"]]
    assert actions("learner-07", "repository:learner-07/team/app:delete") == [["delete"]]
    assert actions("learner-07", "repository:course/busybox:pull,push") == [["pull"]]


def test_a_learner_gets_nothing_elsewhere() -> None:
    assert actions("learner-07", "repository:learner-08/app:pull,push") == [[]]
    assert actions("learner-07", "repository:learner-07:pull") == [[]]  # the namespace itself is no repository
    assert actions("learner-07", "registry:catalog:*") == [[]]
    assert actions("learner-07", "repository:learner-070/app:push") == [[]]  # a prefix is not the namespace


def test_the_instructor_may_do_everything_and_anonymous_only_pull_the_course() -> None:
    assert actions("instructor", "repository:learner-08/app:pull,push,delete") == [["pull", "push", "delete"]]
    assert actions("instructor", "registry:catalog:*") == [["*"]]
    assert actions(None, "repository:course/busybox:pull,push") == [["pull"]]
    assert actions(None, "repository:learner-01/app:pull") == [[]]


def test_several_scopes_in_one_parameter_and_a_malformed_one() -> None:
    scopes = parse_scopes(["repository:learner-01/a:pull repository:learner-01/b:push", "registry:catalog:*"])
    assert [str(s) for s in scopes] == ["repository:learner-01/a:pull", "repository:learner-01/b:push",
                                        "registry:catalog:*"]
    assert parse_scopes(["repository(plugin):learner-01/a:pull"])[0].name == "learner-01/a"
    with pytest.raises(UsageError, match="is not a scope"):
        parse_scopes(["learner-01/a"])
    assert learner_name(7) == "learner-07"

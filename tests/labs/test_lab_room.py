"""Labs in a workshop room: the same checkers on the learner's namespace, and the instructor's board."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from portside import labs
from portside.cli.main import cli
from portside.errors import LabError, RoomError
from portside.labs.session import LabSession
from portside.room import room as rooms
from portside.workshop.board import board


@pytest.fixture(scope="module")
def room() -> Iterator[rooms.Room]:
    with rooms.up(2) as found:
        yield found


@pytest.fixture
def lab00(room: rooms.Room) -> Iterator[LabSession]:
    session = labs.start("00-first-push", room=room.address, user="learner-01",
                         password=room.accounts.get("learner-01").password)
    try:
        yield session
    finally:
        session.close()


def test_the_lab_lives_in_the_learner_s_namespace(room: rooms.Room, lab00: LabSession) -> None:
    assert lab00.user == "learner-01" and lab00.room is not None
    assert lab00.context.ref("learner/hello", "1.0") == f"{room.address}/learner-01/learner/hello:1.0"
    report = lab00.check(1)
    assert not report.passed
    assert "there is no repository learner/hello in your namespace learner-01" in repr(report)


def test_a_solved_room_lab_passes_and_its_board_says_so(room: rooms.Room, lab00: LabSession) -> None:
    before = {(r.learner, r.lab): r for r in board(room, labs=["00-first-push"]).rows}
    assert before[("learner-01", "00-first-push")].done == 0
    lab00.fast_forward(3)
    report = lab00.check()
    assert report.passed, repr(report)
    rows = {(r.learner, r.lab): r for r in board(room, labs=["00-first-push"]).rows}
    mine, theirs = rows[("learner-01", "00-first-push")], rows[("learner-02", "00-first-push")]
    assert (mine.done, mine.status, mine.stuck_on) == (2, "done ✔", "")
    assert mine.last_check  # the learner's check reached the room
    assert (theirs.done, theirs.stuck_task) == (0, 1)
    assert "no check reported yet" in theirs.stuck_on
    tags = room.endpoint_for("instructor").client().tags("learner-01/learner/hello")
    assert sorted(tags) == ["1", "1.0"]


def test_the_board_sees_registry_state_the_learner_has_not_checked(room: rooms.Room, lab00: LabSession) -> None:
    lab00.check()  # a failed check: the board learns task 1 is open, and the hints shown
    ctx = lab00.context
    lab00.lab.tasks[0].solve(ctx)  # pushed, but not checked again
    row = next(r for r in board(room, labs=["00-first-push"]).rows if r.learner == "learner-01")
    # the login is the learner's machine's business: the last report still says it was missing
    assert (row.stuck_task, row.stuck_on) == (1, "you are logged in to the lab registry as learner")
    assert row.hints >= 1
    lab00.check()
    row = next(r for r in board(room, labs=["00-first-push"]).rows if r.learner == "learner-01")
    assert (row.done, row.stuck_task) == (1, 2)
    assert row.stuck_on == "learner/hello:1 and learner/hello:1.0 are the same image"


def test_reset_empties_only_the_lab_s_repositories_in_the_namespace(room: rooms.Room, lab00: LabSession) -> None:
    lab00.fast_forward(3)
    lab00.reset()
    assert room.endpoint_for("instructor").client().tags("learner-01/learner/hello") == []
    assert rooms.current().status().healthy  # the room itself stays up


def test_a_wrong_password_and_a_lab_that_needs_its_own_registry_are_refused(room: rooms.Room) -> None:
    with pytest.raises(RoomError, match="refused the password"):
        labs.start("00-first-push", room=room.address, user="learner-02", password="nope")
    with pytest.raises(LabError, match="needs a registry of its own"):
        labs.start("03-private-registry", room=room.address, user="learner-02",
                   password=room.accounts.get("learner-02").password)


def test_the_cli_way_and_the_board_export(room: rooms.Room) -> None:
    runner = CliRunner()
    password = room.accounts.get("learner-02").password
    started = runner.invoke(cli, ["lab", "start", "00-first-push", "--room", room.address, "--user", "learner-02",
                                  "--password-stdin"], input=password + "\n")
    try:
        assert started.exit_code == 0, started.output
        assert "under learner-02/" in started.output and password not in started.output
        checked = runner.invoke(cli, ["lab", "check", "00-first-push"])
        assert checked.exit_code == 1 and "in your namespace learner-02" in checked.output
        status = runner.invoke(cli, ["workshop", "status", "--format", "json", "--lab", "00-first-push"])
        assert status.exit_code == 0, status.output
        rows = {row["learner"]: row for row in json.loads(status.output)["rows"]}
        assert rows["learner-02"]["last_check"] and rows["learner-02"]["stuck_task"] == 1
        table = runner.invoke(cli, ["workshop", "status"])
        assert "token service answering" in table.output and "learner-02" in table.output
    finally:
        runner.invoke(cli, ["lab", "close", "00-first-push"])

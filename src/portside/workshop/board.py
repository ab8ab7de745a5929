"""The instructor's progress board: who finished which task, who is stuck where, and how many hints they used.

Two sources, combined per learner and lab:

* **the room registry, checked now.** Every requirement of a room lab that reads the registry only
  (``Requirement.reads == "registry"``: a tag exists, two tags share a digest…) is evaluated against the
  learner's namespace with the instructor's account: the same checkers the learner runs, on the same
  live state;
* **the learner's last check, as reported.** What only the learner's machine can tell (their saved login,
  their local image, their notebook) and how many hints they have seen come from the report their
  ``lab.check()`` sent to the room's token service (``PUT /progress/SLUG``).

A task is *done* when every registry requirement holds now and the learner's last check found the
machine requirements met; *stuck* is the first requirement that is not met, with the hints used on
that task. ``portside workshop status`` prints the board (``--format json|csv`` to export it);
:class:`BoardWidget` shows it in the instructor's notebook and refreshes itself.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import requests

from portside.base.table import Table
from portside.errors import RoomError
from portside.labs.catalog import all_labs, get
from portside.labs.context import LabContext, LabState
from portside.labs.model import Lab
from portside.labs.room import RoomLink
from portside.room.policy import INSTRUCTOR
from portside.room.room import Room

__all__ = ["Board", "BoardRow", "BoardWidget", "board", "room_labs"]


def room_labs() -> list[Lab]:
    """The labs that run in a workshop room."""
    return [lab for lab in all_labs() if lab.room]


@dataclass(frozen=True)
class BoardRow:
    """One learner in one lab."""

    learner: str
    lab: str
    done: int  #: tasks done
    tasks: int  #: tasks in the lab
    stuck_task: int | None  #: the first task not done (None: all done)
    stuck_on: str  #: its first unmet requirement ("" when done)
    hints: int  #: hints the learner has seen on that task (all tasks' when done)
    last_check: str  #: when their last check reached the room ("" if never)

    @property
    def status(self) -> str:
        if self.done == self.tasks:
            return "done ✔"
        return f"task {self.stuck_task}"


@dataclass(frozen=True)
class Board:
    """The whole room at one moment."""

    room: str
    rows: Sequence[BoardRow]

    def table(self) -> Table:
        return Table(["learner", "lab", "tasks", "where", "stuck on", "hints", "last check"],
                     [[r.learner, r.lab, f"{r.done}/{r.tasks}", r.status, r.stuck_on, r.hints, r.last_check or "—"]
                      for r in self.rows], title=f"Room {self.room}")

    def __repr__(self) -> str:
        return self.table().text()

    def __str__(self) -> str:
        return self.table().text()

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()

    def as_json(self) -> dict[str, Any]:
        return {"room": self.room, "rows": [asdict(r) | {"status": r.status} for r in self.rows]}

    def as_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["learner", "lab", "done", "tasks", "stuck_task", "stuck_on", "hints", "last_check"])
        for r in self.rows:
            writer.writerow([r.learner, r.lab, r.done, r.tasks, r.stuck_task or "", r.stuck_on, r.hints, r.last_check])
        return out.getvalue()


def _reports(room: Room) -> dict[str, dict[str, Any]]:
    instructor = room.accounts.get(INSTRUCTOR)
    try:
        response = requests.get(f"{room.settings.token_base}/progress", auth=(instructor.name, instructor.password),
                                timeout=30, verify=str(room.ca_file) if room.ca_file else True)
    except requests.RequestException as err:
        raise RoomError(f"The room's token service did not answer for the board ({type(err).__name__}).",
                        hint="`portside workshop status` says which part of the room is down.") from None
    if response.status_code != 200:
        raise RoomError(f"The room's token service refused the board: HTTP {response.status_code}.")
    data = response.json()
    return data if isinstance(data, dict) else {}


def _row(room: Room, lab: Lab, learner: str, report: Mapping[str, Any] | None, password: str) -> BoardRow:
    s = room.settings
    link = RoomLink(s.registry_address, learner, s.tls, s.realm, room.ca_file, reader=INSTRUCTOR)
    ctx = LabContext(lab=lab, port=s.registry_port, tls=s.tls, users={INSTRUCTOR: password}, running=True,
                     state=LabState(lab.slug), room=link)
    reported = {int(t["number"]): t for t in (report or {}).get("tasks", []) if isinstance(t, dict)}
    done = 0
    stuck_task, stuck_on, hints = None, "", 0
    for task in lab.tasks:
        told = reported.get(task.number, {})
        failing = set(told.get("failing", []))
        unmet = ""
        for req in task.requirements:
            if req.reads == "registry":
                if not req.evaluate(ctx).passed:
                    unmet = req.name
                    break
            elif not told or req.name in failing:
                unmet = req.name + ("" if told else " (no check reported yet)")
                break
        if unmet:
            if stuck_task is None:
                stuck_task, stuck_on, hints = task.number, unmet, int(told.get("hints", 0))
            continue
        done += 1
    if stuck_task is None:
        hints = sum(int(t.get("hints", 0)) for t in reported.values())
    return BoardRow(learner, lab.slug, done, len(lab.tasks), stuck_task, stuck_on, hints,
                    str((report or {}).get("received", "")))


def board(room: Room, *, labs: Sequence[str] | None = None) -> Board:
    """The board now: every learner of ``room`` × every room lab (or only ``labs``)."""
    chosen = [get(slug) for slug in labs] if labs else room_labs()
    for lab in chosen:
        if not lab.room:
            raise RoomError(f"Lab {lab.slug} does not run in a workshop room.",
                            hint=f"Room labs: {', '.join(found.slug for found in room_labs())}.")
    reports = _reports(room)
    password = room.accounts.get(INSTRUCTOR).password
    learners = sorted(name for name in room.accounts.names() if name != INSTRUCTOR)
    rows = [_row(room, lab, learner, reports.get(learner, {}).get(lab.slug), password)
            for learner in learners for lab in chosen]
    return Board(room.address, rows)


class BoardWidget:
    """The board in a notebook, refreshed every ``every`` seconds until :meth:`stop` (ipywidgets)."""

    def __init__(self, room: Room, *, every: float = 15, labs: Sequence[str] | None = None) -> None:
        import ipywidgets

        self.room = room
        self.every = every
        self.labs = labs
        self.view = ipywidgets.HTML()
        self.status = ipywidgets.Label()
        self.box = ipywidgets.VBox([self.view, self.status])
        self.latest: Board | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.refresh()

    def refresh(self) -> Board:
        import datetime as dt

        self.latest = board(self.room, labs=self.labs)
        self.view.value = self.latest._repr_html_()
        self.status.value = f"updated {dt.datetime.now():%H:%M:%S}; refreshes every {self.every:g} s"
        return self.latest

    def start(self) -> BoardWidget:
        """Refresh in the background (a thread) until :meth:`stop`."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="portside-board", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.refresh()
            except RoomError as err:
                self.status.value = f"not refreshed: {err.message}"

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self.box._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict) and self.latest is not None:
            bundle["text/plain"] = repr(self.latest)
        return bundle

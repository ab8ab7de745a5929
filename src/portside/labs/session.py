"""The learner-facing API: start a lab, check tasks, ask for hints, reset, skip ahead, close.

>>> lab = portside.labs.start("00-first-push")       # doctest: +SKIP
>>> lab.check(1)                                      # doctest: +SKIP
Lab 00-first-push
Task 1. Log in and push your first image: 0 of 3 requirements met
  ✘ ...

A :class:`LabSession` holds no container handles: each call finds the lab's
registry again by its label. So ``portside lab reset 00-first-push`` in a terminal
and ``lab.check()`` in the notebook kernel work on the same lab.
"""

from __future__ import annotations

from types import TracebackType

from portside.errors import LabError, PortsideError
from portside.labs import catalog, lifecycle
from portside.labs.context import LabContext, LabNotRunning, LabState
from portside.labs.model import Lab, Outcome, Task
from portside.labs.progress import Progress
from portside.labs.report import CheckReport, HintView, RequirementResult, TaskResult
from portside.labs.room import RoomLink
from portside.labs.room import report as report_to_room
from portside.oci.endpoint import AtEndpoint, Endpoint
from portside.oci.registry_client import RegistryClient

__all__ = ["LabSession", "attach", "check", "close", "fast_forward", "reset", "start"]


class LabSession(AtEndpoint):
    """One lab, live. Use :func:`start` (notebook) or :func:`attach` (another process)."""

    def __init__(self, lab: Lab, *, progress: Progress | None = None) -> None:
        self.lab = lab
        self.progress = progress or Progress()

    # -- the environment -----------------------------------------------------------------------------
    @property
    def context(self) -> LabContext:
        """The lab's live context, found again on each call."""
        return LabContext.discover(self.lab)

    @property
    def endpoint(self) -> Endpoint:
        """The lab's registry as one value (address, URL, TLS, CA, your login), found again on each call."""
        return self.context.endpoint

    @property
    def room(self) -> RoomLink | None:
        """The workshop room this lab runs in, or None (it has a registry of its own)."""
        return RoomLink.saved(LabState(self.lab.slug).registry)

    @property
    def user(self) -> str | None:
        """The user name to log in with (in a workshop room: your account there)."""
        room = self.room
        if room is not None:
            return room.account
        return self.lab.users[0] if self.lab.users else None

    @property
    def password(self) -> str | None:
        """Your password for the lab registry. Pass it on; do not print it."""
        return LabState(self.lab.slug).credentials.get(self.user) if self.user else None

    @property
    def password_file(self) -> str:
        """Where the lab keeps its generated passwords (readable by you only)."""
        return str(LabState(self.lab.slug).folder / "credentials.json")

    @property
    def workdir(self) -> str:
        return str(LabState(self.lab.slug).workdir)

    def client(self, username: str | None = None) -> RegistryClient:
        """A registry API client logged in as ``username`` (default: you)."""
        return self.context.client(username)

    # -- checking ------------------------------------------------------------------------------------
    def _tasks(self, task: int | None) -> list[Task]:
        return list(self.lab.tasks) if task is None else [self.lab.task(task)]

    def _evaluate(self, tasks: list[Task]) -> dict[int, list[Outcome]]:
        try:
            ctx = LabContext.discover(self.lab)
        except PortsideError as err:
            failed = Outcome(False, str(err), error=True)
            return {t.number: [failed for _ in t.requirements] for t in tasks}
        if not ctx.running and ctx.room is not None:
            down = Outcome(False, f"The workshop room's registry does not answer at {ctx.address}.\n"
                                  "→ Tell the instructor; your work in the room is kept while it is down.", error=True)
            return {t.number: [down for _ in t.requirements] for t in tasks}
        if not ctx.running:
            down = Outcome(False, f"The lab's registry is unreachable: its container is not running "
                                  f"(nothing answers at {ctx.address}).\n"
                                  f"→ Run lab.reset() or `portside lab reset {self.lab.slug}` to start it again.",
                           error=True)
            return {t.number: [down for _ in t.requirements] for t in tasks}
        return {t.number: [req.evaluate(ctx) for req in t.requirements] for t in tasks}

    def check(self, task: int | None = None) -> CheckReport:
        """Check one task (or all): a ✔/✘ per requirement, and the next hint for each failure.

        The first failed check of a requirement shows its first hint; each further
        failed check shows the next one, up to the last (the solution idea). Checking
        every task (``task=None``) gives hints for the first unfinished task only.
        """
        tasks = self._tasks(task)
        outcomes = self._evaluate(tasks)
        # checking every task: hints only for the first unfinished one (the one being worked on)
        unfinished = [t.number for t in tasks if not all(o.passed for o in outcomes[t.number])]
        hinted = unfinished[:1] if task is None else unfinished
        results = []
        for t in tasks:
            with self.progress.updating(self.lab.slug, t.number) as record:
                record.attempts += 1
                rows = []
                for req, outcome in zip(t.requirements, outcomes[t.number], strict=True):
                    hint, number = None, 0
                    if not outcome.passed and not outcome.error and t.number in hinted:
                        number = min(record.hints_shown.get(req.name, 0) + 1, len(req.hints))
                        record.hints_shown[req.name] = number
                        hint = req.hints[number - 1]
                    rows.append(RequirementResult(req.name, outcome.passed, outcome.detail, outcome.error,
                                                  hint, number, len(req.hints)))
                result = TaskResult(t.number, t.title, rows)
                record.passed = record.passed or result.passed
            results.append(result)
        checked = CheckReport(self.lab.slug, results)
        room = self.room
        if room is not None:  # tell the room's board (hints used so far, per task)
            hints = {t.number: dict(self.progress.task(self.lab.slug, t.number).hints_shown) for t in tasks}
            note = report_to_room(LabContext.discover(self.lab), room, checked, hints)
            if note:
                checked = CheckReport(self.lab.slug, results, note=note)
        return checked

    def hint(self, task: int) -> HintView:
        """The next hint for the first requirement of ``task`` that is not met yet."""
        t = self.lab.task(task)
        outcomes = self._evaluate([t])[t.number]
        for req, outcome in zip(t.requirements, outcomes, strict=True):
            if outcome.passed:
                continue
            if outcome.error:
                return HintView(f"Task {task}: the check could not run — {outcome.detail}")
            with self.progress.updating(self.lab.slug, task) as record:
                number = min(record.hints_shown.get(req.name, 0) + 1, len(req.hints))
                record.hints_shown[req.name] = number
            return HintView(f"Task {task} · {req.name} — hint {number} of {len(req.hints)}: {req.hints[number - 1]}")
        return HintView(f"Task {task} is done: every requirement is met.")

    # -- moving around -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the start state in seconds: fresh registry, your images and login gone (progress is kept)."""
        lifecycle.provision(self.lab)
        print(f"Lab {self.lab.slug} is back at its start state: an empty registry, no saved login, "
              "no local tags for it.")

    def fast_forward(self, task: int) -> CheckReport:
        """Apply the solution of every task before ``task``, so you can go on with ``task``.

        Those tasks are recorded as skipped (not passed) in your progress.
        """
        if not 1 <= task <= len(self.lab.tasks) + 1:
            raise LabError(f"Lab {self.lab.slug} has tasks 1 to {len(self.lab.tasks)}; "
                           f"fast_forward({task}) makes no sense.",
                           hint=f"Use 1..{len(self.lab.tasks) + 1} ({len(self.lab.tasks) + 1} = solve them all).")
        earlier = list(self.lab.tasks[: task - 1])
        ctx = lifecycle.ensure_running(self.lab)
        for t in earlier:
            t.solve(ctx)
            with self.progress.updating(self.lab.slug, t.number) as record:
                record.skipped = record.skipped or not record.passed
        outcomes = self._evaluate(earlier)
        results = [TaskResult(t.number, t.title, [RequirementResult(r.name, o.passed, o.detail, o.error)
                                                  for r, o in zip(t.requirements, outcomes[t.number], strict=True)])
                   for t in earlier]
        if not earlier:
            note = "nothing to fast-forward: task 1 comes first"
        elif task > len(self.lab.tasks):
            note = "every task solved for you"
        else:
            note = f"tasks before {task} solved for you: go on with task {task}"
        return CheckReport(self.lab.slug, results, note=note)

    def close(self) -> None:
        """Remove everything the lab made: registry, data, local tags, login, passwords. Progress is kept.

        In a workshop room: leave the room (local tags, login and the link go; what you pushed stays there).
        """
        room = self.room
        lifecycle.teardown(self.lab.slug, forget=True)
        lifecycle.remove_built_images(self.lab)
        if room is not None:
            print(f"Lab {self.lab.slug} has left the room {room.address}: your local tags, login and the link are "
                  "gone; what you pushed stays for the instructor's board.")
        else:
            print(f"Lab {self.lab.slug} is closed: its registry, images and credentials are gone.")

    def __enter__(self) -> LabSession:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        lines = [f"Lab {self.lab.slug}: {self.lab.title}"]
        try:
            ctx = self.context
            lines.append(f"  registry: {ctx.address}" + ("" if ctx.running else " (not running: lab.reset())"))
        except PortsideError:
            lines.append("  registry: not running (lab.reset() starts it)")
        if self.user:
            lines.append(f"  log in as: {self.user} (password: lab.password — pass it on, never print it)")
        lines += [f"  task {t.number}. {t.title}" for t in self.lab.tasks]
        return "\n".join(lines)


def start(slug: str, *, fresh: bool = False, progress: Progress | None = None, room: str | None = None,
          user: str | None = None, password: str | None = None, ca_file: str | None = None) -> LabSession:
    """Start lab ``slug`` (or pick up the one already running, e.g. after a kernel restart).

    ``fresh=True`` always starts from the start state, like :meth:`LabSession.reset`. ``room`` (the room
    registry's address from the instructor's sheet, with ``user`` and ``password``) runs the lab in a
    workshop room, under your namespace there, instead of on a registry of its own.
    """
    lab = catalog.get(slug)
    if room is not None:
        lifecycle.join_room(lab, room, user, password, ca_file)
    elif fresh:
        lifecycle.provision(lab)
    else:
        lifecycle.ensure_running(lab)
    return LabSession(lab, progress=progress)


def attach(slug: str, *, progress: Progress | None = None) -> LabSession:
    """The lab ``slug`` as started elsewhere (a notebook); raises :class:`LabNotRunning` if never started."""
    lab = catalog.get(slug)
    if not LabState(slug).started:
        raise LabNotRunning(f"Lab {slug} has not been started on this machine.",
                            hint=f'Open labs/{slug}.ipynb and run its first cells, or run `portside lab reset {slug}`.')
    return LabSession(lab, progress=progress)


# -- what the command line calls (one lab by slug, from a terminal) --------------------------------------
def check(slug: str, task: int | None = None) -> CheckReport:
    """``portside lab check SLUG [--task N]``: check the running lab (started in its notebook or a terminal)."""
    return attach(slug).check(task)


def reset(slug: str) -> None:
    """``portside lab reset SLUG``: put the lab in its start state (starting it if it is not running)."""
    LabSession(catalog.get(slug)).reset()


def fast_forward(slug: str, task: int) -> CheckReport:
    """``portside lab fast-forward SLUG N``: solve every task before ``task`` (starting the lab if needed)."""
    return LabSession(catalog.get(slug)).fast_forward(task)


def close(slug: str) -> None:
    """``portside lab close SLUG``: remove everything the lab made."""
    LabSession(catalog.get(slug)).close()

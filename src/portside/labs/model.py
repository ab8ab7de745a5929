"""What a lab is made of: requirements (checked on live state), tasks and the lab itself.

A lab is declarative. Each :class:`Requirement` pairs a sentence the learner can read
("learner/hello:1.0 is in the registry") with a *predicate* that looks at the real
registry or engine and answers yes or no, plus hints that go from a nudge to the
solution idea. A :class:`Task` groups requirements under one numbered exercise and
knows how to *solve* itself (used by ``fast_forward`` and by the tests that prove
the checker both ways). A :class:`Lab` is a list of tasks plus how to set up the
start state.

Nothing here touches Docker; :mod:`portside.labs.context` provides the live state a
predicate reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeAlias

import docker.errors
import requests

from portside.errors import LabError, PortsideError

if TYPE_CHECKING:
    from portside.labs.context import LabContext

__all__ = ["Lab", "Outcome", "Predicate", "Requirement", "Task"]


@dataclass(frozen=True)
class Outcome:
    """The answer of one predicate.

    ``detail`` says what was found when the requirement is not met (keep it free of
    ports, digests and timings: the text ends up in notebooks compared by nbval).
    ``error`` marks an answer that could not be obtained at all (registry down, engine
    gone): the report then shows the error instead of a hint.
    """

    passed: bool
    detail: str = ""
    error: bool = False

    @classmethod
    def ok(cls, detail: str = "") -> Outcome:
        return cls(True, detail)

    @classmethod
    def fail(cls, detail: str) -> Outcome:
        return cls(False, detail)


Predicate: TypeAlias = "Callable[[LabContext], Outcome | bool]"


@dataclass(frozen=True)
class Requirement:
    """One thing that must be true of the live state.

    ``hints`` go from gentle to specific; the last one is the solution *idea*, never
    the full code. A learner sees the first hint on the first failed check and one
    more on each further failed check.
    """

    name: str
    predicate: Predicate
    hints: Sequence[str]
    #: what the predicate reads: the registry only (anyone with read access can check it, e.g. a workshop's
    #: board), or the learner's own machine too (their saved login, local images, notebook)
    reads: Literal["registry", "machine"] = "registry"

    def __post_init__(self) -> None:
        if not self.hints:
            raise ValueError(f"requirement {self.name!r} needs at least one hint")
        object.__setattr__(self, "hints", tuple(self.hints))

    def evaluate(self, ctx: LabContext) -> Outcome:
        """Run the predicate. Failures to *look* become a failed outcome with the error's text."""
        try:
            answer = self.predicate(ctx)
        except PortsideError as err:
            return Outcome(False, str(err), error=True)
        except docker.errors.DockerException as err:
            return Outcome(False, f"The Docker engine refused the check: {err}", error=True)
        except requests.RequestException as err:
            return Outcome(False, f"The check could not reach the registry: {err}", error=True)
        if isinstance(answer, Outcome):
            return answer
        return Outcome(bool(answer))


def _nothing(ctx: LabContext) -> None:
    """The default set-up: the fresh registry is the whole start state."""


@dataclass(frozen=True)
class Task:
    """A numbered exercise: its requirements, and the scripted steps that solve it."""

    number: int
    title: str
    requirements: Sequence[Requirement]
    solve: Callable[[LabContext], None]

    def __post_init__(self) -> None:
        object.__setattr__(self, "requirements", tuple(self.requirements))
        names = [req.name for req in self.requirements]
        if len(set(names)) != len(names):
            raise ValueError(f"task {self.number}: requirement names must be unique")


@dataclass(frozen=True)
class Lab:
    """A lab: tasks checked against a registry of its own.

    The lab's registry requires a login as one of ``users`` (each gets a generated
    password; the first is the learner's own; no users means an open registry), serves
    TLS when ``tls`` is set, and allows deletes when ``delete`` is set. ``images`` are
    the local images the tasks start from; starting the lab fails with a clear message
    when one is missing. ``setup`` runs after the registry is up and builds the rest of
    the start state (push a starting image, record facts with ``ctx.state.remember``).
    ``built_images`` names the local images ``setup`` builds outside the lab's registry
    address (e.g. ``myapp:latest``); closing the lab removes them if the course made them.
    ``room`` says the lab also runs in a workshop room (the room registry, under the learner's namespace,
    instead of a registry of its own); ``repositories`` are then what a reset empties there.
    """

    slug: str
    title: str
    tasks: Sequence[Task]
    setup: Callable[[LabContext], None] = _nothing
    users: Sequence[str] = ("learner",)
    tls: bool = False
    delete: bool = True
    images: Sequence[str] = field(default_factory=tuple)
    built_images: Sequence[str] = field(default_factory=tuple)
    room: bool = False
    repositories: Sequence[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tasks", tuple(self.tasks))
        object.__setattr__(self, "images", tuple(self.images))
        object.__setattr__(self, "built_images", tuple(self.built_images))
        object.__setattr__(self, "users", tuple(self.users))
        object.__setattr__(self, "repositories", tuple(self.repositories))
        if self.room and not self.repositories:
            raise ValueError(f"lab {self.slug}: a lab that runs in a room names the repositories it uses")
        numbers = [task.number for task in self.tasks]
        if numbers != list(range(1, len(self.tasks) + 1)):
            raise ValueError(f"lab {self.slug}: tasks must be numbered 1..{len(self.tasks)}, got {numbers}")

    def task(self, number: int) -> Task:
        """Task ``number`` (1-based). Raises :class:`PortsideError` for a number the lab lacks."""
        if not 1 <= number <= len(self.tasks):
            raise LabError(f"Lab {self.slug} has tasks 1 to {len(self.tasks)}; there is no task {number}.")
        return self.tasks[number - 1]

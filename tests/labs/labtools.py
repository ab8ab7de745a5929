"""Shared assertions for the lab tests (``tests/labs/test_lab_*.py``)."""

from __future__ import annotations

from portside.labs import LabSession
from portside.labs.model import Requirement


def fails_with_hints(lab: LabSession, requirement: Requirement, task: int, detail: str) -> None:
    """``requirement`` of ``task`` fails with ``detail`` and hint 1; the next check shows hint 2.

    The lab's progress is forgotten first, so hint numbering starts again whatever earlier checks showed.
    """
    lab.progress.forget(lab.lab.slug)
    first = lab.check(task).requirement(requirement.name)
    assert (first.passed, first.error, first.detail) == (False, False, detail)
    assert (first.hint_number, first.hint) == (1, requirement.hints[0])
    again = lab.check(task).requirement(requirement.name)
    assert (again.hint_number, again.hint) == (2, requirement.hints[1])

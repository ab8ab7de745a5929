"""The lab model without Docker: a predicate's error is a failed requirement, and a malformed lab is refused."""

from __future__ import annotations

import pytest

from portside.errors import PortsideError
from portside.labs import LabContext
from portside.labs import lab00_first_push as lab00
from portside.labs.model import Lab, Outcome, Requirement, Task


def test_predicate_errors_become_failed_requirements() -> None:
    def broken(ctx: LabContext) -> bool:
        raise PortsideError("the registry went away", hint="start it again")

    outcome = Requirement("r", broken, ["h"]).evaluate(None)  # type: ignore[arg-type]
    assert outcome == Outcome(False, "the registry went away\n→ start it again", error=True)
    assert Requirement("r", lambda ctx: True, ["h"]).evaluate(None).passed  # type: ignore[arg-type]


def test_model_validation() -> None:
    with pytest.raises(ValueError, match="at least one hint"):
        Requirement("r", lambda ctx: True, [])
    with pytest.raises(ValueError, match="numbered"):
        Lab("x", "x", [Task(2, "t", [], lambda ctx: None)])
    with pytest.raises(PortsideError, match="no task 3"):
        lab00.LAB.task(3)

"""Labs: exercises checked against the live state of a registry of their own.

>>> import portside.labs
>>> lab = portside.labs.start("00-first-push")   # doctest: +SKIP
>>> lab.check(1)                                  # doctest: +SKIP

See ``labs/README.md`` (the lab author guide) for how a lab is written.
"""

from __future__ import annotations

from .catalog import all_labs, get, slugs
from .context import LabContext, LabNotRunning
from .model import Lab, Outcome, Requirement, Task
from .progress import Progress, progress_table, progress_view
from .report import CheckReport
from .session import LabSession, attach, check, close, fast_forward, reset, start

__all__ = [
    "CheckReport",
    "Lab",
    "LabContext",
    "LabNotRunning",
    "LabSession",
    "Outcome",
    "Progress",
    "Requirement",
    "Task",
    "all_labs",
    "attach",
    "check",
    "close",
    "fast_forward",
    "get",
    "progress_table",
    "progress_view",
    "reset",
    "slugs",
    "start",
]

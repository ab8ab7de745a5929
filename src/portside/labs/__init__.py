"""Labs: exercises checked against the live state of a registry of their own.

>>> import portside.labs
>>> lab = portside.labs.start("00-first-push")   # doctest: +SKIP
>>> lab.check(1)                                  # doctest: +SKIP

See ``labs/README.md`` (the lab author guide) for how a lab is written.
"""

from __future__ import annotations

from portside.labs.catalog import all_labs, get, slugs
from portside.labs.context import LabContext, LabNotRunning
from portside.labs.model import Lab, Outcome, Requirement, Task
from portside.labs.progress import Progress, progress_table, progress_view
from portside.labs.report import CheckReport
from portside.labs.session import LabSession, attach, check, close, fast_forward, reset, start

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

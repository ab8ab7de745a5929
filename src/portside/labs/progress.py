"""The learner's progress, kept in one small JSON file in the course state folder.

For every lab and task it records whether the task was passed (``passed`` stays
true once earned), how many checks were run, whether the task was skipped with
``fast_forward``, and how many hints of each requirement have been shown — the
next failed check reveals the next hint.

The file is rewritten atomically on every change, so a notebook kernel and a
terminal (``portside lab check``) can both update it.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from portside.base.paths import state_dir

__all__ = ["PROGRESS_ENV", "Progress", "ProgressView", "TaskProgress", "progress_table", "progress_view"]


@dataclass
class TaskProgress:
    """What one learner did with one task."""

    passed: bool = False
    attempts: int = 0
    skipped: bool = False
    hints_shown: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskProgress:
        return cls(passed=bool(data.get("passed")), attempts=int(data.get("attempts", 0)),
                   skipped=bool(data.get("skipped")),
                   hints_shown={str(k): int(v) for k, v in (data.get("hints_shown") or {}).items()})

    @property
    def status(self) -> str:
        if self.passed:
            return "passed"
        if self.skipped:
            return "skipped"
        return "started" if self.attempts else "not started"


#: set this to keep a run's progress elsewhere (the test suite does, so tests never touch the learner's file)
PROGRESS_ENV = "PORTSIDE_PROGRESS"


class Progress:
    """Progress of every lab, stored at ``path``.

    The default is ``$PORTSIDE_PROGRESS`` if set, else ``progress.json`` in the course state folder.
    """

    def __init__(self, path: Path | None = None) -> None:
        env = os.environ.get(PROGRESS_ENV)
        self.path = path or (Path(env) if env else state_dir() / "progress.json")

    def _load(self) -> dict[str, dict[str, dict[str, Any]]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save(self, data: dict[str, dict[str, dict[str, Any]]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

    def task(self, slug: str, number: int) -> TaskProgress:
        """The recorded progress of one task (empty if never checked)."""
        return TaskProgress.from_json(self._load().get(slug, {}).get(str(number), {}))

    def lab(self, slug: str) -> dict[int, TaskProgress]:
        return {int(n): TaskProgress.from_json(t) for n, t in self._load().get(slug, {}).items()}

    @contextmanager
    def updating(self, slug: str, number: int) -> Iterator[TaskProgress]:
        """Read one task's progress, let the caller change it, write it back."""
        data = self._load()
        record = TaskProgress.from_json(data.get(slug, {}).get(str(number), {}))
        yield record
        data.setdefault(slug, {})[str(number)] = asdict(record)
        self._save(data)

    def forget(self, slug: str) -> None:
        """Erase one lab's progress."""
        data = self._load()
        if data.pop(slug, None) is not None:
            self._save(data)


@dataclass(frozen=True)
class _Row:
    lab: str
    task: int
    title: str
    status: str
    attempts: int
    hints: int


_MARKS = {"passed": "✔", "skipped": "⏭", "started": "…", "not started": "·"}


class ProgressView:
    """A table of every lab's tasks: rich HTML in Jupyter, aligned text elsewhere."""

    def __init__(self, rows: list[_Row]) -> None:
        self.rows = rows

    def __repr__(self) -> str:
        if not self.rows:
            return "No labs yet."
        width = max(len(f"{r.lab} {r.task}. {r.title}") for r in self.rows)
        lines = [f"  {'lab / task':<{width}}  {'status':<12} {'checks':>6} {'hints':>5}"]
        for r in self.rows:
            label = f"{r.lab} {r.task}. {r.title}"
            lines.append(f"{_MARKS[r.status]} {label:<{width}}  {r.status:<12} {r.attempts:>6} {r.hints:>5}")
        done = sum(r.status == "passed" for r in self.rows)
        lines.append(f"{done} of {len(self.rows)} tasks passed.")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        if not self.rows:
            return "<p>No labs yet.</p>"
        cells = "".join(
            f"<tr><td>{_MARKS[r.status]}</td><td>{html.escape(r.lab)}</td><td>{r.task}. {html.escape(r.title)}</td>"
            f"<td>{r.status}</td><td style='text-align:right'>{r.attempts}</td>"
            f"<td style='text-align:right'>{r.hints}</td></tr>"
            for r in self.rows)
        done = sum(r.status == "passed" for r in self.rows)
        return ("<table><thead><tr><th></th><th>lab</th><th>task</th><th>status</th><th>checks</th>"
                f"<th>hints</th></tr></thead><tbody>{cells}</tbody></table>"
                f"<p>{done} of {len(self.rows)} tasks passed.</p>")


def progress_view(progress: Progress | None = None) -> ProgressView:
    """Every task of every lab in the catalog, with what the learner has done so far."""
    from portside.labs.catalog import all_labs

    store = progress or Progress()
    rows = []
    for lab in all_labs():
        done = store.lab(lab.slug)
        for task in lab.tasks:
            record = done.get(task.number, TaskProgress())
            rows.append(_Row(lab.slug, task.number, task.title, record.status, record.attempts,
                             sum(record.hints_shown.values())))
    return ProgressView(rows)


def progress_table(progress: Progress | None = None) -> str:
    """The progress table as plain text (what ``portside progress`` prints)."""
    return repr(progress_view(progress))

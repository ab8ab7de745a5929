"""What ``lab.check()`` shows: a mark per requirement and, for a failure, the current hint.

The plain-text form (``repr``) is what nbval compares and what ``portside lab check``
prints, so it holds nothing that changes between runs: no ports, digests, timings or
ids. The HTML form shows the same content in colour in Jupyter.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["CheckReport", "HintView", "RequirementResult", "TaskResult"]

_GREEN, _RED, _GREY = "#1a7f37", "#cf222e", "#57606a"


@dataclass(frozen=True)
class RequirementResult:
    """One requirement after a check. ``hint_number`` counts from 1; 0 means no hint shown."""

    name: str
    passed: bool
    detail: str = ""
    error: bool = False
    hint: str | None = None
    hint_number: int = 0
    hint_count: int = 0

    def text_lines(self) -> list[str]:
        lines = [f"  {'✔' if self.passed else '✘'} {self.name}"]
        if self.passed:
            return lines
        if self.error:
            lines += [f"      could not check: {line}" if i == 0 else f"      {line}"
                      for i, line in enumerate(self.detail.splitlines())]
        elif self.detail:
            lines.append(f"      found: {self.detail}")
        if self.hint:
            lines.append(f"      hint {self.hint_number} of {self.hint_count}: {self.hint}")
        return lines

    def html(self) -> str:
        color, mark = (_GREEN, "✔") if self.passed else (_RED, "✘")
        parts = [f"<li style='list-style:none'><span style='color:{color};font-weight:bold'>{mark}</span> "
                 f"{html.escape(self.name)}"]
        if not self.passed and self.detail:
            label = "could not check" if self.error else "found"
            detail = html.escape(self.detail).replace("\n", "<br>")
            parts.append(f"<div style='color:{_GREY};margin-left:1.5em'>{label}: {detail}</div>")
        if not self.passed and self.hint:
            parts.append(f"<div style='margin-left:1.5em'>💡 <b>hint {self.hint_number} of {self.hint_count}:</b> "
                         f"{html.escape(self.hint)}</div>")
        return "".join(parts) + "</li>"


@dataclass(frozen=True)
class TaskResult:
    number: int
    title: str
    results: Sequence[RequirementResult]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def summary(self) -> str:
        if self.passed:
            return "done ✔"
        met = sum(r.passed for r in self.results)
        return f"{met} of {len(self.results)} requirements met"


@dataclass(frozen=True)
class CheckReport:
    """The result of ``lab.check()``: ``report.passed`` is True when every checked requirement holds."""

    slug: str
    tasks: Sequence[TaskResult]
    note: str = ""

    @property
    def passed(self) -> bool:
        return all(task.passed for task in self.tasks)

    def task(self, number: int) -> TaskResult:
        return next(t for t in self.tasks if t.number == number)

    def requirement(self, name: str) -> RequirementResult:
        """The result of the requirement called ``name`` (any task)."""
        return next(r for t in self.tasks for r in t.results if r.name == name)

    def __repr__(self) -> str:
        lines = [f"Lab {self.slug}" + (f" — {self.note}" if self.note else "")]
        for task in self.tasks:
            lines.append(f"Task {task.number}. {task.title}: {task.summary}")
            for result in task.results:
                lines += result.text_lines()
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        out = [f"<div><b>Lab {html.escape(self.slug)}</b>"
               + (f" — {html.escape(self.note)}" if self.note else "")]
        for task in self.tasks:
            color = _GREEN if task.passed else _RED
            out.append(f"<div style='margin-top:.4em'><b>Task {task.number}. {html.escape(task.title)}</b>: "
                       f"<span style='color:{color}'>{html.escape(task.summary)}</span>"
                       f"<ul style='margin:.2em 0;padding-left:1em'>{''.join(r.html() for r in task.results)}"
                       "</ul></div>")
        out.append("</div>")
        return "".join(out)


@dataclass(frozen=True)
class HintView:
    """One hint asked for with ``lab.hint(task)``."""

    text: str

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f"<div>💡 {html.escape(self.text)}</div>"

"""What each step answers, and what a run answers: typed results that read as text and draw as a picture.

A :class:`StepResult` is one step's verdict: its ``name``, whether it ``passed``, a ``detail`` sentence
and ``data`` (the digest, the tags, the findings…). A step that did not pass either **refused** (a
policy said no: the gate, an unpinned base, a verification) or hit an **error** (it could not run:
a bad configuration, a tool or the registry failed). A :class:`RunResult` is the steps of one run in
order, stopped at the first that did not pass; the steps after it are listed as not run.

The text forms hold no timings, ports or digests of their own (``data`` has them), so a notebook can
show them and compare them between runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["EXIT_CODES", "STEPS", "Outcome", "RunResult", "StepResult", "exit_code"]

#: the steps of a release, in the order they run
STEPS = ("build", "tag", "scan", "push", "sign", "verify", "deploy")

Outcome = Literal["passed", "refused", "error", "not run"]

#: ``portside pipeline``'s exit codes: the whole contract a CI job relies on
EXIT_CODES: Mapping[str, int] = {"passed": 0, "refused": 1, "error": 2}

_MARK = {"passed": "✔", "refused": "✘", "error": "!", "not run": "·"}


@dataclass(frozen=True)
class StepResult:
    """One step's verdict. ``outcome`` is ``passed``, ``refused`` (a policy said no) or ``error`` (could not run)."""

    name: str
    outcome: Outcome
    detail: str
    data: Mapping[str, Any] = field(default_factory=dict)
    #: a short label for the picture (``"3 CRITICAL"``, ``"signed"``); the outcome's word when empty
    summary: str = ""
    seconds: float = field(default=0.0, compare=False)
    #: the real commands the step did, in order (``docker buildx build …``, ``cosign sign …``)
    commands: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

    def __bool__(self) -> bool:
        return self.passed

    def line(self, width: int = 7) -> str:
        """``✔ build    built …``: the step's mark, name and detail on one line (continuation lines indented)."""
        head = f"{_MARK[self.outcome]} {self.name:<{width}}  "
        return head + self.detail.replace("\n", "\n" + " " * len(head))

    def __str__(self) -> str:
        return self.line()

    def __repr__(self) -> str:
        return str(self)

    @classmethod
    def not_run(cls, name: str) -> StepResult:
        return cls(name, "not run", "not run")


@dataclass(frozen=True)
class RunResult:
    """The steps of one run, in order; ``steps`` holds every step the run was asked for, ``not run`` ones too."""

    title: str
    steps: tuple[StepResult, ...]

    @property
    def ran(self) -> tuple[StepResult, ...]:
        return tuple(s for s in self.steps if s.outcome != "not run")

    @property
    def passed(self) -> bool:
        """Every step that was asked for ran and passed."""
        return bool(self.steps) and all(s.passed for s in self.steps)

    @property
    def released(self) -> bool:
        """Every step passed, the last one being the deployment: the release is out."""
        return self.passed and self.steps[-1].name == STEPS[-1]

    @property
    def stopped_at(self) -> StepResult | None:
        """The step that refused or failed, if any."""
        return next((s for s in self.steps if s.outcome in ("refused", "error")), None)

    def step(self, name: str) -> StepResult:
        """The result of step ``name`` (``not run`` if the run never got there or was not asked for it)."""
        return next((s for s in self.steps if s.name == name), StepResult.not_run(name))

    def __getitem__(self, name: str) -> StepResult:
        return self.step(name)

    def __bool__(self) -> bool:
        return self.passed

    @property
    def verdict(self) -> str:
        stopped = self.stopped_at
        if stopped is None:
            if not self.steps:
                return "NOTHING RUN"
            return "RELEASED" if self.released else f"PASSED up to {self.steps[-1].name}"
        word = "REFUSED" if stopped.outcome == "refused" else "COULD NOT RUN"
        return f"{word} at {stopped.name}"

    def __str__(self) -> str:
        lines = [f"{self.title}: {self.verdict}"]
        lines += ["  " + s.line().replace("\n", "\n  ") for s in self.steps]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def svg(self) -> str:
        """The steps as a chain of boxes (green passed, red refused, orange error, grey not run), as SVG text."""
        from portside.pipeline.picture import chain_svg

        return chain_svg(self)

    def _repr_html_(self) -> str:
        """In Jupyter: the picture, with the text form under it."""
        import html

        return f'<div>{self.svg()}<pre style="margin-top:4px">{html.escape(str(self))}</pre></div>'

    def as_json(self) -> dict[str, Any]:
        """The run as plain JSON (for CI logs and artefacts)."""
        return {"title": self.title, "verdict": self.verdict, "exit_code": exit_code(self),
                "steps": [{"name": s.name, "outcome": s.outcome, "detail": s.detail, "summary": s.summary,
                           "seconds": round(s.seconds, 3), "commands": list(s.commands), "data": _plain(s.data)}
                          for s in self.steps]}


    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunResult:
        """The run :meth:`as_json` wrote (``portside pipeline run --json FILE``), back as a ``RunResult``."""
        steps = tuple(StepResult(str(s["name"]), s["outcome"], str(s["detail"]), dict(s.get("data") or {}),
                                 str(s.get("summary") or ""), float(s.get("seconds") or 0.0),
                                 tuple(s.get("commands") or ())) for s in data.get("steps") or [])
        return cls(str(data.get("title", "")), steps)


def _plain(value: Any) -> Any:
    """``value`` with anything that is not JSON (paths, dataclasses) turned into text."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def exit_code(result: RunResult | StepResult | Sequence[StepResult]) -> int:
    """``0`` every step asked for passed, ``1`` a step refused (the release is blocked), ``2`` one could not run."""
    steps: Sequence[StepResult]
    if isinstance(result, RunResult):
        steps = result.steps
    elif isinstance(result, StepResult):
        steps = (result,)
    else:
        steps = result
    for step in steps:
        if step.outcome in ("refused", "error"):
            return EXIT_CODES[step.outcome]
    return 0 if steps and all(s.passed for s in steps) else EXIT_CODES["error"]

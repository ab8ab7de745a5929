"""Step and run results: the exit code a CI job reads, the verdict, the text and the picture — no engine needed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from portside.pipeline import STEPS, RunResult, StepResult, chain_svg, chain_text, exit_code


def _run(*outcomes: str) -> RunResult:
    steps = [StepResult(name, outcome, f"{name} {outcome}", summary=f"{name}!")  # type: ignore[arg-type]
             for name, outcome in zip(STEPS, outcomes, strict=False)]
    steps += [StepResult.not_run(name) for name in STEPS[len(outcomes):]]
    return RunResult("release team/app:1.1.0", tuple(steps))


@pytest.mark.parametrize(("outcomes", "code", "verdict"), [
    (("passed",) * 7, 0, "RELEASED"),
    (("passed", "passed", "refused"), 1, "REFUSED at scan"),
    (("passed", "error"), 2, "COULD NOT RUN at tag"),
    (("passed",) * 5 + ("refused",), 1, "REFUSED at verify"),
])
def test_exit_codes_and_verdicts(outcomes: tuple[str, ...], code: int, verdict: str) -> None:
    run = _run(*outcomes)
    assert (exit_code(run), run.verdict, run.released) == (code, verdict, code == 0)
    assert json.loads(json.dumps(run.as_json()))["exit_code"] == code


def test_json_round_trip() -> None:
    """What `portside pipeline run --json` writes reads back as the same run (picture and text included)."""
    run = _run("passed", "passed", "refused")
    again = RunResult.from_json(json.loads(json.dumps(run.as_json())))
    assert (str(again), again.svg(), exit_code(again)) == (str(run), run.svg(), 1)


def test_a_run_until_a_step() -> None:
    """A run asked to stop after sign passed when every step up to sign passed: exit 0, not released."""
    run = RunResult("release team/app:1.1.0", tuple(StepResult(n, "passed", "ok") for n in STEPS[:5]))
    assert (exit_code(run), run.passed, run.released, run.verdict) == (0, True, False, "PASSED up to sign")
    assert run["verify"].outcome == "not run"


def test_single_steps_and_nothing() -> None:
    assert exit_code(StepResult("push", "refused", "gate blocked")) == 1
    assert exit_code(StepResult("sign", "error", "nothing pushed")) == 2
    assert exit_code(StepResult("tag", "passed", "tags")) == 0
    assert exit_code([]) == 2  # nothing ran: not a success


def test_text_form() -> None:
    run = _run("passed", "passed", "refused")
    run = RunResult(run.title, (StepResult("build", "passed", "built\nwarning: FROM by tag"), *run.steps[1:]))
    assert str(run).splitlines() == [
        "release team/app:1.1.0: REFUSED at scan",
        "  ✔ build    built",
        "             warning: FROM by tag",
        "  ✔ tag      tag passed",
        "  ✘ scan     scan refused",
        "  · push     not run", "  · sign     not run", "  · verify   not run", "  · deploy   not run",
    ]
    assert chain_text(run) == "build ✔ → tag ✔ → scan ✘ (scan!) → push · → sign · → verify · → deploy ·"


def test_picture_is_svg_with_a_box_per_step() -> None:
    run = _run("passed", "passed", "refused")
    svg = chain_svg(run)
    root = ET.fromstring(svg)
    boxes = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("rx")]
    assert [b.get("fill") for b in boxes] == ["#2f9e44", "#2f9e44", "#c92a2a"] + ["#e9ecef"] * 4
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "release team/app:1.1.0 — REFUSED at scan" in texts and "✘ scan" in texts and "scan!" in texts
    assert svg == chain_svg(run)  # the same run draws the same picture (nbval compares it)
    assert run._repr_html_().startswith("<div><svg")

"""Lesson 00 and lab 00 as a learner sees them: JupyterLab 4 in Chromium, every cell run from the Run menu.

Each notebook is opened in a fresh workspace, its stored outputs are cleared (Edit → Clear Outputs of All Cells:
what shows afterwards was drawn by this run, not stored in the file), then Run → Run All Cells; the test waits
until no cell is queued and the kernel is idle. Then it asserts what rendered: lesson 00's doctor table and its
quiz (radio buttons and *Check* buttons that answer from the live kernel), lab 00's check reports (the student
notebook's ✘ with a hint, the solution's ✔ pass marks), that no cell raised, and that nothing (the first-run news
prompt above all) covers the page. The last test is the control: with JupyterLab's news setting back at its
default the prompt does appear, and the check that looks for it fails. Screenshots: ``test-artifacts/browser/``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browsertools import NOTIFICATION_PLUGIN, ROOT, Browser, JupyterLab

from portside.labs.build import lab_files
from portside.setup.cleanup import leftovers

#: how long Run All may take for one notebook (lesson 00 runs in ~8 s; generous for a loaded `make test`)
RUN_TIMEOUT_MS = 300_000
#: the lab whose notebooks are opened
LAB = next(files for files in lab_files() if files.slug == "00-first-push")
#: the green of a pass mark (portside's ``#1a7f37``) as the browser computes it
GREEN = "rgb(26, 127, 55)"

# JavaScript run in the page (JupyterLab exposes its application object: --LabApp.expose_app_in_browser)
_PANEL = "const panel = Array.from(window.jupyterapp.shell.widgets('main')).find(w => w.context?.path === path);"
_READY = f"""(path) => {{
  if (!window.jupyterapp) return false;
  {_PANEL}
  const kernel = panel?.sessionContext?.session?.kernel;
  return !!panel && panel.context.isReady && panel.content.widgets.length > 0
    && !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}}"""
_OUTPUTS = "(c) => Array.from({length: c.model.outputs.length}, (_, i) => c.model.outputs.get(i).toJSON())"
_RAN = f"""(path) => {{
  {_PANEL}
  const kernel = panel.sessionContext.session?.kernel;
  const cells = panel.content.widgets.filter(c => c.model.type === 'code');
  const outputs = {_OUTPUTS};
  const queued = Array.from(panel.node.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))
    .some(prompt => prompt.textContent.includes('*'));
  const failed = cells.some(c => outputs(c).some(o => o.output_type === 'error'));
  return !queued && kernel?.status === 'idle' && (failed || cells[cells.length - 1].model.executionCount !== null);
}}"""
_CELLS = f"""(path) => {{
  {_PANEL}
  const outputs = {_OUTPUTS};
  return panel.content.widgets.filter(c => c.model.type === 'code').map(c => ({{
    count: c.model.executionCount,
    source: c.model.sharedModel.getSource().split('\\n')[0],
    errors: outputs(c).filter(o => o.output_type === 'error').map(o => `${{o.ename}}: ${{o.evalue}}`),
  }}));
}}"""


@dataclass(frozen=True)
class CodeCell:
    count: int | None
    source: str  # its first line
    errors: list[str]


class Notebook:
    """A notebook open in JupyterLab in one browser tab."""

    def __init__(self, page: Any, lab: JupyterLab, path: str) -> None:
        self.page, self.path = page, path
        page.goto(lab.page_url(path))
        page.wait_for_function(_READY, arg=path, polling=250)  # opened, its kernel started and idle
        self.outputs = page.locator(".jp-NotebookPanel .jp-OutputArea-output")

    def _menu(self, menu: str, command: str) -> None:
        self.page.locator("#jp-MainMenu").get_by_role("menuitem", name=menu, exact=True).click()
        self.page.locator(f'li[data-command="{command}"]').click()

    def run_all(self) -> float:
        """Clear every stored output, then Run → Run All Cells; wait until done. Returns the seconds it took."""
        from playwright.sync_api import expect

        self._menu("Edit", "editmenu:clear-all")
        expect(self.outputs).to_have_count(0)
        started = time.monotonic()
        self._menu("Run", "runmenu:run-all")
        self.page.wait_for_function(_RAN, arg=self.path, timeout=RUN_TIMEOUT_MS, polling=250)
        self.page.wait_for_selector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status="idle"]')
        return time.monotonic() - started

    def cells(self) -> list[CodeCell]:
        return [CodeCell(**cell) for cell in self.page.evaluate(_CELLS, self.path)]

    def assert_ran_cleanly(self) -> None:
        """Every code cell ran, in order, and none raised or showed a traceback or a widget error."""
        cells = self.cells()
        errors = [f"cell [{c.count}] {c.source!r}: {error}" for c in cells for error in c.errors]
        assert errors == [], "cells raised: " + "; ".join(errors)
        stderr = self.outputs.and_(self.page.locator('[data-mime-type="application/vnd.jupyter.stderr"]'))
        tracebacks = [text for text in stderr.all_text_contents() if "Traceback" in text]
        assert tracebacks == [], "a traceback shows: " + tracebacks[0][:2000] if tracebacks else ""
        broken = [text for text in self.outputs.all_text_contents() if "Error displaying widget" in text]
        assert broken == [], f"a widget did not render: {broken}"
        assert [c.count for c in cells] == list(range(1, len(cells) + 1)), \
            "not every code cell ran, in order: " + ", ".join(f"[{c.count}] {c.source!r}" for c in cells)

    def reports(self) -> Any:
        """The lab's check reports: HTML outputs that name the lab and a task."""
        return self.outputs.and_(self.page.locator('[data-mime-type="text/html"]')).filter(
            has_text=re.compile(rf"^\s*Lab {re.escape(LAB.slug)}\s*Task \d"))


def assert_nothing_covers(page: Any) -> None:
    """No notification toast (JupyterLab's news question is one) and no dialog lies over the page."""
    toasts = page.locator(".Toastify__toast")
    assert toasts.count() == 0, f"a notification covers the page: {toasts.all_text_contents()}"
    dialogs = page.locator(".jp-Dialog")
    assert dialogs.count() == 0, f"a dialog covers the page: {dialogs.all_text_contents()}"


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_lesson_00_renders_the_doctor_and_a_working_quiz(page: Any, jupyterlab: JupyterLab, browser: Browser,
                                                         artifacts: Path) -> None:
    from playwright.sync_api import expect

    notebook = Notebook(page, jupyterlab, "notebooks/00-setup.ipynb")
    notebook.run_all()
    notebook.assert_ran_cleanly()

    # the doctor: a table of checks, each marked ✔ (or ! for a warning), and the verdict under it
    doctor = notebook.outputs.filter(has=page.locator("table th", has_text=re.compile(r"^state$")))
    expect(doctor).to_have_count(1)
    marks = doctor.locator("tbody tr td:first-child")
    assert marks.count() >= 5, doctor.text_content()
    assert set(marks.all_text_contents()) <= {"✔", "!"} and "✔" in marks.all_text_contents(), doctor.text_content()
    assert marks.first.evaluate("e => getComputedStyle(e).color") == GREEN
    expect(doctor.locator("strong")).to_have_text("Ready for the course.")
    doctor.screenshot(path=artifacts / "00-setup-doctor.png")

    # the quiz: one radio group and one Check button per question, answered by the live kernel
    quiz = notebook.outputs.filter(has=page.locator(".widget-radio-box"))
    expect(quiz).to_have_count(1)
    groups, checks = quiz.locator(".widget-radio-box"), quiz.get_by_role("button", name="Check", exact=True)
    assert groups.count() >= 2 and checks.count() == groups.count(), quiz.text_content()
    expect(groups.first.locator("input[type=radio]").first).to_be_visible()
    feedback = quiz.locator(".widget-hbox")  # each question's Check button and the answer beside it
    groups.nth(0).locator("input[type=radio]").first.check()
    checks.nth(0).click()
    expect(feedback.nth(0)).to_contain_text(re.compile(r"(Right|Not quite)\. \w"))
    checks.nth(1).click()  # nothing picked yet
    expect(feedback.nth(1)).to_contain_text("Pick an answer first.")
    quiz.screenshot(path=artifacts / "00-setup-quiz.png")

    assert not leftovers(jupyterlab.namespace), "lesson 00 left containers, networks or volumes behind"
    assert_nothing_covers(page)
    assert browser.refused == [], f"the page asked for more than JupyterLab: {browser.refused}"


def test_lab_00_student_notebook_shows_failing_checks_with_hints(page: Any, jupyterlab: JupyterLab,
                                                                 artifacts: Path) -> None:
    """The untouched student notebook runs without an error; each check reports ✘ and the first hint."""
    from playwright.sync_api import expect

    notebook = Notebook(page, jupyterlab, _relative(LAB.student))
    notebook.run_all()
    notebook.assert_ran_cleanly()
    reports = notebook.reports()
    expect(reports).to_have_count(2)  # lab.check(1), lab.check(2)
    for index in range(reports.count()):
        report = reports.nth(index)
        expect(report).to_contain_text("✘")
        expect(report).to_contain_text("hint 1 of")
        expect(report).not_to_contain_text("done ✔")
    reports.first.screenshot(path=artifacts / "lab-00-student-check.png")
    assert not leftovers(jupyterlab.namespace), "lab 00 left containers, networks or volumes behind"
    assert_nothing_covers(page)


def test_lab_00_solution_shows_pass_marks(page: Any, jupyterlab: JupyterLab, artifacts: Path) -> None:
    """The solution notebook's checks pass in the browser: every task done ✔, every requirement ✔ in green."""
    from playwright.sync_api import expect

    notebook = Notebook(page, jupyterlab, _relative(LAB.solution))
    notebook.run_all()
    notebook.assert_ran_cleanly()
    reports = notebook.reports()
    expect(reports).to_have_count(2)
    for index in range(reports.count()):
        report = reports.nth(index)
        expect(report).to_contain_text("done ✔")
        expect(report).not_to_contain_text("✘")
        marks = report.locator("li > span:first-child")
        assert marks.count() >= 2 and set(marks.all_text_contents()) == {"✔"}, report.text_content()
        assert {marks.nth(i).evaluate("e => getComputedStyle(e).color") for i in range(marks.count())} == {GREEN}
        report.screenshot(path=artifacts / f"lab-00-solution-check-{index + 1}.png")
    assert not leftovers(jupyterlab.namespace), "lab 00 left containers, networks or volumes behind"
    assert_nothing_covers(page)


def test_the_news_prompt_shows_without_the_setting(page: Any, jupyterlab: JupyterLab, artifacts: Path) -> None:
    """Control: with fetchNews back at its default ("none": ask) JupyterLab asks, and assert_nothing_covers fails."""
    from playwright.sync_api import expect

    saved = jupyterlab.setting(NOTIFICATION_PLUGIN)
    jupyterlab.set_setting(NOTIFICATION_PLUGIN, "{}")
    try:
        page.goto(jupyterlab.page_url())
        expect(page.locator(".jp-toast-message", has_text="official Jupyter news")).to_be_visible()
        page.screenshot(path=artifacts / "news-prompt-without-the-setting.png")
        with pytest.raises(AssertionError, match="Jupyter news"):
            assert_nothing_covers(page)
    finally:
        jupyterlab.set_setting(NOTIFICATION_PLUGIN, saved)

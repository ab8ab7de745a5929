"""Every lesson is a slide deck: its committed cell metadata follows the course's slide rule, with speaker notes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from portside.cli.main import cli
from portside.errors import UsageError
from portside.lessons import slides

LESSONS = slides.lessons()


def _cells(path: Path) -> list[dict[str, Any]]:
    cells: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return cells


def _text(cell: dict[str, Any]) -> str:
    return "".join(cell["source"])


def test_there_are_eight_lessons() -> None:
    """The deck list is the course's lessons 00–07, in order."""
    assert [path.name[:2] for path in LESSONS] == [f"{n:02d}" for n in range(8)]


@pytest.mark.parametrize("path", LESSONS, ids=lambda path: path.name[:2])
def test_every_cell_has_a_slide_type(path: Path) -> None:
    """Each cell names its slide type; the title is a slide; each section heading starts one; code is live."""
    cells = _cells(path)
    types = [slides.slide_type(cell) for cell in cells]
    assert all(kind in slides.SLIDE_TYPES for kind in types), [i for i, k in enumerate(types) if k is None]
    assert types[0] == "slide"
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "markdown" and re.search(r"^## \S", _text(cell), re.MULTILINE):
            assert types[index] == "slide", f"cell {index} holds a section heading but is {types[index]!r}"
        if _text(cell).startswith("### "):
            assert types[index] == "subslide", f"cell {index} opens a part but is {types[index]!r}"
        if cell["cell_type"] == "code":
            assert types[index] in ("fragment", "subslide"), f"code cell {index} would not be shown: {types[index]!r}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda path: path.name[:2])
def test_metadata_is_what_the_rule_gives(path: Path) -> None:
    """The committed slide types are the rule's, so a cell added later without them is caught here."""
    cells = _cells(path)
    stored = [slides.slide_type(cell) for cell in cells]
    planned = slides.planned_types(cells)
    differ = [(index, stored[index], planned[index]) for index in range(len(cells)) if stored[index] != planned[index]]
    assert not differ, f"{path.name}: (cell, stored, the rule's) {differ}: apply portside.lessons.slides.mark"


@pytest.mark.parametrize("path", LESSONS, ids=lambda path: path.name[:2])
def test_speaker_notes_and_rise_settings(path: Path) -> None:
    """A lesson has short speaker notes in markdown cells, and RISE settings that never start a show by themselves."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    notes = [cell for cell in notebook["cells"] if slides.slide_type(cell) == "notes"]
    assert notes, f"{path.name} has no speaker notes"
    assert all(cell["cell_type"] == "markdown" and 0 < len(_text(cell)) < 700 for cell in notes)
    assert notebook["metadata"]["rise"] == slides.RISE
    assert notebook["metadata"]["rise"]["autolaunch"] is False


@pytest.mark.parametrize("path", LESSONS, ids=lambda path: path.name[:2])
def test_the_slide_count_is_sensible(path: Path) -> None:
    """One slide per section (5–20 of them), and not so many subslides that a talk becomes a scroll."""
    deck = slides.deck(path)
    sections = sum(1 for cell in _cells(path)
                   if cell["cell_type"] == "markdown" and re.search(r"^## \S", _text(cell), re.MULTILINE))
    assert deck.slides == sections + 1  # the title, then one per section
    assert 5 <= deck.slides <= 20, str(deck)
    assert deck.slides + deck.subslides <= 60, str(deck)
    assert deck.titles[0].startswith(f"# {path.name[:2]} ")


def test_the_rule_both_ways() -> None:
    """Short cells share a slide; a cell that would overflow it starts a subslide; a notes cell stays a note."""
    def markdown(lines: int, first: str = "text") -> dict[str, Any]:
        return {"cell_type": "markdown", "metadata": {}, "source": "\n".join([first] + ["x"] * (lines - 1))}

    def code(lines: int) -> dict[str, Any]:
        return {"cell_type": "code", "metadata": {}, "source": "\n".join(["x = 1"] * lines), "outputs": []}

    note = {"cell_type": "markdown", "metadata": {"slideshow": {"slide_type": "notes"}}, "source": "say this"}
    cells = [markdown(5, "# Title"), note, code(3), markdown(4), code(slides.BUDGET), markdown(2, "### Part"),
             markdown(3, "## Section"), code(2)]
    assert slides.planned_types(cells) == ["slide", "notes", "fragment", "-", "subslide", "subslide", "slide",
                                           "fragment"]


def test_mark_touches_only_metadata() -> None:
    """Marking writes slide types and the rise block, and leaves every cell's source and outputs alone."""
    notebook: dict[str, Any] = {"metadata": {}, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# Title"},
        {"cell_type": "code", "metadata": {"execution": {}}, "source": "1 + 1",
         "outputs": [{"output_type": "execute_result", "data": {"text/plain": "2"}}]}]}
    before = json.dumps([{k: v for k, v in cell.items() if k != "metadata"} for cell in notebook["cells"]])
    assert slides.mark(notebook) == 2
    assert slides.mark(notebook) == 0  # a second run changes nothing
    assert [cell["metadata"]["slideshow"]["slide_type"] for cell in notebook["cells"]] == ["slide", "fragment"]
    assert notebook["cells"][1]["metadata"]["execution"] == {}
    assert json.dumps([{k: v for k, v in cell.items() if k != "metadata"} for cell in notebook["cells"]]) == before
    assert notebook["metadata"]["rise"] == slides.RISE


def test_lesson_numbers() -> None:
    """``00`` and ``3`` name lessons; anything else is a UsageError that lists the lessons there are."""
    assert slides.lesson_path("00").name == "00-setup.ipynb"
    assert slides.lesson_path("3").name.startswith("03-")
    for wrong in ("99", "setup", ""):
        with pytest.raises(UsageError) as caught:
            slides.lesson_path(wrong)
        assert "00, 01, 02, 03, 04, 05, 06, 07" in str(caught.value)


def test_rise_url_path() -> None:
    """jupyterlab-rise serves a notebook's slides at ``/rise/<path under the server's root>``."""
    path = LESSONS[0]
    assert slides.rise_path(path, path.parent.parent) == "/rise/notebooks/00-setup.ipynb"


def test_present_refuses_an_unknown_lesson() -> None:
    """``portside present 42`` names the lessons there are (``main()`` turns it into one line and exit 2)."""
    result = CliRunner().invoke(cli, ["present", "42"])
    assert isinstance(result.exception, UsageError)
    assert "no lesson '42'" in str(result.exception)
    helped = CliRunner().invoke(cli, ["present", "--help"])
    assert helped.exit_code == 0 and "--no-browser" in helped.output and "--html" in helped.output

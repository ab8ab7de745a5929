"""Generating the lab notebooks, without Docker: nbgrader's markers, and generated copies that match their sources.

That each student notebook holds no solution and runs is proven per lab in
``tests/labs/test_labs.py::test_student_notebook``.
"""

from __future__ import annotations

import nbformat
import pytest

from portside.errors import MarkerError
from portside.labs.build import BEGIN_SOLUTION, CODE_STUB, END_SOLUTION, is_stale, solution_notebook, student_notebook


def _cell(source: str, cell_type: str = "code") -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(source) if cell_type == "code" else nbformat.v4.new_markdown_cell(source)


def test_markers_are_transformed_like_nbgrader() -> None:
    nb = nbformat.v4.new_notebook(cells=[
        _cell("def f():\n    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION"),
        _cell("x = f()\n### BEGIN HIDDEN TESTS\nassert x == 42\n### END HIDDEN TESTS\nx"),
        _cell("### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS"),
        _cell("Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION", "markdown"),
    ])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="out")]
    student = student_notebook(nb)
    assert [c.source for c in student.cells] == [
        f"def f():\n    {CODE_STUB}", "x = f()\nx", "Why?\nYOUR ANSWER HERE"]
    assert student.cells[0].outputs == []
    solution = solution_notebook(nb)
    assert [c.source for c in solution.cells] == [
        "def f():\n    return 42", "x = f()\nassert x == 42\nx", "assert True", "Why?\nBecause."]
    with pytest.raises(MarkerError, match="never closed"):
        student_notebook(nbformat.v4.new_notebook(cells=[_cell(f"{BEGIN_SOLUTION}\nx = 1")]))
    with pytest.raises(MarkerError, match="without"):
        student_notebook(nbformat.v4.new_notebook(cells=[_cell(f"x = 1\n{END_SOLUTION}")]))


def test_generated_notebooks_are_not_stale() -> None:
    """Every lab's student and solution copy matches its source, and no generated notebook lacks a source."""
    assert is_stale() == [], "run `portside labs build`"

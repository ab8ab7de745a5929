"""Generate the student and solution notebooks of every lab from one source each.

The convention is nbgrader's, which instructors already know. A source notebook
``labs/source/SLUG.ipynb`` holds the full solution, with regions marked in code
cells::

    ### BEGIN SOLUTION
    docker_login(lab.address, lab.user, lab.password)
    ### END SOLUTION

    ### BEGIN HIDDEN TESTS
    assert report.passed
    ### END HIDDEN TESTS

(the same markers work in markdown cells, where a solution becomes ``YOUR ANSWER HERE``).

:func:`build` writes

* the **student** notebook ``labs/SLUG.ipynb``: each solution region replaced by a
  ``# YOUR CODE HERE`` stub (at the region's indentation), hidden tests removed,
  outputs cleared;
* the **solution** copy ``labs/solutions/SLUG.ipynb``: markers removed, everything
  else kept, and then *executed for real* so its stored outputs come from a run
  (nbval compares them on every test run).

:func:`is_stale` lists every generated file that does not match its source, for the
test that fails when someone edits a source and forgets ``portside labs build``.
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import nbformat

from portside.base.paths import project_root
from portside.errors import LabError, MarkerError, SetupError
from portside.labs.progress import PROGRESS_ENV

__all__ = [
    "BEGIN_HIDDEN",
    "BEGIN_SOLUTION",
    "CODE_STUB",
    "LabFiles",
    "build",
    "execute",
    "is_stale",
    "lab_files",
    "solution_notebook",
    "student_notebook",
]

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
CODE_STUB = "# YOUR CODE HERE"
MARKDOWN_STUB = "YOUR ANSWER HERE"


# nbformat has no type hints: two typed doors into it
_read_nb = cast("Callable[..., Any]", nbformat.read)
_write_nb_text = cast("Callable[..., str]", nbformat.writes)


def _read(path: Path) -> Any:
    return _read_nb(path, as_version=4)


@dataclass(frozen=True)
class LabFiles:
    """The three notebooks of one lab."""

    slug: str
    source: Path
    student: Path
    solution: Path


def _labs_dir(root: Path | None) -> Path:
    if root is not None:
        return root
    project = project_root()
    if project is None:
        raise SetupError("The lab notebooks live in a project checkout, and none was found.",
                         hint="Run this from an editable install of Portside (`pip install -e .`).")
    return project / "labs"


def lab_files(root: Path | None = None) -> list[LabFiles]:
    """Every lab that has a source notebook in ``ROOT/source`` (``ROOT`` defaults to the project's ``labs/``)."""
    labs = _labs_dir(root)
    return [LabFiles(src.stem, src, labs / src.name, labs / "solutions" / src.name)
            for src in sorted((labs / "source").glob("*.ipynb"))]


# -- transforming sources ------------------------------------------------------------------------------
def _rewrite(source: str, begin: str, end: str, replace: Callable[[str], list[str]] | None,
             where: str) -> tuple[str, bool]:
    """Handle every ``begin``…``end`` region of ``source``.

    ``replace(indent)`` gives the lines that stand in for a region; ``None`` keeps the
    region's inner lines (the markers alone are dropped). Returns the new text and
    whether any region was found.
    """
    out: list[str] = []
    inside, found = False, False
    for line in source.splitlines():
        marker = line.strip()
        if marker == begin:
            if inside:
                raise MarkerError(f"{where}: '{begin}' inside another region.")
            inside, found = True, True
            if replace is not None:
                out += replace(line[: len(line) - len(line.lstrip())])
            continue
        if marker == end:
            if not inside:
                raise MarkerError(f"{where}: '{end}' without '{begin}'.")
            inside = False
            continue
        if not inside or replace is None:
            out.append(line)
    if inside:
        raise MarkerError(f"{where}: '{begin}' is never closed with '{end}'.")
    return "\n".join(out), found


def _nothing(indent: str) -> list[str]:
    return []


def _stub(text: str) -> Callable[[str], list[str]]:
    return lambda indent: [indent + text]


def _clear(cell: Any) -> None:
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
    cell.metadata.pop("nbgrader", None)
    cell.metadata.pop("execution", None)


def student_notebook(source: Any, name: str = "notebook") -> Any:
    """The learner's copy: solutions become stubs, hidden tests vanish, no outputs."""
    nb = copy.deepcopy(source)
    cells = []
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index + 1}"
        stub = CODE_STUB if cell.cell_type == "code" else MARKDOWN_STUB
        text, hidden = _rewrite(cell.source, BEGIN_HIDDEN, END_HIDDEN, _nothing, where)
        text, _ = _rewrite(text, BEGIN_SOLUTION, END_SOLUTION, _stub(stub), where)
        if hidden and not text.strip():
            continue  # a cell of hidden tests only
        cell.source = text
        _clear(cell)
        cells.append(cell)
    nb.cells = cells
    return nb


def solution_notebook(source: Any, name: str = "notebook") -> Any:
    """The solution copy before execution: markers removed, code and tests kept, no outputs yet."""
    nb = copy.deepcopy(source)
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index + 1}"
        text, _ = _rewrite(cell.source, BEGIN_HIDDEN, END_HIDDEN, None, where)
        cell.source, _ = _rewrite(text, BEGIN_SOLUTION, END_SOLUTION, None, where)
        _clear(cell)
    return nb


def _text(nb: Any) -> str:
    text = _write_nb_text(nb)
    return text if text.endswith("\n") else text + "\n"


def _shape(nb: Any) -> list[tuple[str, str]]:
    """What must match between a built solution and its source: cell types and sources."""
    return [(cell.cell_type, cell.source) for cell in nb.cells]


def _executed(nb: Any) -> bool:
    code = [cell for cell in nb.cells if cell.cell_type == "code" and cell.source.strip()]
    return all(cell.execution_count is not None for cell in code)


# -- building ------------------------------------------------------------------------------------------
def execute(path: Path, *, timeout: int = 600) -> None:
    """Run a notebook top to bottom in a fresh kernel and store its outputs in place."""
    try:
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
    except ImportError:
        raise SetupError("Executing notebooks needs nbclient.", hint="pip install -e '.[dev]'") from None
    nb = _read(path)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        with tempfile.TemporaryDirectory(prefix="portside-build-") as scratch:
            # the run's checks count in a throwaway progress file, not in the author's own
            env = {**os.environ, PROGRESS_ENV: str(Path(scratch) / "progress.json")}
            client.execute(env=env)
    except CellExecutionError as err:
        first = str(err).strip().splitlines()
        raise LabError(f"Executing {path.name} failed: {first[-1] if first else err}",
                       hint="Run the solution notebook by hand to see the failing cell.") from None
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    path.write_text(_text(nb), encoding="utf-8")


def build(root: Path | None = None, *, run: bool = True, force: bool = False,
          say: Callable[[str], None] = print) -> list[Path]:
    """Write the student and solution notebooks that are out of date (all with ``force``).

    A solution copy whose code changed is executed again (``run=False`` skips that, leaving
    it stale on purpose). Returns the paths written.
    """
    written: list[Path] = []
    for files in lab_files(root):
        source = _read(files.source)
        student = _text(student_notebook(source, files.source.name))
        if force or not files.student.is_file() or files.student.read_text(encoding="utf-8") != student:
            files.student.write_text(student, encoding="utf-8")
            written.append(files.student)
            say(f"wrote {files.student.name} (student)")
        solution = solution_notebook(source, files.source.name)
        current = _read(files.solution) if files.solution.is_file() else None
        if force or current is None or _shape(current) != _shape(solution) or not _executed(current):
            files.solution.parent.mkdir(parents=True, exist_ok=True)
            files.solution.write_text(_text(solution), encoding="utf-8")
            written.append(files.solution)
            if run:
                say(f"executing solutions/{files.solution.name} …")
                execute(files.solution)
            say(f"wrote solutions/{files.solution.name} (solution{'' if run else ', not executed'})")
    return written


def is_stale(root: Path | None = None) -> list[str]:
    """Every generated notebook that does not match its source (empty list: all up to date)."""
    problems: list[str] = []
    labs = _labs_dir(root)
    known = lab_files(root)
    for files in known:
        source = _read(files.source)
        student = _text(student_notebook(source, files.source.name))
        if not files.student.is_file():
            problems.append(f"labs/{files.student.name} is missing")
        elif files.student.read_text(encoding="utf-8") != student:
            problems.append(f"labs/{files.student.name} differs from what source/{files.source.name} generates")
        if not files.solution.is_file():
            problems.append(f"labs/solutions/{files.solution.name} is missing")
            continue
        current = _read(files.solution)
        if _shape(current) != _shape(solution_notebook(source, files.source.name)):
            problems.append(f"labs/solutions/{files.solution.name} differs from source/{files.source.name}")
        elif not _executed(current):
            problems.append(f"labs/solutions/{files.solution.name} has cells that were never executed")
    names = {f.source.name for f in known}
    for generated in [*labs.glob("*.ipynb"), *(labs / "solutions").glob("*.ipynb")]:
        if generated.name not in names:
            problems.append(f"{generated.relative_to(labs.parent)} has no source in labs/source/")
    return problems

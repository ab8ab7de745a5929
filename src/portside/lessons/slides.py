"""Every lesson is also a slide deck: the slide plan in the notebooks' cell metadata, and the two ways to show it.

Each cell of a lesson carries ``metadata.slideshow.slide_type``, the field both RISE (live slides inside
JupyterLab, from the ``jupyterlab-rise`` package) and ``jupyter nbconvert --to slides`` (reveal.js HTML, no kernel)
read. :func:`planned_types` is the rule that wrote it, so a new cell gets the same treatment as its neighbours:

* the title cell, and every markdown cell with a ``## `` section heading, starts a **slide**;
* a markdown cell that opens with a ``### `` heading starts a **subslide** (reveal.js goes *down* from the section);
* a code cell is a **fragment** of the slide above it (it appears on the next key press, and the presenter runs it
  live with Shift-Enter), or starts a **subslide** when the slide is already full;
* other markdown continues its slide (``-``) while the slide has room, else starts a subslide;
* a cell already marked ``notes`` is a speaker note (``S`` in RISE and in the HTML deck) and stays one.

The notebooks' top-level ``rise`` block (theme, transition, scroll) is read by RISE and, through
:func:`export_html`, by the HTML deck too. Nothing here runs a lesson: slides show the stored outputs until the
presenter runs a cell, and nbval keeps checking those outputs as before (it reads no slide metadata).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import nbformat

from portside.base.paths import project_root
from portside.errors import SetupError, UsageError

__all__ = ["BUDGET", "RISE", "SLIDE_TYPES", "Deck", "deck", "export_html", "lesson_path", "lessons", "mark",
           "planned_types", "rise_path"]

#: the values ``metadata.slideshow.slide_type`` may take (RISE's and nbconvert's vocabulary)
SLIDE_TYPES = ("slide", "subslide", "fragment", "-", "skip", "notes")

#: lines (source plus text output) that fit one projected slide at RISE's default scale; past it, a new subslide
BUDGET = 24

#: the top-level ``metadata.rise`` block every lesson carries: plain theme, no animation, long cells scroll
RISE: dict[str, Any] = {"autolaunch": False, "scroll": True, "theme": "simple", "transition": "none",
                        "start_slideshow_at": "beginning"}

_read = cast("Callable[..., Any]", nbformat.read)  # nbformat has no type hints
_SECTION = re.compile(r"^## \S", re.MULTILINE)
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _is_section(cell: Mapping[str, Any]) -> bool:
    """A markdown cell with a ``## `` heading outside code fences (some lessons put one below a closing paragraph)."""
    return cell.get("cell_type") == "markdown" and bool(_SECTION.search(_FENCE.sub("", _source(cell))))


def _height(cell: Mapping[str, Any]) -> int:
    """How many lines a cell takes on a slide: its source and its stored text outputs."""
    lines = len(_source(cell).splitlines())
    for output in cell.get("outputs", []):
        text = output.get("text") or output.get("data", {}).get("text/plain", "")
        lines += len(("".join(text) if isinstance(text, list) else str(text)).splitlines())
    return lines


def slide_type(cell: Mapping[str, Any]) -> str | None:
    """The slide type stored in a cell's metadata, if any."""
    value = cell.get("metadata", {}).get("slideshow", {}).get("slide_type")
    return value if isinstance(value, str) else None


def planned_types(cells: Sequence[Mapping[str, Any]], budget: int = BUDGET) -> list[str]:
    """The slide type the course's rule gives each cell (see the module's docstring)."""
    types: list[str] = []
    filled = 0
    for index, cell in enumerate(cells):
        height = _height(cell)
        if slide_type(cell) == "notes":
            types.append("notes")
            continue
        if index == 0 or _is_section(cell):
            kind = "slide"
        elif cell.get("cell_type") == "markdown" and _source(cell).startswith("### "):
            kind = "subslide"
        elif filled + height > budget:
            kind = "subslide"
        else:
            kind = "fragment" if cell.get("cell_type") == "code" else "-"
        filled = height if kind in ("slide", "subslide") else filled + height
        types.append(kind)
    return types


def mark(notebook: dict[str, Any]) -> int:
    """Write the planned slide types and the ``rise`` block into a lesson's JSON (metadata only, no cell's source or
    outputs); returns how many cells changed."""
    changed = 0
    for cell, kind in zip(notebook["cells"], planned_types(notebook["cells"]), strict=True):
        if slide_type(cell) != kind:
            cell.setdefault("metadata", {}).setdefault("slideshow", {})["slide_type"] = kind
            changed += 1
    notebook["metadata"]["rise"] = dict(RISE)
    return changed


@dataclass(frozen=True)
class Deck:
    """A lesson's slide plan as the metadata stores it."""

    path: Path
    types: tuple[str | None, ...]
    titles: tuple[str, ...]  # the first line of each slide's first cell

    @property
    def slides(self) -> int:
        return self.types.count("slide")

    @property
    def subslides(self) -> int:
        return self.types.count("subslide")

    @property
    def notes(self) -> int:
        return self.types.count("notes")

    def __str__(self) -> str:
        return (f"{self.path.name}: {self.slides} slides, {self.subslides} subslides, "
                f"{self.types.count('fragment')} live fragments, {self.notes} speaker notes")


def deck(path: Path) -> Deck:
    """Read a lesson's slide plan from its cell metadata."""
    notebook = _read(path, as_version=4)
    types = tuple(slide_type(cell) for cell in notebook.cells)
    titles = tuple(_source(cell).splitlines()[0] if _source(cell) else ""
                   for cell, kind in zip(notebook.cells, types, strict=True) if kind == "slide")
    return Deck(path=path, types=types, titles=titles)


def _folder() -> Path:
    root = project_root() or Path.cwd()
    folder = root / "notebooks"
    if not folder.is_dir():
        raise SetupError(f"No lessons found: {folder} is not a folder.",
                         hint="Run this from the course checkout (the folder with `notebooks/`).")
    return folder


def lessons() -> list[Path]:
    """Every lesson notebook, in course order (``notebooks/NN-name.ipynb``)."""
    return sorted(_folder().glob("[0-9][0-9]-*.ipynb"))


def lesson_path(number: str) -> Path:
    """The lesson numbered ``number`` (``"00"``, ``"3"``…), or a UsageError that lists the lessons there are."""
    found = lessons()
    if number.isdigit():
        matches = [path for path in found if path.name.startswith(f"{int(number):02d}-")]
        if matches:
            return matches[0]
    known = ", ".join(path.name[:2] for path in found)
    raise UsageError(f"There is no lesson {number!r}.", hint=f"Give a lesson number: {known}.")


def rise_path(path: Path, root: Path) -> str:
    """The URL path (under JupyterLab's base URL) at which jupyterlab-rise ≥ 0.40 shows a notebook as slides."""
    return "/rise/" + path.resolve().relative_to(root.resolve()).as_posix()


def export_html(path: Path, output: Path, reveal_url_prefix: str | None = None) -> Path:
    """Write a lesson as a reveal.js deck (``nbconvert --to slides``, stored outputs, no kernel); returns the file.

    Speaker notes become reveal.js notes (``S`` opens the speaker view). The deck loads reveal.js from
    ``reveal_url_prefix``, by default nbconvert's own (a CDN): for a room without internet give a folder or URL
    that holds reveal.js 4 (``dist/reveal.js``, ``dist/reveal.css``, ``dist/theme/``, ``plugin/notes/``).
    """
    from nbconvert.exporters import SlidesExporter  # jupyter_server's own dependency, so JupyterLab brings it

    notebook = _read(path, as_version=4)
    rise = notebook.metadata.get("rise", {})
    exporter = cast("Any", SlidesExporter)()  # nbconvert has no type hints
    exporter.reveal_theme = rise.get("theme", RISE["theme"])
    exporter.reveal_transition = rise.get("transition", RISE["transition"])
    exporter.reveal_scroll = bool(rise.get("scroll", RISE["scroll"]))
    if reveal_url_prefix:
        exporter.reveal_url_prefix = reveal_url_prefix
    body, _resources = exporter.from_notebook_node(notebook)
    output.mkdir(parents=True, exist_ok=True)
    target = output / f"{path.stem}.slides.html"
    target.write_text(body, encoding="utf-8")
    return target

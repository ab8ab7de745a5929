"""A small table that reads well in Jupyter (HTML) and as plain text (aligned columns).

Lessons show rows of facts: references taken apart, requests a push made. In
JupyterLab a :class:`Table` renders as HTML; everywhere else (nbval, a terminal,
GitHub's notebook view) its ``repr`` is the same table as aligned text, so the text
form is what gets compared between runs.

>>> Table(["name", "tag"], [["nginx", "alpine"], ["busybox", "1.35"]])
name     tag
-------  ------
nginx    alpine
busybox  1.35
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["Table"]


@dataclass(frozen=True)
class Table:
    """Rows of cells under column headings; ``None`` shows as an empty cell.

    ``rule=False`` leaves out the line of dashes under the headings in the text form (the
    plain listing a command prints, ``portside images status``).
    """

    columns: Sequence[str]
    rows: Sequence[Sequence[object]] = field(default_factory=list)
    title: str = ""
    rule: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "rows", tuple(tuple(row) for row in self.rows))
        for number, row in enumerate(self.rows, 1):
            if len(row) != len(self.columns):
                raise ValueError(f"row {number} has {len(row)} cells for {len(self.columns)} columns")

    @staticmethod
    def _cell(value: object) -> str:
        return "" if value is None else str(value)

    def _text_rows(self) -> list[list[str]]:
        return [[self._cell(value) for value in row] for row in self.rows]

    def text(self) -> str:
        """The table as aligned plain text (no trailing spaces)."""
        rows = self._text_rows()
        widths = [max([len(heading), *(len(row[i]) for row in rows)]) for i, heading in enumerate(self.columns)]

        def line(cells: Iterable[str]) -> str:
            return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

        out = [self.title] if self.title else []
        out.append(line(self.columns))
        if self.rule:
            out.append(line("-" * width for width in widths))
        out += [line(row) for row in rows]
        return "\n".join(out)

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='text-align:left'>{html.escape(c)}</th>" for c in self.columns)
        def cell(text: str) -> str:
            return f"<td style='text-align:left'><code>{html.escape(text)}</code></td>" if text else "<td></td>"

        body = "".join("<tr>" + "".join(cell(text) for text in row) + "</tr>" for row in self._text_rows())
        caption = f"<caption style='text-align:left'><b>{html.escape(self.title)}</b></caption>" if self.title else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

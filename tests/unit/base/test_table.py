"""portside.base.table: the same table as aligned text (what nbval compares) and as HTML."""

from __future__ import annotations

import pytest

from portside.base.table import Table


def test_text_is_aligned_without_trailing_spaces() -> None:
    table = Table(["name", "tag"], [["nginx", "alpine"], ["busybox", None]], title="images")
    assert table.text() == "images\nname     tag\n-------  ------\nnginx    alpine\nbusybox"
    assert repr(table) == table.text()
    assert all(line == line.rstrip() for line in table.text().splitlines())


def test_html_escapes_cells_and_shows_empty_cells_empty() -> None:
    html = Table(["ref"], [["<nginx>"], [""]])._repr_html_()
    assert "&lt;nginx&gt;" in html and "<nginx>" not in html
    assert "<td></td>" in html and html.startswith("<table>")


def test_rows_must_match_the_columns() -> None:
    with pytest.raises(ValueError, match="row 1 has 1 cells for 2 columns"):
        Table(["a", "b"], [["x"]])


def test_text_without_the_rule_under_the_headings() -> None:
    """rule=False: headings straight above the rows (a command's plain listing); the HTML form is the same."""
    table = Table(["image", "source"], [["busybox:1.35", "-"]], rule=False)
    assert table.text() == "image         source\nbusybox:1.35  -"
    assert table._repr_html_() == Table(["image", "source"], [["busybox:1.35", "-"]])._repr_html_()

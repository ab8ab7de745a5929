"""portside.labs.leaks: secrets found in a saved notebook's outputs, in every output type, never in sources."""

from __future__ import annotations

import base64
from pathlib import Path

import nbformat
import pytest

from portside.errors import PortsideError
from portside.labs.leaks import Leak, scan_notebook, secret_forms

PASSWORD = "Xk3vQ9mTz2"


def _notebook(path: Path, cells: list[nbformat.NotebookNode]) -> Path:
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def _cell(source: str, *outputs: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = list(outputs)
    return cell


def test_forms_include_the_base64_auth_value() -> None:
    forms = secret_forms("kai", PASSWORD)
    assert forms["the password"] == PASSWORD
    assert base64.b64decode(forms["the base64 auth value of kai"] + "==").decode() == f"kai:{PASSWORD}"


def test_every_kind_of_output_is_searched(tmp_path: Path) -> None:
    auth = base64.b64encode(f"kai:{PASSWORD}".encode()).decode()
    nb = _notebook(tmp_path / "n.ipynb", [
        _cell("print(pw)", nbformat.v4.new_output("stream", text=f"pw is {PASSWORD}\n")),
        _cell("cfg", nbformat.v4.new_output("execute_result", data={"text/plain": f"{{'auth': '{auth}'}}"},
                                            execution_count=1)),
        _cell("html", nbformat.v4.new_output("display_data", data={"text/html": [f"<b>{PASSWORD}</b>"]})),
        _cell("boom", nbformat.v4.new_output("error", ename="ValueError", evalue=f"bad {PASSWORD}",
                                             traceback=[])),
        _cell(f"login('{PASSWORD}')  # in the source only: not an output"),
        _cell("fine", nbformat.v4.new_output("stream", text="logged in as kai\n")),
    ])
    leaks = scan_notebook(nb, secret_forms("kai", PASSWORD))
    assert leaks == [Leak(1, "the password"), Leak(2, "the base64 auth value of kai"), Leak(3, "the password"),
                     Leak(4, "the password")]
    assert str(leaks[1]) == "cell 2 shows the base64 auth value of kai"
    assert all(PASSWORD not in str(leak) for leak in leaks)


def test_a_clean_notebook_has_no_leaks(tmp_path: Path) -> None:
    nb = _notebook(tmp_path / "n.ipynb", [_cell("x", nbformat.v4.new_output("stream", text="ok\n"))])
    assert scan_notebook(nb, secret_forms("kai", PASSWORD)) == []


def test_missing_or_broken_notebooks_raise_portside_errors(tmp_path: Path) -> None:
    with pytest.raises(PortsideError, match=r"no saved notebook at gone\.ipynb"):
        scan_notebook(tmp_path / "gone.ipynb", {"p": PASSWORD})
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(PortsideError, match=r"Could not read the notebook broken\.ipynb"):
        scan_notebook(broken, {"p": PASSWORD})

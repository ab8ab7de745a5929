"""The environment's JupyterLab overrides answer the news question, and keep what was there; its jupyter command."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from portside.base import jupyterlab
from portside.base.jupyterlab import NOTIFICATION, quiet_news
from portside.errors import SetupError


def test_a_new_environment_gets_the_setting(tmp_path: Path) -> None:
    path = quiet_news(tmp_path)
    assert path == tmp_path / "share/jupyter/lab/settings/overrides.json"
    assert json.loads(path.read_text())[NOTIFICATION] == {"fetchNews": "false", "checkForUpdates": False}


def test_other_overrides_and_an_explicit_choice_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "share/jupyter/lab/settings/overrides.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"},
                                NOTIFICATION: {"fetchNews": "true"}}))
    quiet_news(tmp_path)
    settings = json.loads(path.read_text())
    assert settings["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}
    assert settings[NOTIFICATION] == {"fetchNews": "true", "checkForUpdates": False}  # the owner's choice stands



def test_an_environment_that_cannot_be_written_is_left_alone(tmp_path: Path) -> None:
    # a prefix whose share/ is a file: writing fails as it would in the course image's root-owned venv (as root,
    # a permission cannot be taken away, a path that cannot exist can)
    (tmp_path / "share").write_text("not a folder")
    assert quiet_news(tmp_path) is None
    assert (tmp_path / "share").read_text() == "not a folder"


def test_the_jupyter_command_is_the_environment_s_own(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`portside start` and `portside present` run the jupyter beside this Python, not another one on PATH."""
    own = Path(sys.executable).parent / "jupyter"
    if own.is_file():
        assert jupyterlab.jupyter_executable() == str(own)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SetupError, match="JupyterLab is not installed") as caught:
        jupyterlab.jupyter_executable()
    assert caught.value.hint == "Run `make setup` first."

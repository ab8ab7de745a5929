"""``binder/`` builds the same environment as ``pyproject.toml``: the project itself, on the Python it asks for."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"


def requirement_lines() -> list[str]:
    lines = (BINDER / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def test_binder_installs_the_project_and_nothing_else() -> None:
    # `-e .` installs [project] dependencies exactly as pyproject.toml lists them; any other line would be a second,
    # drifting list of the same dependencies
    assert requirement_lines() == ["-e ."]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["dependencies"], "pyproject.toml lists the course's dependencies"


def test_binder_runs_a_python_the_project_accepts() -> None:
    runtime = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    assert runtime.startswith("python-")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert SpecifierSet(project["requires-python"]).contains(runtime.removeprefix("python-") + ".0")


def test_post_build_is_an_executable_shell_script() -> None:
    script = BINDER / "postBuild"
    assert script.stat().st_mode & 0o111, "repo2docker runs postBuild only when it is executable"
    subprocess.run(["bash", "-n", str(script)], check=True)

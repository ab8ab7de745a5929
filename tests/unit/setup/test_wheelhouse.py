"""The course's wheelhouse (portside.setup.wheelhouse): which packages, pip resolving them for the target Python
from a local folder (no network), and the hash lock."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from portside.errors import SetupError
from portside.setup import wheelhouse
from portside.setup.wheelhouse import gather, lock_text, missing, requirements

ROOT = Path(__file__).resolve().parents[3]
#: the ``make_wheel`` fixture (conftest.py): ``make_wheel(folder, name, version, requires_python=None)``
MakeWheel = Callable[..., Path]


def _names(wanted: list[str]) -> set[str]:
    return {wheelhouse._name(text) for text in wanted}


def _touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(name.encode())


# ── which ──────────────────────────────────────────────────────────────────────

def test_the_requirements_are_the_course_what_lessons_run_the_build_backend_and_pip() -> None:
    wanted = requirements(ROOT)
    names = _names(wanted)
    assert {"jupyterlab", "docker", "click", "python-on-whales", "zizmor", "setuptools", "pip"} <= names
    # the dev extra's test and lint tools check the course; a learner does not need them
    assert not names & {"pytest", "pytest-xdist", "nbval", "ruff", "mypy", "types-requests"}
    assert any(text.startswith("setuptools>=") for text in wanted)   # [build-system] requires, with its bound
    assert len(wanted) == len(set(wanted))


def test_a_whole_extra_is_added_on_request_and_an_unknown_one_is_refused() -> None:
    assert {"pytest", "nbval", "mypy", "zizmor"} <= _names(requirements(ROOT, extras=("dev",)))
    with pytest.raises(SetupError, match="no extra nope") as caught:
        requirements(ROOT, extras=("nope",))
    assert "dev" in caught.value.hint


def test_a_folder_that_is_not_the_course_is_named(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match=r"pyproject\.toml cannot be read"):
        requirements(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "other"\n', encoding="utf-8")
    with pytest.raises(SetupError, match=r"has no \[project\] dependencies or \[build-system\] requires"):
        requirements(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\ndependencies = ["a b c"]\n[build-system]\nrequires = []\n',
                                             encoding="utf-8")
    with pytest.raises(SetupError, match=r"'a b c' in pyproject\.toml is not a requirement pip understands"):
        requirements(tmp_path)


def test_missing_names_each_top_level_requirement_the_folder_cannot_satisfy(tmp_path: Path) -> None:
    _touch(tmp_path, "click-8.1.7-py3-none-any.whl", "rich-12.0.0-py3-none-any.whl", "PyYAML-6.0.2.tar.gz",
           "notes.txt")
    wanted = ["click>=8.1", "rich>=13.7", "pyyaml>=6.0", "cheroot>=10.0", "tomli>=2; python_version < '3.0'"]
    assert missing(wanted, tmp_path) == ["rich>=13.7", "cheroot>=10.0"]


# ── gathering, with pip (a local folder, no network) ───────────────────────────

def test_wheels_are_resolved_for_the_target_python_not_this_one(tmp_path: Path, make_wheel: MakeWheel) -> None:
    """Debian 12's Python is 3.11.2: a release that needs 3.11.5 is passed over for one that installs there."""
    source = tmp_path / "source"
    make_wheel(source, "demo", "1.0")
    make_wheel(source, "demo", "2.0", requires_python=">=3.11.5")
    said: list[str] = []
    for python_version, picked in (("3.11.2", "demo-1.0"), ("3.11", "demo-1.0"), ("3.11.7", "demo-2.0")):
        dest = tmp_path / f"for-{python_version}"
        found = gather(["demo"], dest, python_version=python_version, offline=False, source=source, say=said.append)
        assert [path.name for path in found] == [f"{picked}-py3-none-any.whl"], python_version
    assert said[0] == f"wheels: from {source} (no network)"


def test_gathering_offline_names_what_the_cache_lacks(tmp_path: Path, make_wheel: MakeWheel) -> None:
    cache, dest = tmp_path / "cache", tmp_path / "dest"
    make_wheel(cache, "demo", "1.0")
    (dest / "stale").mkdir(parents=True)
    found = gather(["demo"], dest, python_version="3.11", offline=True, cache=cache, say=lambda _: None)
    assert [path.name for path in found] == ["demo-1.0-py3-none-any.whl"]
    assert sorted(path.name for path in dest.iterdir()) == ["demo-1.0-py3-none-any.whl"]   # emptied first
    with pytest.raises(SetupError, match=r"the state folder's wheel cache \(.*cache\) does not have every Python "
                                         r"package of the course for \S+ 3\.11 on .*: missing demo>=2 \(offline: "
                                         r"nothing was downloaded\)\. pip said: ") as caught:
        gather(["demo>=2"], dest, python_version="3.11", offline=True, cache=cache, hint="Do X.", say=lambda _: None)
    assert caught.value.hint == "Do X."


def test_pip_runs_without_any_configuration_or_pip_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_FIND_LINKS", "/somewhere/else")
    monkeypatch.setenv("PIP_INDEX_URL", "https://mirror.example/simple")
    env = wheelhouse.isolated_env()
    assert env["PIP_CONFIG_FILE"] == "/dev/null"
    assert [key for key in env if key.startswith("PIP_")] == ["PIP_CONFIG_FILE"]


# ── the lock ───────────────────────────────────────────────────────────────────

def test_the_lock_pins_each_project_to_its_files_by_hash(tmp_path: Path) -> None:
    (tmp_path / "demo-1.0-py3-none-any.whl").write_bytes(b"one")
    _touch(tmp_path, "PyYAML-6.0.2-cp311-cp311-manylinux_2_17_x86_64.whl", "other_pkg-2.1-py3-none-any.whl",
           "requirements.lock")
    lines = lock_text(tmp_path, header=("What this is.", "How to install it.")).splitlines()
    assert lines[:2] == ["# What this is.", "# How to install it."]
    assert "demo==1.0 --hash=sha256:7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed" in lines
    # canonical names, as pip compares them; one line a project (the course image's provenance reads them so)
    assert [re.split(r"==", line)[0] for line in lines[2:]] == ["demo", "other-pkg", "pyyaml"]


def test_a_lock_refuses_two_versions_of_one_project(tmp_path: Path) -> None:
    _touch(tmp_path, "click-8.1.7-py3-none-any.whl", "click-8.2.0-py3-none-any.whl")
    with pytest.raises(SetupError, match=r"holds 2 versions of click \(8\.1\.7, 8\.2\.0\); a lock pins one"):
        lock_text(tmp_path)


def test_an_extra_that_names_the_project_s_own_extras_takes_them_instead(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "Portside"\ndependencies = ["click>=8"]\n'
        '[project.optional-dependencies]\nhub = ["jupyterhub>=6"]\ndev = ["portside[hub]", "pytest>=8"]\n'
        '[build-system]\nrequires = ["setuptools>=77"]\n', encoding="utf-8")
    from portside.setup.wheelhouse import requirements

    found = requirements(tmp_path, extras=("dev",))
    assert "jupyterhub>=6" in found and "pytest>=8" in found
    assert not any(text.lower().startswith("portside") for text in found)  # never asked of PyPI
    assert "jupyterhub>=6" not in requirements(tmp_path)  # not a learner's

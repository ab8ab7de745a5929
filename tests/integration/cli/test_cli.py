"""The installed ``portside`` command against the real engine and tools: the status commands a learner runs
first, through the entry point itself (``portside.cli:main``) and through ``python -m portside.cli``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from portside.setup.images import status as image_status
from portside.tools import status as tool_status

ENTRY_POINT = shutil.which("portside", path=str(Path(sys.executable).parent))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    assert ENTRY_POINT is not None, "the `portside` entry point is not installed next to this Python"
    return subprocess.run([ENTRY_POINT, *args], capture_output=True, text=True, timeout=300, check=False)


def test_images_status_lists_every_course_image() -> None:
    """``portside images status``: one row per course image, exit 1 exactly when one is missing."""
    done = _run("images", "status")
    found = image_status()
    assert done.returncode == (1 if any(image.state == "missing" for image in found) else 0), done.stderr
    assert all(image.name in done.stdout for image in found)
    assert "Traceback" not in done.stderr


def test_tools_status_short_lists_every_tool() -> None:
    """``portside tools status --short``: cosign, syft and trivy with their versions, exit 1 if one is missing."""
    done = _run("tools", "status", "--short")
    found = tool_status()
    assert done.returncode == (0 if all(tool.ok for tool in found) else 1), done.stderr
    assert all(tool.name in done.stdout for tool in found)


@pytest.mark.parametrize("args", [["--help"], ["scan", "--help"], ["labs", "list"]])
def test_module_and_entry_point_agree(args: list[str]) -> None:
    """``python -m portside.cli`` is the ``portside`` command: same output (but the program's name), exit code 0."""
    module = subprocess.run([sys.executable, "-m", "portside.cli", *args], capture_output=True, text=True,
                            timeout=120, check=False)
    entry = _run(*args)
    assert module.returncode == entry.returncode == 0, module.stderr + entry.stderr
    assert module.stdout.replace("python -m portside.cli", "portside") == entry.stdout

"""The harness stays typed and lint-clean: ruff and mypy, configured in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          check=False)


def test_ruff_is_clean() -> None:
    done = _run("ruff", "check", "src", "tests", "benchmarks")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_is_clean() -> None:
    done = _run("mypy")
    assert done.returncode == 0, done.stdout + done.stderr


#: docker-py's image listing call, as it appears in code
_CALL = "images" + ".list("


def test_images_are_listed_through_list_images() -> None:
    """docker-py's ``images.list()`` inspects each image after listing; on the containerd store an image another
    process removes meanwhile fails the whole call (404), which made the suite flaky. One listing, retried, is
    ``portside.engine.list_images``."""
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for folder in ("src", "tests", "benchmarks") for path in sorted((ROOT / folder).rglob("*.py"))
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if _CALL in line and path != Path(__file__) and "``images.list()``" not in line]
    assert offenders == [], "use portside.engine.list_images() instead of docker-py's listing: " + ", ".join(offenders)

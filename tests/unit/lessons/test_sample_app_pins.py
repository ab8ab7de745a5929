"""pyapp's pin sets without Docker or network: fully pinned, unpinned lines refused, one reviewed hash per pin.

The wheel cache, the offline build and the image are in ``tests/integration/lessons/test_sample_app.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from portside.errors import PortsideError
from portside.lessons import sample_app


def test_pin_sets_are_fully_pinned() -> None:
    """Both requirement files pin every package with ==; the vulnerable set has the lesson's packages."""
    vulnerable = {p.name: p.version for p in sample_app.pins(sample_app.requirements_file("vulnerable"))}
    fixed = {p.name: p.version for p in sample_app.pins(sample_app.requirements_file("fixed"))}
    assert vulnerable["GitPython"] == "3.1.29" and vulnerable["httpx"] == "0.22.0" and vulnerable["h11"] == "0.12.0"
    assert fixed["GitPython"] == "3.1.45" and fixed["httpx"] == "0.28.1" and fixed["h11"] == "0.16.0"
    for name in ("Dockerfile", "app.py", "requirements-vulnerable.txt", "requirements-fixed.txt"):
        assert (sample_app.app_dir() / name).is_file()


@pytest.mark.parametrize(("line", "message"), [
    ("httpx>=0.28", "not pinned"),
    ("httpx", "not pinned"),
    ("-e .", "not pinned"),
])
def test_unpinned_requirements_are_refused(tmp_path: Path, line: str, message: str) -> None:
    """A scan only tells the truth about versions you control: every line must be name==version."""
    req = tmp_path / "requirements.txt"
    req.write_text(f"# comment\nh11==0.16.0\n{line}\n", encoding="utf-8")
    with pytest.raises(PortsideError, match=message):
        sample_app.pins(req)
    req.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(PortsideError, match="pins no package"):
        sample_app.pins(req)
    with pytest.raises(PortsideError, match="no variant"):
        sample_app.requirements_file("patched")  # type: ignore[arg-type]


def test_every_pin_has_exactly_one_reviewed_wheel_hash() -> None:
    """wheels.sha256 lists one sha256 per pin of both sets (all pure-Python wheels), and nothing else."""
    hashes = sample_app.pinned_hashes()
    files = [sample_app.requirements_file(variant) for variant in sample_app.VARIANTS]
    keys = {pin.key for file in files for pin in sample_app.pins(file)}
    assert set(hashes) == keys
    assert all(len(found) == 1 for found in hashes.values())

"""What the set-up layer's unit tests share: small real wheels for pip to resolve from a local folder."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

MakeWheel = Callable[..., Path]


def _wheel(folder: Path, name: str, version: str, *, requires_python: str | None = None) -> Path:
    """A minimal pure-Python wheel pip accepts (METADATA, WHEEL, RECORD) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    info = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    if requires_python:
        metadata += f"Requires-Python: {requires_python}\n"
    files = {f"{name}/__init__.py": "", f"{info}/METADATA": metadata,
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
        archive.writestr(f"{info}/RECORD", "".join(f"{member},,\n" for member in [*files, f"{info}/RECORD"]))
    return path


@pytest.fixture
def make_wheel() -> MakeWheel:
    """``make_wheel(folder, name, version, requires_python=None)``: write a wheel, return its path."""
    return _wheel

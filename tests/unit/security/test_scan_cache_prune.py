"""The SBOM cache folder stays bounded, without Docker or syft.

Hits, misses and corrupt entries with real syft on real images are in
``tests/integration/security/test_scan_cache.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from portside.security.scan import cache


def test_prune_keeps_the_newest_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The folder is bounded: the least recently used files go, and a dead writer's old temporary file too."""
    monkeypatch.setenv("PORTSIDE_HOME", str(tmp_path / "home"))  # a private course home: not the course's cache
    folder = cache.cache_dir()
    for number in range(5):
        path = folder / f"{number}.json"
        path.write_text("{}")
        os.utime(path, (1000 + number, 1000 + number))
    stale = folder / ".x.tmp"
    stale.write_text("")
    os.utime(stale, (1000, 1000))
    assert cache.prune(folder, keep=3) == 3
    assert sorted(p.name for p in folder.iterdir()) == ["2.json", "3.json", "4.json"]

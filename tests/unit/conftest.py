"""The unit tier: tests that need no Docker engine (``make test-unit``, a few seconds).

Every test here runs with ``DOCKER_HOST`` pointing at a socket that does not exist, so
a test that reaches for the engine fails here instead of quietly needing one.

File names are unique across ``tests/`` (pytest imports test files by their base name):
``tests/unit/lessons/test_tagging_rules.py`` sits beside ``tests/integration/lessons/test_tagging.py``,
which needs a registry.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_engine(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    socket = tmp_path_factory.getbasetemp() / "no-engine.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket}")

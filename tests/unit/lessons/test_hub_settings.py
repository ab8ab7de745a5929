"""portside.lessons.hub without Docker: who the Docker Hub round trip runs as, read from the environment.

The round trip itself, against a local registry, is in ``tests/integration/lessons/test_hub.py``.
"""

from __future__ import annotations

import pytest

from portside.lessons import hub


def test_no_user_means_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(hub.USER_VARIABLE, raising=False)
    assert hub.hub_user() is None
    monkeypatch.setenv(hub.USER_VARIABLE, "  ")
    assert hub.hub_user() is None
    monkeypatch.setenv(hub.USER_VARIABLE, "kai")
    assert hub.hub_user() == "kai"
    monkeypatch.setenv(hub.TOKEN_VARIABLE, "dckr_pat_x")
    assert hub.hub_token() == "dckr_pat_x"

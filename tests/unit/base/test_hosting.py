"""On Binder the course says first that there is no engine, and what to do instead."""

from __future__ import annotations

import pytest

from portside.base.hosting import BINDER_HINT, on_binder
from portside.engine import daemon
from portside.errors import EngineUnavailable


def test_binder_is_told_by_its_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BINDER_REPO_URL", "BINDER_LAUNCH_HOST", "BINDER_REQUEST", "BINDER_PERSISTENT_REQUEST"):
        monkeypatch.delenv(name, raising=False)
    assert not on_binder()
    monkeypatch.setenv("BINDER_LAUNCH_HOST", "https://mybinder.org/")
    assert on_binder()


def test_no_engine_on_binder_names_what_to_do_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINDER_REPO_URL", "https://github.com/example/portside")
    daemon.client.cache_clear()
    try:
        with pytest.raises(EngineUnavailable) as err:
            daemon.client()
    finally:
        daemon.client.cache_clear()
    assert err.value.hint == BINDER_HINT
    assert "Codespaces" in str(err.value) and "make start" in str(err.value)

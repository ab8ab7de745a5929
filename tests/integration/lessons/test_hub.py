"""portside.lessons.hub: the round trip runs for real against a local registry.

Who it runs as (skipped unless asked): ``tests/unit/lessons/test_hub_settings.py``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from portside import engine
from portside.lessons import hub
from portside.oci import credentials
from portside.registry.container import Registry


def test_roundtrip_against_a_local_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTSIDE_HOME", str(tmp_path / "home"))
    # isolate_docker_config() will point DOCKER_CONFIG into that home: restore it afterwards
    monkeypatch.setenv("DOCKER_CONFIG", os.environ.get("DOCKER_CONFIG", str(tmp_path / "home" / "docker-config")))
    token = secrets.token_urlsafe(16)
    with Registry(users={"kai": token}) as registry:
        result = hub.roundtrip("busybox:1.35", "kai", token, registry=registry.address, progress=False)
        assert result.same_image and result.reference == f"{registry.address}/kai/myapp:1.0.0"
        assert registry.client("kai", token).digest("kai/myapp", "1.0.0") == result.digest
        assert credentials.saved_login(registry.address) is None  # logged out again
        assert not engine.list_images(filters={"reference": f"{registry.address}/kai/myapp"})  # the push name is gone
        assert token not in str(result)

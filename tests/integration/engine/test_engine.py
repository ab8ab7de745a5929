"""The engine connection: real engine, and a clear message when there is none."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portside import engine
from portside.base import paths
from portside.errors import EngineUnavailable


def test_client_negotiates_an_api_version() -> None:
    found = engine.info()
    major, minor = (int(part) for part in found.api_version.split("."))
    assert (major, minor) >= (1, 41)
    assert found.server_version


def test_engine_on_this_machine_is_local() -> None:
    assert engine.is_local()


def test_course_uses_its_own_docker_config() -> None:
    engine.client()
    config = Path(os.environ["DOCKER_CONFIG"])
    assert config == paths.docker_config_dir()
    assert config != Path.home() / ".docker"
    assert (config / "config.json").is_file()


def test_no_engine_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nothing.sock")
    engine.client.cache_clear()
    try:
        with pytest.raises(EngineUnavailable) as caught:
            engine.ensure_engine(start=True, say=lambda _: None)  # DOCKER_HOST set: never installs
        assert "No Docker engine answered" in str(caught.value)
        assert "Docker Desktop" in str(caught.value)
    finally:
        engine.client.cache_clear()


def test_cli_without_engine_says_what_to_do(tmp_path: Path) -> None:
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/nothing.sock"}
    done = subprocess.run([sys.executable, "-m", "portside.cli", "doctor"], capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    out = done.stdout + done.stderr
    assert done.returncode == 1
    assert "No Docker engine answered" in out
    assert "Traceback" not in out

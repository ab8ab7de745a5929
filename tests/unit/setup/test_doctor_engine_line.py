"""portside.setup.doctor's engine line, without an engine: version, image store and builder, and when it warns.

The real engine's line (`portside doctor` against it) is in lesson 00's stored output.
"""

from __future__ import annotations

import pytest

from portside.engine.daemon import EngineInfo
from portside.setup.doctor import Report, engine_check, upstream_version


def _engine(version: str, api: str, store: str) -> EngineInfo:
    return EngineInfo(address="unix:///x.sock", server_version=version, api_version=api,
                      operating_system="Debian", storage_driver="overlayfs", root_dir="/var/lib/docker",
                      image_store=store)


@pytest.mark.parametrize(("text", "expected"), [
    ("28.5.2+dfsg4", "28.5.2"), ("0.29.1+ds1", "0.29.1"), ("v0.29.1-desktop.1", "0.29.1"),
    ("20.10.24+dfsg1", "20.10.24"), ("29.0", "29.0"), ("dev", None),
])
def test_upstream_version_drops_packaging_suffixes(text: str, expected: str | None) -> None:
    assert upstream_version(text) == expected


def test_a_current_engine_with_buildkit_is_ok() -> None:
    check = engine_check(_engine("28.5.2+dfsg4", "1.51", "containerd"), "0.29.1")
    assert (check.status, check.detail) == (
        "ok", "Docker 28.5.2 (API 1.51), containerd image store, BuildKit (buildx 0.29.1)")
    assert "→" not in check.line()


def test_an_old_engine_warns_that_outputs_differ_but_is_ready() -> None:
    check = engine_check(_engine("20.10.24+dfsg1", "1.41", "classic"), "0.29.1")
    assert check.status == "warn"
    assert check.detail == "Docker 20.10.24 (API 1.41), classic image store, BuildKit (buildx 0.29.1)"
    assert "older than Engine 25" in check.fix and "outputs will differ" in check.fix
    assert Report([check]).ok  # a warning, not a failure
    assert check.line().splitlines()[1].startswith("    → Engine 20.10.24 is older")


def test_no_buildx_plugin_fails_with_what_to_install() -> None:
    check = engine_check(_engine("28.5.2", "1.51", "classic"), None)
    assert check.status == "fail"
    assert check.detail.endswith("classic image store, no BuildKit (no docker CLI with the buildx plugin)")
    assert "apt-get install docker-buildx" in check.fix
    assert not Report([check]).ok

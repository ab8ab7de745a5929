"""The course's own Docker Engine, as configured (no engine started): what its daemon.json asks for, that its
networks stay inside the one range its forwarding rule opens, and that every package is pinned by hash."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path

import pytest

from portside.engine import provided
from portside.setup import engine as current


def test_daemon_json_turns_on_the_containerd_store_and_leaves_host_networking_alone() -> None:
    config = json.loads(current._daemon_json())
    assert config["features"] == {"containerd-snapshotter": True}
    assert config["iptables"] is False and config["ip6tables"] is False
    assert config["bridge"] == provided.BRIDGE != "docker0"
    assert config["hosts"] == [f"unix://{provided.SOCKET}"]


def test_its_bridge_and_pool_lie_inside_the_forwarded_range_and_away_from_dockers_defaults() -> None:
    routed = ipaddress.ip_network(provided.ROUTED_CIDR)
    bridge = ipaddress.ip_interface(provided.BRIDGE_CIDR).network
    pool = ipaddress.ip_network(json.loads(current._daemon_json())["default-address-pools"][0]["base"])
    assert bridge.subnet_of(routed) and pool.subnet_of(routed)  # type: ignore[arg-type]
    assert not bridge.overlaps(pool)
    for default in ("172.17.0.0/16", "172.16.0.0/12", "192.168.0.0/16"):  # Docker's own default pools
        assert not routed.overlaps(ipaddress.ip_network(default))
    assert current._RULE[current._RULE.index("-s") + 1] == provided.ROUTED_CIDR


def test_every_engine_package_is_pinned_by_version_and_sha256() -> None:
    names = {pin.package for pin in current.PACKAGES}
    assert {"docker.io", "docker-cli", "docker-buildx", "containerd", "runc"} <= names
    for pin in current.PACKAGES:
        assert re.fullmatch(r"[0-9a-f]{64}", pin.sha256), pin
        assert re.fullmatch(r"\d[\w.+~:-]*", pin.version), pin


def test_a_deb_with_other_bytes_is_refused(tmp_path: Path) -> None:
    from portside.errors import HashMismatch

    for pin in current.PACKAGES:
        (tmp_path / f"{pin.package}_{pin.version}_amd64.deb").write_bytes(b"not the pinned file")
    with pytest.raises(HashMismatch, match="pinned"):
        current._check_debs(tmp_path)


def test_buildx_is_linked_into_the_course_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTSIDE_HOME", str(tmp_path))
    monkeypatch.setattr(provided, "ROOT_LINK", tmp_path / "no-running-engine")
    plugin = tmp_path / "engine" / "current" / "root" / "usr" / "libexec" / "docker" / "cli-plugins" / "docker-buildx"
    plugin.parent.mkdir(parents=True)
    plugin.write_text("#!/bin/sh\n")
    plugin.chmod(0o755)
    link = provided.link_buildx()
    assert link is not None and link.resolve() == plugin.resolve()
    from portside.base.paths import docker_config_dir

    assert link.parent == docker_config_dir() / "cli-plugins"
    assert provided.link_buildx() == link  # a second call leaves it as it is

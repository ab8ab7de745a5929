"""The room server's parts that need no engine: the authenticator over the room's hashes, the hub's
configuration, the learners' engine settings and the proxy's pinned lockfile."""

from __future__ import annotations

import ast
import asyncio
import json
from pathlib import Path

import pytest

from portside.errors import UsageError
from portside.room.accounts import Accounts, make_accounts
from portside.workshop.hub import engines, hub
from portside.workshop.hub.auth import RoomAuthenticator


def test_the_authenticator_takes_the_room_accounts_and_nobody_else(tmp_path: Path) -> None:
    accounts = make_accounts(2)
    Accounts(tmp_path).save(accounts)
    auth = RoomAuthenticator(accounts_folder=str(tmp_path))
    good = accounts[0]
    assert asyncio.run(auth.authenticate(None, {"username": good.name, "password": good.password})) == good.name
    assert asyncio.run(auth.authenticate(None, {"username": good.name, "password": accounts[1].password})) is None
    assert asyncio.run(auth.authenticate(None, {"username": "mallory", "password": good.password})) is None
    assert auth.allowed_users == {a.name for a in accounts}
    assert auth.admin_users == {"instructor"}


def test_the_hub_config_listens_on_loopback_and_uses_the_course_parts(tmp_path: Path) -> None:
    text = hub._config(home=tmp_path, accounts=tmp_path / "room", port=8000, hub_port=8001, api_port=8002,
                       proxy=Path("/p/chp"), image="img:1", seed=["busybox:1.35"])
    lines = [line for line in text.splitlines() if line.startswith("c.") and "get_config" not in line]
    values = {line.split(" = ", 1)[0][2:]: ast.literal_eval(line.split(" = ", 1)[1]) for line in lines}
    assert values["JupyterHub.ip"] == values["JupyterHub.hub_ip"] == "127.0.0.1"
    assert values["LearnerSpawner.network_name"] == "host"
    assert values["JupyterHub.authenticator_class"] == "portside.workshop.hub.auth.RoomAuthenticator"
    assert values["RoomAuthenticator.accounts_folder"] == str(tmp_path / "room")
    assert values["ConfigurableHTTPProxy.command"] == ["/p/chp"]


def test_each_learner_engine_has_its_own_bridge_pool_socket_and_cgroup() -> None:
    one, two = engines.engine_for("learner-01", 1), engines.engine_for("learner-02", 2)
    a, b = json.loads(engines._daemon_json(one)), json.loads(engines._daemon_json(two))
    assert a["bridge"] != b["bridge"] and a["default-address-pools"] != b["default-address-pools"]
    assert a["cgroup-parent"] != b["cgroup-parent"]
    assert one.socket != two.socket
    assert a["iptables"] is False and a["ip6tables"] is False
    with pytest.raises(UsageError):
        engines.engine_for("../etc", 1)
    with pytest.raises(UsageError):
        engines.engine_for("learner-100", 100)


def test_the_proxy_is_pinned_by_its_lockfile() -> None:
    folder = Path(hub.__file__).with_name("proxy")
    wanted = json.loads((folder / "package.json").read_text())["dependencies"]["configurable-http-proxy"]
    lock = json.loads((folder / "package-lock.json").read_text())["packages"]
    assert lock["node_modules/configurable-http-proxy"]["version"] == wanted
    assert all(entry.get("integrity", "").startswith("sha512-") for key, entry in lock.items() if key)

"""portside.registry.request_log: the requests a real push and pull make, read from registry:2's access log."""

from __future__ import annotations

import secrets

from portside import engine
from portside.engine.transfer import pull, push, tag
from portside.registry.container import Registry, docker_login
from portside.registry.request_log import watch


def test_a_real_push_and_pull() -> None:
    password = secrets.token_urlsafe(16)
    with Registry(users={"ada": password}) as registry:
        docker_login(registry.address, "ada", password)
        target = registry.ref("ada/box", "1")
        tag("busybox:1.35", target)
        with watch(registry) as pushed:
            result = push(target, progress=False)
        doc = registry.client("ada", password).manifest("ada/box", "1").json()
        names = {doc["config"]["digest"]: "<config>", doc["layers"][0]["digest"]: "<layer 1>"}
        rows = [(r.method, r.path, r.status) for r in pushed.requests if r.path != "/v2/"]
        assert rows[0] == ("HEAD", f"/v2/ada/box/blobs/{doc['layers'][0]['digest']}", 404)
        assert rows[-1] == ("PUT", "/v2/ada/box/manifests/1", 201)
        table = pushed.table(names, pings=True).text()
        assert "PUT     /v2/ada/box/blobs/uploads/<upload>?digest=<config>   201" in table
        assert table.splitlines()[2].startswith("GET     /v2/") and "sha256:" not in table
        engine.client().images.remove(target)
        with watch(registry) as pulled:
            pull(target, progress=False)
        methods = [(r.method, r.path) for r in pulled.requests if r.path != "/v2/"]
        # busybox:1.35 is still here, so the engine only asks which digest the tag names
        assert ("HEAD", "/v2/ada/box/manifests/1") in methods
        assert not any(m in ("PUT", "POST", "PATCH") for m, _ in methods)  # a pull only reads
        assert result.digest.startswith("sha256:")

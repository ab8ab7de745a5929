"""portside.registry.request_log: the requests a real push and pull make, read from registry:2's access log.

The two image stores talk to a registry differently, and each is asserted as it is: the classic store's
pusher knocks on ``/v2/`` first, sends basic auth from then on, and uploads one blob after the other in
``POST``/``PATCH``/``PUT`` then checks it (``HEAD`` 200); the containerd store's pusher sends no ``/v2/``
check, meets a 401 challenge on its first requests and repeats them with the credentials, uploads its blobs
concurrently with the bytes in the final ``PUT`` (no ``PATCH``), and asks whether the tag exists (``HEAD`` on
the manifest) before storing it.
"""

from __future__ import annotations

import secrets

from portside import engine
from portside.engine.transfer import pull, push, tag
from portside.registry.container import Registry, docker_login
from portside.registry.request_log import watch

BLOBS = "/v2/ada/box/blobs/"
UPLOADS = "/v2/ada/box/blobs/uploads/"
MANIFEST = "/v2/ada/box/manifests/1"


def _classic_upload(name: str) -> list[tuple[str, str, int]]:
    """One blob's upload by the classic store's pusher: start, bytes, finish, check."""
    return [("POST", UPLOADS, 202), ("PATCH", f"{UPLOADS}<upload>", 202),
            ("PUT", f"{UPLOADS}<upload>?digest={name}", 201), ("HEAD", f"{BLOBS}{name}", 200)]


def test_a_real_push_and_pull() -> None:
    password = secrets.token_urlsafe(16)
    with Registry(users={"ada": password}) as registry:
        docker_login(registry.address, "ada", password)
        target = registry.ref("ada/box", "1")
        tag("busybox:1.35", target)
        with watch(registry) as pushed:
            result = push(target, progress=False)
        doc = registry.client("ada", password).manifest("ada/box", "1").json()
        assert len(doc["layers"]) == 1  # busybox: one layer and its config
        names = {doc["config"]["digest"]: "<config>", doc["layers"][0]["digest"]: "<layer 1>"}
        requests = [r.named(names) for r in pushed.requests]
        pings = [r.status for r in requests if r.method == "GET" and r.path == "/v2/"]
        rows = [(r.method, r.path, r.status) for r in requests if r.path != "/v2/"]
        assert rows[-1] == ("PUT", MANIFEST, 201)
        table = pushed.table(names, pings=True).text()
        assert "PUT     /v2/ada/box/blobs/uploads/<upload>?digest=<config>   201" in table and "sha256:" not in table
        if engine.uses_containerd_store():
            assert pings == []  # no API check: the first blob request meets the challenge
            assert rows[0][0] == "HEAD" and rows[0][1] in (f"{BLOBS}<config>", f"{BLOBS}<layer 1>")
            assert rows[0][2] == 401
            for name in ("<config>", "<layer 1>"):  # concurrent, so each blob's own requests are in order
                mine = [(m, s) for m, p, s in rows if p in (f"{BLOBS}{name}", f"{UPLOADS}<upload>?digest={name}")]
                challenged = [row for row in mine if row == ("HEAD", 401)]
                assert mine == [*challenged, ("HEAD", 404), ("PUT", 201)]  # a 401 is repeated with credentials
            assert [(m, s) for m, p, s in rows if p == UPLOADS] == [("POST", 202)] * 2
            assert not [row for row in rows if row[0] == "PATCH"]  # small blobs travel in the final PUT
            assert rows[-2] == ("HEAD", MANIFEST, 404)  # does the tag exist already?
            assert len(rows) == 8 + sum(status == 401 for _, _, status in rows)
        else:
            assert pings and set(pings) == {401}  # the API check tells it to log in; basic auth from then on
            assert table.splitlines()[2].startswith("GET     /v2/")
            # the layer is HEADed first only when the engine remembers a digest for it from an earlier push
            known = [("HEAD", f"{BLOBS}<layer 1>", 404)] if rows[0][0] == "HEAD" else []
            assert rows == known + _classic_upload("<layer 1>") + \
                [("HEAD", f"{BLOBS}<config>", 404)] + _classic_upload("<config>") + [("PUT", MANIFEST, 201)]
        engine.client().images.remove(target)
        with watch(registry) as pulled:
            pull(target, progress=False)
        methods = [(r.method, r.path) for r in pulled.requests if r.path != "/v2/"]
        # busybox:1.35 is still here, so the engine only asks which digest the tag names
        assert ("HEAD", MANIFEST) in methods
        assert not any(m in ("PUT", "POST", "PATCH") for m, _ in methods)  # a pull only reads
        if engine.uses_containerd_store():
            assert [(r.method, r.path, r.status) for r in pulled.requests] == \
                [("HEAD", MANIFEST, 401), ("HEAD", MANIFEST, 200)]
        assert result.digest.startswith("sha256:")

"""The tags → digest picture read live from a real registry."""

from __future__ import annotations

from portside.engine.transfer import push, tag
from portside.lessons.tag_graph import tag_graph
from portside.lessons.tagging import retag
from portside.registry.container import Registry

A, B = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def test_reads_a_live_registry() -> None:
    with Registry() as reg:
        tag("busybox:1.35", reg.ref("team/app", "1.0.0"))
        digest = push(reg.ref("team/app", "1.0.0"), progress=False).digest
        client = reg.client()
        retag(client, "team/app", "1.0.0", "1.0", "sha-abc1234")
        graph = tag_graph(client, "team/app")
        assert graph.tags == {"1.0.0": digest, "1.0": digest, "sha-abc1234": digest}
        assert tag_graph(client, "team/app", tags=["1.0"]).tags == {"1.0": digest}

"""Is the local image the one the registry holds? Checked for real on whichever image store the engine uses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portside.engine import client, identity, transfer, uses_containerd_store
from portside.registry.container import Registry


@pytest.fixture(scope="module")
def registry() -> Iterator[Registry]:
    with Registry() as reg:
        yield reg


def test_a_pushed_image_is_the_same_image_and_another_is_not(registry: Registry) -> None:
    ref = registry.ref("identity/box", "1.0")
    transfer.tag("busybox:1.35", ref)
    try:
        pushed = transfer.push(ref, progress=False)
        local = client().images.get(ref)
        manifest = registry.client().manifest("identity/box", "1.0").json()
        config = manifest["config"]["digest"]
        assert identity.config_digest(local) == config
        assert identity.same_image(local, manifest_digest=pushed.digest, config=config)
        # the image ID is the config digest on the classic store, the manifest digest on the containerd store
        assert local.id == (pushed.digest if uses_containerd_store() else config)
        other = client().images.get("registry:2")
        assert not identity.same_image(other, manifest_digest=pushed.digest, config=config)
    finally:
        client().images.remove(ref)

"""Reading what the current toolchain says, with no engine: a push's digest on both image stores, BuildKit's
plain log, and the image store named by ``GET /info``."""

from __future__ import annotations

from portside.engine.build import CacheImport, log_cache_imports, log_steps
from portside.engine.daemon import image_store
from portside.engine.transfer import _pushed_digest

DIGEST = "sha256:" + "ab" * 32

#: the end of a push stream on the classic store (Engine 20.10): a status line, then the ``aux`` message
CLASSIC = [{"status": "Pushed", "id": "0d5c7f2c"},
           {"status": f"1.0: digest: {DIGEST} size: 528"},
           {"progressDetail": {}, "aux": {"Tag": "1.0", "Digest": DIGEST, "Size": 528}}]
#: the same on the containerd store (Engine 28.5): no ``aux`` message at all, the digest only in a status line
CONTAINERD = [{"status": "Pushed", "id": "0d5c7f2c"},
              {"status": f"1.0: digest: {DIGEST} size: 856"}]


def test_the_digest_comes_from_aux_on_the_classic_store() -> None:
    assert _pushed_digest(CLASSIC) == (DIGEST, 528)


def test_the_digest_comes_from_the_status_line_on_the_containerd_store() -> None:
    assert _pushed_digest(CONTAINERD) == (DIGEST, 856)


def test_a_stream_without_a_digest_gives_none() -> None:
    assert _pushed_digest([{"status": "Pushed", "id": "0d5c7f2c"}]) == ("", 0)


#: what ``docker buildx build --progress=plain`` printed for a two-step build on Engine 28.5 (timings kept)
PLAIN_LOG = """#0 building with "default" instance using docker driver

#1 [internal] load build definition from Dockerfile
#1 transferring dockerfile: 67B done
#1 DONE 0.0s

#4 [1/2] FROM docker.io/library/busybox:1.35
#4 CACHED

#5 [2/2] COPY hello.txt /
#5 DONE 0.0s

#6 exporting to image
#6 exporting layers 0.0s done
#6 DONE 0.1s""".splitlines()


def test_buildkit_steps_are_read_with_their_cache_state() -> None:
    assert log_steps(PLAIN_LOG) == [("1/2", "FROM docker.io/library/busybox:1.35", True),
                                    ("2/2", "COPY hello.txt /", False)]


def test_the_image_store_is_read_off_the_driver_status() -> None:
    containerd = {"Driver": "overlayfs", "DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]]}
    classic = {"Driver": "overlay2", "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"]]}
    assert image_store(containerd) == "containerd"
    assert image_store(classic) == "classic"


#: two warm builds with ``--cache-from`` on Engine 28.5 (lines as printed, 2026-12-02): a cache that is there,
#: and a reference with no cache behind it, which BuildKit reports and then builds on without
IMPORTED = """#5 importing cache manifest from localhost:46481/team/app:buildcache
#5 inferred cache manifest type: application/vnd.oci.image.manifest.v1+json done
#5 DONE 0.0s

#6 [2/2] RUN echo cache-imports-sample > /x
#6 CACHED""".splitlines()
NOT_THERE = """#4 importing cache manifest from localhost:46481/team/app:nope
#4 ERROR: failed to configure registry cache importer: localhost:46481/team/app:nope: not found

#6 [2/2] RUN echo cache-imports-sample > /x
#6 CACHED
------
 > importing cache manifest from localhost:46481/team/app:nope:
------""".splitlines()


def test_a_cache_import_is_read_with_its_outcome() -> None:
    assert log_cache_imports(IMPORTED) == [CacheImport("localhost:46481/team/app:buildcache", None)]
    assert log_cache_imports(NOT_THERE) == [CacheImport(
        "localhost:46481/team/app:nope",
        "failed to configure registry cache importer: localhost:46481/team/app:nope: not found")]
    assert log_cache_imports(PLAIN_LOG) == []

"""portside.engine.layers against the real engine and registry.

A credential copied in one layer and deleted in the next (portside.lessons.leaky's demo) is
hidden from the final file system but read back from the saved image (docker save
layout) and from the registry (OCI layout, gzip layers). A hand-written OCI layout
shows an opaque whiteout hiding a whole directory.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from portside.base.labels import session_id
from portside.engine.layers import SavedImage, fetch_oci, instruction, save
from portside.engine.transfer import push, tag
from portside.errors import ImageUnavailable, PortsideError
from portside.lessons import leaky
from portside.registry.container import Registry

CREDS = leaky.CREDENTIALS_PATH


@pytest.fixture(scope="module")
def builds() -> Iterator[dict[str, leaky.LeakyBuild]]:
    made = {"leaky": leaky.build("leaky", f"portside-test-layers/leaky:{session_id()}")}
    try:
        yield made
    finally:
        leaky.remove(*made.values())


def test_instruction_is_short_and_stable() -> None:
    assert instruction("/bin/sh -c #(nop) COPY file:" + "ab" * 32 + " in /root/.aws/credentials ") == \
        "COPY file in /root/.aws/credentials"
    assert instruction("/bin/sh -c rm /root/.aws/credentials") == "RUN rm /root/.aws/credentials"
    assert instruction("|1 TOKEN=x /bin/sh -c make") == "RUN make"
    assert instruction("RUN /bin/sh -c make # buildkit") == "RUN /bin/sh -c make"
    assert instruction("") == "(no instruction recorded)"


def test_deleted_credential_is_recovered_from_docker_save(builds: dict[str, leaky.LeakyBuild],
                                                          tmp_path: Path) -> None:
    bad = builds["leaky"]
    saved = SavedImage(save(bad.image, tmp_path / "leaky.tar"))
    assert saved.layout == "docker-save"
    assert not saved.exists(CREDS) and saved.exists("/app/dependency.txt") and saved.exists("bin/sh")
    found = saved.find("/" + CREDS)
    assert len(found) == 1
    assert found[0].data.decode() == bad.credentials
    assert found[0].layer.instruction == "COPY file in /root/.aws/credentials"
    assert CREDS in saved.layers[-1].deleted and "deletes root/.aws/credentials" in str(saved.layers[-1])
    assert bad.credentials not in repr(found) and bad.credentials not in repr(bad)


def test_oci_layout_from_the_registry(builds: dict[str, leaky.LeakyBuild], tmp_path: Path) -> None:
    bad = builds["leaky"]
    with Registry() as registry:
        ref = registry.ref("team/leaky", "1.0")
        tag(bad.image, ref)
        push(ref, progress=False)
        archive = fetch_oci(registry.client(), "team/leaky", "1.0", tmp_path / "oci.tar")
    saved = SavedImage(archive)
    assert saved.layout == "oci"
    with tarfile.open(archive) as outer:
        assert "manifest.json" not in outer.getnames()
    found = saved.find(CREDS)
    assert [f.data.decode() for f in found] == [bad.credentials]
    assert not saved.exists(CREDS)


def test_opaque_whiteout_hides_a_whole_directory(tmp_path: Path) -> None:
    """An OCI layout written by hand (uncompressed layers): an opaque directory hides lower files."""

    def layer(files: dict[str, bytes]) -> bytes:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return buffer.getvalue()

    import hashlib

    blobs: dict[str, bytes] = {}

    def put(data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return digest

    lower = put(layer({"etc/app/secret.txt": b"s3cret", "etc/app/keep.txt": b"k"}))
    upper = put(layer({"etc/app/.wh..wh..opq": b"", "etc/app/new.txt": b"n"}))
    config = put(json.dumps({"rootfs": {"type": "layers", "diff_ids": [lower, upper]},
                             "history": [{"created_by": "/bin/sh -c #(nop) ADD x in /"},
                                         {"created_by": "/bin/sh -c rm -rf /etc/app && mkdir /etc/app"}]}).encode())
    manifest = put(json.dumps({"schemaVersion": 2, "config": {"digest": config},
                               "layers": [{"digest": lower}, {"digest": upper}]}).encode())
    archive = tmp_path / "hand.tar"
    with tarfile.open(archive, "w") as tar:
        files = {"oci-layout": b"{}", "index.json": json.dumps({"manifests": [{"digest": manifest}]}).encode(),
                 **{"blobs/sha256/" + d.split(":")[1]: b for d, b in blobs.items()}}
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    saved = SavedImage(archive)
    assert saved.layers[1].opaque == ("etc/app",)
    assert not saved.exists("etc/app/secret.txt") and saved.exists("etc/app/new.txt")
    assert [f.data for f in saved.find("etc/app/secret.txt")] == [b"s3cret"]
    assert saved.layers[1].instruction == "RUN rm -rf /etc/app && mkdir /etc/app"


def test_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ImageUnavailable, match="no local image"):
        save("portside-test-leaky/none:0", tmp_path / "x.tar")
    (tmp_path / "junk.tar").write_bytes(b"not a tar")
    with pytest.raises(PortsideError, match="not a readable image archive"):
        SavedImage(tmp_path / "junk.tar")

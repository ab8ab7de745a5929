"""portside.engine.layers against the real engine and registry.

A credential copied in one layer and deleted in the next (portside.lessons.leaky's demo) is
hidden from the final file system but read back from the saved image (the docker save layout
of Engine 20.10, the OCI layout of Engine 25 on; plain layer tars on the classic image store,
the stored gzip blobs on the containerd store) and from the registry (OCI layout, gzip layers).
Hand-written OCI layouts show an opaque whiteout hiding a whole directory, and an index whose
attestation and missing platforms are passed over.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portside import engine
from portside.base.labels import session_id
from portside.engine.identity import config_digest
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


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _writes_oci_layout() -> bool:
    """Engine 25.0 (API 1.44) made ``docker save`` write an OCI image layout (with a manifest.json beside it),
    on either image store; Engine 20.10 (API 1.41) writes the docker save layout."""
    api = str(engine.client().version()["ApiVersion"])
    return tuple(int(part) for part in api.split(".")) >= (1, 44)


def test_deleted_credential_is_recovered_from_docker_save(builds: dict[str, leaky.LeakyBuild],
                                                          tmp_path: Path) -> None:
    bad = builds["leaky"]
    archive = save(bad.image, tmp_path / "leaky.tar")
    saved = SavedImage(archive)
    image = engine.client().images.get(bad.image)
    with tarfile.open(archive) as outer:
        names = set(outer.getnames())

        def read(name: str) -> bytes:
            member = outer.extractfile(name)
            assert member is not None, name
            return member.read()

        # the layout follows the engine's version; both keep the manifest.json `docker load` reads
        assert saved.layout == ("oci" if _writes_oci_layout() else "docker-save")
        assert ("oci-layout" in names and "index.json" in names) == _writes_oci_layout()
        entry = json.loads(read("manifest.json"))[0]
        assert _sha256(read(entry["Config"])) == config_digest(image)  # the config is saved byte for byte
        blobs = [read(layer.member) for layer in saved.layers]
        for layer, blob in zip(saved.layers, blobs, strict=True):  # unpacked, each layer is the diff its config names
            assert _sha256(gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob) == layer.diff_id
        if engine.uses_containerd_store():
            # the containerd store saves what it holds: its own manifest (digest = the image ID) and the
            # blobs it lists, the layers this build made gzip-compressed, as a push sends them
            assert image.id != config_digest(image)
            top = json.loads(read("index.json"))["manifests"][0]
            assert top["digest"] == image.id
            manifest = json.loads(read("blobs/sha256/" + image.id.split(":", 1)[1]))
            assert [layer["digest"] for layer in manifest["layers"]] == [_sha256(blob) for blob in blobs]
            assert manifest["config"]["digest"] == config_digest(image)
            assert all(blob[:2] == b"\x1f\x8b" for blob in blobs[1:])  # the layers above the base image
        else:
            # the classic store keeps layers unpacked: each saved layer is a plain tar, its sha256 the diff id
            assert image.id == config_digest(image)
            assert [_sha256(blob) for blob in blobs] == [layer.diff_id for layer in saved.layers]
    assert not saved.exists(CREDS) and saved.exists("/app/dependency.txt") and saved.exists("bin/sh")
    found = saved.find("/" + CREDS)
    assert len(found) == 1
    assert found[0].data.decode() == bad.credentials
    assert found[0].layer.instruction == "COPY credentials /root/.aws/credentials"  # BuildKit keeps the line
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


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class _Layout:
    """An OCI image layout written by hand: blobs by digest, then ``index.json``."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, data: bytes) -> str:
        self.blobs[_sha256(data)] = data
        return _sha256(data)

    def image(self, layers: list[dict[str, bytes]], history: list[str]) -> str:
        """A manifest (with its config and plain layers); returns its digest."""
        digests = [self.put(_tar(files)) for files in layers]
        config = self.put(json.dumps({"rootfs": {"type": "layers", "diff_ids": digests},
                                      "history": [{"created_by": step} for step in history]}).encode())
        return self.put(json.dumps({"schemaVersion": 2, "config": {"digest": config},
                                    "layers": [{"digest": d} for d in digests]}).encode())

    def write(self, archive: Path, manifests: list[dict[str, Any]], *, leave_out: tuple[str, ...] = ()) -> Path:
        files = {"oci-layout": b"{}", "index.json": json.dumps({"manifests": manifests}).encode(),
                 **{"blobs/sha256/" + d.split(":")[1]: b for d, b in self.blobs.items() if d not in leave_out}}
        archive.write_bytes(_tar(files))
        return archive


def test_opaque_whiteout_hides_a_whole_directory(tmp_path: Path) -> None:
    """An OCI layout written by hand (uncompressed layers): an opaque directory hides lower files."""
    layout = _Layout()
    manifest = layout.image([{"etc/app/secret.txt": b"s3cret", "etc/app/keep.txt": b"k"},
                             {"etc/app/.wh..wh..opq": b"", "etc/app/new.txt": b"n"}],
                            ["/bin/sh -c #(nop) ADD x in /", "/bin/sh -c rm -rf /etc/app && mkdir /etc/app"])
    saved = SavedImage(layout.write(tmp_path / "hand.tar", [{"digest": manifest}]))
    assert saved.layers[1].opaque == ("etc/app",)
    assert not saved.exists("etc/app/secret.txt") and saved.exists("etc/app/new.txt")
    assert [f.data for f in saved.find("etc/app/secret.txt")] == [b"s3cret"]
    assert saved.layers[1].instruction == "RUN rm -rf /etc/app && mkdir /etc/app"


def test_an_index_is_read_at_its_first_image_the_archive_holds(tmp_path: Path) -> None:
    """Attestation manifests (``unknown/unknown``, as BuildKit writes them) and platforms whose manifest is not
    in the archive are passed over; an index with nothing else is refused clearly."""
    layout = _Layout()
    attestation = layout.image([{"in-toto.json": b"{}"}], ["attestation"])
    absent = layout.image([{"bin/arm64-only": b"a"}], ["/bin/sh -c #(nop) ADD arm64 in /"])
    wanted = layout.image([{"bin/amd64": b"x"}], ["/bin/sh -c #(nop) ADD amd64 in /"])
    entries = [
        {"digest": attestation, "platform": {"os": "unknown", "architecture": "unknown"},
         "annotations": {"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": wanted}},
        {"digest": absent, "platform": {"os": "linux", "architecture": "arm64"}},
        {"digest": wanted, "platform": {"os": "linux", "architecture": "amd64"}},
    ]
    inner = layout.put(json.dumps({"schemaVersion": 2, "manifests": entries}).encode())
    saved = SavedImage(layout.write(tmp_path / "index.tar", [{"digest": inner}], leave_out=(absent,)))
    assert saved.layout == "oci" and saved.exists("bin/amd64") and not saved.exists("bin/arm64-only")
    assert [layer.instruction for layer in saved.layers] == ["ADD amd64 in /"]
    with pytest.raises(PortsideError, match="lists no image this archive holds"):
        SavedImage(layout.write(tmp_path / "none.tar", entries[:2], leave_out=(absent,)))


def test_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ImageUnavailable, match="no local image"):
        save("portside-test-leaky/none:0", tmp_path / "x.tar")
    (tmp_path / "junk.tar").write_bytes(b"not a tar")
    with pytest.raises(PortsideError, match="not a readable image archive"):
        SavedImage(tmp_path / "junk.tar")
